/**
 * The engine's side of a peer: the Transport a connection's channel writes through, fed by
 * the adapter through `PeerConnection`, and header normalisation. Not part of the public API.
 */
import type { CloseHandler, FrameHandler, Transport } from '@actorspace/core';
import type { HeadersLike, Peer } from '../peer.js';

/** Header names lower-cased, repeated headers joined with `, `. */
export function normalizeHeaders(headers: HeadersLike | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  if (!headers) return out;
  if (typeof (headers as { forEach?: unknown }).forEach === 'function') {
    (headers as { forEach(cb: (v: string, k: string) => void): void }).forEach((value, key) => {
      out[key.toLowerCase()] = value;
    });
    return out;
  }
  for (const [key, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[key.toLowerCase()] = Array.isArray(value) ? value.join(', ') : String(value);
  }
  return out;
}

/** The transport of one peer: the channel writes through the peer, the adapter feeds it. */
export class PeerTransport implements Transport {
  readonly #peer: Peer;
  readonly #trace: ((direction: 'in' | 'out', frame: string | Uint8Array) => void) | null;
  #onMessage: FrameHandler | null = null;
  #onClose: CloseHandler | null = null;
  #early: Array<string | Uint8Array> | null = null;
  #closed = false;

  constructor(peer: Peer, trace: ((direction: 'in' | 'out', frame: string | Uint8Array) => void) | null) {
    this.#peer = peer;
    this.#trace = trace;
  }

  /** True once either side closed. */
  get closed(): boolean {
    return this.#closed;
  }

  send(frame: string): void {
    if (this.#closed) return;
    this.#trace?.('out', frame);
    this.#peer.send(frame);
  }

  close(code = 1000, reason = ''): void {
    if (this.#closed) return;
    try {
      this.#peer.close(code, truncateReason(reason));
    } finally {
      this.finish(code, reason);
    }
  }

  onMessage(handler: FrameHandler): void {
    this.#onMessage = handler;
    const early = this.#early;
    this.#early = null;
    if (early) for (const frame of early) handler(frame);
  }

  onClose(handler: CloseHandler): void {
    this.#onClose = handler;
  }

  /** A frame from the adapter. */
  deliver(data: string | ArrayBuffer | ArrayBufferView): void {
    if (this.#closed) return;
    const frame =
      typeof data === 'string'
        ? data
        : data instanceof ArrayBuffer
          ? new Uint8Array(data)
          : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.#trace?.('in', frame);
    if (this.#onMessage) this.#onMessage(frame);
    else (this.#early ??= []).push(frame);
  }

  /** The end of the socket, reported once. */
  finish(code: number, reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#early = null;
    this.#onClose?.(code, reason);
  }
}

// RFC 6455 §5.5: a close frame's payload (2-byte code + reason) is at most 125 bytes.
function truncateReason(reason: string): string {
  if (reason.length <= 40) return reason;
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.slice(0, 120)).replace(/\uFFFD$/, '') + '...';
}
