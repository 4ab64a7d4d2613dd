/**
 * A channel's outgoing frames on their way to the transport: two ordered lanes (tells and
 * asks; everything else), the bytes each holds against its budget, the credit the peer has
 * granted, and the writing itself — the frames of one turn share one transport message, long
 * turns write as they go, and nothing is written while the socket's own buffer is above the
 * high-water mark.
 *
 * Frames are written in the order they were queued, with one exception: a tell or ask that
 * the peer has no credit for waits, and answers, cancels and errors queued after it go ahead
 * (an answer must never wait behind tells the peer cannot take yet, or two busy peers could
 * wait on each other forever).
 */
import type { Transport } from '../transport.js';

/** What the writer needs from its channel. */
export interface WriterHost {
  /** A tell or ask waits for credit: ask the peer for it (once per wait). */
  creditWanted(): void;
  /** The transport while the channel is open, null while it is not (frames then wait). */
  readonly link: Transport | null;
  /** Largest message the peer accepts, in UTF-8 bytes. */
  readonly peerMaxPayload: number;
  /** False for an ask that gave up before its frame was written: the frame is dropped. */
  keepAsk(id: number): boolean;
  /** Appends the control frames due now (ack, credit, ping, pong) to `out`. */
  control(out: string[]): void;
  /** True when written frames are kept for replay until acknowledged (a resumable session). */
  readonly keeps: boolean;
  /** A numbered frame was written and is kept (only called when `keeps`). */
  written(text: string, size: number): void;
  /** The tells and asks held fell below the high-water mark again. */
  drained(): void;
  /** The answers, cancels and errors held for the peer passed their budget. */
  overBudget(bytes: number): void;
  /** The transport threw while writing. */
  failed(error: unknown): void;
}

/** Budgets of a writer, in bytes (characters of encoded frames). */
export interface WriterLimits {
  /** Tells and asks held (unwritten or unacknowledged); past it new ones are refused. */
  sendBuffer: number;
  /** Answers, cancels and errors held; past it the peer is over budget. */
  answerBuffer: number;
  /** Above it `ready()` waits, and nothing more is written while the socket holds more than it. */
  highWaterMark: number;
}

/**
 * What a held frame weighs against the budgets: its characters and what holding one costs
 * besides (the string's header, its slots in the queue and the replay buffer). Without it a
 * budget of tiny frames would hold several times its size.
 */
export const FRAME_OVERHEAD = 64;

/** What a frame of this text weighs against the budgets. */
export function frameWeight(text: string): number {
  return text.length + FRAME_OVERHEAD;
}

/** Frames of one turn written together at most; a longer turn writes in chunks of this many. */
const FLUSH_AT = 32;
/** How often a writer waiting for the socket to drain looks again, in ms. */
const DRAIN_POLL = 10;
const RESOLVED = Promise.resolve();

/** Never pushed to: stands for an empty lane's arrays. */
const NONE: never[] = [];

/** One lane of queued frames: texts with their queue stamps (and, for asks, their ids). */
class Lane {
  // Shared empty arrays until the first frame: most connections sit idle, and a server holds many.
  texts: string[] = NONE;
  stamps: number[] = NONE;
  ids: number[] = NONE;
  head = 0;

  get length(): number {
    return this.texts.length - this.head;
  }

  /** Stamp of the first frame, or Infinity when the lane is empty. */
  get first(): number {
    return this.head < this.texts.length ? (this.stamps[this.head] as number) : Number.POSITIVE_INFINITY;
  }

  push(text: string, stamp: number, id: number): void {
    if (this.texts === NONE) {
      this.texts = [];
      this.stamps = [];
      this.ids = [];
    }
    this.texts.push(text);
    this.stamps.push(stamp);
    this.ids.push(id);
  }

  shift(): string {
    const text = this.texts[this.head] as string;
    this.texts[this.head] = '';
    this.head++;
    if (this.head === this.texts.length) this.clear();
    else if (this.head > 1024 && this.head * 2 > this.texts.length) {
      this.texts = this.texts.slice(this.head);
      this.stamps = this.stamps.slice(this.head);
      this.ids = this.ids.slice(this.head);
      this.head = 0;
    }
    return text;
  }

