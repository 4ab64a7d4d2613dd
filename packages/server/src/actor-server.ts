/**
 * `createActorServer()`: the runtime-agnostic engine. Adapters turn a framework's sockets and
 * requests into `handle(peer)` and `http(request)`; `close()` ends it. The engine's state
 * lives in the registry (connections and sessions), the pairing decision in the handshake,
 * each pairing in a session, each socket in a connection.
 */
import {
  ActorSpaceError,
  type AskOptions,
  type ChannelOptions,
  CloseCode,
  type DataLimits,
  EncodedTell,
  EventEmitter,
  errorCodeForClose,
  type FlowOptions,
  type HeartbeatOptions,
  type Logger,
  type RemoteActor,
} from '@actorspace/core';
import type { Backplane } from './backplane.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { Connection, type ConnectionInfo } from './connection.js';
import { Gateway, type GatewayOptions, type SessionChange } from './gateway.js';
import { GatewayHttp, type HttpBody } from './gateway-http.js';
import type { Authenticate, IdentifyHost } from './handshake.js';
import { headerOf, normalizeHeaders } from './internal/headers.js';
import { DEFAULT_PATH, normalizePath, pathnameOf } from './internal/paths.js';
import type { Tracer } from './internal/peer-transport.js';
import { type RateLimit, RateLimiter, rateLimit } from './internal/rate-limit.js';
import { Metrics, type MetricsOptions } from './metrics.js';
import { checkImports, type Imports } from './modules.js';
import { PageServer, type StaticOptions } from './pages.js';
import type { HeadersLike, Peer, PeerConnection } from './peer.js';
import { Registry } from './registry.js';
import { normalizeRoutes, type Route, type RouteDefinition } from './routes.js';
import type { ListedSession, SessionInfo } from './session.js';
import { type EventStreamOptions, EventStreams } from './sse.js';
import { createTokenVerifier, type VerifyAccessTokenOptions } from './tokens.js';
import { compileTopics, TopicHub, type TopicInfo, type TopicListener, type TopicOptions } from './topics.js';

export type { ConnectionInfo } from './connection.js';
export type { RateLimit } from './internal/rate-limit.js';
export type { SessionInfo } from './session.js';

