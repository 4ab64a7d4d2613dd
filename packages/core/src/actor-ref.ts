/**
 * References to actors. A local reference and a remote one have the same interface, so
 * code never needs to know where an actor lives (location transparency), and the typed
 * proxy `api()` that turns an actor's handlers into async functions.
 */
import type { Caller } from './caller.js';
import { REF_MARK } from './codec.js';
import type { DataOf, AnswerOf as EntryAnswer } from './definitions.js';

/** Options of one ask. */
export interface AskOptions {
  /**
   * Milliseconds to wait for the answer before rejecting with `TIMEOUT` (0 waits for ever).
   * @default 30000 (or the space's `askTimeout`)
   */
  timeout?: number;
  /** Aborting rejects the ask with `ABORTED` and aborts the handler's `ctx.signal`. */
  signal?: AbortSignal;
}

/** The handler map of an actor made by `defineActor`, or a handler map itself. */
export type Handlers<A> = A extends {
  /** The handler map `defineActor` keeps on the actor it builds. */
  readonly handlers: infer H;
}
  ? H
  : A;

/**
 * True when `A` names no message types: `any`, or an actor with its own `receive` and no
 * handler map (a class actor). References to such actors take any message.
 */
type Untyped<A> = 0 extends 1 & A
  ? true
  : A extends { readonly handlers: unknown }
    ? false
    : A extends { receive(...args: any[]): unknown }
      ? true
      : false;

/**
 * The typed proxy of an actor's handlers: each handler becomes an async function of its
 * data. `ref.api().addTodo({ text })` is `ref.ask('addTodo', { text })`.
 */
export type RemoteApi<A> =
  Untyped<A> extends true
    ? {
        /** Any message type: asks the actor with the data and resolves with its answer. */
        readonly [type: string]: (data?: any, opts?: AskOptions) => Promise<any>;
      }
    : TypedApi<A>;

type TypedApi<A> = {
  readonly [K in MessageType<A>]: (...args: DataArgs<A, K, [opts?: AskOptions]>) => Promise<AnswerOf<A, K>>;
};

/** The message types of an actor type (its handler names). */
export type MessageType<A> = Extract<keyof Handlers<A>, string>;

/**
 * What a tell or ask of `K` takes after its type: the entry's data (its `input` schema's, or
 * its handler's parameter), optional when it may be undefined.
 */
type DataArgs<A, K extends MessageType<A>, Extra extends unknown[] = []> =
  undefined extends DataOf<Handlers<A>[K]>
    ? [data?: DataOf<Handlers<A>[K]>, ...Extra]
    : [data: DataOf<Handlers<A>[K]>, ...Extra];

/** What an ask of `K` resolves with: the entry's `output` schema's output, or its handler's return, awaited. */
type AnswerOf<A, K extends MessageType<A>> = EntryAnswer<Handlers<A>[K]>;

/** `string` for a reference that names no message types; `never` (no such overload) for a typed one. */
type AnyName<A> = Untyped<A> extends true ? string : never;

/**
 * A reference to an actor, local or remote: the same interface either way. Typed with the
 * actor's type (`ActorRef<typeof todos>`), `tell`, `ask` and `api()` know its message types,
 * their data and their answers.
 */
export interface ActorRef<A = any> {
  /** The actor's id in its space; a remote reference addresses the same guid on the peer. */
  readonly guid: string;
  /**
   * Sends a one-way message to an actor whose message types are not known (a class actor, or
   * `ActorRef<any>`): any type, any data.
   * @throws ActorSpaceError `NO_SUCH_ACTOR`, `CHANNEL_CLOSED`, `MAILBOX_FULL` (the send buffer
   *   or mailbox is full: see `Channel.ready()`), `PAYLOAD_TOO_LARGE`, `INVALID_MESSAGE`;
   *   TypeError for a type that is not a string of 1-256 characters.
   */
  tell(type: AnyName<A>, data?: unknown): void;
  /**
   * Sends a one-way message of one of the actor's handler types, with that handler's data.
   * @throws ActorSpaceError `NO_SUCH_ACTOR`, `CHANNEL_CLOSED`, `MAILBOX_FULL` (the send buffer
   *   or mailbox is full: see `Channel.ready()`), `PAYLOAD_TOO_LARGE`, `INVALID_MESSAGE`;
   *   TypeError for a type that is not a string of 1-256 characters.
   * @example
   * todos.tell('add', { text: 'milk' });
   */
  tell<K extends MessageType<A>>(type: K, ...args: DataArgs<A, K>): void;
  /** Alias of {@link ActorRef.tell} for an actor whose message types are not known. */
  receive(type: AnyName<A>, data?: unknown): void;
  /** Alias of {@link ActorRef.tell} for one of the actor's handler types. */
  receive<K extends MessageType<A>>(type: K, ...args: DataArgs<A, K>): void;
  /**
   * Sends a message to an actor whose message types are not known and resolves with the
   * handler's return value, typed `R`.
   * @throws ActorSpaceError `TIMEOUT`, `ABORTED`, `NO_SUCH_ACTOR`, `CHANNEL_CLOSED`, `REMOTE_ERROR`,
   *   `MAILBOX_FULL`, `PAYLOAD_TOO_LARGE`, `INVALID_MESSAGE`, `UNAUTHORIZED`, `FORBIDDEN`;
   *   TypeError (rejects) for a type that is not a string of 1-256 characters.
   */
  ask<R = unknown>(type: AnyName<A>, data?: unknown, opts?: AskOptions): Promise<R>;
  /**
   * Sends a message of one of the actor's handler types and resolves with that handler's
   * return value (awaited).
   * @throws ActorSpaceError `TIMEOUT`, `ABORTED`, `NO_SUCH_ACTOR`, `CHANNEL_CLOSED`, `REMOTE_ERROR`,
   *   `MAILBOX_FULL`, `PAYLOAD_TOO_LARGE`, `INVALID_MESSAGE`, `UNAUTHORIZED`, `FORBIDDEN`;
   *   TypeError (rejects) for a type that is not a string of 1-256 characters.
   * @example
   * const list = await todos.ask('list', undefined, { timeout: 5000 });
   */
  ask<K extends MessageType<A>>(
    type: K,
    ...args: DataArgs<A, K, [opts?: AskOptions]>
  ): Promise<AnswerOf<A, K>>;
  /** A typed proxy: `ref.api().addTodo(x)` is `ref.ask('addTodo', x)`. */
  api(): RemoteApi<A>;
}

