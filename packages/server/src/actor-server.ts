/**
 * `createActorServer()`: the runtime-agnostic engine. It owns routes, the handshake, one
 * actor space per connection, heartbeats, limits and the health endpoint; adapters only
 * turn a framework's sockets and requests into `handle(peer)` and `http(request)`.
 */
import {
  type AcceptResult,
  ActorSpace,
  ActorSpaceError,
  type Caller,
  type Channel,
  type ChannelOptions,
  CloseCode,
  EventEmitter,
  type HeartbeatOptions,
  type HelloFields,
  type Logger,
} from '@actorspace/core';
import {
  type AuthRequest,
  acceptHello,
  authRequest,
  normalizeRoutes,
  type Route,
  type RouteDefinition,
  type UpgradeRequest,
} from './handshake.js';
import { DEFAULT_PATH, normalizePath, pathnameOf } from './internal/paths.js';
import { headerOf, normalizeHeaders, PeerTransport } from './internal/peer-transport.js';
import { PageServer, type StaticOptions } from './pages.js';
import type { HeadersLike, Peer, PeerConnection, PeerRequest } from './peer.js';

/** Options of {@link createActorServer}. */
export interface ActorServerOptions<S extends Record<string, unknown> = Record<string, unknown>> {
  /** Route name (`'/todos'`) → factory of its server root actor, or a route definition. */
  routes: Record<string, Route<S>>;
  /** Shared services injected into every factory as `ctx.services`. @default {} */
  services?: S;
  /**
   * Runs on each hello. Return the caller, or null to refuse with close code 4401; throw an
   * `ActorSpaceError('FORBIDDEN')` to refuse with 4403.
   * @default every client is accepted as an anonymous `{ id: <connection id>, type: 'client' }`
   */
  authenticate?: (req: AuthRequest) => Caller | null | undefined | Promise<Caller | null | undefined>;
  /**
   * Browser origins allowed to connect, checked at the upgrade (HTTP 403 otherwise). A request
   * without an `Origin` header (a non-browser client) is always allowed.
   * @default every origin
   */
  origins?: string[] | ((origin: string) => boolean);
  /** Largest incoming frame in bytes; a larger one closes the connection with 4413. @default 1048576 */
  maxPayload?: number;
  /**
   * Ping every `interval` ms and close with 4408 after `timeout` ms without a frame; `false` disables.
   * @default { interval: 25000, timeout: 30000 }
   */
  heartbeat?: HeartbeatOptions | false;
  /** Milliseconds a new connection has to send its hello before it is closed with 4408. @default 10000 */
  handshakeTimeout?: number;
  /** Messages that may wait in one actor's mailbox. @default 1000 */
  mailboxLimit?: number;
  /** Default timeout of asks made by server actors, in ms. @default 30000 */
  askTimeout?: number;
  /** Where warnings and (with `dev`) protocol traces go. @default quiet, or the console when `dev` */
  logger?: Logger;
  /** Development mode: verbose protocol tracing and handler stacks sent with remote errors. @default false */
  dev?: boolean;
  /**
   * Session resumption: a client that reconnects within `ttl` ms resumes its session (same
   * root actor; nothing sent either way while it was gone is lost). `bufferLimit` bounds the
   * frames kept for replay per session. `false` ends a session with its socket.
   * @default { ttl: 120000, bufferLimit: 10000 }
   */
  resume?: { ttl?: number; bufferLimit?: number } | false;
  /**
   * Folder that relative paths (a route's `client`, a static `dir`) are resolved against.
   * @default process.cwd()
   */
  root?: string;
  /** Folders served as is, e.g. an app's build output with `spa: true`. @default none */
  static?: StaticOptions | StaticOptions[];
}

/** A connection as the host's event listeners see it. */
export interface ConnectionInfo {
  /** Engine id of the connection. */
  readonly id: string;
  /** The upgrade request. */
  readonly request: UpgradeRequest;
  /** The route it paired with, once paired. */
  readonly route: string | null;
  /** The session id, once paired. */
  readonly session: string | null;
  /** The caller, once authenticated. */
  readonly caller: Caller | null;
}

/** Events of an {@link ActorServer}. */
export interface ActorServerEvents {
  /** A socket was handed to the engine (the handshake has not run yet). */
  connection: [connection: ConnectionInfo];
  /** A connection ended; its space was destroyed and its actors stopped. */
  disconnect: [connection: ConnectionInfo, code: number, reason: string];
  /** A failure no caller waited for: a refused or failed handshake, a bad frame, a throwing tell handler. */
  error: [error: ActorSpaceError, connection: ConnectionInfo | null];
}

