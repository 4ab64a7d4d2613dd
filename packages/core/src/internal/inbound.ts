/**
 * Inbound dispatch of one session: decodes each message from the peer, spends and returns
 * flow-control credit for its tells and asks, hands them to local actors (or forwarders),
 * settles the asks this side made, and answers the peer's asks. One per session: answers and
 * credit of an ended session go nowhere, even if its handlers finish later.
 */
import type { ActorRef } from '../actor-ref.js';
import { ANONYMOUS, type Caller } from '../caller.js';
import { decode, encode, encodedMeta, inspectData, type Limits } from '../codec.js';
import {
  ActorSpaceError,
  CloseCode,
  describeMessage,
  fromWireError,
  toWireError,
  type WireError,
} from '../errors.js';
import { type Frame, Kind, messageCost, type Via } from '../protocol.js';
import type { ReceiveWindow } from './credit.js';
import type { FrameWriter } from './frame-writer.js';
import type { PendingAsk } from './pending-ask.js';
import type { RefTable } from './ref-table.js';
import { exceedsBytes } from './utf8.js';

/** A message handed to a local actor, which can be taken back (cancelled) while it waits. */
export interface Delivered {
  cancel(reason: ActorSpaceError): void;
}

/** What inbound dispatch needs from its channel. */
/** Told when the peer's ask of `type` was answered after `ms`: `ok`, or the error's code. */
export type AskObserver = (type: string, ms: number, outcome: string) => void;

export interface InboundHost {
  readonly caller: Caller | undefined;
  readonly limits: Limits;
  readonly exposeStack: boolean;
  /** Told how long each of the peer's asks took to answer, and how it ended (metrics). */
  readonly askObserver: AskObserver | undefined;
  /** Largest frame the peer accepts. */
  readonly peerMaxPayload: number;
  /** Hands a message to local actor `target`; null when there is none. */
  deliver(
    target: string,
    type: string,
    data: unknown,
    sender: ActorRef | undefined,
    origin: Inbound,
    id: number,
    cost: number,
    via: Via | undefined,
  ): Delivered | null;
  makeRemote(guid: string): ActorRef;
  /** A control frame arrived (ping, pong, ack, credit, or a late handshake frame). */
  controlFrame(frame: Frame): void;
  /** The ask this side made with `id`, no longer pending (undefined when it gave up). */
  takeAsk(id: number): PendingAsk | undefined;
  /** A numbered frame of about `size` characters arrived (resumable sessions count them). */
  counted(size: number): void;
  report(error: ActorSpaceError): void;
  violation(message: string, code?: number): void;
  log(message: string, details?: unknown): void;
}

/**
 * A message naming one of these keys, or holding a `\u` escape (which could spell one), has
 * its data searched before decoding, whatever its length.
 */
const UNSAFE_KEY = /"(?:__proto__|constructor)"/;

export class Inbound {
  readonly #host: InboundHost;
  readonly #refs: RefTable;
  readonly #credit: ReceiveWindow;
  readonly #writer: FrameWriter;
  /** The peer's asks being handled, by id. */
  #asks: Map<number, Delivered | null> | null = null;
  /** When an observer times asks: each one's type and start (`performance.now()`). */
  #started: Map<number, { type: string; at: number }> | null = null;
  #retired = false;
  /** Below this length data can neither nest past the depth limit nor hold a too-long array. */
  readonly #quick: number;

  constructor(host: InboundHost, refs: RefTable, credit: ReceiveWindow, writer: FrameWriter) {
    this.#host = host;
    this.#refs = refs;
    this.#credit = credit;
    this.#writer = writer;
    this.#quick = 2 * Math.min(host.limits.depth, host.limits.arrayLength);
  }

  /** The peer's asks still being handled. */
  get handling(): number {
    return this.#asks?.size ?? 0;
  }

