/**
 * The engine's live state: the sockets it holds (connections) and the pairings they carry
 * (sessions, which outlive their sockets while they wait for a resume). It answers the
 * connections, the sessions and the handshake, and reports to the server's events.
 */
import {
  type ActorSpaceError,
  type ChannelOptions,
  CloseCode,
  type HelloFields,
  type SpaceOptions,
} from '@actorspace/core';
import type { Connection, ConnectionHost, ConnectionInfo } from './connection.js';
import type { Gateway, SessionChange } from './gateway.js';
import { type Authenticate, accept, type HandshakeHost } from './handshake.js';
import type { RouteDefinition } from './routes.js';
import type { Session } from './session.js';
import type { VerifiedToken } from './tokens.js';
import type { TopicHub } from './topics.js';

/** Where the registry reports what happens (the server's events). */
export interface RegistryEvents {
  disconnect(connection: ConnectionInfo, code: number, reason: string): void;
  error(error: ActorSpaceError, connection: ConnectionInfo | null): void;
  log(level: 'debug' | 'warn' | 'error', message: string, details?: unknown): void;
  /** A route session came, changed (state, capabilities) or went. */
  session(change: SessionChange): void;
}

/** What the registry is configured with. */
export interface RegistryOptions<S> {
  routes: ReadonlyMap<string, RouteDefinition<S>>;
  services: S;
  authenticate: Authenticate | undefined;
  verifyToken: ((token: string) => Promise<VerifiedToken>) | undefined;
  topics: TopicHub;
  spaceOptions: SpaceOptions;
  channelOptions: ChannelOptions;
  /** The channel options of sessions whose caller is a service (their own heartbeat). */
  serviceChannelOptions: ChannelOptions;
  maxPayload: number;
  handshakeTimeout: number;
  /** 0: sessions end with their socket. */
  resumeTtl: number;
  /** The agent gateway, or null. */
  gateway: Gateway | null;
}

export class Registry<S> implements ConnectionHost, HandshakeHost<S> {
  readonly routes: ReadonlyMap<string, RouteDefinition<S>>;
  readonly services: S;
  readonly authenticate: Authenticate | undefined;
  readonly verifyToken: ((token: string) => Promise<VerifiedToken>) | undefined;
  readonly topics: TopicHub;
  readonly spaceOptions: SpaceOptions;
  readonly channelOptions: ChannelOptions;
  readonly serviceChannelOptions: ChannelOptions;
  readonly maxPayload: number;
  readonly handshakeTimeout: number;
  readonly resumeTtl: number;
  readonly gateway: Gateway | null;
  readonly keyCaller: ((token: string) => VerifiedToken | null) | undefined;
  /** Open sockets, paired or not. */
  readonly connections = new Set<Connection>();
  /** Live sessions, by id, including those waiting for a resume. */
  readonly sessions = new Map<string, Session>();
  /** The route sessions among them, by public id (what services see). */
  readonly listed = new Map<string, Session>();
  /** Sessions whose client is away. */
  away = 0;
  /** Set by close(): hellos decided on after it get 1001 instead of a session. */
  closing = false;
  readonly #events: RegistryEvents;
  /** Sessions being torn down: their spaces' destroy(). */
  readonly #ending = new Set<Promise<void>>();

  constructor(options: RegistryOptions<S>, events: RegistryEvents) {
    this.routes = options.routes;
    this.services = options.services;
    this.authenticate = options.authenticate;
    this.verifyToken = options.verifyToken;
    this.topics = options.topics;
    this.spaceOptions = options.spaceOptions;
    this.channelOptions = options.channelOptions;
    this.serviceChannelOptions = options.serviceChannelOptions;
    this.maxPayload = options.maxPayload;
    this.handshakeTimeout = options.handshakeTimeout;
    this.resumeTtl = options.resumeTtl;
    this.gateway = options.gateway;
    const gateway = options.gateway;
    this.keyCaller = gateway ? (token) => gateway.keyCaller(token) : undefined;
    this.#events = events;
  }

  // ---- ConnectionHost ------------------------------------------------------------------------

  accept(connection: Connection, hello: HelloFields): Promise<void> {
    return accept(this, connection, hello);
  }

  ended(connection: Connection, code: number, reason: string): void {
    this.connections.delete(connection);
    // A connection that never paired ends here; one that carries a session ends with it.
    if (connection.session === null) {
      this.#events.log(
        'debug',
        `${connection.id} closed before pairing (${code}${reason ? ` ${reason}` : ''})`,
      );
      this.#events.disconnect(connection, code, reason);
    }
  }

  failed(connection: Connection, error: unknown): void {
    this.#events.log('error', `accepting ${connection.id} failed`, error);
  }

  // ---- HandshakeHost and SessionHost ---------------------------------------------------------

  session(id: string): Session | undefined {
    return this.sessions.get(id);
  }

  started(session: Session): void {
    this.sessions.set(session.id, session);
    if (session.kind === 'route') this.listed.set(session.publicId, session);
    this.#events.log(
      'debug',
      `${session.first.id} paired with ${session.kind === 'gateway' ? 'the gateway' : `route ${session.route}`} (session ${session.id})`,
    );
    this.#changed('added', session);
  }

  sessionChanged(session: Session): void {
    if (this.sessions.get(session.id) === session) this.#changed('updated', session);
  }

  /** Reports a route session's change to the server's listeners and the gateway's watchers. */
  #changed(kind: SessionChange['kind'], session: Session): void {
    if (session.kind !== 'route') return;
    const change: SessionChange = { kind, session: session.info() };
    this.gateway?.changed(change);
    this.#events.session(change);
  }

  error(error: ActorSpaceError, connection: Connection | null): void {
    this.#events.error(error, connection);
  }

  sessionSuspended(session: Session): void {
    this.away++;
    this.#events.log(
      'debug',
      `session ${session.id} lost its socket; kept ${this.resumeTtl} ms for a resume`,
    );
    this.#changed('updated', session);
  }

  sessionResumed(session: Session): void {
    this.away--;
    this.#events.log('debug', `session ${session.id} resumed over ${session.connection.id}`);
    this.#changed('updated', session);
  }

  sessionEnded(session: Session, code: number, reason: string, wasAway: boolean): void {
    if (this.sessions.get(session.id) !== session) return;
    this.sessions.delete(session.id);
    this.listed.delete(session.publicId);
    if (wasAway) this.away--;
    this.#changed('removed', session);
    const done = session.space.destroy('session ended').then(() => {
      this.#ending.delete(done);
      this.#events.log('debug', `session ${session.id} ended (${code}${reason ? ` ${reason}` : ''})`);
      this.#events.disconnect(session.first, code, reason);
    });
    this.#ending.add(done);
  }

  /** Ends every session (1001: clients pair again, fresh) and closes every socket; resolves when all are gone. */
  async close(): Promise<void> {
    this.closing = true;
    for (const session of [...this.sessions.values()])
      session.end(CloseCode.GOING_AWAY, 'server is shutting down');
    for (const connection of [...this.connections])
      connection.refuse(CloseCode.GOING_AWAY, 'server is shutting down');
    await Promise.all([...this.#ending]);
  }
}