/** An HTTP request handed to {@link ActorServer.http}, in a runtime-neutral shape. */
export interface HttpRequest {
  method: string;
  /** Absolute or path-only URL. */
  url: string;
  headers?: HeadersLike;
}

/** The engine's HTTP answer; the adapter writes it with its framework's response API. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

/** Health report served at `GET <path>/health`. */
export interface HealthReport {
  status: 'ok' | 'closing';
  /** Open sockets, paired or not. */
  connections: number;
  /** Paired sessions. */
  sessions: number;
  /** Seconds since the server was created. */
  uptime: number;
  /** Sessions whose socket dropped, kept for resumption. */
  suspended: number;
}

const DEFAULT_HEARTBEAT: HeartbeatOptions = { interval: 25_000, timeout: 30_000 };
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const DEFAULT_RESUME_TTL = 120_000;
const TRACE_LIMIT = 200;

/**
 * The upgrade request as routes and `authenticate` see it. Its headers are normalised when
 * first read: most connections never need them, and the adapter's object is kept anyway.
 */
class LazyRequest implements UpgradeRequest {
  readonly url: string;
  readonly origin: string | null;
  readonly remoteAddress?: string;
  readonly #raw: PeerRequest['headers'];
  #headers: Record<string, string> | null = null;

  constructor(request: PeerRequest | undefined) {
    this.url = request?.url ?? '/';
    this.#raw = request?.headers;
    this.origin = headerOf(this.#raw, 'origin');
    if (request?.remoteAddress !== undefined) this.remoteAddress = request.remoteAddress;
  }

  get headers(): Record<string, string> {
    this.#headers ??= normalizeHeaders(this.#raw);
    return this.#headers;
  }
}

/** Tags a connection's space and channel with the connection, for the shared listeners. */
const CONNECTION: unique symbol = Symbol('actorspace.connection');
type Tagged = { [CONNECTION]?: Connection };

function connectionOf(target: ActorSpace | Channel): Connection {
  return (target as Tagged)[CONNECTION] as Connection;
}

class Connection implements ConnectionInfo, PeerConnection {
  readonly server: ActorServer<any>;
  readonly id: string;
  readonly request: UpgradeRequest;
  readonly transport: PeerTransport;
  readonly space: ActorSpace;
  channel: Channel | null = null;
  route: string | null = null;
  session: string | null = null;
  caller: Caller | null = null;
  paired = false;
  ended: Promise<void> | null = null;
  /** Set when this socket resumed another connection's session; this record then just ends. */
  resumed: Connection | null = null;
  expiry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    server: ActorServer<any>,
    id: string,
    request: UpgradeRequest,
    transport: PeerTransport,
    space: ActorSpace,
  ) {
    this.server = server;
    this.id = id;
    this.request = request;
    this.transport = transport;
    this.space = space;
  }

  message(data: string | ArrayBuffer | ArrayBufferView): void {
    this.transport.deliver(data);
  }

  closed(code = 1005, reason = ''): void {
    this.transport.finish(code, reason);
  }
}

/**
 * The ActorSpace server engine. Made by {@link createActorServer}; mounted by an adapter.
 */
export class ActorServer<
  S extends Record<string, unknown> = Record<string, unknown>,
