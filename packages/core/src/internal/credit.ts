/**
 * The receiving half of flow control: a window of bytes of tells and asks this side accepts
 * beyond what its actors have taken from their mailboxes. It grows back as messages leave the
 * mailboxes and the peer learns of it through CREDIT frames (cumulative, so a lost one is
 * healed by the next, and by the resume handshake). A peer that sends past the window broke
 * the protocol. HTTP/2's WINDOW_UPDATE and gRPC's flow control work the same way.
 */
import { Kind } from '../protocol.js';

/** Told when a CREDIT frame is due. */
export interface CreditHost {
  creditDue(now: boolean): void;
}

/** Announce credit after a quiet spell of this many ms, when it did not ride along sooner. */
const CREDIT_DELAY = 50;

export class ReceiveWindow {
  /** Bytes this side accepts beyond what it consumed. */
  readonly size: number;
  readonly #host: CreditHost;
  #received = 0;
  #consumed = 0;
  #announced = 0;
  #timer: ReturnType<typeof setTimeout> | null = null;

  constructor(host: CreditHost, size: number) {
    this.#host = host;
    this.size = size;
  }

  /** Bytes of tell- and ask-bearing messages received, and consumed, so far. */
  get received(): number {
    return this.#received;
  }

  get consumed(): number {
    return this.#consumed;
  }

  /** A message carrying tells or asks arrived; false when it goes past the window the peer was given. */
  accept(cost: number): boolean {
    this.#received += cost;
    return this.#received <= this.#announced + this.size;
  }

  /** Messages worth `cost` bytes left their mailboxes (or needed none). */
  consume(cost: number): void {
    this.#consumed += cost;
    if (this.#consumed - this.#announced >= this.size / 4) this.#host.creditDue(true);
    else if (this.#timer === null) {
      this.#timer = setTimeout(() => {
        this.#timer = null;
        if (this.#consumed > this.#announced) this.#host.creditDue(true);
      }, CREDIT_DELAY);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Appends a CREDIT frame when one is due (forced, or a quarter of the window is owed). */
  control(out: string[], forced: boolean): void {
    const owed = this.#consumed - this.#announced;
    if (owed > 0 && (forced || owed >= this.size / 4)) {
      this.#announced = this.#consumed;
      out.push(`[${Kind.CREDIT},${this.#consumed}]`);
    }
  }

  /** Where this side stands, for a resume handshake (which also tells the peer the credit). */
  position(): { received: number; consumed: number } {
    this.#announced = this.#consumed;
    return { received: this.#received, consumed: this.#consumed };
  }

  /** A new session starts: nothing received, nothing owed. */
  reset(): void {
    this.stop();
    this.#received = 0;
    this.#consumed = 0;
    this.#announced = 0;
  }

  stop(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
