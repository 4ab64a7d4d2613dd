/**
 * Bookkeeping of one ask waiting for its answer: settles once, with its deadline on the
 * shared timer wheel and its AbortSignal listener removed as soon as it settles.
 */
import { ActorSpaceError } from '../errors.js';
import type { TimerEntry, TimerWheel } from './timer-wheel.js';

/** Told when an ask gives up (timeout or abort) so it can forget the ask and tell the peer. */
export interface AskOwner {
  giveUp(ask: PendingAsk): void;
}

export class PendingAsk implements TimerEntry {
  bucket: Set<TimerEntry> | null = null;
  readonly id: number;
  readonly #type: string;
  readonly #guid: string;
  readonly #timeout: number;
  readonly #wheel: TimerWheel;
  readonly #owner: AskOwner;
  #resolve: ((value: any) => void) | null;
  #reject: ((error: unknown) => void) | null;
  #signal: AbortSignal | undefined;

  constructor(
    id: number,
    type: string,
    guid: string,
    timeout: number,
    signal: AbortSignal | undefined,
    wheel: TimerWheel,
    owner: AskOwner,
    resolve: (value: any) => void,
    reject: (error: unknown) => void,
  ) {
    this.id = id;
    this.#type = type;
    this.#guid = guid;
    this.#timeout = timeout;
    this.#wheel = wheel;
    this.#owner = owner;
    this.#resolve = resolve;
    this.#reject = reject;
    if (timeout > 0 && Number.isFinite(timeout)) wheel.add(this, timeout);
    if (signal) {
      this.#signal = signal;
      this.#onAbort = () => this.#aborted();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  /** Says which ask this is, in error messages (made only when one is needed). */
  get #what(): string {
    return `ask "${this.#type}" to actor ${this.#guid}`;
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
        `${this.#what} got no answer in ${this.#timeout} ms; raise AskOptions.timeout if the handler is slow`,
      ),
    );
  }

  // The abort listener, made only for asks with a signal.
  #onAbort: (() => void) | null = null;

  #aborted(): void {
    if (!this.pending) return;
    this.#owner.giveUp(this);
    this.reject(new ActorSpaceError('ABORTED', `${this.#what} was aborted`, { cause: this.#signal?.reason }));
  }

  #done(): void {
    this.#resolve = null;
    this.#reject = null;
    this.#wheel.remove(this);
    if (this.#signal && this.#onAbort) {
      this.#signal.removeEventListener('abort', this.#onAbort);
      this.#signal = undefined;
      this.#onAbort = null;
    }
  }
}

/**
 * Checks an ask's options before it is sent: validates `timeout` (returning the one to use)
 * and refuses an ask whose signal is already aborted.
 */
export function askTimeout(
  opts: { timeout?: number; signal?: AbortSignal } | undefined,
  fallback: number,
  type: string,
  guid: string,
): number {
  const t = opts?.timeout;
  if (opts?.signal?.aborted) {
    throw new ActorSpaceError('ABORTED', `ask "${type}" to actor ${guid} was aborted before it was sent`, {
      cause: opts.signal.reason,
    });
  }
  if (t === undefined) return fallback;
  if (typeof t !== 'number' || Number.isNaN(t) || t < 0) {
    throw new ActorSpaceError(
      'INVALID_MESSAGE',
      `AskOptions.timeout must be a non-negative number of ms, got ${String(t)}`,
    );
  }
  return t;
}
