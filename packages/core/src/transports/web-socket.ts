/** A transport over a WebSocket: the browser's, Node 22's global one, or a `ws` socket. */
import { ABNORMAL_CLOSURE, type Transport, TransportBase } from '../transport.js';

/** The part of the WHATWG WebSocket API the transport uses; `ws` sockets fit it too. */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed: frames sent while connecting wait for `open`. */
  readonly readyState: number;
  /** Bytes queued by `send` and not yet sent (every WebSocket has it; optional for look-alikes). */
  readonly bufferedAmount?: number;
  /** Set to `arraybuffer` on browser sockets, so a binary frame arrives as bytes, never a Blob. */
  binaryType?: string;
  /** Sends one text frame. */
  send(data: string): void;
  /** Closes the socket (the transport cuts `reason` to the 123 bytes WebSocket allows). */
  close(code?: number, reason?: string): void;
  /** Listens for `open`, `message`, `close` and `error`. */
  addEventListener(type: string, listener: (event: any) => void): void;
  /** Stops listening, when the transport closes. */
  removeEventListener(type: string, listener: (event: any) => void): void;
}

/** The EventEmitter side of a `ws` socket. */
interface EmitterSocket {
  on(event: string, listener: (...args: any[]) => void): unknown;
  off(event: string, listener: (...args: any[]) => void): unknown;
}

let decoder: TextDecoder | null = null;

/** A text message's data as a string: `ws` hands over a Buffer (its toString is UTF-8). */
function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return (decoder ??= new TextDecoder()).decode(data);
  if (Array.isArray(data)) return data.map(textOf).join('');
  return String(data);
}

const CONNECTING = 0;
const OPEN = 1;

/** True when `value` looks like a WebSocket rather than a {@link Transport}. */
export function isWebSocketLike(value: unknown): value is WebSocketLike {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as WebSocketLike).readyState === 'number' &&
    typeof (value as WebSocketLike).addEventListener === 'function' &&
    typeof (value as WebSocketLike).send === 'function'
  );
}

class WebSocketTransport extends TransportBase implements Transport {
  readonly #ws: WebSocketLike;
  #pending: string[] | null = null;

  readonly #onMessage = (event: { data: unknown }): void => {
    const data = event.data;
    if (typeof data === 'string') this.deliver(data);
    else if (data instanceof ArrayBuffer) this.deliver(new Uint8Array(data));
    else if (ArrayBuffer.isView(data))
      this.deliver(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    else this.deliver(new Uint8Array(0));
  };
  readonly #onOpen = (): void => {
    const pending = this.#pending;
    this.#pending = null;
    if (pending) for (const frame of pending) this.#ws.send(frame);
  };
  readonly #onClose = (event: { code?: number; reason?: string }): void => {
    this.#detach();
    this.finish(event.code ?? ABNORMAL_CLOSURE, event.reason ?? '');
  };
  // An error event is always followed by close; nothing to do but keep it from being unhandled.
  readonly #onError = (): void => {};

  // `ws` sockets (Node) also have EventEmitter events, which skip the MessageEvent that
  // their addEventListener builds for every message: cheaper on the hot path.
  readonly #emitter: boolean;
  readonly #onData = (data: unknown, isBinary: boolean): void => {
    if (!isBinary) this.deliver(textOf(data));
    else this.#onMessage({ data });
  };
  readonly #onEnd = (code: number, reason: unknown): void =>
    this.#onClose({ code, reason: reason === undefined ? '' : textOf(reason) });

  constructor(ws: WebSocketLike) {
    super();
    this.#ws = ws;
    const emitter = ws as unknown as EmitterSocket;
    this.#emitter = typeof emitter.on === 'function' && typeof emitter.off === 'function';
    if (this.#emitter) {
      emitter.on('message', this.#onData);
      emitter.on('close', this.#onEnd);
      emitter.on('error', this.#onError);
    } else {
      if ('binaryType' in ws) ws.binaryType = 'arraybuffer';
      ws.addEventListener('message', this.#onMessage);
      ws.addEventListener('close', this.#onClose);
      ws.addEventListener('error', this.#onError);
    }
    if (ws.readyState === CONNECTING) {
      this.#pending = [];
      ws.addEventListener('open', this.#onOpen);
    } else if (ws.readyState !== OPEN) {
      queueMicrotask(() => this.finish(ABNORMAL_CLOSURE, 'socket was already closed'));
    }
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount ?? 0;
  }

  send(frame: string): void {
    if (this.closed) return;
    if (this.#pending) this.#pending.push(frame);
    else if (this.#ws.readyState === OPEN) this.#ws.send(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    this.#detach();
    try {
      this.#ws.close(code, reason.slice(0, 123));
    } catch {
      this.#ws.close();
    }
    this.finish(code, reason);
  }

  #detach(): void {
    if (this.#emitter) {
      const emitter = this.#ws as unknown as EmitterSocket;
      emitter.off('message', this.#onData);
      emitter.off('close', this.#onEnd);
    } else {
      this.#ws.removeEventListener('message', this.#onMessage);
      this.#ws.removeEventListener('close', this.#onClose);
    }
    this.#ws.removeEventListener('open', this.#onOpen);
    // The error listener stays: a late error on a closing socket must not become unhandled.
  }
}

/**
 * A transport over a WebSocket (browser, Node 22+, or a `ws` socket on either end). Frames
 * sent while the socket is still connecting are held and sent on open.
 *
 * @throws TypeError when `ws` is not a WebSocket.
 * @example
 * space.addChannel(webSocketTransport(new WebSocket('ws://localhost:8080/actorspace')));
 */
export function webSocketTransport(ws: WebSocketLike): Transport {
  if (!isWebSocketLike(ws)) {
    throw new TypeError('webSocketTransport needs a WebSocket (browser or ws)');
  }
  return new WebSocketTransport(ws);
}
