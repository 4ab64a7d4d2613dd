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

export class ReceiveWindow {
  /** Bytes this side accepts beyond what it consumed. */
  readonly size: number;
  readonly #host: CreditHost;
  #received = 0;
  #consumed = 0;
  #announced = 0;
  /** The peer asked for credit (a PING: it waits for credit, or checks on us): give what is owed at once. */
  #wanted = false;

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

  /**
   * Messages worth `cost` bytes left their mailboxes (or needed none). Credit is announced once
   * a quarter of the window is owed, or at once when the peer asked for it: a sender that waits
   * for credit (a frame larger than what is left) says so with a PING. No timer: a receiver
   * that is kept busy sends one CREDIT per quarter window, not one per quiet spell.
   */
  consume(cost: number): void {
    this.#consumed += cost;
    if (this.#wanted || this.#consumed - this.#announced >= this.size / 4) this.#host.creditDue(true);
  }

  /** The peer pinged: announce what is owed now, or as soon as something is consumed. */
  wanted(): void {
    this.#wanted = true;
    if (this.#consumed > this.#announced) this.#host.creditDue(true);
  }

  /** Appends a CREDIT frame when one is due (forced, or a quarter of the window is owed). */
  control(out: string[], forced: boolean): void {
    const owed = this.#consumed - this.#announced;
    if (owed > 0 && (forced || owed >= this.size / 4)) {
      this.#announced = this.#consumed;
      this.#wanted = false;
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
    this.#received = 0;
    this.#consumed = 0;
    this.#announced = 0;
    this.#wanted = false;
  }

  /** Nothing to stop: kept for the channel's teardown. */
  stop(): void {}
}
