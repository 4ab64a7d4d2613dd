/**
 * A channel pairs two spaces over one transport. It owns the channel's life (pairing, open,
 * suspended and resumed, closed) and its public face; the work is done by collaborators, each
 * in its own file and each seeing the channel only through the narrow interface it declares:
 * the handshake, the frame writer (queues, budgets, credit, batching), resumption (acks and
 * replay), the receive window, the heartbeat, the reference table and inbound dispatch.
 */
import type { ActorRef, AskOptions, Router } from './actor-ref.js';
import { checkType, Ref } from './actor-ref.js';
import { ANONYMOUS, type Caller, frozenCaller } from './caller.js';
import { type DataLimits, dataLimits, encode, encodedMeta, type Limits } from './codec.js';
import { EventEmitter } from './emitter.js';
import type { EncodedTell } from './encoded.js';
import { ActorSpaceError, CloseCode, describeMessage, errorCodeForClose, mailboxFull } from './errors.js';
import type { Handshake, HandshakeLink, Pairing } from './handshake.js';
import { type CreditHost, ReceiveWindow } from './internal/credit.js';
import { FrameWriter, frameWeight, type WriterHost } from './internal/frame-writer.js';
import { Heartbeat, type HeartbeatHost, type HeartbeatOptions } from './internal/heartbeat.js';
import { newId } from './internal/id.js';
import {
  type AskObserver,
  asSpaceError,
  type Delivered,
  Inbound,
  type InboundHost,
} from './internal/inbound.js';
import { type AskOwner, askTimeout, PendingAsk } from './internal/pending-ask.js';
import { type RefHost, RefTable } from './internal/ref-table.js';
import { Resumption, type ResumptionHost } from './internal/resumption.js';
import { currentSender } from './internal/running.js';
import { sharedWheel } from './internal/timer-wheel.js';
import { exceedsBytes } from './internal/utf8.js';
import {
  decodedBatch,
  decodeMessage,
  type Frame,
  Kind,
  MAX_NAME,
  ProtocolViolation,
  type Via,
} from './protocol.js';
import type { Transport } from './transport.js';

export type { HeartbeatOptions } from './internal/heartbeat.js';

/** A reference to an actor on the other side of a channel. */
export type RemoteActor<A = any> = ActorRef<A> & {
  /** The channel the reference sends over. */
  readonly channel: Channel;
};

/** Flow control of a channel, in bytes (characters of encoded frames). */
export interface FlowOptions {
  /**
   * Bytes of tells and asks this side accepts beyond what its actors have taken from their
   * mailboxes: the peer's credit. At least `maxPayload` + 2 (one frame of the largest size).
   * @default 1048576
   */
  window?: number;
  /**
   * Bytes of tells and asks this side holds for the peer (waiting for credit or the socket,
   * or for the peer's acknowledgement); past it `tell` and `ask` fail with `MAILBOX_FULL`.
   * @default 16777216
   */
  sendBuffer?: number;
  /** `ready()` waits while more than this is held, and nothing is written while the socket holds more. @default 1048576 */
  highWaterMark?: number;
  /**
   * Bytes of answers, cancels and errors this side holds for a peer that does not read them;
   * past it the peer is closed with 4429.
   * @default 16777216
   */
  answerBuffer?: number;
}

/** Called on a channel's life events, without listeners: one object can watch many channels. */
export interface ChannelObserver {
  /** Pairing completed (at once for a channel without a handshake), like the `open` event. */
  opened?(channel: Channel): void;
  /** A resumable channel lost its transport and waits for a new one, like the `suspend` event. */
  suspended?(channel: Channel, code: number, reason: string): void;
  /**
   * A suspended channel paired again, like the `resume` event: `resumed` is true when the
   * session continues where it stopped, false when it starts afresh.
   */
  resumed?(channel: Channel, resumed: boolean): void;
  /** The channel closed for good, like the `close` event. */
  closed?(channel: Channel, code: number, reason: string): void;
}

