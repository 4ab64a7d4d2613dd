/**
 * A small typed event emitter (on, once, off, emit, listenerCount, removeAllListeners), the
 * base of ActorSpace, Channel and Session. Emitting 'error' with no listener does not throw.
 */

type Listener = (...args: any[]) => void;

/** Event map: event name → argument tuple. */
export type EventMap<T = any> = { [K in keyof T]: unknown[] };

/** A typed event emitter in the style of Node's and eventemitter3's. */
export class EventEmitter<Events extends EventMap<Events> = Record<string, unknown[]>> {
  // Event names and their listeners as flat pairs [name, listener(s), name, listener(s), ...],
  // made on first use. An emitter has a handful of events, so a scan is as fast as a lookup,
  // and a short array costs far less than a Map or a null-prototype object (a V8 dictionary):
  // a server holds a space and a channel per connection.
  #pairs: Array<PropertyKey | Listener | Listener[]> | null = null;

  #index(event: PropertyKey): number {
    const pairs = this.#pairs;
    if (pairs) for (let i = 0; i < pairs.length; i += 2) if (pairs[i] === event) return i;
    return -1;
  }

  /** Adds a listener. */
  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const i = this.#index(event);
    if (i < 0) {
      // A literal of exact size: a first push would reserve room for 17 elements.
      if (this.#pairs) this.#pairs.push(event, listener);
      else this.#pairs = [event, listener];
    } else {
      const pairs = this.#pairs as Array<PropertyKey | Listener | Listener[]>;
      const current = pairs[i + 1] as Listener | Listener[];
      pairs[i + 1] = typeof current === 'function' ? [current, listener] : [...current, listener];
    }
    return this;
  }

  /** Alias of {@link on}. */
  addListener<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    return this.on(event, listener);
  }

  /** Adds a listener that is removed after its first call. */
  once<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const wrapper = function (this: unknown, ...args: Events[E]): void {
      (this as EventEmitter<Events>).off(event, wrapper);
      listener.apply(this, args);
    };
    (wrapper as { listener?: Listener }).listener = listener;
    return this.on(event, wrapper);
  }

  /** Removes a listener (added with `on` or `once`). */
  off<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const i = this.#index(event);
    if (i < 0) return this;
    const pairs = this.#pairs as Array<PropertyKey | Listener | Listener[]>;
    const current = pairs[i + 1] as Listener | Listener[];
    const matches = (l: Listener): boolean =>
      l === listener || (l as { listener?: Listener }).listener === listener;
    if (typeof current === 'function') {
      if (matches(current)) pairs.splice(i, 2);
      return this;
    }
    const at = current.findIndex(matches);
    if (at >= 0) {
      // Copy on write: an emit in progress keeps iterating the list it started with.
      const next = current.filter((_, k) => k !== at);
      pairs[i + 1] = next.length === 1 ? (next[0] as Listener) : next;
    }
    return this;
  }

  /** Alias of {@link off}. */
  removeListener<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#pairs = null;
    else {
      const i = this.#index(event);
      if (i >= 0) this.#pairs?.splice(i, 2);
    }
    return this;
  }

  /** Calls the listeners of `event` in order, with `this` set to the emitter (as Node does); true when there were any. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    const i = this.#index(event);
    if (i < 0) return false;
    const current = (this.#pairs as Array<PropertyKey | Listener | Listener[]>)[i + 1] as
      | Listener
      | Listener[];
    if (typeof current === 'function') current.apply(this, args);
    else for (const listener of current) listener.apply(this, args);
    return true;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    const i = this.#index(event);
    if (i < 0) return 0;
    const current = (this.#pairs as Array<PropertyKey | Listener | Listener[]>)[i + 1] as
      | Listener
      | Listener[];
    return typeof current === 'function' ? 1 : current.length;
  }
}
