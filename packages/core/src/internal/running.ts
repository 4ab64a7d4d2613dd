/**
 * The actor whose `receive` is running right now (its synchronous part), so that messages it
 * sends can name it as their sender. JavaScript runs one turn at a time; this is exact.
 */
import type { ActorRef } from '../actor-ref.js';

let running: ActorRef | null = null;

/** The actor whose `receive` is executing now, if any. */
export function currentSender(): ActorRef | null {
  return running;
}

/** Marks `ref` as running; returns the one it replaces, to restore afterwards. */
export function enter(ref: ActorRef | null): ActorRef | null {
  const outer = running;
  running = ref;
  return outer;
}
