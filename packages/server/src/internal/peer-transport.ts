/**
 * The engine's side of a peer: the Transport a connection's channel writes through, fed by
 * the adapter through `PeerConnection`, and header normalisation. Not part of the public API.
 */
import { type Transport, TransportBase } from '@actorspace/core';
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

/** One header of any {@link HeadersLike}, by lower-case name, or null. */
export function headerOf(headers: HeadersLike | undefined, name: string): string | null {
  if (!headers) return null;
  if (typeof (headers as { get?: unknown }).get === 'function') {
    return (headers as unknown as { get(name: string): string | null }).get(name);
  }
  if (typeof (headers as { forEach?: unknown }).forEach === 'function') {
    return normalizeHeaders(headers)[name] ?? null;
  }
  const record = headers as Record<string, string | string[] | undefined>;
  const value = record[name] ?? Object.entries(record).find(([k]) => k.toLowerCase() === name)?.[1];
  return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
}

/** The transport of one peer: the channel writes through the peer, the adapter feeds it. */
export class PeerTransport extends TransportBase implements Transport {
  readonly #peer: Peer;
  readonly #trace: ((direction: 'in' | 'out', frame: string | Uint8Array) => void) | null;

  constructor(peer: Peer, trace: ((direction: 'in' | 'out', frame: string | Uint8Array) => void) | null) {
    super();
    this.#peer = peer;
    this.#trace = trace;
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
    this.#trace?.('in', frame);
    super.deliver(frame);
  }

  /** The end of the socket, reported once. */
  override finish(code: number, reason: string): void {
    super.finish(code, reason);
  }
}

// RFC 6455 §5.5: a close frame's payload (2-byte code + reason) is at most 125 bytes.
function truncateReason(reason: string): string {
  if (reason.length <= 40) return reason;
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  return new TextDecoder().decode(bytes.slice(0, 120)).replace(/\uFFFD$/, '') + '...';
}
