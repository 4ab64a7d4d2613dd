/**
 * `connect()`: pair a client root actor with a server route over a WebSocket, and keep the
 * pairing alive with exponential backoff (with jitter) when the connection drops.
 */

import { type Actor, describeActor } from './actor.js';
import type { ActorRef } from './actor-ref.js';
import { isActorRef } from './actor-ref.js';
import { ActorSpace, type SpaceOptions } from './actor-space.js';
import type { Caller } from './caller.js';
import type { Channel, FlowOptions, HeartbeatOptions, RemoteActor } from './channel.js';
import type { DataLimits } from './codec.js';
import type { MessageDescription } from './definitions.js';
import { EventEmitter } from './emitter.js';
import { ActorSpaceError, CloseCode, errorCodeForClose } from './errors.js';
import { clientHandshake, type Handshake } from './handshake.js';
import {
  SESSION_ACTOR,
  type SubscribeOptions,
  type Subscription,
  TopicClient,
  type TopicHandler,
} from './topics.js';
import { type WebSocketLike, webSocketTransport } from './transports/web-socket.js';

/** Backoff of reconnect attempts: `initialDelay * factor^n`, capped at `maxDelay`, randomised by jitter. */
export interface ReconnectOptions {
  /** @default 1000 */
  initialDelay?: number;
  /** @default 60000 */
  maxDelay?: number;
  /** @default 2 */
  factor?: number;
  /** Spread each delay uniformly over [delay/2, delay] so clients do not return in lockstep. @default true */
  jitter?: boolean;
  /** Give up after this many failed attempts in a row. @default Infinity */
  maxAttempts?: number;
}

/** A WebSocket constructor: the browser's, Node 22's, or `ws`. */
export type WebSocketFactory = (url: string) => WebSocketLike;

/** Options of {@link connect}. */
export interface ConnectOptions {
  /**
   * The server route to pair with, e.g. `/todos`. Omitted, a service reaches the server's agent
   * gateway instead (it then needs a `token`: a service access token or a gateway key), whose
   * actor lists the connected sessions and hands out references to their client actors.
   */
  route?: string;
  /**
   * The client root actor (an actor object, or a reference to one registered in `space`). When
   * it is made by `defineActor`, its message types whose `callers` include `service` are the
   * session's capabilities: the server's registry lists them for agents (see {@link Session.advertise}).
   */
  actor?: Actor | ActorRef;
  /** Sent in the hello; a function is called before every attempt (for refreshing tokens). */
  token?: string | (() => string | Promise<string>);
  /** Reconnect with backoff when the connection drops; `false` closes the session instead. @default on */
  reconnect?: ReconnectOptions | false;
  /** Makes the socket. @default `new globalThis.WebSocket(url)` */
  createSocket?: WebSocketFactory;
  /** The space the client root actor lives in. @default a new space */
  space?: ActorSpace;
  /** Options of the space made when `space` is not given. */
  spaceOptions?: SpaceOptions;
  /** Milliseconds to wait for the welcome. @default 10000 */
  handshakeTimeout?: number;
  /** Close and reconnect when the server stops answering. @default `{ interval: 25000, timeout: 60000 }` */
  heartbeat?: HeartbeatOptions | false;
  /** Flow control budgets of the connection (send buffer, window, high-water mark). */
  flow?: FlowOptions;
  /** Bounds on data arriving from the server. */
  limits?: DataLimits;
  /**
   * Called once with a function that retries at once (skipping the backoff wait); returns a
   * function that unsubscribes. The browser build uses it for `online` / visibility events.
   */
  wake?: (retryNow: () => void) => () => void;
}

/** Where a session is: `connecting` (first attempt), `open`, `reconnecting`, `closed`. */
export type SessionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** Events of a {@link Session}. */
export interface SessionEvents {
  /** The session moved to `status` (see {@link Session.status}). */
  status: [status: SessionStatus];
  /** The tells and asks held for the server fell below the high-water mark again. */
  drain: [];
  /** A failure nobody waited for: a refused reconnect, a tell the server could not deliver. */
  error: [error: ActorSpaceError];
}

const SERVER_CALLER: Caller = { id: 'server', type: 'system', claims: {} };

/**
 * A client's pairing with a server route. Made by {@link connect}; `A` is the server root
 * actor's type (`connect<typeof todos>(...)`), which types `server`.
 */
