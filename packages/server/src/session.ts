/**
 * A session: one client's pairing with a route, which outlives the sockets it travels over.
 * It owns the space with the route's root actor and the channel to the client; while the
 * client is away (a resumable session whose socket dropped) it waits for a resume, for the
 * resume TTL, and then ends.
 */
import {
  type ActorRef,
  type ActorSpace,
  type Caller,
  type Channel,
  type ChannelObserver,
  CloseCode,
  type HelloFields,
  serverHandshake,
} from '@actorspace/core';
import type { Carried, Connection } from './connection.js';

/** What a session needs from the engine. */
export interface SessionHost {
  /** Milliseconds a suspended session waits for its client, or 0 for sessions that never resume. */
  readonly resumeTtl: number;
  sessionSuspended(session: Session): void;
  sessionResumed(session: Session): void;
  /** The session is over; `wasAway` when it ended while its client was away. */
  sessionEnded(session: Session, code: number, reason: string, wasAway: boolean): void;
}

export class Session implements Carried, ChannelObserver {
  readonly id: string;
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
  readonly #host: SessionHost;
  #expiry: ReturnType<typeof setTimeout> | null = null;

  constructor(
    host: SessionHost,
    id: string,
    route: string,
    caller: Caller,
    space: ActorSpace,
    first: Connection,
  ) {
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
  }

  closed(_channel: Channel, code: number, reason: string): void {
    const wasAway = this.#expiry !== null;
    this.#clearExpiry();
    this.lastSeen = Date.now();
    this.#host.sessionEnded(this, code, reason, wasAway);
  }

  #clearExpiry(): void {
    if (this.#expiry !== null) clearTimeout(this.#expiry);
    this.#expiry = null;
  }
}
