/**
 * One socket: what an adapter hands to `actors.handle(peer)`. A connection reads the hello
 * (within the handshake timeout), hands it to the engine, and then carries one session, new or
 * resumed, until the socket ends. Sessions outlive connections; connections never outlive
 * their socket.
 */
import { type Caller, CloseCode, type HelloFields, ProtocolViolation, readHello } from '@actorspace/core';
import { headerOf, normalizeHeaders } from './internal/headers.js';
import { PeerTransport, type Tracer, type TransportOwner } from './internal/peer-transport.js';
import type { RateLimiter } from './internal/rate-limit.js';
import type { Peer, PeerConnection, PeerRequest } from './peer.js';

/** The upgrade request, as routes and `authenticate` see it. */
export interface UpgradeRequest {
  /** The request URL, absolute or path-only (`/actorspace?x=1`). */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The browser's `Origin` header, or null for non-browser clients. */
  origin: string | null;
  /** The client's address, when the runtime knows it (behind a proxy: the proxy's). */
  remoteAddress?: string;
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

/** The session a connection carries, as the connection sees it. */
export interface Carried {
  readonly id: string;
  readonly route: string;
  readonly caller: Caller;
}

/** What a connection needs from the engine. */
export interface ConnectionHost {
  readonly maxPayload: number;
  readonly handshakeTimeout: number;
  /** Decides on the hello: pairs the connection with a new or resumed session, or refuses it. */
  accept(connection: Connection, hello: HelloFields): Promise<void>;
  /** The socket ended. */
  ended(connection: Connection, code: number, reason: string): void;
  /** Something failed inside the engine while deciding on the hello. */
  failed(connection: Connection, error: unknown): void;
}

/** Where a connection is: waiting for the hello, deciding on it, carrying a session, or gone. */
type Phase = 'awaiting-hello' | 'accepting' | 'paired' | 'closed';

export class Connection implements ConnectionInfo, PeerConnection, TransportOwner {
  readonly id: string;
  readonly request: UpgradeRequest;
  readonly transport: PeerTransport;
  readonly #host: ConnectionHost;
  #phase: Phase = 'awaiting-hello';
  #carried: Carried | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    host: ConnectionHost,
    id: string,
    peer: Peer,
    limiter: RateLimiter | null,
    trace: Tracer | null,
  ) {
    this.#host = host;
    this.id = id;
    this.request = new LazyRequest(peer.request);
    this.transport = new PeerTransport(peer, this, limiter, trace);
    this.transport.onMessage((message) => this.#first(message));
    const ms = host.handshakeTimeout;
    if (ms > 0 && Number.isFinite(ms)) {
      this.#timer = setTimeout(() => this.refuse(CloseCode.TIMEOUT, `no hello within ${ms} ms`), ms);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  get route(): string | null {
    return this.#carried?.route ?? null;
  }

  get session(): string | null {
    return this.#carried?.id ?? null;
  }

  get caller(): Caller | null {
    return this.#carried?.caller ?? null;
  }

  /** True once the socket is gone. */
  get gone(): boolean {
    return this.#phase === 'closed';
  }

  /** The session now carried over this socket (its channel has taken over the transport). */
  carry(session: Carried): void {
    this.#phase = 'paired';
    this.#carried = session;
  }

  /** Closes the socket with a code and reason (a refused hello, a shutdown). */
  refuse(code: number, reason: string): void {
    this.transport.close(code, reason);
  }

  message(data: string | ArrayBuffer | ArrayBufferView): void {
    this.transport.deliver(data);
  }

  closed(code = 1005, reason = ''): void {
    this.transport.finish(code, reason);
  }

  /** TransportOwner: the socket ended. */
  ended(code: number, reason: string): void {
    this.#clearTimer();
    this.#phase = 'closed';
    this.#host.ended(this, code, reason);
  }

  #first(message: string | Uint8Array): void {
    if (this.#phase !== 'awaiting-hello') {
      // The client sends nothing after its hello until the welcome (docs/protocol.md).
      this.refuse(CloseCode.BAD_FRAME, 'nothing may be sent before the welcome');
      return;
    }
    this.#clearTimer();
    let hello: HelloFields;
    try {
      hello = readHello(message, this.#host.maxPayload);
    } catch (error) {
      const v = error as ProtocolViolation;
      this.refuse(v instanceof ProtocolViolation ? v.closeCode : CloseCode.BAD_FRAME, v.message);
      return;
    }
    this.#phase = 'accepting';
    // accept() settles every failure itself; this catch only keeps a bug from escaping as an
    // unhandled rejection (an SDK mounted in someone's server must never take it down).
    this.#host.accept(this, hello).catch((error: unknown) => {
      this.refuse(CloseCode.INTERNAL_ERROR, 'internal error while accepting the connection');
      this.#host.failed(this, error);
    });
  }

  #clearTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