/** Options of {@link createActorServer}. */
export interface ActorServerOptions<S extends Record<string, unknown> = Record<string, unknown>> {
  /** Route name (`'/todos'`) → factory of its server root actor, or a route definition. */
  routes: Record<string, Route<S>>;
  /** Shared services injected into every factory as `ctx.services`. @default {} */
  services?: S;
  /**
   * Runs on each hello (after the access token, if any, is verified: `req.verified`). Return
   * the caller (`client` or `service`, never `system`), or null to refuse with close code 4401;
   * throw an `ActorSpaceError('FORBIDDEN')` to refuse with 4403.
   * @default the token's caller with `tokens`; without, every client is accepted as an
   *   anonymous `{ id: <connection id>, type: 'client', claims: {} }`
   */
  authenticate?: Authenticate;
  /**
   * Verifies the signed access token of each hello (`connect(url, { token })`) and makes its
   * caller `ctx.caller`. Invalid, expired or missing tokens are refused with 4401, a token
   * bound to another route or actor with 4403. `authenticate`, if given, decides last.
   * @default none: no token is checked
   * @example
   * tokens: { secret: process.env.ACTORSPACE_SECRET, audience: 'my-app' }
   */
  tokens?: VerifyAccessTokenOptions;
  /**
   * Topic patterns (`'room/:id'`) and their rules, history and presence: clients
   * `session.subscribe()` and `session.publish()` where the rules let them; server code
   * `actors.publish()`. A topic no pattern matches is refused with `FORBIDDEN`.
   * @default none: no topics
   * @example
   * topics: {
   *   'room/:id': {
   *     subscribe: (caller, { id }) => canEnter(caller.id, id),
   *     publish: (caller) => caller.type === 'client',
   *     presence: true,
   *   },
   * }
   */
  topics?: Record<string, TopicOptions>;
  /**
   * Topics as Server-Sent Events: `GET <path>/topics/<topic>` (the topic URL-encoded) answers
   * `text/event-stream` for a plain `EventSource`, under the topic's `subscribe` rule, with
   * `tokens` (a `?token=` in the URL) and `authenticate` deciding who calls, replay from
   * `Last-Event-ID`, and the topic's slow policy. `false` turns the endpoint off (its URLs go
   * to the host). See docs/topics-sse.md.
   * @default { heartbeat: 15000, retry: 2000 }
   * @example
   * sse: { heartbeat: 20_000, retry: 5_000 }
   */
  sse?: EventStreamOptions | false;
  /**
   * Browser origins allowed to connect, checked at the upgrade (HTTP 403 otherwise), and for
   * event streams when the request has an `Origin`. A request without an `Origin` header (a
   * non-browser client, or a same-origin `EventSource`) is always allowed.
   * @default same-origin: the Origin's host must be the request's `Host` (or `X-Forwarded-Host`)
   */
  origins?: string[] | ((origin: string) => boolean);
  /** Largest incoming frame in bytes; a larger one closes the connection with 4413. @default 1048576 */
  maxPayload?: number;
  /**
   * Ping every `interval` ms; a peer that answers no ping for `timeout` ms is closed with 4408
   * (its session waits for a resume). One setting for every caller, `false` to disable, or one
   * per caller type: services (agents, back-office code) are expected to be always on, and
   * found gone sooner.
   * @default { client: { interval: 25000, timeout: 30000 }, service: { interval: 5000, timeout: 30000 } }
   * @example
   * heartbeat: { client: { interval: 20_000, timeout: 40_000 }, service: { interval: 5_000, timeout: 15_000 } }
   */
  heartbeat?: HeartbeatOptions | false | HeartbeatByCaller;
  /** Milliseconds a new connection has to send its hello before it is closed with 4408. @default 10000 */
  handshakeTimeout?: number;
  /** Messages the server's own code may queue for one actor (messages from clients are bounded by `flow.window`). @default 1000 */
  mailboxLimit?: number;
  /** Default timeout of asks made by server actors, in ms. @default 30000 */
  askTimeout?: number;
  /**
   * Flow control per session, in bytes: the credit window each client gets, what the server
   * holds for a client before `tell`/`ask` fail with `MAILBOX_FULL`, and the answers a client may
   * leave unread before it is closed with 4429 (docs/protocol.md, "Flow control").
   * @default { window: 1 MiB, sendBuffer: 16 MiB, highWaterMark: 1 MiB, answerBuffer: 16 MiB }
   */
  flow?: FlowOptions;
  /** Bounds on data from clients (nesting depth, array length, BigInt digits). */
  limits?: DataLimits;
  /**
   * Per-connection rate limit; a client over it is closed with 4429. `false` disables.
   * @default { messages: 100000, bytes: 64 MiB, burst: 2 } (per second; burst in seconds)
   */
  rateLimit?: RateLimit | false;
  /** Where warnings and (with `dev`) protocol traces go. @default quiet, or the console when `dev` */
  logger?: Logger;
  /** Development mode: verbose protocol tracing and handler stacks sent with remote errors. @default false */
  dev?: boolean;
  /**
   * Session resumption: a client that reconnects within `ttl` ms resumes its session (same
   * root actor; nothing sent either way while it was gone is lost). `false` ends a session with
   * its socket.
   * @default { ttl: 120000 }
   */
  resume?:
    | {
        /** Milliseconds a suspended session waits for its client. @default 120000 */
        ttl?: number;
      }
    | false;
  /**
   * Folder that relative paths (a route's `client`, a static `dir`) are resolved against.
   * @default process.cwd()
   */
  root?: string;
  /** Folders served as is, e.g. an app's build output with `spa: true`. @default none */
  static?: StaticOptions | StaticOptions[];
  /**
   * Bare specifiers every zero-build page may import (a route's `imports` add to them): a URL,
   * or `true` for an installed package that ships browser ESM, served from `node_modules` under
   * `<path>/modules/` (only the packages listed; nothing else there is reachable).
   * @default only `@actorspace/browser`
   * @example
   * imports: { preact: true, 'preact/hooks': true, '@app/ui': '/ui/index.js' }
   */
  imports?: Imports;
  /**
   * The agent gateway: services (AI agents, back-office code) authenticated by a service access
   * token (`tokens`) or a pre-shared key list the sessions and call what each page offers them
   * (`callers: ['service']`), over WebSocket (`connect(url, { token })` with no route), over
   * HTTP (`<path>/sessions`, `<path>/sessions/:id/ask`, `.../tell`, `<path>/broadcast`), and with
   * `mcp: true` over MCP at `<path>/mcp`. Clients never reach it. See docs/agents.md.
   * @default none: no gateway
   * @example
   * gateway: { keys: { 'support-bot': process.env.BOT_KEY }, mcp: true }
   */
  gateway?: GatewayOptions | true;
  /**
   * Metrics in Prometheus' text format, from {@link ActorServer.metrics} and at
   * `GET <path>/metrics` (authenticated as the gateway is: a service token or gateway key):
   * connections, sessions by route and state, WebSocket messages by direction and kind,
   * failures by code, the durations of asks served by the server's actors, gateway requests
   * and the gateway's ask durations. Needs the optional
   * dependency `prom-client`; pass the host's registry to scrape them with its own.
   * @default off
   * @example
   * import { register } from 'prom-client';
   * createActorServer({ routes, metrics: { registry: register } });
   */
  metrics?: MetricsOptions | true;
  /**
   * Runs this server as one node of many: the registry (`sessions()`, `session(id)`), the
   * gateway (WebSocket, HTTP, MCP), topics (with presence and recovery) and `broadcast` span
   * every node on the same backplane. See docs/scale-out.md.
   * @default none: one process
   * @example
   * import { redisBackplane } from '@actorspace/redis';
   * createActorServer({ routes, backplane: redisBackplane({ url: process.env.REDIS_URL }) });
   */
  backplane?: Backplane;
  /** How nodes on a backplane watch each other (heartbeats, and when a silent node is gone). */
  cluster?: ClusterOptions;
}

