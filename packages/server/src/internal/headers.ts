/** Request headers in any common shape, read case-insensitively (not part of the public API). */
import type { HeadersLike } from '../peer.js';

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
