/**
 * A small typed event emitter (on, once, off, emit, listenerCount, removeAllListeners), the
 * base of ActorSpace, Channel and Session. Emitting 'error' with no listener does not throw.
 */

type Listener = (...args: any[]) => void;

/** Event map: event name → argument tuple. */
export type EventMap<T = any> = { [K in keyof T]: unknown[] };

/** A typed event emitter in the style of Node's and eventemitter3's. */
export class EventEmitter<Events extends EventMap<Events> = Record<string, unknown[]>> {
  #listeners = new Map<keyof Events, Listener[]>();

  /** Adds a listener. */
  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const list = this.#listeners.get(event);
    if (list) list.push(listener);
    else this.#listeners.set(event, [listener]);
    return this;
  }

  /** Alias of {@link EventEmitter.on}. */
  addListener<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    return this.on(event, listener);
  }

  /** Adds a listener that is removed after its first call. */
  once<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const wrapper = (...args: Events[E]): void => {
      this.off(event, wrapper);
      listener(...args);
    };
    (wrapper as { listener?: Listener }).listener = listener;
    return this.on(event, wrapper);
  }

  /** Removes a listener (added with `on` or `once`). */
  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const list = this.#listeners.get(event);
    if (!list) return this;
    const i = list.findIndex((l) => l === listener || (l as { listener?: Listener }).listener === listener);
    if (i >= 0) {
      // Copy on write: an emit in progress keeps iterating the list it started with.
      const next = list.slice();
      next.splice(i, 1);
      if (next.length) this.#listeners.set(event, next);
      else this.#listeners.delete(event);
    }
    return this;
  }

  /** Alias of {@link EventEmitter.off}. */
  removeListener<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#listeners.clear();
    else this.#listeners.delete(event);
    return this;
  }

  /** Calls the listeners of `event` in order; true when there were any. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    const list = this.#listeners.get(event);
    if (!list) return false;
    for (const listener of list) listener(...args);
    return true;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.length ?? 0;
  }
}