/** Options of {@link ActorSpace.addChannel}. */
export interface ChannelOptions {
  /**
   * Pair over this channel: `clientHandshake({ route, actor, token })` says hello and waits for
   * the welcome; `serverHandshake(hello, acceptance)` answers a hello the server accepted.
   * Messages sent before pairing completes are queued, never dropped.
   * @default none: the channel is open at once
   */
  handshake?: Handshake;
  /** Identity attached to every message arriving over this channel (the handshake may set it instead). */
  caller?: Caller;
  /**
   * Believe the peer when it says a message it relays comes from one of its own peers (a
   * `client` or `service`): the message then arrives with that caller instead of the
   * channel's. A client's channel to its server does; a server never believes its clients.
   * @default false
   */
  trustRelayed?: boolean;
  /** Largest incoming frame in bytes; larger ones close the channel with 4413. @default the space's `maxPayload` */
  maxPayload?: number;
  /** Milliseconds to wait for the hello or welcome before closing with 4408. @default 10000 */
  handshakeTimeout?: number;
  /** Ping the peer and close with 4408 when it stops answering. @default off */
  heartbeat?: HeartbeatOptions | false;
  /** Send handler stacks with remote errors (development servers only). @default false */
  exposeStack?: boolean;
  /**
   * Told when each ask of the peer is answered: its message type, the milliseconds from its
   * arrival to its answer, and `ok` or the error code it failed with (`ABORTED` when the peer
   * gave up). For metrics; when absent, asks are not timed at all.
   */
  observeAsk?: (type: string, ms: number, outcome: string) => void;
  /**
   * Survive the loss of the transport: keep pending asks and every frame until the peer
   * acknowledges it so that, once a new transport is attached with {@link Channel.resume},
   * everything the peer missed is delivered exactly once, in order. A server channel resumes
   * only clients that ask for it in their hello.
   * @default false
   */
  resumable?: boolean;
  /** Flow control budgets. */
  flow?: FlowOptions;
  /** Bounds on incoming data. @default the space's `limits` */
  limits?: DataLimits;
  /** Told of the channel's life events. */
  observer?: ChannelObserver;
}

/** Events of a {@link Channel}. */
export interface ChannelEvents {
  /** Pairing completed (at once for a channel without a handshake). */
  open: [];
  /** The channel closed; every pending ask was rejected with `CHANNEL_CLOSED`. */
  close: [code: number, reason: string];
  /** A resumable channel lost its transport; it waits for a new one, keeping every pending ask. */
  suspend: [code: number, reason: string];
  /** A suspended channel continues where it stopped (`resumed`), or paired again in a fresh session. */
  resume: [resumed: boolean];
  /** The tells and asks held fell below the high-water mark again (see `ready()`). */
  drain: [];
  /** Something failed that no ask was waiting for (a tell to a missing actor, a bad frame...). */
  error: [error: ActorSpaceError];
}

/** Where a channel is in its life. */
export type ChannelState = 'connecting' | 'open' | 'closed';

/** The phases behind {@link ChannelState}: `connecting` is pairing, suspended or resuming. */
type Phase = 'pairing' | 'open' | 'suspended' | 'resuming' | 'closed';

/** Where a message from the peer came from, as its mailbox sees it. */
export interface MessageOrigin {
  /** The message left the mailbox: its credit comes back. */
  taken(cost: number): void;
  answer(id: number, value: unknown): void;
  fail(id: number, error: unknown): void;
}

/** What a channel needs from its space (implemented by the space; kept narrow). */
export interface ChannelHost {
  /** The space's router: references routed by it are local actors. */
  readonly router: Router;
  readonly maxPayload: number;
  readonly askTimeout: number;
  readonly limits: Limits;
  localRef(guid: string): ActorRef;
  /** Hands a message from the peer to local actor `target`; null when there is none. */
  deliver(
    target: string,
    type: string,
    data: unknown,
    sender: ActorRef | undefined,
    caller: Caller | undefined,
    channel: Channel,
    origin: MessageOrigin,
    id: number,
    cost: number,
  ): Delivered | null;
  /** Pairing completed: the local root actor meets the peer's. */
  paired(local: string | null, remote: RemoteActor): void;
  log(level: 'debug' | 'warn' | 'error', message: string, details?: unknown): void;
  reportError(error: ActorSpaceError, channel: Channel): void;
  channelClosed(channel: Channel): void;
}

/** Everything the collaborators see of a channel: each one's interface, answered by one object. */
type ChannelPort = Router &
  AskOwner &
  WriterHost &
  HeartbeatHost &
  InboundHost &
  HandshakeLink &
  RefHost &
  ResumptionHost &
  CreditHost;

const MIB = 1024 * 1024;
const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
// Closes after which the session does not continue: the peer refused or broke it.
const FINAL: ReadonlySet<number> = new Set([
  CloseCode.NORMAL,
  CloseCode.BAD_FRAME,
  CloseCode.UNAUTHENTICATED,
  CloseCode.FORBIDDEN,
  CloseCode.UNKNOWN_ROUTE,
  CloseCode.PAYLOAD_TOO_LARGE,
]);
// Closes that end the session: a client pairs again in a fresh one, and nothing of the old
// session waits (its pending asks reject at once).
const SESSION_OVER: ReadonlySet<number> = new Set([CloseCode.GOING_AWAY, CloseCode.RATE_LIMITED]);
const RESOLVED = Promise.resolve();

/** A reference to an actor across a channel. */
class RemoteRef<A = any> extends Ref<A> implements RemoteActor<A> {
  readonly channel: Channel;
  constructor(router: Router, channel: Channel, guid: string) {
    super(router, guid);
    this.channel = channel;
  }
}

/**
 * Two spaces paired over one transport. Made by {@link ActorSpace.addChannel}.
 */
