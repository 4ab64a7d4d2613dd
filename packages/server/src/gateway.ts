/**
 * The agent gateway: how services (AI agents, back-office code) reach the client actors of
 * connected sessions. Services authenticate with a service access token or a pre-shared key;
 * they list the sessions and what each offers (its capabilities), ask and tell a session's
 * client root actor as themselves (the page's definitions decide, by `callers`), and broadcast.
 * Over WebSocket the gateway is the service's server root actor; over HTTP it answers
 * `<path>/sessions...` and `<path>/broadcast` (see gateway-http.ts); MCP builds on the same
 * operations (mcp.ts).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import {
  type Actor,
  type ActorRef,
  ActorSpaceError,
  type AskOptions,
  type Caller,
  defineActor,
  frozenCaller,
  isActorRef,
  type Router,
  refThrough,
} from '@actorspace/core';
import { RateLimiter } from './internal/rate-limit.js';
import type { Metrics } from './metrics.js';
import type { ListedSession, SessionInfo } from './session.js';
import type { VerifiedToken } from './tokens.js';

/** Options of the agent gateway (`createActorServer({ gateway })`). */
export interface GatewayOptions {
  /**
   * Pre-shared keys, name → secret (at least 32 characters). A service that sends a secret as
   * its bearer token (HTTP `Authorization: Bearer`, or `connect(url, { token })`) is the caller
   * `{ id: <name>, type: 'service' }`. Compared in constant time.
   * @default none: services authenticate with service access tokens (`tokens`) or `authenticate`
   */
  keys?: Record<string, string>;
  /**
   * Serve MCP (the Model Context Protocol, Streamable HTTP) at `<path>/mcp`: the sessions'
   * capabilities as tools. Needs the optional dependency `@modelcontextprotocol/sdk`.
   * @default false
   */
  mcp?: boolean;
  /**
   * Requests a second per service over HTTP and MCP (asks, tells, lists); past it, 429. Its
   * WebSocket traffic follows the server's `rateLimit`. `false` disables.
   * @default { requests: 100, burst: 2 }
   */
  rateLimit?:
    | {
        /** Requests a second. @default 100 */
        requests?: number;
        /** Seconds of requests at the full rate that may come at once. @default 2 */
        burst?: number;
      }
    | false;
  /** Milliseconds an ask through the gateway waits when the request names no `timeout`. @default 30000 */
  timeout?: number;
}

/** A session as services see it: the caller without its claims. */
export interface PublicSessionInfo extends Omit<SessionInfo, 'caller'> {
  /** Who the client is: id and type only (claims stay on the server). */
  caller: {
    /** The caller's id. */
    id: string;
    /** `client` or `service`. */
    type: Caller['type'];
  };
}

/** A change in the registry: a session came, changed (state or capabilities), or went. */
export interface SessionChange {
  /** What happened. */
  kind: 'added' | 'updated' | 'removed';
  /** The session, as it is now (or was, when removed). */
  session: SessionInfo;
}

/** What the gateway needs from the engine. */
export interface GatewayHost {
  /**
   * The route sessions, by public id (services paired with the gateway are not among them):
   * this node's, and on a backplane every node's.
   */
  readonly sessions: {
    get(id: string): ListedSession | undefined;
    values(): Iterable<ListedSession>;
  };
  /**
   * Tells the sessions of `route` that offer `type` to services, as `caller` (encoded once).
   * @throws ActorSpaceError `INVALID_MESSAGE` for data the codec cannot carry to many.
   */
  broadcastAs(caller: Caller, route: string, type: string, data: unknown): number;
  /** Publishes to a topic as a service, under the topic's `publish` rule. */
  publishAs(
    caller: Caller,
    topic: string,
    type: string,
    data: unknown,
  ): Promise<{ seq: number; subscribers: number }>;
  /** The server's metrics, when on (ask durations). */
  readonly metrics: Metrics | null;
}

