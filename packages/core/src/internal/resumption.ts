/**
 * Resumption of a session over a new transport. Numbered frames (tells, asks, answers,
 * cancels, errors) are counted 1, 2, 3... in the order they are written; each side keeps what
 * it wrote until the peer acknowledges it (the replay buffer) and counts what it received.
 * After a reconnect each side says how many frames it received, and the other writes every
 * later one again, in order, exactly once.
 */
import { Kind } from '../protocol.js';

/** What resumption needs from its channel. */
export interface ResumptionHost {
  /** Acknowledged frames leave the replay buffer (signed sizes: + tell/ask, - other). */
  release(size: number): void;
  /** An acknowledgement is due soon: write on a later turn. */
  ackDue(now: boolean): void;
}

// Acknowledge at once after this many frames or bytes (the peer's replay buffer is bounded in
// bytes: large frames must not wait for the count), with any batch once this many frames
// wait, or this long after the first unacknowledged one.
const ACK_EVERY = 128;
const ACK_BYTES = 256 * 1024;
const ACK_PIGGYBACK = 32;
const ACK_DELAY = 200;

export class Resumption {
  readonly #host: ResumptionHost;
  #texts: string[] = [];
  #sizes: number[] = [];
  #head = 0;
  /** Frames of the session the peer has confirmed. */
  #acked = 0;
  /** Frames of the session received from the peer, and the count last acknowledged. */
  #received = 0;
  #ackSent = 0;
  /** Characters received since the last acknowledgement. */
  #unackedBytes = 0;
  #ackTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the oldest unacknowledged frame was written, or the last acknowledgement came. */
  #since = 0;

  constructor(host: ResumptionHost) {
    this.#host = host;
  }

  /** Numbered frames received in this session. */
  get received(): number {
    return this.#received;
  }

  /** Numbered frames written in this session. */
  get seq(): number {
    return this.#acked + this.#texts.length - this.#head;
  }

  /** Keeps a written frame until the peer acknowledges it. */
  keep(text: string, size: number): void {
    if (this.#head === this.#texts.length) this.#since = Date.now();
    this.#texts.push(text);
    this.#sizes.push(size);
  }

  /** The peer has the first `seq` frames: release them. False when `seq` was never written. */
  ack(seq: number): boolean {
    if (seq > this.seq || seq < 0) return false;
    if (seq <= this.#acked) return true;
    const end = this.#head + (seq - this.#acked);
    for (let i = this.#head; i < end; i++) {
      this.#host.release(this.#sizes[i] as number);
      this.#texts[i] = '';
    }
    this.#head = end;
    this.#acked = seq;
    this.#since = Date.now();
    if (this.#head === this.#texts.length) {
      this.#texts = [];
      this.#sizes = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#texts.length) {
      this.#texts = this.#texts.slice(this.#head);
      this.#sizes = this.#sizes.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }

  /**
   * After a reconnect the peer has `peerAck` frames: the later ones leave the replay buffer to
   * be written again (they are numbered afresh as they go). Null when `peerAck` is impossible.
   */
  rewind(peerAck: number): { texts: string[]; sizes: number[] } | null {
    if (!this.ack(peerAck)) return null;
    const out = { texts: this.#texts.slice(this.#head), sizes: this.#sizes.slice(this.#head) };
    this.#texts = [];
    this.#sizes = [];
    this.#head = 0;
    return out;
  }

  /** A numbered frame of about `size` characters arrived. */
  count(size: number): void {
    this.#received++;
    this.#unackedBytes += size;
    const waiting = this.#received - this.#ackSent;
    if (waiting >= ACK_EVERY || this.#unackedBytes >= ACK_BYTES) this.#host.ackDue(true);
    else if (this.#ackTimer === null) {
      // One timer at a time, left running when an ack rides along with a batch: re-arming it
      // for every request/response pair would cost more than the ack itself.
      this.#ackTimer = setTimeout(() => {
        this.#ackTimer = null;
        if (this.#received > this.#ackSent) this.#host.ackDue(true);
      }, ACK_DELAY);
      (this.#ackTimer as { unref?: () => void }).unref?.();
    }
  }

  /** Appends an ACK frame when one is due: forced (timer, threshold) or enough to ride along. */
  control(out: string[], forced: boolean): void {
    const waiting = this.#received - this.#ackSent;
    if (waiting > 0 && (forced || waiting >= ACK_PIGGYBACK)) {
      this.#ackSent = this.#received;
      this.#unackedBytes = 0;
      out.push(`[${Kind.ACK},${this.#received}]`);
    }
  }

  /** Our position is sent in the handshake: the peer learns it without an ACK. */
  acknowledged(): void {
    this.#ackSent = this.#received;
    this.#unackedBytes = 0;
  }

  /** True when frames have waited for an acknowledgement for longer than `ms`. */
  stalled(ms: number): boolean {
    return this.#head < this.#texts.length && Date.now() - this.#since > ms;
  }

  /** Forgets everything: a new session starts. */
  reset(): void {
    this.stop();
    this.#texts = [];
    this.#sizes = [];
    this.#head = 0;
    this.#acked = 0;
    this.#received = 0;
    this.#ackSent = 0;
  }

  stop(): void {
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
  }
}