export class Channel extends EventEmitter<ChannelEvents> {
  #id: string | null = null;
  #phase: Phase;
  #transport: Transport | null = null;
  #handshake: Handshake | null;
  /** True on the side that says hello: it re-attaches transports (a server only accepts them). */
  readonly #client: boolean;
  #handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #host: ChannelHost;
  readonly #options: ChannelOptions;
  readonly #maxPayload: number;
  readonly #window: number;
  readonly #limits: Limits;
  #peerMax: number;
  #peerWindow: number;
  #caller: Caller | undefined;
  #session: string | null = null;
  #local: string | null = null;
  #remote: RemoteActor | null = null;
  #closeInfo: { code: number; reason: string } | null = null;
  #nextId = 0;
  /** Asks sent over this channel that wait for an answer, by id (made on first use). */
  #pending: Map<number, PendingAsk> | null = null;
  readonly #port: ChannelPort;
  readonly #writer: FrameWriter;
  readonly #credit: ReceiveWindow;
  readonly #refs: RefTable;
  readonly #heartbeat: Heartbeat | null;
  #resumption: Resumption | null = null;
  #inbound: Inbound;
  #waiters: Array<[() => void, (error: unknown) => void]> | null = null;
  // Control frames due (written with the next message).
  #ping = false;
  #pong = false;
  #ackNow = false;
  #creditNow = false;

