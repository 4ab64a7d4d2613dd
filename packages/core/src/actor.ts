/**
 * What an actor is (any object with `receive`), the context each message carries, and
 * `defineActor`, the handler-map helper whose types flow to the remote side's proxies.
 */
import type { ActorRef } from './actor-ref.js';
import type { Caller } from './caller.js';
import type { Channel, RemoteActor } from './channel.js';
import { ActorSpaceError } from './errors.js';

/**
 * Facts about the message being handled. `Sender` types `sender` where the handler knows who
 * sends it (`ctx: MessageContext<typeof clientActor>` in a server handler).
 */
export interface MessageContext<Sender = any> {
  /** A reply-capable reference to the sending actor, when the message was sent from inside one. */
  readonly sender?: ActorRef<Sender>;
  /** Who is calling; set by the channel (the server's `authenticate`) or `system` for local messages. */
  readonly caller?: Caller;
  /** The channel the message came over; absent for local messages. */
  readonly channel?: Channel;
  /** Aborted when the asker aborts, times out or disconnects. */
  readonly signal: AbortSignal;
}

/** An actor: anything with `receive`. Plain objects and class instances both work. */
export interface Actor {
  /** Handles one message; the return value (or its promise) answers an ask. */
  receive(type: string, data: unknown, ctx: MessageContext): unknown;
  /** Root actors: called once pairing completes, with the peer's root actor. */
  setRemoteActor?(remote: RemoteActor): void;
  /** Called when the actor is unregistered or its connection is gone. */
  onStop?(reason?: unknown): void;
}

/** A message handler of {@link defineActor}. */
export type Handler = (data: any, ctx: MessageContext) => unknown;

/** Options of {@link defineActor}. */
export interface ActorOptions {
  /** Called once pairing completes, with the peer's root actor. */
  setRemoteActor?(remote: RemoteActor): void;
  /** Called when the actor is unregistered or its connection is gone. */
  onStop?(reason?: unknown): void;
}

/**
 * Builds an actor from a map of message handlers. The returned actor's type carries the
 * handlers, so `ref.api()` on a `RemoteActor<typeof myActor>` is fully typed.
 *
 * @throws TypeError when `handlers` is not an object of functions. The actor rejects
 *   messages of a type it has no handler for with `INVALID_MESSAGE`.
 * @example
 * export const todos = defineActor({
 *   add: (data: { text: string }) => list.push(data.text),
 *   list: () => list,
 * });
 */
export function defineActor<H extends Record<string, Handler>>(
  handlers: H,
  options: ActorOptions = {},
): Actor & {
  /** The handler map the actor was built from; its type is what `RemoteActor<typeof actor>` reads. */
  readonly handlers: H;
} {
  if (typeof handlers !== 'object' || handlers === null) {
    throw new TypeError('defineActor needs an object of message handlers');
  }
  for (const [name, fn] of Object.entries(handlers)) {
    if (typeof fn !== 'function') throw new TypeError(`defineActor handler "${name}" must be a function`);
  }
  const has = Object.prototype.hasOwnProperty;
  const actor: Actor & { readonly handlers: H } = {
    handlers,
    receive(type, data, ctx) {
      // Own properties only: "toString" or "__proto__" must never reach Object.prototype.
      if (!has.call(handlers, type)) {
        throw new ActorSpaceError('INVALID_MESSAGE', `actor has no handler for message type "${type}"`, {
          details: { type },
        });
      }
      return (handlers[type] as Handler)(data, ctx);
    },
  };
  if (options.setRemoteActor) actor.setRemoteActor = options.setRemoteActor;
  if (options.onStop) actor.onStop = options.onStop;
  return actor;
}