> extends EventEmitter<ActorServerEvents> {
  readonly #routes: Map<string, RouteDefinition<S>>;
  readonly #options: ActorServerOptions<S>;
  readonly #services: S;
  readonly #maxPayload: number;
  readonly #logger: Logger | undefined;
  readonly #started = Date.now();
  readonly #connections = new Map<string, Connection>();
  /** Sessions whose socket dropped, by session id, until they resume or expire. */
  readonly #suspended = new Map<string, Connection>();
  readonly #resume: { ttl: number; bufferLimit: number } | null;
  readonly #pages: PageServer;
  /** The options of every connection's channel: one object, with an `accept` that finds the connection. */
  readonly #channelOptions: ChannelOptions;
  readonly #origins: ((origin: string) => boolean) | null;
  #nextId = 0;
  #sessions = 0;
  #closing: Promise<void> | null = null;

  /** @internal Use {@link createActorServer}. */
  constructor(options: ActorServerOptions<S>) {
    super();
    if (!options || typeof options !== 'object') {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        'createActorServer needs options: { routes: { "/name": factory } }',
      );
    }
    this.#options = options;
    this.#routes = normalizeRoutes(options.routes);
    this.#services = (options.services ?? {}) as S;
    const max = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (!(typeof max === 'number' && max > 0 && Number.isFinite(max))) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        `createActorServer: maxPayload must be a positive number of bytes, got ${String(max)}`,
      );
    }
    this.#maxPayload = max;
    this.#logger = options.logger ?? (options.dev ? consoleLogger() : undefined);
    const statics =
      options.static === undefined ? [] : Array.isArray(options.static) ? options.static : [options.static];
    for (const s of statics) {
      if (!s || typeof s.dir !== 'string') {
        throw new ActorSpaceError(
          'INVALID_MESSAGE',
          'createActorServer: each static entry needs { dir: "folder" }',
        );
      }
    }
    this.#pages = new PageServer(
      [...this.#routes].map(([route, def]) => ({ route, ...def })),
      options.root ?? process.cwd(),
      statics,
    );
    this.#resume =
      options.resume === false
        ? null
        : {
            ttl: options.resume?.ttl ?? DEFAULT_RESUME_TTL,
            bufferLimit: options.resume?.bufferLimit ?? 10_000,
          };
    this.#channelOptions = {
      accept: (hello, channel) => this.#accept(hello, channel, connectionOf(channel)),
      maxPayload: this.#maxPayload,
      handshakeTimeout: options.handshakeTimeout ?? 10_000,
      heartbeat: options.heartbeat ?? DEFAULT_HEARTBEAT,
      exposeStack: options.dev === true,
      resumable: this.#resume ? { bufferLimit: this.#resume.bufferLimit } : false,
    };
    const origins = options.origins;
    this.#origins =
      origins === undefined
        ? null
        : typeof origins === 'function'
          ? origins
          : (origin) => origins.includes(origin);
  }

  /** Open sockets, paired or still in the handshake. */
  get connections(): number {
    return this.#connections.size;
  }

  /** Paired sessions. */
  get sessions(): number {
    return this.#sessions;
  }

  /** The largest frame the engine accepts; adapters set their socket limit above it so the engine answers 4413. */
  get maxPayload(): number {
    return this.#maxPayload;
  }

  /** True once {@link close} was called. */
  get closing(): boolean {
    return this.#closing !== null;
  }

  /** The route definitions, by route name (pages are served from them in a later release). */
  get routes(): ReadonlyMap<string, RouteDefinition<S>> {
    return this.#routes;
  }

  /**
   * Whether a browser `Origin` may open a socket. Adapters call it at the upgrade and answer
   * HTTP 403 when it is false. A missing origin (non-browser client) is always allowed.
   */
  checkOrigin(origin: string | null | undefined): boolean {
    if (origin === undefined || origin === null || origin === '') return true;
    if (!this.#origins) return true;
    try {
      return this.#origins(origin) === true;
    } catch (error) {
      this.#log('warn', `origins check threw for ${origin}; refusing`, error);
      return false;
    }
  }

  /**
   * Takes over an accepted WebSocket: runs the handshake, makes the route's root actor in a
   * space of its own, and stops everything when the socket ends. The adapter feeds the
   * socket's frames and close into the returned connection.
   *
   * @example
   * const conn = actors.handle({ send: (f) => ws.send(f), close: (c, r) => ws.close(c, r), request: { url, headers } });
   * ws.on('message', (data, binary) => conn.message(binary ? data : data.toString()));
   * ws.on('close', (code, reason) => conn.closed(code, reason.toString()));
   */
  handle(peer: Peer): PeerConnection {
    const id = `c${(++this.#nextId).toString(36)}`;
    const request = new LazyRequest(peer.request);
    const transport = new PeerTransport(peer, this.#options.dev ? this.#tracer(id) : null);
    const space = new ActorSpace(id, {
      maxPayload: this.#maxPayload,
      ...(this.#options.mailboxLimit !== undefined && { mailboxLimit: this.#options.mailboxLimit }),
      ...(this.#options.askTimeout !== undefined && { askTimeout: this.#options.askTimeout }),
      ...(this.#logger && { logger: this.#logger }),
    });
    const conn = new Connection(this, id, request, transport, space);
    if (this.#closing) {
      transport.close(CloseCode.GOING_AWAY, 'server is shutting down');
      void space.destroy();
      return conn;
    }
    this.#connections.set(id, conn);
    // The listeners are shared by every connection (no closures per connection: a server
    // holds thousands); the space or channel they fire on leads back to the connection.
    (space as Tagged)[CONNECTION] = conn;
    space.on('error', ActorServer.#onSpaceError);
    const channel = space.addChannel(transport, this.#channelOptions);
    (channel as Tagged)[CONNECTION] = conn;
    conn.channel = channel;
    channel.on('open', ActorServer.#onOpen);
    channel.on('suspend', ActorServer.#onSuspend);
    channel.on('resume', ActorServer.#onResume);
    channel.on('close', ActorServer.#onClose);
    this.#emitSafe('connection', conn);
    return conn;
  }

  static #onSpaceError(this: ActorSpace, error: ActorSpaceError): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the emitter the shared listener fires on
    const conn = connectionOf(this);
    conn.server.#error(error, conn);
  }

  static #onOpen(this: Channel): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the emitter the shared listener fires on
    const conn = connectionOf(this);
    if (conn.paired) return;
    conn.paired = true;
    conn.server.#sessions++;
    conn.server.#log('debug', `${conn.id} paired with route ${conn.route} (session ${conn.session})`);
  }

  static #onSuspend(this: Channel): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the emitter the shared listener fires on
    const conn = connectionOf(this);
    conn.server.#suspend(conn);
  }

  static #onResume(this: Channel): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the emitter the shared listener fires on
    const conn = connectionOf(this);
    conn.server.#resumed(conn);
  }

  static #onClose(this: Channel, code: number, reason: string): void {
    // biome-ignore lint/complexity/noThisInStatic: `this` is the emitter the shared listener fires on
    const conn = connectionOf(this);
    conn.server.#ended(conn, code, reason);
  }

  /**
   * Answers the engine's HTTP requests: `GET <path>/health`, the browser bundle at
   * `<path>/browser.js`, the zero-build page of each route with a `client` (`GET /tools`,
   * `/tools/client.js`, ...) and static folders. Resolves null for any other request, which
   * the adapter passes on to the host.
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
    if (method !== 'GET' && method !== 'HEAD') return false;
    return pathname === `${base}/health` || this.#pages.matches(pathname, base);
  }

  /** Routes that serve a zero-build page, for hosts and the CLI to list. */
  get pageRoutes(): string[] {
    return this.#pages.pageRoutes;
  }

  /** Counts for the health endpoint and metrics. */
  health(): HealthReport {
    return {
      status: this.#closing ? 'closing' : 'ok',
      connections: this.#connections.size,
      sessions: this.#sessions,
      uptime: Math.round((Date.now() - this.#started) / 1000),
      suspended: this.#suspended.size,
    };
  }

  /**
   * Shuts down gracefully: every connection is closed with 1001 (frames already queued go out
   * first), asks waiting on either side reject with `CHANNEL_CLOSED`, every actor's `onStop`
   * runs. New sockets are refused with 1001. Resolves when every connection has ended.
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const ends: Promise<void>[] = [];
    for (const conn of [...this.#connections.values(), ...this.#suspended.values()]) {
      conn.channel?.close(CloseCode.GOING_AWAY, 'server is shutting down');
      if (conn.ended) ends.push(conn.ended);
    }
    this.#closing = Promise.all(ends).then(() => undefined);
    return this.#closing;
  }

  async #accept(hello: HelloFields, channel: Channel, conn: Connection): Promise<AcceptResult> {
    const old = typeof hello.resume === 'string' ? this.#suspended.get(hello.resume) : undefined;
    if (old?.channel?.suspended && old.route === hello.route && (await this.#sameCaller(old, hello, conn))) {
      conn.resumed = old;
      return { resume: old.channel };
    }
    try {
      const result = await acceptHello(hello, channel, {
        routes: this.#routes,
        services: this.#services,
        request: conn.request,
        connectionId: conn.id,
        space: conn.space,
        authenticate: this.#options.authenticate,
      });
      conn.route = hello.route ?? null;
      conn.session = result.session ?? null;
      conn.caller = result.caller ?? null;
      return result;
    } catch (error) {
      if (!(error instanceof ActorSpaceError)) {
        this.#error(
          new ActorSpaceError(
            'REMOTE_ERROR',
            `handshake of ${conn.id} for route "${String(hello.route)}" failed: ${String(error)}`,
            {
              cause: error,
            },
          ),
          conn,
        );
      }
      throw error;
    }
  }

  /** Resuming needs the same caller as the session had, when the server authenticates. */
  async #sameCaller(old: Connection, hello: HelloFields, conn: Connection): Promise<boolean> {
    const authenticate = this.#options.authenticate;
    if (!authenticate) return true;
    const token = typeof hello.token === 'string' ? hello.token : undefined;
    const caller = await authenticate(authRequest(conn.request, token));
    if (!caller)
      throw new ActorSpaceError('UNAUTHORIZED', `authentication failed for route "${hello.route}"`);
    return caller.id === old.caller?.id && caller.type === old.caller?.type;
  }

  /** The socket of a resumable session dropped: keep the session for the resume TTL. */
  #suspend(conn: Connection): void {
    if (!this.#resume || conn.session === null) return;
    this.#connections.delete(conn.id);
    this.#suspended.set(conn.session, conn);
    conn.expiry = setTimeout(() => {
      this.#log('debug', `session ${conn.session} was not resumed within ${this.#resume?.ttl} ms`);
      conn.channel?.close(CloseCode.GOING_AWAY, 'session expired');
    }, this.#resume.ttl);
    (conn.expiry as { unref?: () => void }).unref?.();
    this.#log('debug', `${conn.id} lost its socket; session ${conn.session} kept for resumption`);
  }

  #resumed(conn: Connection): void {
    if (conn.expiry !== null) clearTimeout(conn.expiry);
    conn.expiry = null;
    if (conn.session !== null) this.#suspended.delete(conn.session);
    this.#connections.set(conn.id, conn);
    this.#log('debug', `session ${conn.session} resumed`);
  }

  #ended(conn: Connection, code: number, reason: string): void {
    if (conn.expiry !== null) clearTimeout(conn.expiry);
    if (conn.session !== null && this.#suspended.get(conn.session) === conn)
      this.#suspended.delete(conn.session);
    if (conn.resumed) {
      // This socket's record only carried a resume; the session lives on in `conn.resumed`.
      this.#connections.delete(conn.id);
      void conn.space.destroy('handed over');
      return;
    }
    if (conn.paired) this.#sessions--;
    conn.ended = conn.space.destroy('connection closed').then(() => {
      this.#connections.delete(conn.id);
      this.#log('debug', `${conn.id} closed (${code}${reason ? ` ${reason}` : ''})`);
      this.#emitSafe('disconnect', conn, code, reason);
    });
  }

  #error(error: ActorSpaceError, conn: Connection | null): void {
    this.#emitSafe('error', error, conn);
  }

  /** Emits to the host's listeners; a throwing listener is logged and never breaks a connection's teardown. */
  #emitSafe<E extends keyof ActorServerEvents>(event: E, ...args: ActorServerEvents[E]): void {
    try {
      this.emit(event, ...args);
    } catch (error) {
      this.#log('error', `a "${String(event)}" listener threw`, error);
    }
  }

  #tracer(id: string): (direction: 'in' | 'out', frame: string | Uint8Array) => void {
    return (direction, frame) => {
      const text = typeof frame === 'string' ? frame : `<${frame.byteLength} binary bytes>`;
      this.#log(
        'debug',
        `${id} ${direction === 'in' ? '<-' : '->'} ${text.length > TRACE_LIMIT ? `${text.slice(0, TRACE_LIMIT)}...` : text}`,
      );
    };
  }

  #log(level: 'debug' | 'warn' | 'error', message: string, details?: unknown): void {
    const fn = this.#logger?.[level];
    if (fn) fn.call(this.#logger, `[actorspace server] ${message}`, details);
  }
}

function consoleLogger(): Logger {
  return {
    debug: (message, details) =>
      details === undefined ? console.debug(message) : console.debug(message, details),
    warn: (message, details) =>
      details === undefined ? console.warn(message) : console.warn(message, details),
    error: (message, details) =>
      details === undefined ? console.error(message) : console.error(message, details),
  };
}

/**
 * Creates the ActorSpace server engine. Mount it with an adapter (`@actorspace/server/node`,
 * `/express`, `/fastify`, `/bun`, `/hono`) and close it with `await actors.close()`.
 *
 * @throws ActorSpaceError `INVALID_MESSAGE` when a route or option is malformed.
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