  /** @internal Use {@link ActorSpace.addChannel}. */
  constructor(host: ChannelHost, transport: Transport, options: ChannelOptions = {}) {
    super();
    this.#host = host;
    this.#options = options;
    this.#maxPayload = positive('maxPayload', options.maxPayload, host.maxPayload);
    const flow = options.flow ?? {};
    this.#window = Math.max(positive('flow.window', flow.window, MIB), this.#maxPayload + 2);
    this.#limits = options.limits ? dataLimits(options.limits) : host.limits;
    this.#caller = options.caller && frozenCaller(options.caller);
    this.#handshake = options.handshake ?? null;
    this.#client = this.#handshake?.awaits === 'welcome';
    // Without a handshake the peer's limits are taken to be this side's own.
    this.#peerMax = this.#maxPayload;
    this.#peerWindow = this.#window;
    this.#port = new Channel.#Port(this);
    const sendBuffer = positive('flow.sendBuffer', flow.sendBuffer, 16 * MIB);
    const highWaterMark = positive('flow.highWaterMark', flow.highWaterMark, Math.min(MIB, sendBuffer));
    if (highWaterMark > sendBuffer) {
      throw new RangeError('ChannelOptions.flow.highWaterMark cannot be above flow.sendBuffer');
    }
    this.#writer = new FrameWriter(this.#port, {
      sendBuffer,
      answerBuffer: positive('flow.answerBuffer', flow.answerBuffer, 16 * MIB),
      highWaterMark,
    });
    this.#credit = new ReceiveWindow(this.#port, this.#window);
    this.#refs = new RefTable(this.#port, this.#port);
    this.#inbound = this.#newInbound();
    const hb = options.heartbeat;
    this.#heartbeat = hb && hb.interval > 0 ? new Heartbeat(this.#port, hb) : null;
    this.#attach(transport);
    const handshake = this.#handshake;
    if (handshake) {
      this.#phase = 'pairing';
      this.#armTimer();
      // A turn later, so that whoever added the channel listens to its events first.
      queueMicrotask(() => {
        if (this.#phase === 'pairing' && this.#transport === transport) handshake.begin(this.#port);
      });
    } else {
      this.#phase = 'open';
      this.#writer.rebase(this.#peerWindow, 0, 0);
      queueMicrotask(() => this.#opened());
    }
  }

  /** Random id of this channel, for logs (made when first read). */
  get id(): string {
    this.#id ??= newId(10);
    return this.#id;
  }

  /** Where the channel is in its life. */
  get state(): ChannelState {
    const phase = this.#phase;
    return phase === 'open' || phase === 'closed' ? phase : 'connecting';
  }

  /** True while a resumable channel waits for a new transport (or for the welcome on one). */
  get suspended(): boolean {
    return this.#phase === 'suspended' || this.#phase === 'resuming';
  }

  /**
   * True when losing the transport only suspends this channel: it keeps its session for a
   * resume (a client that reconnects, a server session whose client can resume).
   */
  get resumable(): boolean {
    return this.#canSuspend && this.#session !== null;
  }

  /** The peer's root actor once pairing completed, or null. */
  get remote(): RemoteActor | null {
    return this.#remote;
  }

  /** The session id of the pairing, or null. */
  get session(): string | null {
    return this.#session;
  }

  /** Who the peer is, as set by the channel options or the handshake. */
  get caller(): Caller | undefined {
    return this.#caller;
  }

  /** Code and reason the channel closed with, or null while it is not closed. */
  get closeInfo(): {
    /** The close code (1000 for a normal close; docs/protocol.md lists the others). */
    code: number;
    /** The close reason, for people. */
    reason: string;
  } | null {
    return this.#closeInfo;
  }

  /** Asks sent over this channel that wait for an answer. */
  get pendingCount(): number {
    return this.#pending?.size ?? 0;
  }

  /**
   * Bytes of tells and asks this channel holds for the peer: waiting for credit, for the
   * socket, or (resumable channels) for the peer's acknowledgement. Like `ws.bufferedAmount`.
   */
  get bufferedAmount(): number {
    return this.#writer.heldData;
  }

  /**
   * Resolves when the tells and asks held for the peer are below the high-water mark (at once
   * when they already are): await it between bursts, as with `stream.write()` and 'drain'.
   * @throws ActorSpaceError `CHANNEL_CLOSED` when the channel closes first.
   * @example
   * for (const row of rows) {
   *   ref.tell('row', row);
   *   await channel.ready(); // at once while below the high-water mark
   * }
   */
  ready(): Promise<void> {
    if (this.#phase === 'closed') return Promise.reject(this.#closedError('wait for ready()'));
    if (!this.#writer.needDrain) return RESOLVED;
    return new Promise((resolve, reject) => (this.#waiters ??= []).push([resolve, reject]));
  }

  /**
   * Sends a tell encoded once for many channels (a topic's event, a broadcast) to the actor
   * `target` of the peer. Returns false, sending nothing, when more than `limit` bytes of tells
   * and asks wait to be written (the peer stopped taking them: no credit left, its socket full,
   * or the channel suspended), or the send buffer is full: the caller decides what a slow peer
   * gets instead (a topic skips it, and replays or sends a gap notice when it catches up).
   * @param limit Bytes that may wait to be written before the message is refused. @default the send buffer
   * @throws ActorSpaceError `CHANNEL_CLOSED` when the channel is closed; `PAYLOAD_TOO_LARGE` when
   *   the frame is larger than the peer accepts.
   */
  tellEncoded(target: string, message: EncodedTell, limit = Number.POSITIVE_INFINITY): boolean {
    // Described only when it fails: this runs once per subscriber per event.
    if (this.#phase === 'closed')
      throw this.#closedError(`send ${describeMessage('tell', message.type, target)}`);
    const text = message.frame(target);
    if (exceedsBytes(text, this.#peerMax) || text.length >= this.#peerWindow) {
      throw new ActorSpaceError(
        'PAYLOAD_TOO_LARGE',
        `${describeMessage('tell', message.type, target)} is larger than the peer's maxPayload of ${this.#peerMax} bytes`,
      );
    }
    const weight = frameWeight(text);
    if (this.#writer.queuedData + weight > limit || !this.#writer.canHold(weight)) return false;
    this.#writer.data(text, 0);
    return true;
  }

  /**
   * A reference to the actor `guid` in the peer's space.
   * @throws TypeError when `guid` is not a string of 1-256 characters.
   */
  makeRemote<A = any>(guid: string): RemoteActor<A> {
    if (typeof guid !== 'string' || guid.length === 0 || guid.length > MAX_NAME) {
      throw new TypeError('makeRemote needs the remote actor guid (1-256 characters)');
    }
    return new RemoteRef<A>(this.#port, this, guid);
  }

  /**
   * Attaches a new transport to a suspended channel and pairs over it again: the client with
   * a fresh `clientHandshake` (a new token, say), the server with `serverHandshake(hello)` for
   * the hello that asked to resume. Pending asks and queued frames carry over.
   * @throws TypeError when the channel is not suspended or has no handshake.
   */
  resume(transport: Transport, handshake: Handshake | null = this.#handshake): void {
    if (this.#phase !== 'suspended' || !handshake) {
      throw new TypeError(
        `resume() needs a suspended channel with a handshake (channel ${this.id} is ${this.#phase})`,
      );
    }
    this.#handshake = handshake;
    this.#phase = 'resuming';
    this.#attach(transport);
    this.#armTimer();
    handshake.begin(this.#port);
  }

  /**
   * Closes the channel: asks of the peer still being handled are rejected with
   * `CHANNEL_CLOSED`, what can be written goes out first, then every pending ask of this
   * side rejects with `CHANNEL_CLOSED`.
   */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.#phase === 'closed' || this.#closing) return;
    this.#closing = true;
    if (this.#phase === 'open') {
      this.#inbound.rejectAll(this.#closedError('finish handling it', code, reason));
      this.#writer.flush();
    }
    if ((this.#phase as Phase) === 'closed') return;
    const transport = this.#transport;
    this.#teardown(code, reason);
    transport?.close(code, reason);
  }

  // ---- sending -------------------------------------------------------------------------

  #tell(target: string, type: string, data: unknown, via?: Caller): void {
    checkType(type);
    const text = this.#frame(Kind.TELL, 0, target, type, data, 'tell', via);
    this.#writer.data(text, 0);
  }

  #ask<R>(
    target: string,
    type: string,
    data: unknown,
    opts: AskOptions | undefined,
    via?: Caller,
  ): Promise<R> {
    const id = this.#nextId + 1;
    let text: string;
    let timeout: number;
    try {
      checkType(type);
      timeout = askTimeout(opts, this.#host.askTimeout, describeMessage('ask', type, target));
      text = this.#frame(Kind.ASK, id, target, type, data, 'ask', via);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#nextId = id;
    return new Promise<R>((resolve, reject) => {
      const ask = new PendingAsk(
        id,
        type,
        target,
        timeout,
        opts?.signal,
        sharedWheel,
        this.#port,
        resolve,
        reject,
      );
      (this.#pending ??= new Map()).set(id, ask);
      this.#writer.data(text, id);
    });
  }

  /**
   * Encodes a tell or ask and checks that it may be sent now. `via` is the caller of a message
   * this side relays for one of its peers: the frame says whose it is (never `system`).
   */
  #frame(
    kind: 1 | 2,
    id: number,
    target: string,
    type: string,
    data: unknown,
    what: 'tell' | 'ask',
    via?: Caller,
  ): string {
    if (this.#phase === 'closed') throw this.#closedError(`send ${describeMessage(what, type, target)}`);
    const running = currentSender();
    const sender = running instanceof Ref && running.router === this.#host.router ? running.guid : undefined;
    let json: unknown;
    try {
      json = encode(data, this.#refs);
    } catch (error) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        `data of ${describeMessage(what, type, target)} cannot be encoded: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const meta = encodedMeta;
    const frame: unknown[] = kind === Kind.TELL ? [kind, target, type, json] : [kind, id, target, type, json];
    const relayed = via && via.type !== 'system' ? [via.id, via.type] : undefined;
    if (meta !== undefined || sender !== undefined || relayed) frame.push(meta ?? null);
    if (sender !== undefined || relayed) frame.push(sender ?? null);
    if (relayed) frame.push(relayed);
    const text = JSON.stringify(frame);
    if (exceedsBytes(text, this.#peerMax) || text.length >= this.#peerWindow) {
      throw new ActorSpaceError(
        'PAYLOAD_TOO_LARGE',
        `${describeMessage(what, type, target)} is larger than the peer's maxPayload of ${this.#peerMax} bytes`,
      );
    }
    if (!this.#writer.canHold(frameWeight(text))) {
      throw mailboxFull(
        describeMessage(what, type, target),
        `channel ${this.id} already holds ${this.#writer.heldData} bytes for the peer; await channel.ready() between bursts or raise flow.sendBuffer`,
        { target, type, buffered: this.#writer.heldData },
      );
    }
    return text;
  }

  // ---- receiving ---------------------------------------------------------------------------

  #attach(transport: Transport): void {
    this.#transport = transport;
    // Events of a transport this channel has since replaced are ignored.
    transport.onMessage((message) => {
      if (this.#transport === transport) this.#receive(message);
    });
    transport.onClose((code, reason) => {
      if (this.#transport === transport) this.#lost(code, reason);
    });
  }

  #receive(message: string | Uint8Array): void {
    if (this.#phase === 'closed') return;
    let frames: Frame[];
    try {
      frames = decodeMessage(message, this.#maxPayload);
    } catch (error) {
      const v = error as ProtocolViolation;
      this.#violation(v.message, v.closeCode);
      return;
    }
    try {
      if (this.#phase === 'open') {
        this.#inbound.receive(message as string, frames, decodedBatch);
        return;
      }
      if (frames.length !== 1 || !this.#handshake)
        throw new ProtocolViolation('expected one handshake frame');
      this.#handshake.receive(frames[0] as Frame, this.#port);
    } catch (error) {
      if (error instanceof ProtocolViolation) this.#violation(error.message, error.closeCode);
      else this.#fail(error);
    }
  }

  #control(frame: Frame): void {
    switch (frame[0]) {
      case Kind.PING:
        this.#pong = true;
        // A sender waiting for credit pings: what this side owes goes out with the PONG.
        this.#credit.wanted();
        this.#writer.schedule();
        return;
      case Kind.PONG:
        this.#heartbeat?.pong();
        return;
      case Kind.ACK:
        if (this.#resumption && !this.#resumption.ack(frame[1])) {
          this.#violation(`ack ${frame[1]} of a frame never sent`);
        }
        return;
      case Kind.CREDIT:
        if (!this.#writer.credit(frame[1])) this.#violation(`credit ${frame[1]} cannot be right`);
        return;
      default:
        this.#violation(`unexpected handshake frame on an open channel`);
    }
  }

  /** Appends the control frames due now. */
  #controlFrames(out: string[]): void {
    if (this.#pong) out.push(`[${Kind.PONG}]`);
    if (this.#ping) out.push(`[${Kind.PING}]`);
    this.#pong = this.#ping = false;
    this.#resumption?.control(out, this.#ackNow);
    this.#credit.control(out, this.#creditNow);
    this.#ackNow = this.#creditNow = false;
  }

  // ---- pairing and resumption --------------------------------------------------------------

  #paired(p: Pairing): void {
    this.#clearTimer();
    // A server's handshake (and the hello it holds) is done; a client says hello again on resume.
    if (!this.#client) this.#handshake = null;
    if (p.maxPayload) this.#peerMax = p.maxPayload;
    if (p.window) this.#peerWindow = p.window;
    if (p.caller) this.#caller = frozenCaller(p.caller);
    if (p.local) {
      this.#local = p.local;
      this.#refs.giveRoot(p.local);
    }
    const resumption = this.#resumption;
    if (p.resumed && resumption && this.#session !== null) {
      const replay = resumption.rewind(p.ack ?? 0);
      if (!replay) {
        this.#violation(`resume ack ${p.ack} is ahead of the ${resumption.seq} frames sent`);
        return;
      }
      this.#writer.requeue(replay.texts, replay.sizes);
      this.#writer.rebase(this.#peerWindow, p.received ?? 0, p.consumed ?? 0);
      resumption.acknowledged();
      this.#phase = 'open';
      this.#heartbeat?.start();
      this.emit('resume', true);
      this.#options.observer?.resumed?.(this, true);
      this.#writer.flush();
      return;
    }
    const again = this.#everOpened;
    if (this.#session !== null) {
      this.#endSession(
        new ActorSpaceError(
          'CHANNEL_CLOSED',
          `session ${this.#session} could not be resumed; fresh session ${p.session} started`,
        ),
      );
    }
    this.#session = p.session;
    this.#resumption =
      p.resumable && this.#options.resumable ? (resumption ?? new Resumption(this.#port)) : null;
    this.#writer.rebase(this.#peerWindow, 0, 0);
    this.#remote = p.remote === null ? null : this.makeRemote(p.remote);
    this.#phase = 'open';
    if (again) {
      this.#heartbeat?.start();
      this.emit('resume', false);
      this.#options.observer?.resumed?.(this, false);
    } else this.#opened();
    if (this.#remote && (this.#phase as Phase) === 'open') this.#host.paired(this.#local, this.#remote);
    this.#writer.flush();
  }

  /** Set by close(): what it does on the way (rejecting the peer's asks) must not close again. */
  #closing = false;

  /** Routes the messages of references the peer sent back home, as the peer's (see Port.localRef). */
  #peerRouter: Router | null = null;

  /** The caller a trusted peer says a relayed message comes from (frozen, no claims). */
  #relayedCaller(via: Via): Caller {
    return frozenCaller({ id: via[0], type: via[1] });
  }

  /** Set once the channel first opened: a later pairing is a resume, or a fresh session. */
  #everOpened = false;

  #opened(): void {
    if (this.#phase !== 'open') return;
    this.#everOpened = true;
    this.#heartbeat?.start();
    this.emit('open');
    this.#options.observer?.opened?.(this);
  }

  /** The session is over: nothing of it waits any more. */
  #endSession(error: ActorSpaceError): void {
    this.#inbound.retire(error);
    this.#inbound = this.#newInbound();
    const pending = this.#pending ? [...this.#pending.values()] : [];
    this.#pending = null;
    for (const ask of pending) ask.reject(error);
    const dropped = this.#writer.reset();
    this.#resumption?.reset();
    this.#credit.reset();
    this.#refs.clear();
    this.#session = null;
    if (dropped > 0) {
      this.#report(
        new ActorSpaceError('CHANNEL_CLOSED', `${dropped} tells were never delivered: ${error.message}`, {
          details: { dropped },
        }),
      );
    }
  }

  #newInbound(): Inbound {
    return new Inbound(this.#port, this.#refs, this.#credit, this.#writer);
  }

  #armTimer(): void {
    const ms = this.#options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    if (!(ms > 0 && Number.isFinite(ms))) return;
    this.#clearTimer();
    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = null;
      const reason = `no ${this.#handshake?.awaits ?? 'handshake'} within ${ms} ms`;
      // A resume attempt that stalls loses only its transport; a first pairing closes.
      if (this.#phase === 'resuming') this.#transport?.close(CloseCode.TIMEOUT, reason);
      else if (this.#phase === 'pairing') this.close(CloseCode.TIMEOUT, reason);
    }, ms);
    (this.#handshakeTimer as { unref?: () => void }).unref?.();
  }

  #clearTimer(): void {
    if (this.#handshakeTimer !== null) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
  }

  // ---- failure and teardown ----------------------------------------------------------------

  /** Whether losing the transport suspends the channel rather than closing it. */
  get #canSuspend(): boolean {
    // A client pairs again (resuming, or fresh after its session ended); a server keeps a
    // session only for a client that can resume it.
    return this.#handshake?.awaits === 'welcome'
      ? this.#options.resumable === true
      : this.#resumption !== null;
  }

  #lost(code: number, reason: string): void {
    if (this.#phase === 'closed') return;
    this.#transport = null;
    this.#clearTimer();
    this.#heartbeat?.stop();
    if (this.#phase === 'pairing' || FINAL.has(code) || !this.#canSuspend) {
      this.#teardown(code, reason);
      return;
    }
    if (SESSION_OVER.has(code) && this.#session !== null) {
      if (!this.#client) {
        this.#teardown(code, reason);
        return;
      }
      this.#endSession(this.#closedError('answer', code, reason));
    }
    this.#phase = 'suspended';
    this.#host.log('debug', `channel ${this.id} suspended (${code} ${reason})`);
    this.emit('suspend', code, reason);
    this.#options.observer?.suspended?.(this, code, reason);
  }

  #violation(message: string, code: number = CloseCode.BAD_FRAME): void {
    this.#host.log('warn', `channel ${this.id} closed (${code}): ${message}`);
    this.#report(new ActorSpaceError(errorCodeForClose(code), message, { details: { closeCode: code } }));
    this.close(code, message);
  }

  /** A failure inside this side (a bug, or a transport that throws): the channel closes with 1011. */
  #fail(error: unknown): void {
    const reason = `internal error: ${error instanceof Error ? error.message : String(error)}`;
    this.#host.log('error', `channel ${this.id}: ${reason}`, error);
    this.#report(asSpaceError(error));
    this.close(CloseCode.INTERNAL_ERROR, reason);
  }

  #report(error: ActorSpaceError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.#host.reportError(error, this);
  }

  #closedError(
    what: string,
    code = this.#closeInfo?.code,
    reason = this.#closeInfo?.reason,
  ): ActorSpaceError {
    return new ActorSpaceError(
      'CHANNEL_CLOSED',
      `channel ${this.id} closed (${code}${reason ? `: ${reason}` : ''}); cannot ${what}`,
      { details: { code, reason } },
    );
  }

  #teardown(code: number, reason: string): void {
    if (this.#phase === 'closed') return;
    this.#phase = 'closed';
    this.#closeInfo = { code, reason };
    this.#transport = null;
    this.#clearTimer();
    this.#heartbeat?.stop();
    // Before the session ends: dropping its frames would otherwise look like a drain.
    const waiters = this.#waiters;
    this.#waiters = null;
    if (waiters) for (const [, reject] of waiters) reject(this.#closedError('wait for ready()'));
    this.#endSession(this.#closedError('answer', code, reason));
    this.#credit.stop();
    this.#resumption?.stop();
    this.#host.channelClosed(this);
    this.emit('close', code, reason);
    this.#options.observer?.closed?.(this, code, reason);
  }

  #drained(): void {
    if (this.#phase === 'closed') return;
    const waiters = this.#waiters;
    this.#waiters = null;
    if (waiters) for (const [resolve] of waiters) resolve();
    this.emit('drain');
  }

  /**
   * The channel as its collaborators see it: each declares the interface it needs, and this
   * one object (made once per channel, with shared methods) answers all of them.
   */
  static readonly #Port = class Port implements ChannelPort {
    readonly #c: Channel;
    constructor(channel: Channel) {
      this.#c = channel;
    }
    // Router: references to the peer's actors send through here.
    // A caller given here is a peer's whose message this side relays (a forwarder).
    tellTo(guid: string, type: string, data: unknown, caller?: Caller): void {
      this.#c.#tell(guid, type, data, caller);
    }
    askTo<R>(
      guid: string,
      type: string,
      data: unknown,
      opts: AskOptions | undefined,
      caller?: Caller,
    ): Promise<R> {
      return this.#c.#ask<R>(guid, type, data, opts, caller);
    }
    // AskOwner: an ask gave up; the peer hears of it only if its frame went out.
    giveUp(ask: PendingAsk): void {
      const c = this.#c;
      c.#pending?.delete(ask.id);
      if (ask.written && c.#phase !== 'closed') c.#writer.other(`[${Kind.CANCEL},${ask.id}]`);
    }
    // RefHost
    get router(): Router {
      return this.#c.#host.router;
    }
    // A reference to a local actor that came back from the peer: whoever uses it acts as the
    // peer (its caller), never as this side's own code, so a peer cannot aim this side's code
    // at this side's actors with `system` rights (a confused deputy).
    localRef(guid: string): ActorRef {
      const c = this.#c;
      const local = c.#host.router;
      c.#peerRouter ??= {
        tellTo: (g, type, data) => local.tellTo(g, type, data, c.#caller ?? ANONYMOUS),
        askTo: (g, type, data, opts) => local.askTo(g, type, data, opts, c.#caller ?? ANONYMOUS),
      };
      return new Ref(c.#peerRouter, guid);
    }
    makeRemote(guid: string): ActorRef {
      return this.#c.makeRemote(guid);
    }
    // WriterHost
    get link(): Transport | null {
      return this.#c.#phase === 'open' ? this.#c.#transport : null;
    }
    get peerMaxPayload(): number {
      return this.#c.#peerMax;
    }
    keepAsk(id: number): boolean {
      const ask = this.#c.#pending?.get(id);
      if (ask) ask.written = true;
      return ask !== undefined;
    }
    control(out: string[]): void {
      this.#c.#controlFrames(out);
    }
    controlFrame(frame: Frame): void {
      this.#c.#control(frame);
    }
    get keeps(): boolean {
      return this.#c.#resumption !== null;
    }
    written(text: string, size: number): void {
      this.#c.#resumption?.keep(text, size);
    }
    drained(): void {
      this.#c.#drained();
    }
    overBudget(bytes: number): void {
      this.#c.#violation(
        `the peer has not read or acknowledged ${bytes} bytes of answers (flow.answerBuffer)`,
        CloseCode.RATE_LIMITED,
      );
    }
    failed(error: unknown): void {
      const c = this.#c;
      const transport = c.#transport;
      const reason = `transport failed to send: ${String(error)}`;
      c.#host.log('warn', `channel ${c.id}: ${reason}`, error);
      try {
        transport?.close(CloseCode.INTERNAL_ERROR, reason);
      } catch {}
      // A resumable channel keeps every unacknowledged frame and writes it again after a resume.
      if (transport && c.#transport === transport) c.#lost(CloseCode.INTERNAL_ERROR, reason);
    }
    // Resumption and credit hosts: a control frame is due.
    release(size: number): void {
      this.#c.#writer.release(size);
    }
    ackDue(): void {
      this.#c.#ackNow = true;
      this.#c.#writer.schedule();
    }
    creditDue(): void {
      this.#c.#creditNow = true;
      this.#c.#writer.schedule();
    }
    // WriterHost: a tell or ask waits for credit the peer has not announced: ask with a PING.
    creditWanted(): void {
      this.#c.#ping = true;
      this.#c.#writer.schedule();
    }
    // HeartbeatHost
    ping(): void {
      this.#c.#ping = true;
      this.#c.#writer.flush();
    }
    tick(): void {
      const c = this.#c;
      const hb = c.#options.heartbeat;
      if (hb && c.#resumption?.stalled(hb.timeout)) {
        c.#violation(`the peer acknowledged nothing for ${hb.timeout} ms`, CloseCode.RATE_LIMITED);
      }
    }
    dead(timeout: number): void {
      const c = this.#c;
      const reason = `no heartbeat answer for ${timeout} ms`;
      c.#host.log('debug', `channel ${c.id}: ${reason}`);
      // A resumable session only loses its transport: the peer may come back and resume.
      if (c.#canSuspend) c.#transport?.close(CloseCode.TIMEOUT, reason);
      else c.close(CloseCode.TIMEOUT, reason);
    }
    // InboundHost
    get caller(): Caller | undefined {
      return this.#c.#caller;
    }
    get limits(): Limits {
      return this.#c.#limits;
    }
    get askObserver(): AskObserver | undefined {
      return this.#c.#options.observeAsk;
    }
    get exposeStack(): boolean {
      return this.#c.#options.exposeStack === true;
    }
    deliver(
      target: string,
      type: string,
      data: unknown,
      sender: ActorRef | undefined,
      origin: Inbound,
      id: number,
      cost: number,
      via: Via | undefined,
    ): Delivered | null {
      const c = this.#c;
      const caller = via && c.#options.trustRelayed ? c.#relayedCaller(via) : c.#caller;
      return c.#host.deliver(target, type, data, sender, caller, c, origin, id, cost);
    }
    takeAsk(id: number): PendingAsk | undefined {
      const pending = this.#c.#pending;
      const ask = pending?.get(id);
      if (ask) pending?.delete(id);
      return ask;
    }
    counted(size: number): void {
      this.#c.#resumption?.count(size);
    }
    report(error: ActorSpaceError): void {
      this.#c.#report(error);
    }
    violation(message: string, code?: number): void {
      this.#c.#violation(message, code);
    }
    log(message: string, details?: unknown): void {
      this.#c.#host.log('debug', message, details);
    }
    // HandshakeLink
    send(frame: string): void {
      this.#c.#transport?.send(frame);
    }
    get session(): string | null {
      return this.#c.#session;
    }
    get resumable(): boolean {
      return this.#c.#options.resumable === true;
    }
    get maxPayload(): number {
      return this.#c.#maxPayload;
    }
    get window(): number {
      return this.#c.#window;
    }
    position(): { ack: number; received: number; consumed: number } {
      const c = this.#c;
      const ack = c.#resumption?.received ?? 0;
      return { ack, ...c.#credit.position() };
    }
    paired(pairing: Pairing): void {
      this.#c.#paired(pairing);
    }
  };
}

/** A positive number option, or its default. @throws RangeError */
function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0)) {
    throw new RangeError(`ChannelOptions.${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
