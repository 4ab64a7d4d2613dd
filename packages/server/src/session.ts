/**
 * A session: one client's pairing with a route, which outlives the sockets it travels over.
 * It owns the space with the route's root actor and the channel to the client; while the
 * client is away (a resumable session whose socket dropped) it waits for a resume, for the
 * resume TTL, and then ends.
 */
import {
  type ActorRef,
  type ActorSpace,
  ActorSpaceError,
  type AskOptions,
  type Caller,
  type Channel,
  type ChannelObserver,
  CloseCode,
  type HelloFields,
  isActorRef,
  type MessageDescription,
  type Router,
  serverHandshake,
} from '@actorspace/core';
import type { Carried, Connection } from './connection.js';

/** How many times a session's capabilities may change within {@link ADVERTISE_WINDOW} ms. */
const ADVERTISE_LIMIT = 20;
const ADVERTISE_WINDOW = 60_000;

/** What a session needs from the engine. */
export interface SessionHost {
  /** Milliseconds a suspended session waits for its client, or 0 for sessions that never resume. */
  readonly resumeTtl: number;
  sessionSuspended(session: Session): void;
  sessionResumed(session: Session): void;
  /** The session is over; `wasAway` when it ended while its client was away. */
  sessionEnded(session: Session, code: number, reason: string, wasAway: boolean): void;
  /** The session's client said what agents may call (its capabilities). */
  sessionChanged(session: Session): void;
}

/**
 * A session as the registry lists it (`actors.sessions()`, the gateway, MCP): who it is, where
 * it is, and what a `service` caller may ask of its client root actor.
 */
export interface SessionInfo {
  /**
   * The session's public id: stable across resumes, what services and `actors.session(id)`
   * name it by. It is not the id the client resumes with (that one stays between the server
   * and the client), so knowing it lets nobody take the session over.
   */
  id: string;
  /** The route the client paired with. */
  route: string;
  /** Who the client is (from its access token or `authenticate`). */
  caller: Caller;
  /** `open` while its client is connected; `suspended` while it is away and may resume. */
  state: 'open' | 'suspended';
  /** When the session started, ms since the epoch. */
  connectedAt: number;
  /** When its client was last seen: now while open, the drop while suspended (ms since the epoch). */
  lastSeen: number;
  /**
   * The client root actor's message types a `service` may send (their `callers` include
   * `service`), with description and JSON Schemas, as the client advertised them.
   */
  capabilities: MessageDescription[];
  /** On a backplane, the node that holds the session when it is another one; absent for this node's own. */
  node?: string;
}

/**
 * A route session as the registry lists it: one of this node's, or (on a backplane) another
 * node's. The gateway and `actors.session(id)` reach its client root actor through it.
 */
export interface ListedSession {
  /** Its public id. */
  readonly publicId: string;
  /** Its route. */
  readonly route: string;
  /** What a service may ask of its client root actor. */
  readonly capabilities: readonly MessageDescription[];
  /** The session as the registry lists it. */
  info(): SessionInfo;
  /**
   * Asks its client root actor as `caller` (undefined: the server's own code). A suspended
   * session is waited for, up to `timeout`, which the ask itself then continues with.
   * @throws ActorSpaceError (rejects) `CHANNEL_CLOSED` when it does not come back in time or
   *   ended, `ABORTED`, and whatever the ask fails with.
   */
  call(
    caller: Caller | undefined,
    type: string,
    data: unknown,
    timeout: number,
    signal?: AbortSignal,
  ): Promise<unknown>;
  /** Tells its client root actor as `caller`; dropped when the client is gone. */
  send(caller: Caller | undefined, type: string, data: unknown): void;
}

export class Session implements Carried, ChannelObserver, ListedSession {
  /** The id the client resumes with (the welcome's `session`): a secret between the two. */
  readonly id: string;
  /** The id the registry lists (see {@link SessionInfo.id}). */
  readonly publicId = crypto.randomUUID();
  readonly route: string;
  readonly caller: Caller;
  readonly space: ActorSpace;
  /** The connection the session started on (its record for the host's `disconnect` listeners). */
  readonly first: Connection;
  /** The connection the session travels over now. */
  connection: Connection;
  /** When the session started, and when its client was last connected (ms since the epoch). */
  readonly connectedAt = Date.now();
  lastSeen = Date.now();
  channel: Channel | null = null;
  /** What a service may ask of the client root actor (see {@link SessionInfo.capabilities}). */
  capabilities: MessageDescription[] = [];
  /** `gateway` for a service paired with the agent gateway (not listed among the sessions). */
  readonly kind: 'route' | 'gateway';
  readonly #host: SessionHost;
  #expiry: ReturnType<typeof setTimeout> | null = null;
  /** The capabilities as last advertised (JSON), to ignore repeats. */
  #advertisedText = '[]';
  /** When the capabilities changed lately (ms since the epoch), to bound how often they may. */
  #changes: number[] = [];
  /** Waiting for the client to come back (gateway asks to a suspended session). */
  #waiting: Set<(back: boolean) => void> | null = null;

  constructor(
    host: SessionHost,
    id: string,
    route: string,
    caller: Caller,
    space: ActorSpace,
    first: Connection,
    kind: 'route' | 'gateway' = 'route',
  ) {
    this.kind = kind;
    this.#host = host;
    this.id = id;
    this.route = route;
    this.caller = caller;
    this.space = space;
    this.first = first;
    this.connection = first;
  }