/** A live session of a route (see {@link ActorServer.session}): its info, and its client root actor to call. */
export interface SessionHandle {
  /** The session as the registry lists it, now. */
  readonly info: SessionInfo;
  /**
   * The client root actor of the current pairing, or null while it is away or had none, or
   * when the session is on another node (`ask` and `tell` reach it there).
   */
  readonly client: RemoteActor | null;
  /**
   * Asks the client root actor, as the server (`system`: every handler may be called). While
   * the session is away, the ask waits in its buffer for the resume (or its timeout). On
   * another node, the ask travels there over the backplane (`CHANNEL_CLOSED` at once when the
   * node or the broker is lost).
   * @throws ActorSpaceError as any ask, `CHANNEL_CLOSED` when the session has no client actor.
   */
  ask<R = unknown>(type: string, data?: unknown, options?: AskOptions): Promise<R>;
  /** Tells the client root actor, as the server. @throws ActorSpaceError as any tell. */
  tell(type: string, data?: unknown): void;
}

/** Heartbeats by the type of the caller a session is paired with ({@link ActorServerOptions.heartbeat}). */
export interface HeartbeatByCaller {
  /** Pages and other clients. @default { interval: 25000, timeout: 30000 } */
  client?: HeartbeatOptions | false;
  /** Services (agents, back-office code). @default { interval: 5000, timeout: 30000 } */
  service?: HeartbeatOptions | false;
}

/** Events of an {@link ActorServer}. */
export interface ActorServerEvents {
  /** A socket was handed to the engine (the handshake has not run yet). */
  connection: [connection: ConnectionInfo];
  /**
   * A pairing is over: the session ended (its space destroyed, its actors stopped), or the
   * socket closed before it paired. Sockets that resumed a session end with it.
   */
  disconnect: [connection: ConnectionInfo, code: number, reason: string];
  /**
   * A failure no caller waited for: a handshake that failed inside the server (a throwing
   * factory or `authenticate`), a bad frame from a client, a throwing tell handler. Refusals
   * (4401, 4403, 4404) are answers, not failures: they close the socket without an event.
   */
  error: [error: ActorSpaceError, connection: ConnectionInfo | null];
  /** A route session came (`added`), changed state or capabilities (`updated`), or went (`removed`). */
  session: [change: SessionChange];
}

/** An HTTP request handed to {@link ActorServer.http}, in a runtime-neutral shape. */
export interface HttpRequest {
  /** The HTTP method; the engine answers `GET` and `HEAD` only. */
  method: string;
  /** Absolute or path-only URL. */
  url: string;
  /** The request headers (`If-None-Match`, `Accept-Encoding`, `Accept`, `Last-Event-ID`), in any common shape. */
  headers?: HeadersLike;
  /** The client's address, when the runtime knows it: `authenticate` sees it for event streams. */
  remoteAddress?: string;
  /**
   * Aborted when the client goes away, where the runtime has one (`Request.signal`): ends an
   * event stream at once. Adapters that cancel the stream body on disconnect need not pass it.
   */
  signal?: AbortSignal;
  /**
   * The request body, for the gateway's `POST` endpoints: the raw bytes (a Node request, a
   * `Request.body`, a string), read up to `maxPayload`. Adapters whose framework already parsed
   * a JSON body pass that as `parsedBody` instead.
   */
  body?: HttpBody;
  /** A body the framework has already parsed as JSON (Express's `req.body`, Fastify's `request.body`). */
  parsedBody?: unknown;
}

/** The engine's HTTP answer; the adapter writes it with its framework's response API. */
export interface HttpResponse {
  /** The HTTP status code. */
  status: number;
  /** Response headers, lower-cased names. */
  headers: Record<string, string>;
  /**
   * The response body (empty for `HEAD` and 304). A `ReadableStream` (an event stream) is
   * written chunk by chunk as it comes, never buffered or compressed, taking the next chunk
   * only once the socket has taken the last; the adapter cancels it when the client goes away,
   * and cuts the connection if it errors.
   */
  body: string | Uint8Array | ReadableStream<Uint8Array>;
}

