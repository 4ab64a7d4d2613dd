/**
 * References to actors. A local reference and a remote one have the same interface, so
 * code never needs to know where an actor lives (location transparency).
 */
import type { AskOptions, RemoteApi } from './actor.js';
import type { Channel } from './channel.js';
import { REF_MARK } from './codec.js';

/** A reference to an actor, local or remote: the same interface either way. */
export interface ActorRef<A = any> {
  readonly guid: string;
  /** Sends a one-way message. @throws ActorSpaceError `NO_SUCH_ACTOR`, `CHANNEL_CLOSED`, `MAILBOX_FULL`, `PAYLOAD_TOO_LARGE` */
  tell(type: string, data?: unknown): void;
  /** Alias of {@link ActorRef.tell}. */
  receive(type: string, data?: unknown): void;
  /**
   * Sends a message and resolves with the handler's return value.
   * @throws ActorSpaceError `TIMEOUT`, `ABORTED`, `NO_SUCH_ACTOR`, `CHANNEL_CLOSED`, `REMOTE_ERROR`,
   *   `MAILBOX_FULL`, `PAYLOAD_TOO_LARGE`, `INVALID_MESSAGE`, `UNAUTHORIZED`, `FORBIDDEN`
   */
  ask<R = unknown>(type: string, data?: unknown, opts?: AskOptions): Promise<R>;
  /** A typed proxy: `ref.api().addTodo(x)` is `ref.ask('addTodo', x)`. */
  api(): RemoteApi<A>;
}

/** A reference to an actor on the other side of a channel. */
export type RemoteActor<A = any> = ActorRef<A> & { readonly channel: Channel };

/** Where a reference sends its messages: a space for local actors, a channel for remote ones. */
export interface Router {
  tellTo(guid: string, type: string, data: unknown): void;
  askTo<R>(guid: string, type: string, data: unknown, opts: AskOptions | undefined): Promise<R>;
}

/** The common reference implementation; `router` decides local or remote. */
export class Ref<A = any> implements ActorRef<A> {
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
}

/** A reference to an actor across a channel. */
export class RemoteRef<A = any> extends Ref<A> implements RemoteActor<A> {
  readonly channel: Channel;
  constructor(channel: Channel & Router, guid: string) {
    super(channel, guid);
    this.channel = channel;
  }
}

/** True when `value` is an ActorSpace reference. */
export function isActorRef(value: unknown): value is ActorRef {
  return value instanceof Ref;
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
