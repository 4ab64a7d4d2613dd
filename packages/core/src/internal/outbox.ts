/**
 * A channel's outgoing data frames, numbered 1, 2, 3... in send order. Without resumption
 * a frame is forgotten once written to the transport. With resumption it is kept until the
 * peer acknowledges it, so that after a reconnect everything the peer did not receive is
 * written again, in order, exactly once.
 */
export class Outbox {
  #resumable: boolean;
  readonly #limit: number;
  #frames: string[] = [];
  #head = 0;
  /** Sequence number of the last frame the peer confirmed (or, without resumption, that was written). */
  #acked = 0;
  /** Sequence number of the last frame written to a transport. */
  #written = 0;

  constructor(resumable: boolean, limit: number) {
    this.#resumable = resumable;
    this.#limit = limit;
  }

  /** Sequence number of the newest frame. */
  get seq(): number {
    return this.#acked + this.#frames.length - this.#head;
  }

  /** Frames kept: unacknowledged (resumable) or not yet written. */
  get size(): number {
    return this.#frames.length - this.#head;
  }

  /** True when a resumable outbox holds its limit of unacknowledged frames. */
  get full(): boolean {
    return this.#resumable && this.size >= this.#limit;
  }

  /** How many frames wait to be written. */
  get unwritten(): number {
    return this.seq - this.#written;
  }

  /** Stops keeping frames for replay (the peer will never acknowledge them); call before any push. */
  forget(): void {
    this.#resumable = false;
  }

  push(frame: string): void {
    this.#frames.push(frame);
  }

  /** The frames not written yet, now marked written; without resumption they are forgotten. */
  takeUnwritten(): string[] {
    if (!this.#resumable) {
      const out = this.#frames;
      this.#acked = this.#written = this.seq;
      this.#frames = [];
      this.#head = 0;
      return out;
    }
    const out = this.#frames.slice(this.#head + (this.#written - this.#acked));
    this.#written = this.seq;
    return out;
  }

  /** The peer has every frame up to `seq`: forget them. False when `seq` was never sent. */
  ack(seq: number): boolean {
    if (seq > this.seq || seq < 0) return false;
    if (seq <= this.#acked) return true;
    this.#head += seq - this.#acked;
    this.#acked = seq;
    if (this.#written < seq) this.#written = seq;
    if (this.#head === this.#frames.length) {
      this.#frames = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#frames.length) {
      this.#frames = this.#frames.slice(this.#head);
      this.#head = 0;
    }
    return true;
  }

  /** After a reconnect: the peer has frames up to `peerAck`; write every later one again. */
  rewind(peerAck: number): boolean {
    if (!this.ack(peerAck)) return false;
    this.#written = this.#acked;
    return true;
  }

  /** Drops every frame and starts numbering again; returns how many were never acknowledged. */
  reset(): number {
    const dropped = this.size;
    this.#frames = [];
    this.#head = 0;
    this.#acked = 0;
    this.#written = 0;
    return dropped;
  }
}
