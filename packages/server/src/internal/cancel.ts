/**
 * A cancellation for asks a node runs for another node (not part of the public API).
 *
 * A node serving another node's ask to one of its sessions needs a way to stop it when the
 * asker gives up. An AbortController does that, but constructing its AbortSignal costs about
 * 2 µs on Node 20 (an EventTarget behind it), more than the rest of serving the ask. This
 * object carries what the asks' bookkeeping reads of a signal (`aborted`, `reason`, and its
 * `abort` listeners) and nothing else, so it is handed only to code of this package and of
 * `@actorspace/core` that uses no more than that (a session's `call`, a channel's asks), never
 * to user code, which gets a real AbortSignal.
 */
type Listener = (this: unknown, event: { type: 'abort' }) => void;

export class Cancel {
  aborted = false;
  reason: unknown = undefined;
  #listeners: Listener[] | null = null;

  /** Adds an `abort` listener (at most once each; it runs once, as with `{ once: true }`). */
  addEventListener(type: string, listener: Listener): void {
    if (type !== 'abort' || this.aborted) return;
    const listeners = (this.#listeners ??= []);
    if (!listeners.includes(listener)) listeners.push(listener);
  }

  removeEventListener(type: string, listener: Listener): void {
    const listeners = this.#listeners;
    if (type !== 'abort' || !listeners) return;
    const at = listeners.indexOf(listener);
    if (at >= 0) listeners.splice(at, 1);
  }

  throwIfAborted(): void {
    if (this.aborted) throw this.reason;
  }

  /** Aborts: every listener runs once, with this object as `this`. */
  abort(reason?: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    // As AbortController does: an AbortError when no reason is given.
    this.reason = reason ?? new DOMException('This operation was aborted', 'AbortError');
    const listeners = this.#listeners;
    this.#listeners = null;
    if (listeners) for (const listener of listeners) listener.call(this, { type: 'abort' });
  }

  /** This object where an AbortSignal is expected (see above for where it may go). */
  get signal(): AbortSignal {
    return this as unknown as AbortSignal;
  }
}
