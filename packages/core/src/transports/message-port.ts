/**
 * A transport over anything with postMessage: a MessagePort, a Worker (either side), a
 * BroadcastChannel, or the EventEmitter-style ports of `node:worker_threads`.
 */
import { ABNORMAL_CLOSURE, type Transport, TransportBase } from '../transport.js';

type Listener = (...args: any[]) => void;

/**
 * What the transport needs of a port: `postMessage`, and message events either as an
 * EventTarget (`addEventListener`, browsers) or as an EventEmitter (`on` / `off`, Node's
 * worker_threads, where a Worker's `exit` and a port's `close` also end the transport).
 */
export interface PortLike {
  /** Sends a frame (or the close marker) to the other side. */
  postMessage(message: unknown): void;
  /** EventTarget ports: listens for `message` events (used when `on` / `off` are absent). */
  addEventListener?(type: 'message', listener: (event: { data: unknown }) => void): void;
  /** EventTarget ports: stops listening, when the transport closes. */
  removeEventListener?(type: 'message', listener: (event: { data: unknown }) => void): void;
  /** EventEmitter ports: listens for `message`, and for `exit` / `close` (the other side is gone). */
  on?(event: string, listener: Listener): unknown;
  /** EventEmitter ports: stops listening, when the transport closes. */
  off?(event: string, listener: Listener): unknown;
  /** Starts delivery on a MessagePort that was not started; called once, if present. */
  start?(): void;
}

// Ports have no close event of their own, so the closing side posts this marker to tell the other.
const CLOSE_MARK = '\u0000actorspace:close';

class MessagePortTransport extends TransportBase implements Transport {
  readonly #port: PortLike;
  readonly #emitter: boolean;

  readonly #onData = (data: unknown): void => {
    if (typeof data === 'string' && data.startsWith(CLOSE_MARK)) {
      const [code, reason] = parseClose(data);
      this.finish(code, reason);
      return;
    }
    this.deliver(typeof data === 'string' || data instanceof Uint8Array ? data : new Uint8Array(0));
  };
  readonly #onEvent = (event: { data: unknown }): void => this.#onData(event.data);
  // A worker_threads Worker emits 'exit' and a port 'close' when the other side is gone for good.
  readonly #onGone = (): void => this.finish(ABNORMAL_CLOSURE, 'the worker or port is gone');

  constructor(port: PortLike) {
    super();
    this.#port = port;
    // Node's ports have both APIs; its EventEmitter side hands over the message itself.
    this.#emitter = typeof port.on === 'function' && typeof port.off === 'function';
    if (this.#emitter) {
      port.on?.('message', this.#onData);
      port.on?.('exit', this.#onGone);
      port.on?.('close', this.#onGone);
    } else {
      port.addEventListener?.('message', this.#onEvent);
      port.start?.();
    }
  }

  send(frame: string): void {
    if (!this.closed) this.#port.postMessage(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    try {
      this.#port.postMessage(`${CLOSE_MARK}${code} ${reason}`);
    } catch {
      // The port or worker may already be gone; the local close still happens.
    }
    this.finish(code, reason);
  }

  protected override finish(code: number, reason: string): void {
    if (this.closed) return;
    if (this.#emitter) {
      this.#port.off?.('message', this.#onData);
      this.#port.off?.('exit', this.#onGone);
      this.#port.off?.('close', this.#onGone);
    } else {
      this.#port.removeEventListener?.('message', this.#onEvent);
    }
    super.finish(code, reason);
  }
}

function parseClose(data: string): [number, string] {
  const rest = data.slice(CLOSE_MARK.length);
  const space = rest.indexOf(' ');
  const code = Number(space < 0 ? rest : rest.slice(0, space));
  return [Number.isInteger(code) ? code : 1000, space < 0 ? '' : rest.slice(space + 1)];
}

/**
 * A transport over a MessagePort, a Worker (from either side: pass the Worker, or `self` in
 * the worker), a BroadcastChannel shared by exactly two spaces, or a `node:worker_threads`
 * Worker / `parentPort`. Closing posts a close notice to the other side; the port itself
 * stays yours to close.
 *
 * @throws TypeError when `port` has no postMessage and message events.
 * @example
 * const { port1, port2 } = new MessageChannel();
 * a.addChannel(messagePortTransport(port1)); b.addChannel(messagePortTransport(port2));
 */
export function messagePortTransport(port: PortLike): Transport {
  const events =
    port &&
    ((typeof port.on === 'function' && typeof port.off === 'function') ||
      typeof port.addEventListener === 'function');
  if (!port || typeof port.postMessage !== 'function' || !events) {
    throw new TypeError('messagePortTransport needs a MessagePort, Worker or BroadcastChannel');
  }
  return new MessagePortTransport(port);
}