  /** Pairs the route's root actor with the client over the first connection. */
  open(hello: HelloFields, root: ActorRef, options: Parameters<ActorSpace['addChannel']>[1]): void {
    this.first.carry(this);
    this.channel = this.space.addChannel(this.first.transport, {
      ...options,
      handshake: serverHandshake(hello, { actor: root, session: this.id, caller: this.caller }),
      observer: this,
    });
  }

  /** True while the client is away and may come back. */
  get away(): boolean {
    return this.channel?.suspended === true;
  }

  /** True when the session can continue over another socket (its client can resume). */
  get resumable(): boolean {
    return this.channel !== null && this.channel.state !== 'closed' && this.channel.resumable;
  }

  /** The session as the registry lists it. */
  info(): SessionInfo {
    return {
      id: this.publicId,
      route: this.route,
      caller: this.caller,
      state: this.away ? 'suspended' : 'open',
      connectedAt: this.connectedAt,
      lastSeen: this.away ? this.lastSeen : Date.now(),
      capabilities: this.capabilities,
    };
  }

  /** Replaces the capabilities (the client advertised them again). */
  advertised(capabilities: MessageDescription[], text: string): void {
    // The same list again changes nothing, and tells nobody.
    if (text === this.#advertisedText) return;
    // Every change reaches every watcher and MCP session: a page gets a few a minute.
    const now = Date.now();
    this.#changes = this.#changes.filter((at) => now - at < ADVERTISE_WINDOW);
    if (this.#changes.length >= ADVERTISE_LIMIT) {
      throw new ActorSpaceError(
        'MAILBOX_FULL',
        `capabilities changed more than ${ADVERTISE_LIMIT} times in ${ADVERTISE_WINDOW / 1000} s`,
      );
    }
    this.#changes.push(now);
    this.#advertisedText = text;
    this.capabilities = capabilities;
    this.#host.sessionChanged(this);
  }

  /**
   * Resolves true once the client is connected (at once when it is), false when it has not come
   * back within `ms` or the session ended.
   */
  back(ms: number, signal?: AbortSignal): Promise<boolean> {
    if (!this.away) return Promise.resolve(this.channel !== null && this.channel.state !== 'closed');
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (back: boolean): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', gaveUp);
        this.#waiting?.delete(done);
        resolve(back);
      };
      const gaveUp = (): void => done(false);
      const timer = setTimeout(gaveUp, ms);
      signal?.addEventListener('abort', gaveUp, { once: true });
      (this.#waiting ??= new Set()).add(done);
    });
  }

  async call(
    caller: Caller | undefined,
    type: string,
    data: unknown,
    timeout: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    const start = Date.now();
    if (!(await this.back(timeout, signal))) {
      if (signal?.aborted) throw new ActorSpaceError('ABORTED', 'the asker gave up');
      throw new ActorSpaceError(
        'CHANNEL_CLOSED',
        this.away
          ? `session ${this.publicId} is away and did not come back within ${timeout} ms`
          : `session ${this.publicId} ended`,
      );
    }
    const { router, guid } = this.#client();
    // Time spent waiting for a suspended client counts against the ask's timeout.
    const opts: AskOptions = { timeout: Math.max(1, timeout - (Date.now() - start)) };
    if (signal) opts.signal = signal;
    return router.askTo(guid, type, data, opts, caller);
  }

  send(caller: Caller | undefined, type: string, data: unknown): void {
    const { router, guid } = this.#client();
    router.tellTo(guid, type, data, caller);
  }

  #client(): { router: Router; guid: string } {
    const remote = this.channel?.remote;
    if (!remote || !isActorRef(remote) || this.channel?.state === 'closed')
      throw new ActorSpaceError('CHANNEL_CLOSED', `session ${this.publicId} ended`);
    return remote as unknown as { router: Router; guid: string };
  }

  #wake(back: boolean): void {
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting) for (const done of waiting) done(back);
  }

  /** Continues the session over a new connection (the hello asked to resume it). */
  resume(connection: Connection, hello: HelloFields): void {
    if (!this.channel) return;
    this.connection = connection;
    connection.carry(this);
    this.channel.resume(connection.transport, serverHandshake(hello));
  }

  /** Ends the session (1001 on shutdown, or when its client does not come back in time). */
  end(code: number = CloseCode.GOING_AWAY, reason = 'server is shutting down'): void {
    this.channel?.close(code, reason);
  }

  // ---- ChannelObserver: the channel's life, one observer per session (no closures) ---------

  suspended(): void {
    this.lastSeen = Date.now();
    const ttl = this.#host.resumeTtl;
    this.#expiry = setTimeout(() => this.end(CloseCode.GOING_AWAY, 'session expired'), ttl);
    (this.#expiry as { unref?: () => void }).unref?.();
    this.#host.sessionSuspended(this);
  }

  resumed(): void {
    this.#clearExpiry();
    this.lastSeen = Date.now();
    this.#host.sessionResumed(this);
    this.#wake(true);
  }

  closed(_channel: Channel, code: number, reason: string): void {
    const wasAway = this.#expiry !== null;
    this.#clearExpiry();
    this.lastSeen = Date.now();
    this.#host.sessionEnded(this, code, reason, wasAway);
    this.#wake(false);
  }

  #clearExpiry(): void {
    if (this.#expiry !== null) clearTimeout(this.#expiry);
    this.#expiry = null;
  }
}