/** Health report served at `GET <path>/health`. */
export interface HealthReport {
  /** `closing` once {@link ActorServer.close} has been called, `ok` before. */
  status: 'ok' | 'closing';
  /** Open sockets, paired or not. */
  connections: number;
  /** Live sessions, including those waiting for a resume. */
  sessions: number;
  /** Seconds since the server was created. */
  uptime: number;
  /** Sessions whose socket dropped, kept for resumption. */
  suspended: number;
  /** On a backplane: its name, whether it is connected, and the other nodes heard from. */
  cluster?: {
    /** The backplane's name (`redis`, `nats`). */
    backplane: string;
    /** Whether it is connected to its broker. */
    up: boolean;
    /** The other nodes this one hears from. */
    nodes: number;
    /** The direct links to other nodes that are open (asks to those nodes skip the broker). */
    links: number;
  };
}

const DEFAULT_HEARTBEAT: Required<HeartbeatByCaller> = {
  client: { interval: 25_000, timeout: 30_000 },
  service: { interval: 5_000, timeout: 30_000 },
};

/** The heartbeat of each caller type, from the `heartbeat` option. */
function heartbeats(option: ActorServerOptions['heartbeat']): Required<HeartbeatByCaller> {
  if (option === undefined) return DEFAULT_HEARTBEAT;
  if (option === false || 'interval' in option || 'timeout' in option) {
    const one = option as HeartbeatOptions | false;
    return { client: one, service: one };
  }
  const byCaller = option as HeartbeatByCaller;
  return {
    client: byCaller.client ?? DEFAULT_HEARTBEAT.client,
    service: byCaller.service ?? DEFAULT_HEARTBEAT.service,
  };
}

/** A frame with the value of any `"token"` field replaced, for traces. */
function redactToken(frame: string): string {
  return frame.includes('"token"')
    ? frame.replace(/"token"\s*:\s*"(?:[^"\\]|\\.)*"/g, '"token":"[redacted]"')
    : frame;
}

/** True when the origin's host is the host the request was sent to (directly or through a proxy). */
function sameOrigin(origin: string, headers: HeadersLike | undefined): boolean {
  let host: string;
  try {
    host = new URL(origin).host.toLowerCase();
  } catch {
    return false;
  }
  // An origin with no host (file:, data:, about:) is nobody's own origin.
  if (host === '') return false;
  return ['host', 'x-forwarded-host'].some((name) =>
    (headerOf(headers, name) ?? '').split(',').some((value) => value.trim().toLowerCase() === host),
  );
}

const TRACE_LIMIT = 200;

/**
 * The ActorSpace server engine. Made by {@link createActorServer}; mounted by an adapter.
 */
export class ActorServer<
  S extends Record<string, unknown> = Record<string, unknown>,
