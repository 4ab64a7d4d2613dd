/** A transport over MessagePort, Worker (either side) or BroadcastChannel. */
import { ActorSpaceError } from '../errors.js';
import { type Transport, TransportBase } from '../transport.js';

/** What the transport needs of a port-like object: postMessage and message events. */
export interface PortLike {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  removeEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
  start?(): void;
  close?(): void;
  terminate?(): void;
}

// Ports have no close event, so the closing side posts this marker to tell the other.
const CLOSE_MARK = '\u0000actorspace:close';

class MessagePortTransport extends TransportBase implements Transport {
  readonly #port: PortLike;
  readonly #listener = (event: { data: unknown }): void => {
    const data = event.data;
    if (typeof data === 'string' && data.startsWith(CLOSE_MARK)) {
      const [code, reason] = parseClose(data);
      this.#detach();
      this.finish(code, reason);
      return;
    }
    if (typeof data === 'string' || data instanceof Uint8Array) this.deliver(data);
  };

  constructor(port: PortLike) {
    super();
    this.#port = port;
    port.addEventListener('message', this.#listener);
    port.start?.();
  }

  send(frame: string): void {
    if (!this.closed) this.#port.postMessage(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    try {
      this.#port.postMessage(`${CLOSE_MARK}${code} ${reason}`);
    } catch {
      // The port may already be gone; the local close still happens.
    }
    this.#detach();
    this.finish(code, reason);
  }

  #detach(): void {
    this.#port.removeEventListener('message', this.#listener);
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
 * the worker) or a BroadcastChannel shared by exactly two spaces. Closing posts a close
 * notice to the other side; the port itself stays yours to close.
 *
 * @example
 * const { port1, port2 } = new MessageChannel();
 * a.addChannel(messagePortTransport(port1)); b.addChannel(messagePortTransport(port2));
 */
export function messagePortTransport(port: PortLike): Transport {
  if (!port || typeof port.postMessage !== 'function' || typeof port.addEventListener !== 'function') {
    throw new ActorSpaceError(
      'INVALID_MESSAGE',
      'messagePortTransport needs a MessagePort, Worker or BroadcastChannel',
    );
  }
  return new MessagePortTransport(port);
}