  /** Handles the frames of one message from an open channel (`batch`: it was a JSON array of frames). */
  receive(message: string, frames: Frame[], batch: boolean): void {
    const n = frames.length;
    let data = 0;
    for (let i = 0; i < n; i++) {
      const kind = (frames[i] as Frame)[0];
      if (kind === Kind.TELL || kind === Kind.ASK) data++;
    }
    // A message carrying tells or asks spends credit for all of it; its frames share the
    // cost, and each share comes back when its frame leaves the mailbox (answers at once).
    let share = 0;
    let first = 0;
    if (data > 0) {
      const cost = messageCost(message.length, batch);
      if (!this.#credit.accept(cost)) {
        this.#host.violation('the peer sent more than its flow-control window', CloseCode.RATE_LIMITED);
        return;
      }
      share = Math.floor(cost / n);
      first = cost - share * n;
    }
    const scan = message.length > this.#quick || UNSAFE_KEY.test(message) || message.includes('\\u');
    // What each frame weighs for acknowledgements (the sender's replay buffer is in bytes).
    const size = Math.ceil(message.length / n);
    let freed = 0;
    for (let i = 0; i < n; i++) {
      if (this.#retired) return;
      const frame = frames[i] as Frame;
      const cost = share + (i === 0 ? first : 0);
      switch (frame[0]) {
        case Kind.TELL:
          this.#host.counted(size);
          this.#tell(frame[1], frame[2], frame[3], frame[4], frame[5], frame[6], cost, scan);
          break;
        case Kind.ASK:
          this.#host.counted(size);
          this.#ask(frame[1], frame[2], frame[3], frame[4], frame[5], frame[6], frame[7], cost, scan);
          break;
        case Kind.RESOLVE:
        case Kind.REJECT:
          this.#host.counted(size);
          this.#answered(frame, scan);
          freed += cost;
          break;
        case Kind.CANCEL:
          this.#host.counted(size);
          this.#cancelled(frame[1]);
          freed += cost;
          break;
        case Kind.ERROR: {
          this.#host.counted(size);
          const wire = frame[1] as { details?: { target?: unknown; type?: unknown } };
          const d = wire.details ?? {};
          const what = describeMessage('tell', String(d.type).slice(0, 256), String(d.target).slice(0, 256));
          this.#host.report(fromWireError(wire, what));
          freed += cost;
          break;
        }
        default:
          this.#host.controlFrame(frame);
          freed += cost;
      }
    }
    if (freed > 0) this.#credit.consume(freed);
  }

  /** Decodes a frame's data; throws ActorSpaceError `INVALID_MESSAGE`. */
  #decode(json: unknown, meta: unknown, scan: boolean, what: string): unknown {
    if (scan) {
      const problem = inspectData(json, this.#host.limits);
      if (problem) throw new ActorSpaceError('INVALID_MESSAGE', `${what}: ${problem}`);
    }
    try {
      return decode(json, meta ?? undefined, this.#refs, this.#host.limits);
    } catch (error) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        `${what}: data cannot be decoded: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  #sender(guid: unknown): ActorRef | undefined {
    return typeof guid === 'string' ? this.#host.makeRemote(guid) : undefined;
  }

  #tell(
    target: string,
    type: string,
    json: unknown,
    meta: unknown,
    sender: unknown,
    via: Via | undefined,
    cost: number,
    scan: boolean,
  ): void {
    let data: unknown;
    try {
      data = this.#decode(json, meta, scan, describeMessage('tell', type, target));
    } catch (error) {
      this.#credit.consume(cost);
      this.#error(error as ActorSpaceError, target, type);
      return;
    }
    if (this.#host.deliver(target, type, data, this.#sender(sender), this, 0, cost, via)) return;
    this.#credit.consume(cost);
    const forward = this.#refs.forwarder(target);
    if (!forward) {
      this.#error(noSuchActor('tell', target, type), target, type);
      return;
    }
    try {
      // Relayed as the peer's message: a space delivers it with the peer's caller, never `system`.
      forward.router.tellTo(forward.guid, type, data, this.#host.caller ?? ANONYMOUS);
    } catch (error) {
      this.#error(asSpaceError(error), target, type);
    }
  }

  #ask(
    id: number,
    target: string,
    type: string,
    json: unknown,
    meta: unknown,
    sender: unknown,
    via: Via | undefined,
    cost: number,
    scan: boolean,
  ): void {
    const asks = (this.#asks ??= new Map());
    if (asks.has(id)) {
      this.#host.violation(`ask id ${id} is already in use`);
      return;
    }
    let data: unknown;
    try {
      data = this.#decode(json, meta, scan, describeMessage('ask', type, target));
    } catch (error) {
      this.#credit.consume(cost);
      this.#reject(id, error);
      return;
    }
    // Registered before delivery: a handler may answer synchronously.
    asks.set(id, null);
    if (this.#host.askObserver) (this.#started ??= new Map()).set(id, { type, at: performance.now() });
    const delivered = this.#host.deliver(target, type, data, this.#sender(sender), this, id, cost, via);
    if (delivered) {
      if (asks.has(id)) asks.set(id, delivered);
      return;
    }
    this.#credit.consume(cost);
    const forward = this.#refs.forwarder(target);
    if (!forward) {
      asks.delete(id);
      this.#started?.delete(id);
      this.#reject(id, noSuchActor('ask', target, type));
      return;
    }
    const relay = new AbortController();
    asks.set(id, { cancel: (reason: ActorSpaceError) => relay.abort(reason) });
    forward.router
      .askTo(forward.guid, type, data, { timeout: 0, signal: relay.signal }, this.#host.caller ?? ANONYMOUS)
      .then(
        (value) => this.answer(id, value),
        (error) => this.fail(id, error),
      );
  }

  #answered(frame: Frame, scan: boolean): void {
    const id = frame[1] as number;
    const ask = this.#host.takeAsk(id);
    // An answer to an ask that already gave up: nothing waits for it.
    if (!ask) return;
    if (frame[0] === Kind.REJECT) {
      ask.reject(fromWireError(frame[2], ask.what));
      return;
    }
    let value: unknown;
    try {
      value = this.#decode(frame[2], frame[3], scan, `the answer to ${ask.what}`);
    } catch (error) {
      ask.reject(error);
      return;
    }
    ask.resolve(value);
  }

  #cancelled(id: number): void {
    const asks = this.#asks;
    if (!asks?.has(id)) return;
    const delivered = asks.get(id);
    asks.delete(id);
    this.#observe(id, 'ABORTED');
    delivered?.cancel(new ActorSpaceError('ABORTED', 'the asker gave up (timeout or abort)'));
  }

  // ---- what local actors call back (the mailbox's view of where a message came from) --------

  /** A message of this session left its mailbox: its credit comes back. */
  taken(cost: number): void {
    if (!this.#retired) this.#credit.consume(cost);
  }

  /** Sends the answer of the peer's ask `id`, unless the peer gave up or the session ended. */
  answer(id: number, value: unknown): void {
    if (this.#retired || !this.#asks?.delete(id)) return;
    if (this.#started) this.#observe(id, 'ok');
    let text: string;
    try {
      const json = encode(value, this.#refs);
      const meta = encodedMeta;
      text = JSON.stringify(meta === undefined ? [Kind.RESOLVE, id, json] : [Kind.RESOLVE, id, json, meta]);
    } catch (error) {
      this.#reject(
        id,
        new ActorSpaceError('INVALID_MESSAGE', `the answer cannot be encoded: ${(error as Error).message}`, {
          cause: error,
        }),
      );
      return;
    }
    const max = this.#host.peerMaxPayload;
    if (exceedsBytes(text, max)) {
      this.#reject(
        id,
        new ActorSpaceError(
          'PAYLOAD_TOO_LARGE',
          `the answer is larger than the peer's maxPayload of ${max} bytes`,
        ),
      );
      return;
    }
    this.#writer.other(text);
  }

  /** Sends the failure of the peer's ask `id`, unless the peer gave up or the session ended. */
  fail(id: number, error: unknown): void {
    if (this.#retired || !this.#asks?.delete(id)) return;
    if (this.#started) this.#observe(id, error instanceof ActorSpaceError ? error.code : 'REMOTE_ERROR');
    if (!(error instanceof ActorSpaceError)) this.#host.log(`handler failed: ${String(error)}`, error);
    this.#reject(id, error);
  }

  /** Rejects every ask of the peer still being handled with `error` (the channel is closing). */
  rejectAll(error: ActorSpaceError): void {
    const asks = this.#asks;
    if (!asks) return;
    for (const [id, delivered] of [...asks]) {
      this.fail(id, error);
      // Their handlers stop too: nobody will read what they answer.
      delivered?.cancel(error);
    }
  }

  /** The session ended: abort every handler still working for the peer; nothing more is sent. */
  retire(reason: ActorSpaceError): void {
    this.#retired = true;
    const asks = this.#asks;
    this.#asks = null;
    this.#started = null;
    if (asks) for (const delivered of asks.values()) delivered?.cancel(reason);
  }

  #observe(id: number, outcome: string): void {
    const started = this.#started?.get(id);
    if (!started) return;
    this.#started?.delete(id);
    try {
      this.#host.askObserver?.(started.type, performance.now() - started.at, outcome);
    } catch {
      // An observer's failure is its own.
    }
  }

  #reject(id: number, error: unknown): void {
    const wire: WireError = toWireError(error, this.#host.exposeStack);
    const text = JSON.stringify([Kind.REJECT, id, wire]);
    this.#writer.other(this.#fits(text) ? text : JSON.stringify([Kind.REJECT, id, this.#tooLarge(wire)]));
  }

  #error(error: ActorSpaceError, target: string, type: string): void {
    this.#host.log(error.message);
    const wire = toWireError(error, false);
    wire.details = { target, type };
    const text = JSON.stringify([Kind.ERROR, wire]);
    this.#writer.other(
      this.#fits(text)
        ? text
        : JSON.stringify([Kind.ERROR, { ...this.#tooLarge(wire), details: { target, type } }]),
    );
  }

  /** Whether the peer accepts a frame this large. */
  #fits(text: string): boolean {
    return !exceedsBytes(text, this.#host.peerMaxPayload);
  }

  /**
   * What the peer hears instead of an error larger than it accepts (a handler's message, stack
   * or details can be any size): it would close the channel for the frame, as for an answer.
   */
  #tooLarge(wire: WireError): WireError {
    return {
      code: 'PAYLOAD_TOO_LARGE',
      name: 'ActorSpaceError',
      message: `the ${wire.code} error is larger than the peer's maxPayload of ${this.#host.peerMaxPayload} bytes`,
    };
  }
}

function noSuchActor(kind: 'tell' | 'ask', target: string, type: string): ActorSpaceError {
  return new ActorSpaceError(
    'NO_SUCH_ACTOR',
    `${describeMessage(kind, type, target)}: no such actor here; is it registered?`,
    { details: { target, type } },
  );
}

/** Anything thrown, as an ActorSpaceError (REMOTE_ERROR unless it is one). */
export function asSpaceError(error: unknown): ActorSpaceError {
  if (error instanceof ActorSpaceError) return error;
  return new ActorSpaceError('REMOTE_ERROR', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}