/**
 * Where a reference sends its messages: a space for local actors, a channel for remote ones.
 * `caller` is set when a channel relays a peer's message (a forwarder): a space then delivers
 * it as that peer's, never as its own `system` message.
 */
export interface Router {
  /** Sends a tell to the actor `guid`; `caller` when relaying a peer's message. */
  tellTo(guid: string, type: string, data: unknown, caller?: Caller): void;
  /** Sends an ask to the actor `guid`; `caller` when relaying a peer's message. */
  askTo<R>(
    guid: string,
    type: string,
    data: unknown,
    opts: AskOptions | undefined,
    caller?: Caller,
  ): Promise<R>;
}

/** The common reference implementation; `router` decides local or remote. */
export class Ref<A = any> {
  readonly [REF_MARK] = true;
  readonly guid: string;
  /** @internal */
  readonly router: Router;
  #api: RemoteApi<A> | undefined;

  constructor(router: Router, guid: string) {
    this.router = router;
    this.guid = guid;
  }

  tell(type: string, data?: unknown): void {
    this.router.tellTo(this.guid, type, data);
  }

  receive(type: string, data?: unknown): void {
    this.router.tellTo(this.guid, type, data);
  }

  ask<R = unknown>(type: string, data?: unknown, opts?: AskOptions): Promise<R> {
    return this.router.askTo<R>(this.guid, type, data, opts);
  }

  api(): RemoteApi<A> {
    this.#api ??= makeApi<A>(this);
    return this.#api;
  }

  toJSON(): { guid: string } {
    return { guid: this.guid };
  }

  /** This reference under the type of the actor it names: one class serves every actor type. */
  typed<T>(): ActorRef<T> {
    return this as unknown as ActorRef<T>;
  }
}

/**
 * A reference whose messages go through `router` instead of a space or a channel: for code that
 * hands out an actor it relays with checks of its own (the server's agent gateway). Sent to a
 * peer it travels as any third-party reference: the peer's messages to it arrive at `router`
 * with the peer's caller.
 */
export function refThrough<A = any>(router: Router, guid: string): ActorRef<A> {
  return new Ref<A>(router, guid).typed<A>();
}

/** True when `value` is an ActorSpace reference. */
export function isActorRef(value: unknown): value is ActorRef {
  return value instanceof Ref;
}

/** A message type: 1-256 characters. @throws TypeError otherwise (a programming error). */
export function checkType(type: unknown): asserts type is string {
  if (typeof type !== 'string' || type.length === 0 || type.length > 256) {
    throw new TypeError(
      `message type must be a string of 1-256 characters, got ${String(type).slice(0, 40)}`,
    );
  }
}

function makeApi<A>(ref: Ref<A>): RemoteApi<A> {
  const cache = new Map<string, (data?: unknown, opts?: AskOptions) => Promise<unknown>>();
  // No `then`: a proxy must never pass for a promise (await ref.api() would otherwise call it).
  return new Proxy(Object.create(null) as object, {
    get(_target, name) {
      if (typeof name !== 'string' || name === 'then') return undefined;
      let fn = cache.get(name);
      if (!fn) {
        fn = (data?: unknown, opts?: AskOptions) => ref.ask(name, data, opts);
        cache.set(name, fn);
      }
      return fn;
    },
    has: () => false,
    set: () => false,
  }) as RemoteApi<A>;
}
