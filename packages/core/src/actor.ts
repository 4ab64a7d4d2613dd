/**
 * What an actor is (any object with `receive`), the context each message carries, and
 * `defineActor`, the handler-map helper whose types flow to the remote side's proxies.
 */
import type { ActorRef, RemoteActor } from './actor-ref.js';
import type { Channel } from './channel.js';
import { ActorSpaceError } from './errors.js';

/** Who sent a message: a browser client, a service (agent, back office) or the system itself. */
export interface Caller {
  id: string;
  type: 'client' | 'service' | 'system';
  claims?: Record<string, unknown>;
}

/** Facts about the message being handled. */
export interface MessageContext {
  /** A reply-capable reference to the sending actor, when the message was sent from inside one. */
  readonly sender?: ActorRef;
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

/** The handler map of an actor made by {@link defineActor}, or a handler map itself. */
export type Handlers<A> = A extends { readonly handlers: infer H } ? H : A;

type Param<F> = F extends (data: infer D, ...rest: any[]) => unknown ? D : never;

/** Options of one ask. */
export interface AskOptions {
  /**
   * Milliseconds to wait for the answer before rejecting with `TIMEOUT`.
   * @default 30000 (or the space's `askTimeout`)
   */
  timeout?: number;
  /** Aborting rejects the ask with `ABORTED` and aborts the handler's `ctx.signal`. */
  signal?: AbortSignal;
}

/**
 * The typed proxy of an actor's handlers: each handler becomes an async function of its
 * data. `ref.api().addTodo({ text })` is `ref.ask('addTodo', { text })`.
 */
export type RemoteApi<A> = {
  readonly [K in keyof Handlers<A> as K extends string ? K : never]: Handlers<A>[K] extends (
    ...args: any[]
  ) => unknown
    ? undefined extends Param<Handlers<A>[K]>
      ? (data?: Param<Handlers<A>[K]>, opts?: AskOptions) => Promise<Awaited<ReturnType<Handlers<A>[K]>>>
      : (data: Param<Handlers<A>[K]>, opts?: AskOptions) => Promise<Awaited<ReturnType<Handlers<A>[K]>>>
    : never;
};

/**
 * Builds an actor from a map of message handlers. The returned actor's type carries the
 * handlers, so `ref.api()` on a `RemoteActor<typeof myActor>` is fully typed.
 *
 * @throws ActorSpaceError `INVALID_MESSAGE` when a handler is not a function; the actor
 *   rejects messages of a type it has no handler for with `INVALID_MESSAGE`.
 * @example
 * export const todos = defineActor({
 *   add: (data: { text: string }) => list.push(data.text),
 *   list: () => list,
 * });
 */
export function defineActor<H extends Record<string, Handler>>(
  handlers: H,
  options: ActorOptions = {},
): Actor & { readonly handlers: H } {
  if (typeof handlers !== 'object' || handlers === null) {
    throw new ActorSpaceError('INVALID_MESSAGE', 'defineActor needs an object of message handlers');
  }
  for (const [name, fn] of Object.entries(handlers)) {
    if (typeof fn !== 'function') {
      throw new ActorSpaceError('INVALID_MESSAGE', `defineActor handler "${name}" must be a function`);
    }
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