export class Session<A = any> extends EventEmitter<SessionEvents> {
  /** The client's space; the client root actor lives here. */
  readonly space: ActorSpace;
  readonly #url: string;
  readonly #options: ConnectOptions;
  readonly #root: ActorRef | undefined;
  readonly #ownsSpace: boolean;
  #status: SessionStatus = 'connecting';
  #channel: Channel | null = null;
  #attempt = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  #unwake: (() => void) | null = null;
  #topics: TopicClient | null = null;
  /** True once capabilities were sent in this pairing (an empty list then still goes out). */
  #advertised = false;

  /** @internal Use {@link connect}. */
  constructor(url: string, options: ConnectOptions) {
    super();
    this.#url = url;
    this.#options = options;
    this.#ownsSpace = !options.space;
    this.space = options.space ?? new ActorSpace(undefined, options.spaceOptions);
    const actor = options.actor;
    this.#root =
      actor === undefined ? undefined : isActorRef(actor) ? actor : this.space.register(actor as Actor);
    this.space.on('error', (error) => this.emit('error', error));
  }

  /** The reference of the client root actor (in {@link space}), if the session has one. */
  get root(): ActorRef | undefined {
    return this.#root;
  }

  /** Where the session is; a `status` event follows every change. */
  get status(): SessionStatus {
    return this.#status;
  }

  /**
   * The server root actor of the current pairing.
   * @throws ActorSpaceError `CHANNEL_CLOSED` when the session is not paired.
   */
  get server(): RemoteActor<A> {
    const remote = this.#channel?.remote;
    if (!remote) throw new ActorSpaceError('CHANNEL_CLOSED', 'the session is not paired with a server actor');
    return remote as RemoteActor<A>;
  }

  /** The server's session id for the current pairing. */
  get id(): string | null {
    return this.#channel?.session ?? null;
  }

  /** The channel of the current connection, if any. */
  get channel(): Channel | null {
    return this.#channel;
  }

  /** Bytes of tells and asks held for the server (see {@link Channel.bufferedAmount}). */
  get bufferedAmount(): number {
    return this.#channel?.bufferedAmount ?? 0;
  }