/** Where to broadcast: every session of a route, or a topic's subscribers. */
export type BroadcastTarget = { route: string; topic?: undefined } | { topic: string; route?: undefined };

const MIN_KEY = 32;
const DEFAULT_TIMEOUT = 30_000;
const MAX_TIMEOUT = 600_000;

/** The gateway's state: keys, rate limits, and the listeners of session changes. */
export class Gateway {
  readonly options: GatewayOptions;
  readonly #host: GatewayHost;
  /** Each key's SHA-256: compared digest to digest, so neither the length nor the bytes leak. */
  readonly #keys: { name: string; digest: Buffer }[];
  readonly #limit: { messages: number; bytes: number; burst: number } | null;
  readonly #limiters = new Map<string, RateLimiter>();
  readonly #watchers = new Set<(change: SessionChange) => void>();
  readonly timeout: number;

  /** @throws TypeError for a key shorter than 32 characters; RangeError for a bad limit or timeout. */
  constructor(host: GatewayHost, options: GatewayOptions | true) {
    this.options = options === true ? {} : options;
    this.#host = host;
    this.#keys = Object.entries(this.options.keys ?? {}).map(([name, secret]) => {
      if (typeof secret !== 'string' || secret.length < MIN_KEY) {
        throw new TypeError(`gateway.keys.${name} must be a secret of at least ${MIN_KEY} characters`);
      }
      return { name, digest: sha256(secret) };
    });
    const rate = this.options.rateLimit;
    if (rate === false) this.#limit = null;
    else {
      const requests = rate?.requests ?? 100;
      const burst = rate?.burst ?? 2;
      if (!(requests > 0) || !(burst > 0))
        throw new RangeError('gateway.rateLimit: requests and burst must be positive numbers');
      this.#limit = { messages: requests, bytes: Number.MAX_SAFE_INTEGER, burst };
    }
    this.timeout = this.options.timeout ?? DEFAULT_TIMEOUT;
    if (!(this.timeout > 0 && this.timeout <= MAX_TIMEOUT))
      throw new RangeError(`gateway.timeout must be between 1 and ${MAX_TIMEOUT} ms`);
  }

  /** The service a pre-shared key stands for, or null (every key is compared: constant time). */
  keyCaller(token: string): VerifiedToken | null {
    if (this.#keys.length === 0) return null;
    const given = sha256(token);
    let found: string | null = null;
    for (const { name, digest } of this.#keys) {
      if (timingSafeEqual(given, digest) && found === null) found = name;
    }
    return found === null ? null : (frozenCaller({ id: found, type: 'service' }) as VerifiedToken);
  }

  /**
   * Counts one request of `caller` against its rate limit.
   * @throws ActorSpaceError `MAILBOX_FULL` (429) past it.
   */
  spend(caller: Caller): void {
    if (!this.#limit) return;
    let limiter = this.#limiters.get(caller.id);
    if (!limiter) {
      if (this.#limiters.size >= 10_000) this.#limiters.clear();
      limiter = new RateLimiter(this.#limit);
      this.#limiters.set(caller.id, limiter);
    }
    const over = limiter.spend(0);
    if (over) throw new ActorSpaceError('MAILBOX_FULL', `rate limit: ${over} for service "${caller.id}"`);
  }

  // ---- the registry ------------------------------------------------------------------------

  /** Listens to session changes; returns the function that stops it. */
  watch(listener: (change: SessionChange) => void): () => void {
    this.#watchers.add(listener);
    return () => this.#watchers.delete(listener);
  }

  /** A session came, changed or went: every watcher hears of it. */
  changed(change: SessionChange): void {
    for (const listener of this.#watchers) {
      try {
        listener(change);
      } catch {
        // A watcher's failure is its own.
      }
    }
  }

  /** The route sessions, as services see them. */
  list(): PublicSessionInfo[] {
    return [...this.#host.sessions.values()].map((session) => publicInfo(session.info()));
  }

  /** One route session, as services see it. @throws ActorSpaceError `NO_SUCH_ACTOR` */
  get(id: unknown): PublicSessionInfo {
    return publicInfo(this.#session(id).info());
  }

  // ---- calling a session's client actor ---------------------------------------------------

  /**
   * Asks a session's client root actor, as `caller`. A suspended session is waited for (up to
   * the timeout); the message type must be one of its capabilities.
   * @throws ActorSpaceError `NO_SUCH_ACTOR` (no such session), `FORBIDDEN` (not a capability),
   *   `CHANNEL_CLOSED` (suspended and not back in time, or ended), and whatever the ask fails with.
   */
  async ask(
    caller: Caller,
    id: unknown,
    type: unknown,
    data: unknown,
    options: { timeout?: unknown; signal?: AbortSignal; transport?: 'http' | 'mcp' | 'ws' } = {},
  ): Promise<unknown> {
    const metrics = this.#host.metrics;
    const started = metrics ? performance.now() : 0;
    try {
      const timeout = this.#timeout(options.timeout);
      const session = this.#session(id);
      this.#check(session, caller, type);
      const result = await session.call(caller, type, data, timeout, options.signal);
      metrics?.ask(options.transport ?? 'ws', 'ok', (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      const code = error instanceof ActorSpaceError ? error.code : 'REMOTE_ERROR';
      metrics?.ask(options.transport ?? 'ws', code, (performance.now() - started) / 1000);
      throw error;
    }
  }

  /** Tells a session's client root actor, as `caller` (the same checks as {@link ask}). */
  async tell(caller: Caller, id: unknown, type: unknown, data: unknown): Promise<void> {
    const session = this.#session(id);
    this.#check(session, caller, type);
    session.send(caller, type, data);
  }

  /**
   * As `caller`: tells every open session of a route that offers `type` (their client root
   * actors, which see the service as the caller), or publishes to a topic under its `publish`
   * rule. Resolves with how many sessions (or topic subscribers) it went to.
   * @throws ActorSpaceError `INVALID_MESSAGE` for a target that names neither or both, or a bad
   *   topic; `FORBIDDEN` when the topic's rule refuses the service.
   */
  async broadcast(caller: Caller, target: unknown, type: unknown, data: unknown): Promise<number> {
    const t = target as Partial<{ route: unknown; topic: unknown }> | null;
    checkType(type);
    if (caller.type === 'client') throw new ActorSpaceError('FORBIDDEN', 'clients cannot use the gateway');
    if (typeof t?.route === 'string' && t.topic === undefined) {
      return this.#host.broadcastAs(caller, t.route, type, data);
    }
    if (typeof t?.topic === 'string' && t.route === undefined) {
      return (await this.#host.publishAs(caller, t.topic, type, data)).subscribers;
    }
    throw new ActorSpaceError(
      'INVALID_MESSAGE',
      'broadcast needs { route } or { topic } (a string), not both',
    );
  }

  /**
   * A reference to a session's client root actor for `caller` (a service over WebSocket) to
   * hold and call: its messages go through {@link ask} and {@link tell}, with their checks
   * (capabilities, a suspended tab waited for) and metrics, as that service.
   */
  client(caller: Caller, id: unknown): ActorRef {
    const publicId = this.#session(id).publicId;
    const router: Router = {
      tellTo: (_guid, type, data, relayed) => {
        this.tell(relayed ?? caller, publicId, type, data).catch(() => {
          // A tell has nobody to tell of its failure.
        });
      },
      askTo: <R>(
        _guid: string,
        type: string,
        data: unknown,
        opts: AskOptions | undefined,
        relayed?: Caller,
      ) =>
        this.ask(relayed ?? caller, publicId, type, data, {
          // A relayed ask carries no timeout of its own (its asker has one): the gateway's.
          timeout: opts?.timeout || undefined,
          ...(opts?.signal && { signal: opts.signal }),
        }) as Promise<R>,
    };
    return refThrough(router, `tab.${publicId}`);
  }

  #session(id: unknown): ListedSession {
    const session = typeof id === 'string' ? this.#host.sessions.get(id) : undefined;
    if (!session) {
      throw new ActorSpaceError('NO_SUCH_ACTOR', `no session "${String(id).slice(0, 64)}"`);
    }
    return session;
  }

  /** The checks of every call: a service (never a client), and a type the session offers. */
  #check(session: ListedSession, caller: Caller, type: unknown): asserts type is string {
    checkType(type);
    if (caller.type === 'client') throw new ActorSpaceError('FORBIDDEN', 'clients cannot use the gateway');
    if (!session.capabilities.some((c) => c.type === type)) {
      throw new ActorSpaceError(
        'FORBIDDEN',
        `session ${session.publicId} offers no "${type.slice(0, 64)}" to services (its capabilities: ${
          session.capabilities.map((c) => c.type).join(', ') || 'none'
        })`,
      );
    }
  }

  #timeout(value: unknown): number {
    if (value === undefined || value === null) return this.timeout;
    if (typeof value !== 'number' || !(value > 0) || value > MAX_TIMEOUT) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        `timeout must be a number of ms between 1 and ${MAX_TIMEOUT}`,
      );
    }
    return value;
  }

  // ---- the gateway actor (WebSocket) ------------------------------------------------------

  /**
   * The server root actor of a service paired with the gateway. Its messages: `sessions`,
   * `session` (id → info), `client` (id → a reference to the session's client root actor, to
   * ask and tell as this service), `ask` / `tell` ({ session, type, data, timeout? }), `watch`
   * (a sink actor reference: told `session` with each {@link SessionChange}; answers the list),
   * `unwatch`, `broadcast` ({ route | topic, type, data } → { delivered }).
   */
  actor(caller: Caller): Actor {
    let unwatch: (() => void) | null = null;
    const clients = new Map<string, ActorRef>();
    const request = (data: unknown): Record<string, unknown> =>
      typeof data === 'object' && data !== null ? (data as Record<string, unknown>) : {};
    return defineActor(
      {
        sessions: () => this.list(),
        session: (id: string) => this.get(id),
        client: (id: string) => {
          // One reference per tab for this service (its channel keeps one forwarder for it).
          let ref = clients.get(id);
          if (!ref) {
            ref = this.client(caller, id);
            if (clients.size >= 10_000) clients.clear();
            clients.set(id, ref);
          }
          return ref;
        },
        ask: (data: unknown, ctx) => {
          const r = request(data);
          return this.ask(caller, r.session, r.type, r.data, {
            timeout: r.timeout,
            ...(ctx.signal && { signal: ctx.signal }),
          });
        },
        tell: async (data: unknown) => {
          const r = request(data);
          await this.tell(caller, r.session, r.type, r.data);
          return true;
        },
        watch: (sink: unknown) => {
          if (!isActorRef(sink))
            throw new ActorSpaceError('INVALID_MESSAGE', 'watch needs an actor reference');
          unwatch?.();
          unwatch = this.watch((change) => {
            try {
              sink.tell('session', { kind: change.kind, session: publicInfo(change.session) });
            } catch {
              // The service is going, or its buffer is full: it lists again when back.
            }
          });
          return this.list();
        },
        unwatch: () => {
          unwatch?.();
          unwatch = null;
          return true;
        },
        broadcast: async (data: unknown) => {
          const r = request(data);
          return { delivered: await this.broadcast(caller, r, r.type, r.data) };
        },
      },
      {
        onStop() {
          unwatch?.();
          unwatch = null;
        },
      },
    );
  }
}

/** A session's info without the caller's claims. */
export function publicInfo(info: SessionInfo): PublicSessionInfo {
  return { ...info, caller: { id: info.caller.id, type: info.caller.type } };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

function checkType(type: unknown): asserts type is string {
  if (typeof type !== 'string' || type.length === 0 || type.length > 256) {
    throw new ActorSpaceError('INVALID_MESSAGE', 'type must be a string of 1-256 characters');
  }
}
