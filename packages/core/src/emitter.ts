/**
 * A small typed event emitter (on, once, off, emit, listenerCount, removeAllListeners), the
 * base of ActorSpace, Channel and Session. Emitting 'error' with no listener does not throw.
 */

type Listener = (...args: any[]) => void;

/** Event map: event name → argument tuple. */
export type EventMap<T = any> = { [K in keyof T]: unknown[] };

/** A typed event emitter in the style of Node's and eventemitter3's. */
export class EventEmitter<Events extends EventMap<Events> = Record<string, unknown[]>> {
  // Made on first use, and one listener is stored without an array: most spaces and
  // channels have none or one listener per event, and a server holds one per connection.
  // A null-prototype object, not a Map: a handful of event names costs far less memory.
  #map: Record<PropertyKey, Listener | Listener[] | undefined> | null = null;

  /** Adds a listener. */
  on<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    const map = (this.#map ??= Object.create(null) as Record<PropertyKey, Listener | Listener[] | undefined>);
    const current = map[event];
    if (current === undefined) map[event] = listener;
    else if (typeof current === 'function') map[event] = [current, listener];
    else current.push(listener);
    return this;
  }

  /** Alias of {@link EventEmitter.on}. */
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
    const map = this.#map;
    const current = map?.[event];
    if (!map || current === undefined) return this;
    const matches = (l: Listener): boolean =>
      l === listener || (l as { listener?: Listener }).listener === listener;
    if (typeof current === 'function') {
      // Set to undefined rather than deleted: deleting would turn the object into a slow dictionary.
      if (matches(current)) map[event] = undefined;
      return this;
    }
    const i = current.findIndex(matches);
    if (i >= 0) {
      // Copy on write: an emit in progress keeps iterating the list it started with.
      const next = current.slice();
      next.splice(i, 1);
      map[event] = next.length === 1 ? (next[0] as Listener) : next;
    }
    return this;
  }

  /** Alias of {@link EventEmitter.off}. */
  removeListener<E extends keyof Events>(event: E, listener: (...args: Events[E]) => void): this {
    return this.off(event, listener);
  }

  /** Removes every listener of `event`, or of every event. */
  removeAllListeners(event?: keyof Events): this {
    if (event === undefined) this.#map = null;
    else if (this.#map) this.#map[event] = undefined;
    return this;
  }

  /** Calls the listeners of `event` in order, with `this` set to the emitter (as Node does); true when there were any. */
  emit<E extends keyof Events>(event: E, ...args: Events[E]): boolean {
    const current = this.#map?.[event];
    if (current === undefined) return false;
    if (typeof current === 'function') current.apply(this, args);
    else for (const listener of current as Listener[]) listener.apply(this, args);
    return true;
  }

  /** How many listeners `event` has. */
  listenerCount(event: keyof Events): number {
    const current = this.#map?.[event];
    return current === undefined ? 0 : typeof current === 'function' ? 1 : current.length;
  }
}
