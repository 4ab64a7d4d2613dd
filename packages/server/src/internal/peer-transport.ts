/**
 * The engine's side of a peer: the Transport a connection's channel writes through, fed by
 * the adapter through `PeerConnection`, with the connection's rate limit applied to what
 * arrives. Not part of the public API.
 */
import { CloseCode, type Transport, TransportBase } from '@actorspace/core';
import type { Peer } from '../peer.js';
import type { RateLimiter } from './rate-limit.js';

/** Writes a frame to the trace log (development servers). */
export type Tracer = (direction: 'in' | 'out', frame: string | Uint8Array) => void;

/** Told when the socket is gone. */
export interface TransportOwner {
  ended(code: number, reason: string): void;
}

/** The transport of one peer: the channel writes through the peer, the adapter feeds it. */
export class PeerTransport extends TransportBase implements Transport {
  readonly #peer: Peer;
  readonly #trace: Tracer | null;
  readonly #limiter: RateLimiter | null;
  readonly #owner: TransportOwner;

  constructor(peer: Peer, owner: TransportOwner, limiter: RateLimiter | null, trace: Tracer | null) {
    super();
    this.#peer = peer;
    this.#owner = owner;
    this.#limiter = limiter;
    this.#trace = trace;
  }

  get bufferedAmount(): number {
    return this.#peer.bufferedAmount?.() ?? 0;
  }

  send(frame: string): void {
    if (this.closed) return;
    this.#trace?.('out', frame);
    this.#peer.send(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return;
    try {
      this.#peer.close(code, truncateReason(reason));
    } finally {
      this.finish(code, reason);
    }
  }

  /** A frame from the adapter: text as a string, binary in any buffer shape. */
  override deliver(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.closed) return;
    const frame =
      typeof data === 'string'
        ? data
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    const over = this.#limiter?.spend(typeof frame === 'string' ? frame.length : frame.byteLength);
    if (over) {
      this.close(CloseCode.RATE_LIMITED, `rate limit: ${over}`);
      return;
    }
    this.#trace?.('in', frame);
    super.deliver(frame);
  }

  /** The end of the socket, reported once. */
  override finish(code: number, reason: string): void {
    if (this.closed) return;
    super.finish(code, reason);
    this.#owner.ended(code, reason);
  }
}

// RFC 6455 §5.5: a close frame's payload (2-byte code + reason) is at most 125 bytes.
function truncateReason(reason: string): string {
  if (reason.length <= 40) return reason;
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  return `${new TextDecoder().decode(bytes.slice(0, 120)).replace(/\uFFFD$/, '')}...`;
}
