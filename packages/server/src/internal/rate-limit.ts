/**
 * A per-connection rate limit on what a peer sends, in messages and bytes a second: two token
 * buckets, refilled continuously, each holding `burst` seconds' worth. A peer that empties one
 * is over its limit.
 */

/** Rate limit of one connection. */
export interface RateLimit {
  /** Transport messages a second (a batch of frames is one message). @default 100000 */
  messages?: number;
  /** Bytes a second. @default 67108864 (64 MiB) */
  bytes?: number;
  /** Seconds of traffic at the full rate that may arrive at once. @default 2 */
  burst?: number;
}

const DEFAULTS = { messages: 100_000, bytes: 64 * 1024 * 1024, burst: 2 };

/** Fills in and checks a rate limit. @throws RangeError for a value that is not positive. */
export function rateLimit(limit: RateLimit | undefined): Required<RateLimit> {
  const out = { ...DEFAULTS, ...limit };
  for (const key of ['messages', 'bytes', 'burst'] as const) {
    if (!(typeof out[key] === 'number' && out[key] > 0)) {
      throw new RangeError(`rateLimit.${key} must be a positive number, got ${String(out[key])}`);
    }
  }
  return out;
}

export class RateLimiter {
  readonly #limit: Required<RateLimit>;
  #messages: number;
  #bytes: number;
  #at = Date.now();

  constructor(limit: Required<RateLimit>) {
    this.#limit = limit;
    this.#messages = limit.messages * limit.burst;
    this.#bytes = limit.bytes * limit.burst;
  }

  /** Spends one message of `bytes`; returns what was exceeded, or null. */
  spend(bytes: number): string | null {
    const now = Date.now();
    const elapsed = (now - this.#at) / 1000;
    const { messages, bytes: rate, burst } = this.#limit;
    if (elapsed > 0) {
      this.#at = now;
      this.#messages = Math.min(messages * burst, this.#messages + elapsed * messages);
      this.#bytes = Math.min(rate * burst, this.#bytes + elapsed * rate);
    }
    this.#messages -= 1;
    this.#bytes -= bytes;
    if (this.#messages < 0) return `more than ${messages} messages a second`;
    if (this.#bytes < 0) return `more than ${rate} bytes a second`;
    return null;
  }
}
