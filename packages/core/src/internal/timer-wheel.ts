/**
 * Deadlines for many pending asks on one timer. Entries fall into buckets of `resolution`
 * ms and fire no earlier than their deadline and at most one resolution late; one
 * setTimeout is armed for the earliest bucket instead of one per ask.
 */

/** Something with a deadline; `expire` runs once when it passes. */
export interface TimerEntry {
  expire(): void;
  /** Set by the wheel; the bucket the entry sits in, or null. */
  bucket: Set<TimerEntry> | null;
}

type Timer = ReturnType<typeof setTimeout>;

export class TimerWheel {
  readonly #resolution: number;
  readonly #buckets = new Map<number, Set<TimerEntry>>();
  #timer: Timer | null = null;
  #armedFor = Number.POSITIVE_INFINITY;

  constructor(resolution = 10) {
    this.#resolution = resolution;
  }

  /** Schedules `entry.expire()` after `ms` milliseconds. */
  add(entry: TimerEntry, ms: number): void {
    const at = Math.ceil((Date.now() + ms) / this.#resolution) * this.#resolution;
    let bucket = this.#buckets.get(at);
    if (!bucket) {
      bucket = new Set();
      this.#buckets.set(at, bucket);
      if (at < this.#armedFor) this.#arm(at);
    }
    bucket.add(entry);
    entry.bucket = bucket;
  }

  /** Removes an entry that settled before its deadline. */
  remove(entry: TimerEntry): void {
    entry.bucket?.delete(entry);
    entry.bucket = null;
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedFor = at;
    const timer = setTimeout(() => this.#fire(), Math.max(0, at - Date.now()));
    // A pending ask must not keep a Node process alive on its own; sockets do that.
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  #disarm(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#armedFor = Number.POSITIVE_INFINITY;
  }

  #fire(): void {
    this.#timer = null;
    this.#armedFor = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    const due: TimerEntry[] = [];
    for (const [at, bucket] of this.#buckets) {
      if (at <= now) {
        this.#buckets.delete(at);
        for (const entry of bucket) {
          entry.bucket = null;
          due.push(entry);
        }
      } else if (bucket.size === 0) {
        this.#buckets.delete(at);
      } else if (at < next) {
        next = at;
      }
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next);
    for (const entry of due) entry.expire();
  }
}

/** The one wheel every space of this process shares: one timer for all pending asks. */
export const sharedWheel = new TimerWheel();