  /** Puts frames back in front, in order. */
  prepend(texts: string[], stamps: number[], ids: number[]): void {
    this.texts = texts.concat(this.texts.slice(this.head));
    this.stamps = stamps.concat(this.stamps.slice(this.head));
    this.ids = ids.concat(this.ids.slice(this.head));
    this.head = 0;
  }

  clear(): void {
    this.texts = NONE;
    this.stamps = NONE;
    this.ids = NONE;
    this.head = 0;
  }
}

export class FrameWriter {
  readonly #host: WriterHost;
  readonly #limits: WriterLimits;
  readonly #data = new Lane();
  readonly #other = new Lane();
  #stamp = 0;
  /** Stamp below every frame put back for replay so far. */
  #low = 0;
  #heldData = 0;
  #heldOther = 0;
  /** Bytes of tells and asks not written yet (waiting for credit, the socket or a transport). */
  #queuedData = 0;
  #needDrain = false;
  /** Set once the peer was asked for credit; cleared when credit arrives. */
  #askedCredit = false;
  /** Set once the host heard of the answer budget being passed; cleared by reset(). */
  #overBudget = false;
  #scheduled = false;
  #sinceFlush = 0;
  #drainTimer: ReturnType<typeof setTimeout> | null = null;
  // Credit: bytes of tell- and ask-bearing messages written, and the most the peer allows.
  #charged = 0;
  #granted = 0;
  #peerWindow = 0;
  // The message being built.
  #parts: string[] = [];
  #sizes: number[] = [];
  #bytes = 2;
  #cost = 0;
  #hasData = false;
  /** Bytes of tells and asks, and of other numbered frames, in the message being built. */
  #dataSize = 0;
  #otherSize = 0;
  #full = false;
  #flushTask: (() => void) | null = null;

  constructor(host: WriterHost, limits: WriterLimits) {
    this.#host = host;
    this.#limits = limits;
  }

  /** Bytes of tells and asks held: queued, or written and not yet acknowledged. */
  get heldData(): number {
    return this.#heldData;
  }

  /** Bytes of tells and asks not written yet: what a peer that stops reading piles up. */
  get queuedData(): number {
    return this.#queuedData;
  }

  /** Bytes of answers, cancels and errors held. */
  get heldOther(): number {
    return this.#heldOther;
  }

  /** True while the tells and asks held are at or above the high-water mark. */
  get needDrain(): boolean {
    return this.#needDrain;
  }

  /** Whether a tell or ask weighing `size` (see {@link frameWeight}) fits the send buffer. */
  canHold(size: number): boolean {
    return this.#heldData + size <= this.#limits.sendBuffer;
  }

