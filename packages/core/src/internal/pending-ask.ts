/**
 * Bookkeeping of asks waiting for their answers: each settles once, with its deadline on the
 * shared timer wheel. Asks that share one AbortSignal share one listener on it (a set per
 * signal), so n asks on one signal cost O(1) each to add and to settle, not O(n).
 */
import { ActorSpaceError, describeMessage } from '../errors.js';
import type { TimerEntry, TimerWheel } from './timer-wheel.js';

/** Told when an ask gives up (timeout or abort) so it can forget the ask and tell the peer. */
export interface AskOwner {
  giveUp(ask: PendingAsk): void;
}

/** The asks waiting on each signal, and the one listener each signal has. */
const bySignal = new WeakMap<AbortSignal, Set<PendingAsk>>();

function onAbort(this: AbortSignal): void {
  const asks = bySignal.get(this);
  bySignal.delete(this);
  if (asks) for (const ask of asks) ask.abort();
}

function watch(signal: AbortSignal, ask: PendingAsk): void {
  let asks = bySignal.get(signal);
  if (!asks) {
    asks = new Set();
    bySignal.set(signal, asks);
    signal.addEventListener('abort', onAbort, { once: true });
  }
  asks.add(ask);
}

function unwatch(signal: AbortSignal, ask: PendingAsk): void {
  const asks = bySignal.get(signal);
  if (!asks) return;
  asks.delete(ask);
  if (asks.size === 0) {
    bySignal.delete(signal);
    signal.removeEventListener('abort', onAbort);
  }
}

export class PendingAsk implements TimerEntry {
  bucket: Set<TimerEntry> | null = null;
  readonly id: number;
  readonly type: string;
  readonly target: string;
  /** Set once the ASK frame reached the transport (a cancel then has to tell the peer). */
  written = false;
  readonly #timeout: number;
  readonly #wheel: TimerWheel;
  readonly #owner: AskOwner;
  #resolve: ((value: any) => void) | null;
  #reject: ((error: unknown) => void) | null;
  #signal: AbortSignal | undefined;

  constructor(
    id: number,
    type: string,
    target: string,
    timeout: number,
    signal: AbortSignal | undefined,
    wheel: TimerWheel,
    owner: AskOwner,
    resolve: (value: any) => void,
    reject: (error: unknown) => void,
  ) {
    this.id = id;
    this.type = type;
    this.target = target;
    this.#timeout = timeout;
    this.#wheel = wheel;
    this.#owner = owner;
    this.#resolve = resolve;
    this.#reject = reject;
    if (timeout > 0 && Number.isFinite(timeout)) wheel.add(this, timeout);
    if (signal) {
      this.#signal = signal;
      watch(signal, this);
    }
  }

  /** Names the ask in error messages: `ask "add" to actor s1`. */
  get what(): string {
    return describeMessage('ask', this.type, this.target);
  }

  /** True until the ask settles. */
  get pending(): boolean {
    return this.#resolve !== null;
  }

  resolve(value: unknown): void {
    const resolve = this.#resolve;
    if (!resolve) return;
    this.#done();
    resolve(value);
  }

  reject(error: unknown): void {
    const reject = this.#reject;
    if (!reject) return;
    this.#done();
    reject(error);
  }

  /** Timer wheel callback: the deadline passed. */
  expire(): void {
    if (!this.pending) return;
    this.#owner.giveUp(this);
    this.reject(
      new ActorSpaceError(
        'TIMEOUT',
        `${this.what} got no answer in ${this.#timeout} ms; raise AskOptions.timeout if the handler is slow`,
        { details: { target: this.target, type: this.type, timeout: this.#timeout } },
      ),
    );
  }

  /** The signal fired. */
  abort(): void {
    if (!this.pending) return;
    const reason = this.#signal?.reason;
    this.#signal = undefined;
    this.#owner.giveUp(this);
    this.reject(new ActorSpaceError('ABORTED', `${this.what} was aborted`, { cause: reason }));
  }

  #done(): void {
    this.#resolve = null;
    this.#reject = null;
    this.#wheel.remove(this);
    if (this.#signal) {
      unwatch(this.#signal, this);
      this.#signal = undefined;
    }
  }
}

/**
 * Checks an ask's options before it is sent: returns the timeout to use, and refuses an ask
 * whose signal already fired.
 * @throws RangeError for a timeout that is not a non-negative number; ActorSpaceError `ABORTED`.
 */
export function askTimeout(
  opts: { timeout?: number; signal?: AbortSignal } | undefined,
  fallback: number,
  what: string,
): number {
  const t = opts?.timeout;
  if (opts?.signal?.aborted) {
    throw new ActorSpaceError('ABORTED', `${what} was aborted before it was sent`, {
      cause: opts.signal.reason,
    });
  }
  if (t === undefined) return fallback;
  if (typeof t !== 'number' || Number.isNaN(t) || t < 0) {
    throw new RangeError(
      `AskOptions.timeout of ${what} must be a non-negative number of ms, got ${String(t)}`,
    );
  }
  return t;
}