> extends EventEmitter<ActorServerEvents> {
  readonly #options: ActorServerOptions<S>;
  readonly #routes: Map<string, RouteDefinition<S>>;
  readonly #registry: Registry<S>;
  readonly #pages: PageServer;
  readonly #topics: TopicHub;
  readonly #streams: EventStreams | null;
  readonly #origins: ((origin: string) => boolean) | null;
  readonly #rate: Required<RateLimit> | null;
  readonly #logger: Logger | undefined;
  readonly #gateway: Gateway | null;
  readonly #gatewayHttp: GatewayHttp | null;
  readonly #metrics: Metrics | null;
  readonly #cluster: Cluster | null;
  readonly #started = Date.now();
  #nextId = 0;
  #closing: Promise<void> | null = null;

  /**
   * @internal Use {@link createActorServer}.
   * @throws TypeError for malformed options or routes; RangeError for a size that is not positive.
   */
  constructor(options: ActorServerOptions<S>) {
    super();
    if (!options || typeof options !== 'object') {
      throw new TypeError('createActorServer needs options: { routes: { "/name": factory } }');
    }
    this.#options = options;
    this.#routes = normalizeRoutes(options.routes);
    const maxPayload = positive('maxPayload', options.maxPayload, 1024 * 1024);
    this.#logger = options.logger ?? (options.dev ? consoleLogger() : undefined);
    const statics = options.static === undefined ? [] : [options.static].flat();
    for (const s of statics) {
      if (!s || typeof s.dir !== 'string')
        throw new TypeError('createActorServer: each static entry needs { dir: "folder" }');
    }
    this.#pages = new PageServer(
      [...this.#routes].map(([route, def]) => ({ route, ...def })),
      options.root ?? process.cwd(),
      statics,
      checkImports(options.imports, 'createActorServer'),
    );
    this.#topics = new TopicHub(compileTopics(options.topics), {
      error: (error) => this.#emitSafe('error', error, null),
    });
    this.#metrics = options.metrics
      ? new Metrics(options.metrics, {
          connections: () => this.#registry.connections.size,
          sessions: () =>
            [...this.#registry.sessions.values()].map((s) => ({
              route: s.route,
              state: s.away ? 'suspended' : 'open',
            })),
        })
      : null;
    const resumeTtl = options.resume === false ? 0 : positive('resume.ttl', options.resume?.ttl, 120_000);
    const heartbeat = heartbeats(options.heartbeat);
    const channelOptions: ChannelOptions = {
      maxPayload,
      heartbeat: heartbeat.client,
      exposeStack: options.dev === true,
      resumable: resumeTtl > 0,
    };
    if (options.flow) channelOptions.flow = options.flow;
    if (this.#metrics) channelOptions.observeAsk = this.#metrics.askObserver('client');
    if (options.limits) channelOptions.limits = options.limits;
    this.#rate = options.rateLimit === false ? null : rateLimit(options.rateLimit);
    const verifyToken = options.tokens === undefined ? undefined : createTokenVerifier(options.tokens);
    // Who calls an HTTP endpoint (event streams, the gateway): tokens, gateway keys, authenticate.
    const identity: IdentifyHost = {
      authenticate: options.authenticate,
      verifyToken,
      keyCaller: (token) => this.#gateway?.keyCaller(token) ?? null,
    };
    this.#streams =
      options.sse === false
        ? null
        : new EventStreams(
            {
              topics: this.#topics,
              identity,
              checkOrigin: (origin, headers) => this.checkOrigin(origin, headers),
              error: (error) => this.#emitSafe('error', error, null),
            },
            options.sse,
          );
    this.#gateway =
      options.gateway === undefined
        ? null
        : new Gateway(
            {
              sessions: {
                get: (id) => this.#listed(id),
                values: () => this.#allListed(),
              },
              publishAs: (caller, topic, type, data) => this.#topics.publishAs(caller, topic, type, data),
              broadcastAs: (caller, route, type, data) => {
                const message = new EncodedTell(type, data, caller);
                return (
                  this.#tellRoute(route, message, type) +
                  (this.#cluster?.broadcast(route, message, caller, type) ?? 0)
                );
              },
              metrics: this.#metrics,
            },
            options.gateway,
          );
    this.#registry = new Registry<S>(
      {
        routes: this.#routes,
        services: (options.services ?? {}) as S,
        authenticate: options.authenticate,
        verifyToken,
        topics: this.#topics,
        spaceOptions: {
          maxPayload,
          ...(options.mailboxLimit !== undefined && { mailboxLimit: options.mailboxLimit }),
          ...(options.askTimeout !== undefined && { askTimeout: options.askTimeout }),
          ...(options.limits && { limits: options.limits }),
          ...(this.#logger && { logger: this.#logger }),
        },
        channelOptions,
        serviceChannelOptions: {
          ...channelOptions,
          heartbeat: heartbeat.service,
          ...(this.#metrics && { observeAsk: this.#metrics.askObserver('service') }),
        },
        maxPayload,
        handshakeTimeout: options.handshakeTimeout ?? 10_000,
        resumeTtl,
        gateway: this.#gateway,
      },
      {
        disconnect: (connection, code, reason) => this.#emitSafe('disconnect', connection, code, reason),
        error: (error, connection) => this.#emitSafe('error', error, connection),
        log: (level, message, details) => this.#log(level, message, details),
        session: (change) => {
          this.#cluster?.sessionChanged(change);
          this.#emitSafe('session', change);
        },
      },
    );
    this.#cluster = options.backplane === undefined ? null : this.#startCluster(options);
    this.#gatewayHttp =
      this.#gateway || this.#metrics
        ? new GatewayHttp(this.#gateway, {
            identity,
            maxPayload,
            metrics: this.#metrics,
            log: (level, message, details) => this.#log(level, message, details),
          })
        : null;
    const origins = options.origins;
    this.#origins =
      origins === undefined
        ? null
        : typeof origins === 'function'
          ? origins
          : (origin) => origins.includes(origin);
  }

  #startCluster(options: ActorServerOptions<S>): Cluster {
    const registry = this.#registry;
    const cluster = new Cluster(
      options.backplane as Backplane,
      {
        localSessions: () => registry.listed.values(),
        localSession: (id) => registry.listed.get(id),
        remoteChanged: (change) => {
          this.#gateway?.changed(change);
          this.#emitSafe('session', change);
        },
        tellRoute: (route, message, offering) => this.#tellRoute(route, message, offering),
        topics: this.#topics,
        log: (level, message, details) => this.#log(level, message, details),
      },
      options.cluster,
    );
    this.#topics.cluster = cluster;
    cluster.start().catch((error) => this.#log('error', 'the backplane failed', error));
    return cluster;
  }

  /**
   * Resolves once the server is ready for traffic across nodes: at once without a backplane;
   * with one, once it is connected and this node has announced itself (the other nodes' sessions
   * arrive moments later).
   */
  ready(): Promise<void> {
    return this.#cluster?.start() ?? Promise.resolve();
  }

  /** A route session of this node or, on a backplane, of another. */
  #listed(id: string): ListedSession | undefined {
    return this.#registry.listed.get(id) ?? this.#cluster?.remoteSession(id);
  }

  *#allListed(): Generator<ListedSession> {
    yield* this.#registry.listed.values();
    if (this.#cluster) yield* this.#cluster.remoteSessions();
  }

  /** Open sockets, paired or still in the handshake. */
  get connections(): number {
    return this.#registry.connections.size;
  }

  /**
   * The live sessions of the routes (connected, or away and waiting for a resume), with their
   * callers and capabilities. Services paired with the gateway are not among them.
   */
  sessions(): SessionInfo[] {
    return [...this.#allListed()].map((session) => session.info());
  }

  /**
   * One live session of a route, to call its client root actor from server code; undefined
   * when there is none by that id.
   * @example
   * const tab = actors.session(id);
   * await tab?.ask('highlight', { row: 3 }, { timeout: 5000 });
   */
  session(id: string): SessionHandle | undefined {
    const session = this.#registry.listed.get(id);
    if (!session) {
      const remote = this.#cluster?.remoteSession(id);
      return remote ? this.#remoteHandle(remote) : undefined;
    }
    const client = (): RemoteActor => {
      const remote = session.channel?.remote;
      if (!remote) throw new ActorSpaceError('CHANNEL_CLOSED', `session ${id} has no client actor`);
      return remote;
    };
    return {
      get info() {
        return session.info();
      },
      get client() {
        return session.channel?.remote ?? null;
      },
      ask: <R>(type: string, data?: unknown, opts?: AskOptions) => {
        try {
          return client().ask(type, data, opts) as Promise<R>;
        } catch (error) {
          return Promise.reject(error);
        }
      },
      tell: (type: string, data?: unknown) => client().tell(type, data),
    };
  }

  #remoteHandle(session: ListedSession): SessionHandle {
    const timeout = this.#options.askTimeout ?? 30_000;
    return {
      get info() {
        return session.info();
      },
      client: null,
      ask: <R>(type: string, data?: unknown, opts?: AskOptions) =>
        session.call(undefined, type, data, opts?.timeout || timeout, opts?.signal) as Promise<R>,
      tell: (type: string, data?: unknown) => session.send(undefined, type, data),
    };
  }

  /** The largest frame the engine accepts; adapters set their socket limit above it so the engine answers 4413. */
  get maxPayload(): number {
    return this.#registry.maxPayload;
  }

  /** True once {@link close} was called. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** The route definitions, by route name. */
  get routes(): ReadonlyMap<string, RouteDefinition<S>> {
    return this.#routes;
  }

  /** Routes that serve a zero-build page, for hosts and the CLI to list. */
  get pageRoutes(): string[] {
    return this.#pages.pageRoutes;
  }

  /**
   * Whether a browser `Origin` may open a socket. Adapters call it at the upgrade with the
   * request's headers and answer HTTP 403 when it is false. A missing origin (a non-browser
   * client) is always allowed. Without `origins`, only the page's own origin is: the Origin's
   * host must be the request's `Host` (or, behind a proxy, `X-Forwarded-Host`).
   */
  checkOrigin(origin: string | null | undefined, headers: HeadersLike | undefined): boolean {
    if (origin === undefined || origin === null || origin === '') return true;
    if (!this.#origins) return sameOrigin(origin, headers);
    try {
      return this.#origins(origin) === true;
    } catch (error) {
      this.#log('warn', `origins check threw for ${origin}; refusing`, error);
      return false;
    }
  }

  /**
   * Takes over an accepted WebSocket: reads its hello, pairs it with a new session of the
   * route (or resumes the session it names), and stops everything when the session ends. The
   * adapter feeds the socket's frames and close into the returned connection.
   *
   * @example
   * const conn = actors.handle({ send: (f) => ws.send(f), close: (c, r) => ws.close(c, r), request: { url, headers } });
   * ws.on('message', (data, binary) => conn.message(binary ? data : data.toString()));
   * ws.on('close', (code, reason) => conn.closed(code, reason.toString()));
   */
  handle(peer: Peer): PeerConnection {
    const id = `c${(++this.#nextId).toString(36)}`;
    const limiter = this.#rate ? new RateLimiter(this.#rate) : null;
    const connection = new Connection(this.#registry, id, peer, limiter, this.#frameTap(id));
    if (this.#closing) {
      connection.refuse(CloseCode.GOING_AWAY, 'server is shutting down');
      return connection;
    }
    this.#registry.connections.add(connection);
    this.#emitSafe('connection', connection);
    return connection;
  }

  /**
   * Answers the engine's HTTP requests: `GET <path>/health`, topics as event streams at
   * `GET <path>/topics/<topic>` (a streamed body), the browser bundle at `<path>/browser.js`,
   * the zero-build page of each route with a `client` (`GET /tools`, `/tools/client.js`, ...)
   * and static folders. Resolves null for any other request, which the adapter passes on to
   * the host.
   */
  async http(request: HttpRequest, path: string = DEFAULT_PATH): Promise<HttpResponse | null> {
    const base = normalizePath(path);
    const pathname = pathnameOf(request.url);
    const method = request.method.toUpperCase();
    if (!this.#wants(method, pathname, base)) return null;
    if (pathname === `${base}/health`) {
      const body = JSON.stringify(this.health());
      return {
        status: 200,
        headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' },
        body: method === 'HEAD' ? '' : body,
      };
    }
    if (this.#streams && pathname.startsWith(`${base}/topics/`)) {
      return this.#streams.serve(request, method, pathname, base);
    }
    if (this.#gatewayHttp?.matches(pathname, base)) {
      return this.#gatewayHttp.serve(request, method, pathname, base);
    }
    return this.#pages.serve(
      { method, url: request.url, headers: normalizeHeaders(request.headers) },
      pathname,
      base,
    );
  }

  /**
   * Whether {@link http} may answer this request (synchronous and cheap). Adapters call it
   * first so the host's own requests go straight to the host, with no detour through the engine.
   */
  wants(method: string, url: string, path: string = DEFAULT_PATH): boolean {
    return this.#wants(method.toUpperCase(), pathnameOf(url), normalizePath(path));
  }

  #wants(method: string, pathname: string, base: string): boolean {
    if (this.#gatewayHttp?.matches(pathname, base)) return true;
    if (method !== 'GET' && method !== 'HEAD') return false;
    return (
      pathname === `${base}/health` ||
      (this.#streams !== null && pathname.startsWith(`${base}/topics/`)) ||
      this.#pages.matches(pathname, base)
    );
  }

  /**
   * Publishes an event to a topic from the server's own code (no rule applies; subscribers see
   * no publisher). Resolves with the event's sequence number: at once on one process; on a
   * backplane once the broker numbered it. A publish nobody awaits never becomes an unhandled
   * rejection: its failure is reported as an `error` event.
   * @throws ActorSpaceError `FORBIDDEN` when no topic pattern matches; `INVALID_MESSAGE` for
   *   data the codec cannot carry (actor references included); TypeError for a bad topic or
   *   type. On a backplane the promise rejects with `CHANNEL_CLOSED` while the broker is lost.
   * @example
   * actors.publish('prices/ACME', 'tick', { price: 12.5, at: new Date() });
   * const seq = await actors.publish('orders', 'placed', order);
   */
  publish(topic: string, type: string, data?: unknown): Promise<number> {
    const published = this.#topics.publish(topic, type, data);
    published.catch((error) => this.#emitSafe('error', error, null));
    return published;
  }

  /**
   * Subscribes the server's own code to a topic (no rule applies): `handler` is called with
   * every event, in order (on a backplane, the events of every node), first the last `replay`
   * events the topic's history still keeps. Resolves with the function that unsubscribes. A
   * handler that throws is reported as an `error` event; it never slows the topic down.
   * @throws ActorSpaceError (rejects) `FORBIDDEN` when no topic pattern matches; TypeError for
   *   a bad topic, handler or replay.
   * @example
   * const stop = await actors.subscribe('chat/lobby', (type, data, { seq }) => log(seq, type, data), { replay: 50 });
   */
  async subscribe(
    topic: string,
    handler: TopicListener,
    options: {
      /** How many kept events to deliver first. @default 0 */
      replay?: number;
    } = {},
  ): Promise<() => void> {
    if (typeof handler !== 'function') throw new TypeError('actors.subscribe needs a handler function');
    const replay = options.replay ?? 0;
    if (!Number.isInteger(replay) || replay < 0)
      throw new TypeError('replay must be a whole number of events');
    const key = `server.${++this.#nextId}`;
    await this.#topics.listen(topic, key, handler, replay);
    return () => this.#topics.leave(topic, key);
  }

  /**
   * A topic's sequence number, subscriber count (sessions and event streams) and presence, or
   * null when nobody used it yet.
   */
  topic(name: string): TopicInfo | null {
    return this.#topics.info(name);
  }

  /**
   * Tells the client root actor of every session of `route` (connected, or away and buffering
   * for its resume). The data is encoded once. Returns how many sessions it was sent to; a
   * session whose send buffer is full is skipped. On a backplane it goes to every node's
   * sessions too, and the count includes the sessions of that route the other nodes list.
   * @throws ActorSpaceError `INVALID_MESSAGE` for data the codec cannot carry; TypeError for a
   *   bad type.
   */
  broadcast(route: string, type: string, data?: unknown): number {
    const message = new EncodedTell(type, data);
    return this.#tellRoute(route, message) + (this.#cluster?.broadcast(route, message) ?? 0);
  }

  /**
   * Tells `message` (encoded once) to the client root actor of every session of `route`, or
   * only of those that offer `offering` to services. Returns how many it was sent to.
   */
  #tellRoute(route: string, message: EncodedTell, offering?: string): number {
    let delivered = 0;
    for (const session of this.#registry.listed.values()) {
      const channel = session.channel;
      const client = channel?.remote;
      if (session.route !== route || !channel || !client) continue;
      if (offering !== undefined && !session.capabilities.some((c) => c.type === offering)) continue;
      try {
        if (channel.tellEncoded(client.guid, message)) delivered++;
      } catch {
        // Closed, or too large for this client: not delivered.
      }
    }
    return delivered;
  }

  /**
   * The metrics in Prometheus' text format (what `GET <path>/metrics` serves).
   * @throws Error (rejects) when the server has no `metrics`, or prom-client is not installed.
   */
  async metrics(): Promise<string> {
    if (!this.#metrics) throw new Error('metrics are off: createActorServer({ metrics: true })');
    return (await this.#metrics.text()).body;
  }

  /** Counts for the health endpoint and metrics. */
  health(): HealthReport {
    const registry = this.#registry;
    return {
      status: this.#closing ? 'closing' : 'ok',
      connections: registry.connections.size,
      sessions: registry.sessions.size,
      uptime: Math.round((Date.now() - this.#started) / 1000),
      suspended: registry.away,
      ...(this.#cluster && {
        cluster: {
          backplane: this.#cluster.name,
          up: this.#cluster.connected,
          nodes: this.#cluster.nodes,
          links: this.#cluster.links,
        },
      }),
    };
  }

  /**
   * Shuts down gracefully. Every session ends with 1001: asks its client made that are still
   * being handled are rejected with `CHANNEL_CLOSED` first, what can be written goes out, the
   * client's pending asks reject at once and it does not try to resume (it pairs again, fresh,
   * when a server is back). Every actor's `onStop` runs. New sockets are refused with 1001.
   * Every event stream ends at once (what waits is still written), and new ones get HTTP 503.
   * Resolves when every session has ended.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      this.#streams?.close();
      this.#gatewayHttp?.close();
      this.#closing = this.#registry
        .close()
        .then(() => this.#cluster?.close())
        .then(() => this.#topics.close());
    }
    return this.#closing;
  }

  /** Emits to the host's listeners; a throwing listener is logged and never breaks a connection. */
  #emitSafe<E extends keyof ActorServerEvents>(event: E, ...args: ActorServerEvents[E]): void {
    const metrics = this.#metrics;
    if (metrics) {
      if (event === 'error') metrics.error((args[0] as ActorSpaceError).code);
      else if (event === 'disconnect') {
        // Refusals and failures (4400-4429, 1011) by their code; normal ends are not failures.
        const code = args[1] as number;
        if (code >= 4400 || code === CloseCode.INTERNAL_ERROR) metrics.error(errorCodeForClose(code));
      }
    }
    try {
      this.emit(event, ...args);
    } catch (error) {
      this.#log('error', `a "${String(event)}" listener threw`, error);
    }
  }

  /** What sees every frame of a connection: development traces, metrics' counts, or nothing. */
  #frameTap(id: string): Tracer | null {
    const trace = this.#options.dev ? this.#tracer(id) : null;
    const metrics = this.#metrics;
    if (!metrics) return trace;
    if (!trace) return (direction, frame) => metrics.message(direction, frame);
    return (direction, frame) => {
      metrics.message(direction, frame);
      trace(direction, frame);
    };
  }

  #tracer(id: string): Tracer {
    return (direction, frame) => {
      // A hello's access token never reaches a log, development traces included.
      const text = typeof frame === 'string' ? redactToken(frame) : `<${frame.byteLength} binary bytes>`;
      const cut = text.length > TRACE_LIMIT ? `${text.slice(0, TRACE_LIMIT)}...` : text;
      this.#log('debug', `${id} ${direction === 'in' ? '<-' : '->'} ${cut}`);
    };
  }

  #log(level: 'debug' | 'warn' | 'error', message: string, details?: unknown): void {
    const fn = this.#logger?.[level];
    if (fn) fn.call(this.#logger, `[actorspace server] ${message}`, details);
  }
}

/** A positive number option, or its default. @throws RangeError */
function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new RangeError(`createActorServer: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

function consoleLogger(): Logger {
  const write =
    (fn: (...args: unknown[]) => void) =>
    (message: string, details?: unknown): void =>
      details === undefined ? fn(message) : fn(message, details);
  return { debug: write(console.debug), warn: write(console.warn), error: write(console.error) };
}

/**
 * Creates the ActorSpace server engine. Mount it with an adapter (`@actorspace/server/node`,
 * `/express`, `/fastify`, `/bun`, `/hono`) and close it with `await actors.close()`.
 *
 * @throws TypeError when a route or option is malformed; RangeError for a size that is not positive.
 * @example
 * const actors = createActorServer({
 *   routes: { '/todos': (ctx) => new TodoServerActor(ctx.services) },
 *   services: { db },
 * });
 * attach(httpServer, actors);
 */
export function createActorServer<S extends Record<string, unknown> = Record<string, unknown>>(
  options: ActorServerOptions<S>,
): ActorServer<S> {
  return new ActorServer<S>(options);
}