  /** Queues a tell (`askId` 0) or an ask; the caller checked {@link canHold}. */
  data(text: string, askId: number): void {
    this.#data.push(text, ++this.#stamp, askId);
    const weight = frameWeight(text);
    this.#heldData += weight;
    this.#queuedData += weight;
    if (this.#heldData >= this.#limits.highWaterMark) this.#needDrain = true;
    this.#queued();
  }

  /** Queues an answer, cancel or error; past the answer budget the host hears of it instead. */
  other(text: string): void {
    const size = frameWeight(text);
    if (this.#heldOther + size > this.#limits.answerBuffer) {
      // Once: the host closes the channel, and that close answers the peer's other asks,
      // which land here again (each would re-enter the close, one stack frame per ask).
      if (!this.#overBudget) {
        this.#overBudget = true;
        this.#host.overBudget(this.#heldOther + size);
      }
      return;
    }
    this.#other.push(text, ++this.#stamp, 0);
    this.#heldOther += size;
    this.#queued();
  }

  #queued(): void {
    if (this.#host.link === null) return;
    if (++this.#sinceFlush >= FLUSH_AT) this.flush();
    else this.schedule();
  }

  /** Writes on a later microtask (once, however many frames are queued meanwhile). */
  schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    // A resolved promise's then() queues the same microtask as queueMicrotask, for a third of
    // the cost in Node (no async-hooks wrapper); flush() catches its own errors.
    RESOLVED.then((this.#flushTask ??= () => this.#scheduled && this.flush()));
  }

  /** Releases frames the peer acknowledged (or that were written and are not kept). */
  release(size: number): void {
    if (size < 0) {
      this.#heldOther += size;
      return;
    }
    this.#heldData -= size;
    if (this.#needDrain && this.#heldData < this.#limits.highWaterMark) {
      this.#needDrain = false;
      this.#host.drained();
    }
  }

  /** The peer's credit grew: it has consumed `consumed` bytes. False when that cannot be true. */
  credit(consumed: number): boolean {
    if (consumed > this.#charged || consumed + this.#peerWindow < this.#granted) return false;
    this.#granted = consumed + this.#peerWindow;
    this.#askedCredit = false;
    if (this.#data.length > 0) this.schedule();
    return true;
  }

  /**
   * Starts counting credit afresh at pairing or resumption: the peer's window, and the bytes
   * it says it has received and consumed (both 0 for a new session).
   */
  rebase(window: number, received: number, consumed: number): void {
    this.#peerWindow = window;
    this.#charged = received;
    this.#granted = consumed + window;
    this.#askedCredit = false;
  }

  /** Puts written, unacknowledged frames back in front of the queue (signed sizes: + tell/ask). */
  requeue(texts: string[], sizes: number[]): void {
    const data: [string[], number[], number[]] = [[], [], []];
    const other: [string[], number[], number[]] = [[], [], []];
    let stamp = this.#low - texts.length;
    this.#low = stamp;
    for (let i = 0; i < texts.length; i++) {
      const lane = (sizes[i] as number) > 0 ? data : other;
      if (lane === data) this.#queuedData += sizes[i] as number;
      lane[0].push(texts[i] as string);
      lane[1].push(stamp++);
      // Replayed asks are dropped too if they gave up meanwhile (their id is the frame's second field).
      lane[2].push(lane === data ? askIdOf(texts[i] as string) : 0);
    }
    if (data[0].length) this.#data.prepend(...data);
    if (other[0].length) this.#other.prepend(...other);
  }

  /** Drops every queued frame and the credit count (a session ended); returns the tells dropped. */
  reset(): number {
    // Asks are not counted: each one rejects on its own.
    let dropped = 0;
    for (let i = this.#data.head; i < this.#data.ids.length; i++) if (this.#data.ids[i] === 0) dropped++;
    this.#data.clear();
    this.#other.clear();
    this.#heldData = 0;
    this.#heldOther = 0;
    this.#queuedData = 0;
    this.#overBudget = false;
    this.#charged = 0;
    this.#granted = this.#peerWindow;
    this.#stopPolling();
    if (this.#needDrain) {
      this.#needDrain = false;
      this.#host.drained();
    }
    return dropped;
  }

  /** Writes what can go now: everything but tells and asks the peer has no credit for. */
  flush(): void {
    this.#scheduled = false;
    this.#sinceFlush = 0;
    const link = this.#host.link;
    if (link === null) return;
    try {
      this.#write(link);
    } catch (error) {
      this.#parts = [];
      this.#sizes = [];
      this.#clearMessage();
      this.#host.failed(error);
    }
  }

  #write(link: Transport): void {
    if ((link.bufferedAmount ?? 0) > this.#limits.highWaterMark) {
      this.#waitForDrain(link);
      return;
    }
    this.#full = false;
    const control: string[] = [];
    this.#host.control(control);
    for (const frame of control) this.#add(link, frame, 0);
    let blocked = false;
    const data = this.#data;
    const other = this.#other;
    while (!this.#full) {
      const d = blocked ? Number.POSITIVE_INFINITY : data.first;
      const o = other.first;
      if (o < d) {
        this.#add(link, other.shift(), -1);
        continue;
      }
      if (d === Number.POSITIVE_INFINITY) break;
      const id = data.ids[data.head] as number;
      const text = data.texts[data.head] as string;
      if (!this.#fits(text.length + 1)) {
        // Write what the message holds; if the frame still does not fit, it waits for credit.
        if (this.#parts.length > 0) this.#send(link);
        if (this.#full || !this.#fits(text.length + 1)) {
          blocked = true;
          continue;
        }
      }
      // Asked only now that the frame goes out: the host marks the ask written, and a written
      // ask that gives up sends the peer a cancel.
      this.#queuedData -= frameWeight(text);
      if (id !== 0 && !this.#host.keepAsk(id)) {
        data.shift();
        this.release(frameWeight(text));
        continue;
      }
      data.shift();
      this.#add(link, text, 1);
    }
    if (this.#parts.length > 0) this.#send(link);
    if (this.#full) this.#waitForDrain(link);
    else if (blocked && !this.#askedCredit) {
      this.#askedCredit = true;
      this.#host.creditWanted();
    }
  }

  /** Whether a tell or ask of `size` can join the message being built within the credit. */
  #fits(size: number): boolean {
    return this.#charged + this.#cost + size <= this.#granted;
  }

  /**
   * Adds a frame to the message being built; `sign` is 1 for a tell or ask, -1 for another
   * numbered frame, 0 for a control frame. A message that carries a tell or ask spends credit
   * for all of it, so an answer joins one only when the credit covers it too.
   */
  #add(link: Transport, text: string, sign: 1 | -1 | 0): void {
    const size = sign * frameWeight(text);
    const bytes = text.length * 3 + 1;
    if (this.#parts.length > 0) {
      const tooBig = this.#bytes + bytes > this.#host.peerMaxPayload;
      const noCredit = size <= 0 && this.#hasData && !this.#fits(text.length + 1);
      if (tooBig || noCredit) this.#send(link);
    }
    this.#parts.push(text);
    this.#sizes.push(size);
    this.#bytes += bytes;
    this.#cost += text.length + 1;
    if (size > 0) {
      this.#hasData = true;
      this.#dataSize += size;
    } else this.#otherSize -= size;
  }

  #send(link: Transport): void {
    const parts = this.#parts;
    const sizes = this.#sizes;
    const data = this.#dataSize;
    const other = this.#otherSize;
    const message = parts.length === 1 ? (parts[0] as string) : `[${parts.join(',')}]`;
    if (this.#hasData) this.#charged += this.#cost;
    // Fresh arrays for the next message (a write may re-enter the writer; and setting an
    // array's length to 0 costs more in V8 than a new small array).
    this.#parts = [];
    this.#sizes = [];
    this.#clearMessage();
    let failure: { error: unknown } | null = null;
    try {
      link.send(message);
    } catch (error) {
      failure = { error };
    }
    // Even when the send threw: a resumable channel keeps the frames and writes them again
    // after a resume (they are not acknowledged), and the others' bytes are released.
    const host = this.#host;
    if (host.keeps) {
      for (let i = 0; i < parts.length; i++) {
        const size = sizes[i] as number;
        if (size !== 0) host.written(parts[i] as string, size);
      }
    } else {
      if (other > 0) this.release(-other);
      if (data > 0) this.release(data);
    }
    if (failure) throw failure.error;
    if ((link.bufferedAmount ?? 0) > this.#limits.highWaterMark) this.#full = true;
  }

  #clearMessage(): void {
    this.#bytes = 2;
    this.#cost = 0;
    this.#dataSize = 0;
    this.#otherSize = 0;
    this.#hasData = false;
  }

  /** The socket holds more than the high-water mark: look again once it has drained. */
  #waitForDrain(link: Transport): void {
    if (this.#drainTimer !== null) return;
    const again = (): void => {
      this.#drainTimer = null;
      if (this.#host.link !== link) return;
      if ((link.bufferedAmount ?? 0) > this.#limits.highWaterMark) this.#waitForDrain(link);
      else this.flush();
    };
    this.#drainTimer = setTimeout(again, DRAIN_POLL);
    (this.#drainTimer as { unref?: () => void }).unref?.();
  }

  #stopPolling(): void {
    if (this.#drainTimer !== null) clearTimeout(this.#drainTimer);
    this.#drainTimer = null;
  }
}

/** The id of an ask frame's text (`[2,id,...`), or 0 for a tell. */
function askIdOf(text: string): number {
  if (text.charCodeAt(1) !== 50 /* 2 */ || text.charCodeAt(2) !== 44 /* , */) return 0;
  return Number.parseInt(text.slice(3, text.indexOf(',', 3)), 10);
}
