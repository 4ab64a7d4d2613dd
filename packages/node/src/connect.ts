/**
 * `connect()` for Node clients (service processes, AI agents): core's reconnecting
 * `connect()` over a `ws` WebSocket, which can send headers with the upgrade request.
 */
import {
  CloseCode,
  type ConnectOptions,
  connect as coreConnect,
  type Session,
  type WebSocketLike,
} from '@actorspace/core';
import { type ClientOptions, WebSocket } from 'ws';

/** Options of the Node {@link connect}: core's options plus what only Node can send. */
export interface NodeConnectOptions extends Omit<ConnectOptions, 'createSocket'> {
  /** Headers sent with the upgrade request (cookies, `Authorization`, `Origin`...). @default none */
  headers?: Record<string, string>;
  /** Further `ws` client options (TLS settings, agent, handshake timeout...). @default none */
  ws?: ClientOptions;
  /** Makes the socket instead of `ws`; `headers` and `ws` are then ignored. @default a `ws` WebSocket */
  createSocket?: ConnectOptions['createSocket'];
}

/**
 * Pairs a client root actor with a server route from Node and keeps the pairing alive.
 * Resolves once paired.
 *
 * @throws ActorSpaceError with the error code of the close code when the server refuses the
 *   first handshake (`UNAUTHORIZED` 4401, `FORBIDDEN` 4403 or HTTP 403 at the upgrade,
 *   `NO_SUCH_ACTOR` 4404, ... as core's `connect()`), never retried, with `details: { code,
 *   reason }`; `CHANNEL_CLOSED` when the server cannot be reached; TypeError (rejects) for a bad
 *   URL or route.
 * @example
 * import { connect, defineActor } from '@actorspace/node';
 *
 * const session = await connect('ws://localhost:8080/actorspace', {
 *   route: '/todos',
 *   actor: defineActor({ changed: (todos) => console.log(todos) }),
 *   headers: { authorization: `Bearer ${process.env.TOKEN}` },
 * });
 * await session.server.ask('add', { text: 'milk' });
 * await session.close();
 */
export function connect<A = any>(url: string, options: NodeConnectOptions): Promise<Session<A>> {
  const { headers, ws, createSocket, ...rest } = options ?? ({} as NodeConnectOptions);
  const make =
    createSocket ??
    ((target: string): WebSocketLike =>
      // No permessage-deflate by default: frames are small and latency matters more.
      new UpgradeAwareSocket(target, {
        perMessageDeflate: false,
        ...ws,
        headers: { ...ws?.headers, ...headers },
      }));
  return coreConnect<A>(url, { ...rest, createSocket: make });
}

// HTTP statuses a server may refuse an upgrade with, as the close code a handshake refusal
// would carry: an Origin refused with HTTP 403 then rejects connect() with FORBIDDEN.
const STATUS_CLOSE_CODES: Readonly<Record<number, number>> = {
  400: CloseCode.BAD_FRAME,
  401: CloseCode.UNAUTHENTICATED,
  403: CloseCode.FORBIDDEN,
  404: CloseCode.UNKNOWN_ROUTE,
  413: CloseCode.PAYLOAD_TOO_LARGE,
  429: CloseCode.RATE_LIMITED,
};

type Listener = (event: any) => void;

/**
 * A `ws` client socket seen through the WebSocketLike interface. A refused upgrade closes
 * it with the matching 44xx code instead of ws's bare 1006, so connect() can tell "the server
 * said no" (final) from "the server is unreachable" (retried).
 */
class UpgradeAwareSocket implements WebSocketLike {
  readonly #ws: WebSocket;
  readonly #wrapped = new Map<(...args: any[]) => void, (...args: any[]) => void>();
  #refusal: { code: number; reason: string } | null = null;

  constructor(url: string, options: ClientOptions) {
    this.#ws = new WebSocket(url, options);
    this.#ws.on('unexpected-response', (_req, res) => {
      const status = res.statusCode ?? 0;
      const code = STATUS_CLOSE_CODES[status];
      if (code !== undefined) this.#refusal = { code, reason: `HTTP ${status} at the WebSocket upgrade` };
      res.resume();
      this.#ws.terminate();
    });
    // 'error' is always followed by 'close', which the transport handles.
    this.#ws.on('error', () => {});
  }

  get readyState(): number {
    return this.#ws.readyState;
  }

  get binaryType(): string {
    return this.#ws.binaryType;
  }

  set binaryType(value: string) {
    this.#ws.binaryType = value as WebSocket['binaryType'];
  }

  send(data: string): void {
    this.#ws.send(data);
  }

  close(code?: number, reason?: string): void {
    this.#ws.close(code, reason);
  }

  // The EventEmitter side, which core's transport prefers for `ws` sockets (no MessageEvent
  // per message). A 'close' after a refused upgrade reports the refusal's code.
  on(event: string, listener: (...args: any[]) => void): this {
    if (event !== 'close') {
      this.#ws.on(event, listener);
      return this;
    }
    const wrapped = (code: number, reason: unknown): void => {
      const refusal = this.#refusal;
      if (refusal) listener(refusal.code, refusal.reason);
      else listener(code, reason);
    };
    this.#wrapped.set(listener, wrapped);
    this.#ws.on('close', wrapped);
    return this;
  }

  off(event: string, listener: (...args: any[]) => void): this {
    const wrapped = event === 'close' ? this.#wrapped.get(listener) : listener;
    if (!wrapped) return this;
    this.#wrapped.delete(listener);
    this.#ws.off(event, wrapped);
    return this;
  }

  addEventListener(type: string, listener: Listener): void {
    if (type !== 'close') {
      this.#ws.addEventListener(type as 'message', listener);
      return;
    }
    const wrapped: Listener = (event) => listener(this.#refusal ?? event);
    this.#wrapped.set(listener, wrapped);
    this.#ws.addEventListener('close', wrapped);
  }

  removeEventListener(type: string, listener: Listener): void {
    const wrapped = type === 'close' ? this.#wrapped.get(listener) : listener;
    if (!wrapped) return;
    this.#wrapped.delete(listener);
    this.#ws.removeEventListener(type as 'message', wrapped);
  }
}