  /**
   * Resolves when the tells and asks held for the server are below the high-water mark (see
   * {@link Channel.ready}); await it between bursts.
   * @throws ActorSpaceError `CHANNEL_CLOSED` when the session closes first.
   */
  ready(): Promise<void> {
    if (!this.#channel)
      return Promise.reject(new ActorSpaceError('CHANNEL_CLOSED', 'the session is not paired'));
    return this.#channel.ready();
  }

  /**
   * Subscribes to a topic of the server (`createActorServer({ topics })`): `handler` gets each
   * event once, in order, with its `seq`. After the session pairs again in a fresh session, the
   * subscription asks for what it missed and emits `recovered` (`{ recovered: false }` when the
   * gap was older than the topic's history).
   * @throws ActorSpaceError `FORBIDDEN` when no topic pattern matches or its `subscribe` rule
   *   refuses; TypeError for a bad topic name or handler, or a topic this session already
   *   subscribes to.
   * @example
   * const sub = await session.subscribe('room/42', (type, data, { seq }) => show(type, data), {
   *   presence: { name: 'Ada' },
   * });
   * sub.on('join', (member) => console.log(member.meta.name, 'joined'));
   */
  subscribe(topic: string, handler: TopicHandler, options: SubscribeOptions = {}): Promise<Subscription> {
    return this.#topicClient().subscribe(topic, handler, options);
  }

  /**
   * Publishes an event to a topic, where its `publish` rule lets this session; resolves with
   * the event's sequence number.
   * @throws ActorSpaceError `FORBIDDEN` when no topic pattern matches or the rule refuses;
   *   `INVALID_MESSAGE` for data the codec cannot carry.
   */
  publish(topic: string, type: string, data?: unknown): Promise<number> {
    return this.#topicClient().publish(topic, type, data);
  }

  /**
   * Tells the server what agents may call here: the root actor's message types whose `callers`
   * include `service`, with their descriptions and JSON Schemas (as `describeActor` gives them).
   * Sent by itself each time the session pairs; call it again after the root actor's
   * definitions changed, so the registry (and agents watching it) sees the new list. Does
   * nothing while the session is not paired, when the root actor was not made by `defineActor`,
   * or for a service paired with the gateway.
   */
  advertise(): void {
    const channel = this.#channel;
    // A service paired with the gateway (no route) is nobody's tab: it offers nothing.
    if (channel?.state !== 'open' || this.#options.route === undefined) return;
    const capabilities = this.capabilities();
    // Nothing to say, and nothing said before: the frame is saved.
    if (capabilities.length === 0 && !this.#advertised) return;
    this.#advertised = true;
    try {
      channel.makeRemote(SESSION_ACTOR).tell('capabilities', capabilities);
    } catch (error) {
      this.emit(
        'error',
        error instanceof ActorSpaceError ? error : new ActorSpaceError('INVALID_MESSAGE', String(error)),
      );
    }
  }

  /**
   * The root actor's message types a service may call (their `callers` include `service`), as
   * `describeActor` describes them: what {@link advertise} sends, and what WebMCP offers. Empty
   * when the session has no root actor made by `defineActor`.
   */
  capabilities(): MessageDescription[] {
    const actor = this.#root ? this.space.actorOf(this.#root) : undefined;
    if (!actor) return [];
    try {
      return describeActor(actor).filter((d) => d.callers.includes('service'));
    } catch {
      return []; // Not made by defineActor: nothing described.
    }
  }

  #topicClient(): TopicClient {
    this.#topics ??= new TopicClient(this.space, () => this.#channel);
    return this.#topics;
  }

  /** Closes the session for good: no more reconnects; pending asks reject with `CHANNEL_CLOSED`. */
  async close(): Promise<void> {
    if (this.#status === 'closed') return;
    this.#setStatus('closed');
    this.#stopRetrying();
    this.#channel?.close(CloseCode.NORMAL, 'client closed the session');
    if (this.#ownsSpace) await this.space.destroy();
  }

  /** @internal First attempt; resolves once paired, rejects when refused or unreachable. */
  async start(): Promise<this> {
    if (this.#options.wake) this.#unwake = this.#options.wake(() => this.#retryNow());
    try {
      const handshake = await this.#handshake();
      const socket = this.#socket();
      const options = this.#options;
      const channel = this.space.addChannel(socket, {
        handshake,
        caller: SERVER_CALLER,
        // The server is this client's authority: a message it relays from another peer arrives
        // with that peer's caller, never as the server's own.
        trustRelayed: true,
        handshakeTimeout: options.handshakeTimeout ?? 10_000,
        heartbeat: options.heartbeat ?? { interval: 25_000, timeout: 60_000 },
        // With reconnects the channel outlives its socket: pending asks and queued frames carry over.
        resumable: options.reconnect !== false,
        ...(options.flow && { flow: options.flow }),
        ...(options.limits && { limits: options.limits }),
      });
      this.#channel = channel;
      await new Promise<void>((resolve, reject) => {
        const onOpen = (): void => {
          channel.off('close', onClose);
          resolve();
        };
        const onClose = (code: number, reason: string): void => {
          channel.off('open', onOpen);
          reject(refusal(this.#url, options.route, code, reason));
        };
        channel.once('open', onOpen);
        channel.once('close', onClose);
      });
      channel.on('suspend', () => this.#suspended());
      channel.on('resume', (resumed) => {
        this.#attempt = 0;
        this.#setStatus('open');
        // A fresh session knows none of this client's subscriptions: subscribe again from where
        // each stopped; nor its capabilities.
        if (!resumed) {
          this.#topics?.resubscribe();
          this.#advertised = false;
          this.advertise();
        } else this.#topics?.resumed();
      });
      channel.on('drain', () => this.emit('drain'));
      channel.on('close', (code, reason) => {
        if (this.#status === 'closed') return;
        if (code !== CloseCode.NORMAL) this.emit('error', refusal(this.#url, options.route, code, reason));
        this.#setStatus('closed');
        this.#stopRetrying();
      });
      this.#setStatus('open');
      this.advertise();
      return this;
    } catch (error) {
      this.#setStatus('closed');
      this.#stopRetrying();
      if (this.#ownsSpace) void this.space.destroy();
      throw error;
    }
  }

  /** A hello for one attempt, with a fresh token when `token` is a function. */
  async #handshake(): Promise<Handshake> {
    const token = this.#options.token;
    const value = typeof token === 'function' ? await token() : token;
    const hello: { route?: string; actor?: ActorRef; token?: string } = {};
    if (this.#options.route !== undefined) hello.route = this.#options.route;
    if (this.#root) hello.actor = this.#root;
    if (value !== undefined) hello.token = value;
    return clientHandshake(hello);
  }

  #socket(): WebSocketLike {
    try {
      return (this.#options.createSocket ?? defaultSocket)(this.#url);
    } catch (error) {
      throw new ActorSpaceError(
        'CHANNEL_CLOSED',
        `cannot open a WebSocket to ${this.#url}: ${String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  #suspended(): void {
    if (this.#status === 'closed') return;
    this.#setStatus('reconnecting');
    this.#scheduleRetry();
  }

  #scheduleRetry(): void {
    const r = this.#options.reconnect || {};
    const max = r.maxAttempts ?? Number.POSITIVE_INFINITY;
    if (this.#attempt >= max) {
      this.emit(
        'error',
        new ActorSpaceError('CHANNEL_CLOSED', `gave up reconnecting to ${this.#url} after ${max} attempts`),
      );
      void this.close();
      return;
    }
    const delay = backoffDelay(this.#attempt++, r);
    this.#retryTimer = setTimeout(() => void this.#retry(), delay);
  }

  #retryNow(): void {
    if (this.#status !== 'reconnecting' || this.#retryTimer === null) return;
    clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    void this.#retry();
  }

  async #retry(): Promise<void> {
    this.#retryTimer = null;
    const channel = this.#channel;
    if (this.#status !== 'reconnecting' || !channel) return;
    try {
      const handshake = await this.#handshake();
      if (this.#status !== 'reconnecting' || !channel.suspended) return;
      // A failed attempt suspends the channel again, which schedules the next one.
      channel.resume(webSocketTransport(this.#socket()), handshake);
    } catch (error) {
      this.emit(
        'error',
        error instanceof ActorSpaceError ? error : new ActorSpaceError('CHANNEL_CLOSED', String(error)),
      );
      this.#scheduleRetry();
    }
  }

  #stopRetrying(): void {
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#unwake?.();
    this.#unwake = null;
  }

  #setStatus(status: SessionStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.emit('status', status);
  }
}

/** The delay before reconnect attempt `attempt` (0-based). */
export function backoffDelay(attempt: number, options: ReconnectOptions = {}): number {
  const initial = options.initialDelay ?? 1000;
  const max = options.maxDelay ?? 60_000;
  const factor = options.factor ?? 2;
  const delay = Math.min(max, initial * factor ** attempt);
  return options.jitter === false ? delay : delay / 2 + Math.random() * (delay / 2);
}

function refusal(url: string, route: string | undefined, code: number, reason: string): ActorSpaceError {
  const opened = code === 1006 && !reason;
  const message = opened
    ? `could not reach ${url} (connection failed or closed before the welcome)`
    : `server refused ${route === undefined ? 'the gateway' : `route "${route}"`} at ${url}: ${code}${reason ? ` ${reason}` : ''}`;
  return new ActorSpaceError(opened ? 'CHANNEL_CLOSED' : errorCodeForClose(code), message, {
    details: { code, reason },
  });
}

function defaultSocket(url: string): WebSocketLike {
  const WS = (globalThis as { WebSocket?: new (url: string) => WebSocketLike }).WebSocket;
  if (!WS) throw new TypeError('no global WebSocket here; pass createSocket, or use @actorspace/node');
  return new WS(url);
}

/**
 * Pairs a client root actor with a server route and keeps the pairing alive.
 * Resolves once paired; rejects without retrying when the server closes the first handshake,
 * with the error code of its close code (`details.code`, `details.reason`): `UNAUTHORIZED`
 * (4401), `FORBIDDEN` (4403), `NO_SUCH_ACTOR` (4404, unknown route), `TIMEOUT` (4408),
 * `PAYLOAD_TOO_LARGE` (4413), `MAILBOX_FULL` (4429), `CHANNEL_CLOSED` (1001, shutting down),
 * `REMOTE_ERROR` (1011), `PROTOCOL` (4400 and anything else); with `CHANNEL_CLOSED` when the
 * server cannot be reached.
 *
 * @throws TypeError (rejects) for a URL that is not ws:// or wss://, or a missing route (without
 *   a route, a token is needed: the session then pairs with the server's agent gateway).
 * @example
 * import type { todos } from './server/todos.js'; // the server root actor, made with defineActor
 * const session = await connect<typeof todos>('ws://localhost:8080/actorspace', { route: '/todos', actor: myRoot });
 * await session.server.api().add({ text: 'milk' }); // typed from the server's handlers
 */
export function connect<A = any>(url: string, options: ConnectOptions): Promise<Session<A>> {
  if (typeof url !== 'string' || !/^wss?:\/\//i.test(url)) {
    return Promise.reject(new TypeError(`connect() needs a ws:// or wss:// URL, got ${String(url)}`));
  }
  if (!options || typeof options !== 'object') {
    return Promise.reject(new TypeError('connect() needs options: { route: "/todos" }'));
  }
  if (
    options.route === undefined
      ? options.token === undefined
      : typeof options.route !== 'string' || options.route.length === 0
  ) {
    return Promise.reject(
      new TypeError(
        'connect() needs options.route, e.g. "/todos" (or, to reach the gateway as a service, a token)',
      ),
    );
  }
  let session: Session<A>;
  try {
    session = new Session<A>(url, options);
  } catch (error) {
    return Promise.reject(error);
  }
  return session.start();
}
