/** An in-memory transport pair for tests and same-process spaces. */
import { type Transport, TransportBase } from '../transport.js';

class MemoryTransport extends TransportBase implements Transport {
  peer: MemoryTransport | null = null;

  send(frame: string): void {
    if (this.closed) return;
    const peer = this.peer;
    // Deliver on a later microtask, as a socket would: a send never re-enters the sender.
    if (peer) queueMicrotask(() => peer.deliver(frame));
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    const peer = this.peer;
    this.finish(code, reason);
    if (peer) queueMicrotask(() => peer.finish(code, reason));
  }
}

/**
 * Two connected in-memory transports: what one sends, the other receives, in order.
 *
 * @example
 * const [a, b] = createMemoryTransportPair();
 * spaceA.addChannel(a); spaceB.addChannel(b);
 */
export function createMemoryTransportPair(): [Transport, Transport] {
  const a = new MemoryTransport();
  const b = new MemoryTransport();
  a.peer = b;
  b.peer = a;
  return [a, b];
}
