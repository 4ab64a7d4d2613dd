/**
 * A channel pairs two spaces over one transport: it encodes and batches outgoing frames,
 * decodes and dispatches incoming ones, keeps the asks waiting for answers, runs the
 * optional pairing handshake and heartbeats, and releases everything when it closes.
 */

import type { AskOptions, Caller } from './actor.js';
import { type ActorRef, Ref, type RemoteActor, RemoteRef, type Router } from './actor-ref.js';
import {
  decodeData,
  encode,
  encodedMeta,
  findUnsafeKey,
  type RefExporter,
  type RefImporter,
  type WireRef,
} from './codec.js';
import { EventEmitter } from './emitter.js';
import {
  ActorSpaceError,
  CloseCode,
  type ErrorCode,
  fromWireError,
  mailboxFull,
  toWireError,
  type WireError,
} from './errors.js';
import { newId } from './internal/id.js';
import { Outbox } from './internal/outbox.js';
import { askTimeout, PendingAsk } from './internal/pending-ask.js';
import type { SpaceInternals } from './internal/space-internals.js';
import { every } from './internal/ticker.js';
import { sharedWheel } from './internal/timer-wheel.js';
import { exceedsBytes } from './internal/utf8.js';
import { Context, currentSender, type Envelope, type Settler } from './mailbox.js';
import {
  type AskFrame,
  decodeMessage,
  type Frame,
  type HelloFields,
  Kind,
  PROTOCOL_VERSION,
  type ProtocolViolation,
  type TellFrame,
  type WelcomeFields,
} from './protocol.js';
import type { Transport } from './transport.js';

/** What the server side of a handshake decides for a hello. */
export interface AcceptResult {
  /** The local root actor paired with the client's root actor (ignored when `resume` is set). */
  actor?: ActorRef;
  /**
   * A suspended resumable channel whose session the hello asked to resume: it takes over
   * this transport, answers the welcome and writes again what the client missed.
   */
  resume?: Channel;
  /** Session id sent back in the welcome. */
  session?: string;
  /** Identity attached to every message arriving over this channel. */
  caller?: Caller;
}

/** Heartbeat settings: ping every `interval` ms, close when nothing arrived for `timeout` ms. */
export interface HeartbeatOptions {
  /** @default 25000 */
  interval: number;
  /** @default 30000 */
  timeout: number;
}

/** Options of {@link ActorSpace.addChannel}. */
export interface ChannelOptions {
  /**
   * Pair as the client: send a hello naming the local root actor and wait for the welcome.
   * Messages sent before the welcome are queued, never dropped.
   */
  hello?: { actor?: ActorRef | string; route?: string; token?: string; resume?: string };
  /**
   * Pair as the server: decide on the client's hello. Throw an `ActorSpaceError` to refuse
   * (`UNAUTHORIZED` closes 4401, `FORBIDDEN` 4403, `NO_SUCH_ACTOR` 4404, or set
   * `details.closeCode`). Nothing is sent before the welcome.
   */
  accept?: (hello: HelloFields, channel: Channel) => AcceptResult | Promise<AcceptResult>;
  /** Identity attached to every message arriving over this channel (accept may set it instead). */
  caller?: Caller;
  /**
   * Largest incoming frame in bytes; larger ones close the channel with 4413.
   * @default the space's `maxPayload` (1 MiB)
   */
  maxPayload?: number;
  /**
   * Milliseconds to wait for the hello (server) or the welcome (client) before closing with 4408.
   * @default 10000
   */
  handshakeTimeout?: number;
  /** Ping the peer and close with 4408 when it goes silent. @default off */
  heartbeat?: HeartbeatOptions | false;
  /** Send handler stacks with remote errors (development servers only). @default false */
  exposeStack?: boolean;
  /**
   * Survive the loss of the transport: keep pending asks and number every frame so that,
   * once a new transport is attached (`reconnect` on the client, `resume` from `accept` on
   * the server), everything the peer missed is delivered exactly once, in order.
   * `bufferLimit` bounds the frames kept until the peer acknowledges them; past it new
   * tells and asks fail with `MAILBOX_FULL`.
   * @default off; bufferLimit 10000
   */
  resumable?: boolean | { bufferLimit?: number };
}

/** Events of a {@link Channel}. */
export interface ChannelEvents {
  /** Pairing completed (at once for a channel without a handshake). */
  open: [];
  /** The channel closed; every pending ask was rejected with `CHANNEL_CLOSED`. */
  close: [code: number, reason: string];
  /** A resumable channel lost its transport; it waits for a new one, keeping every pending ask. */
  suspend: [code: number, reason: string];
  /** A suspended channel got a new transport and continues where it stopped (`resumed`), or starts a fresh session. */
  resume: [resumed: boolean];
  /** Something failed that no ask was waiting for (a tell to a missing actor, a bad frame...). */
  error: [error: ActorSpaceError];
}

/** Where a channel is in its life. */
export type ChannelState = 'connecting' | 'open' | 'closed';

const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
// Closes after which a resumable channel does not wait for the peer to come back.
const FINAL_CLOSE_CODES: ReadonlySet<number> = new Set([
  CloseCode.NORMAL,
  CloseCode.BAD_FRAME,
  CloseCode.UNAUTHENTICATED,
  CloseCode.FORBIDDEN,
  CloseCode.UNKNOWN_ROUTE,
  CloseCode.PAYLOAD_TOO_LARGE,
]);
const RESOLVED = Promise.resolve();
/** WebSocket close code for a failure inside this side (RFC 6455). */
const INTERNAL_ERROR = 1011;
/** A message naming one of these keys has its data searched for them before decoding. */
const UNSAFE_KEY = /"(?:__proto__|constructor)"/;
/** Stands in for a transport handed over to another channel. */
const DETACHED: Transport = { send() {}, close() {}, onMessage() {}, onClose() {} };
const DEFAULT_REPLAY_LIMIT = 10_000;
// Acknowledge after this many data frames, or this long after the first unacknowledged one.
const ACK_EVERY = 128;
const ACK_DELAY = 200;
const ACK_PIGGYBACK = 32;
// Frames of one turn written together at most; more are written in chunks of this many.
const FLUSH_AT = 32;

/** An incoming ask in an actor's mailbox; it settles itself by answering over the channel. */
class AskEnvelope implements Envelope, Settler {
  readonly type: string;
  readonly data: unknown;
  readonly ctx: Context;
  readonly settle: Settler = this;
  readonly #channel: Channel;
  readonly #id: number;
  constructor(type: string, data: unknown, ctx: Context, channel: Channel, id: number) {
    this.type = type;
    this.data = data;
    this.ctx = ctx;
    this.#channel = channel;
    this.#id = id;
  }
  resolve(value: unknown): void {
    this.#channel._answer(this.#id, value);
  }
  reject(error: unknown): void {
    this.#channel._answerError(this.#id, error);
  }
}

/**
 * Two spaces paired over one transport. Made by {@link ActorSpace.addChannel}.
 */
export class Channel extends EventEmitter<ChannelEvents> implements Router, RefExporter, RefImporter {
  #id: string | null = null;

  /** Random id of this channel, for logs (made when first read). */
  get id(): string {
    this.#id ??= newId(10);
    return this.#id;
  }
  readonly #space: SpaceInternals;
  #transport: Transport;
  readonly #options: ChannelOptions;
  readonly #maxPayload: number;
  #state: ChannelState = 'connecting';
  #accepting = false;
  #peerMax = Number.POSITIVE_INFINITY;
  #nextId = 0;
  // Asks waiting for answers, and asks from the peer being handled; made on first use.
  #pending: Map<number, PendingAsk> | null = null;
  #inbound: Map<number, Context> | null = null;
  // Forwarders for references to third parties; made on first use (most channels never need one).
  #exports: Map<string, ActorRef> | null = null;
  #exportIds: Map<ActorRef, string> | null = null;
  readonly #outbox: Outbox;
  #resumable: boolean;
  #flushQueued = false;
  /** Data frames received so far on this session (the peer's sequence numbers). */
  #received = 0;
  #ackSent = 0;
  #ackTimer: ReturnType<typeof setTimeout> | null = null;
  #early: Frame[] | null = null;
  #handshakeTimer: ReturnType<typeof setTimeout> | null = null;
  #stopHeartbeat: (() => void) | null = null;
  #lastSeen = Date.now();
  #caller: Caller | undefined;
  #remote: RemoteActor | null = null;
  #localRoot: string | null = null;
  #session: string | null = null;
  #closeInfo: { code: number; reason: string } | null = null;
  #suspended = false;

  /** @internal Use {@link ActorSpace.addChannel}. */
  constructor(space: SpaceInternals, transport: Transport, options: ChannelOptions = {}) {
    super();
    this.#space = space;
    this.#transport = transport;
    this.#options = options;
    this.#maxPayload = options.maxPayload ?? space.maxPayload;
    this.#caller = options.caller;
    const r = options.resumable;
    this.#resumable = r === true || (typeof r === 'object' && r !== null);
    const limit =
      typeof r === 'object' && r?.bufferLimit !== undefined ? r.bufferLimit : DEFAULT_REPLAY_LIMIT;
    this.#outbox = new Outbox(this.#resumable, limit);
    this.#attach(transport);

    if (options.hello) {
      const actor = options.hello.actor;
      this.#localRoot = actor === undefined ? null : typeof actor === 'string' ? actor : actor.guid;
      this.#sendHello(options.hello.token);
    } else if (options.accept) {
      this.#armHandshakeTimer('hello');
    } else {
      this.#state = 'open';
      queueMicrotask(() => this.#opened());
    }
  }

  #attach(transport: Transport): void {
    this.#transport = transport;
    // Events of a transport this channel has since replaced are ignored.
    transport.onMessage((frame) => {
      if (this.#transport === transport) this.#onMessage(frame);
    });
    transport.onClose((code, reason) => {
      if (this.#transport === transport) this.#lostTransport(code, reason);
    });
  }

  #sendHello(token: string | undefined): void {
    const { route, resume } = this.#options.hello ?? {};
    const hello: HelloFields = { v: PROTOCOL_VERSION };
    if (route !== undefined) hello.route = route;
    if (this.#localRoot !== null) hello.actor = this.#localRoot;
    if (token !== undefined) hello.token = token;
    if (this.#resumable) hello.resumable = true;
    const session = this.#session ?? resume;
    if (session !== undefined && session !== null) {
      hello.resume = session;
      hello.ack = this.#received;
    }
    if (Number.isFinite(this.#maxPayload)) hello.maxPayload = this.#maxPayload;
    this.#transport.send(JSON.stringify([Kind.HELLO, hello]));
    this.#armHandshakeTimer('welcome');
  }

  /**
   * Client side of resumption: attach a new transport to this suspended channel and ask the
   * server to resume the session. Pending asks and queued frames carry over.
   * @throws ActorSpaceError `PROTOCOL` when the channel is not a suspended client channel.
   */
  reconnect(transport: Transport, token?: string): void {
    if (!this.#options.hello || this.#state !== 'connecting' || !this.#suspended) {
      throw new ActorSpaceError('PROTOCOL', 'reconnect() needs a suspended client channel');
    }
    this.#attach(transport);
    this.#sendHello(token ?? this.#options.hello.token);
  }

  /** Where the channel is in its life. */
  get state(): ChannelState {
    return this.#state;
  }

  /** The peer's root actor once pairing completed, or null. */
  get remote(): RemoteActor | null {
    return this.#remote;
  }

  /** The session id of the pairing (from the welcome), or null. */
  get session(): string | null {
    return this.#session;
  }

  /** Who the peer is, as set by the channel options or the handshake. */
  get caller(): Caller | undefined {
    return this.#caller;
  }

  /** Code and reason the channel closed with, or null while it is not closed. */
  get closeInfo(): { code: number; reason: string } | null {
    return this.#closeInfo;
  }

  /** Asks sent over this channel that wait for an answer. */
  get pendingCount(): number {
    return this.#pending?.size ?? 0;
  }

  /**
   * A reference to the actor `guid` in the peer's space.
   * @throws ActorSpaceError `INVALID_MESSAGE` when `guid` is not a non-empty string.
   */
  makeRemote<A = any>(guid: string): RemoteActor<A> {
    if (typeof guid !== 'string' || guid.length === 0 || guid.length > 256) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        'makeRemote needs the remote actor guid (1-256 characters)',
      );
    }
    return new RemoteRef<A>(this, guid);
  }

  /** Closes the channel: frames already sent go out first, then pending asks reject with `CHANNEL_CLOSED`. */
  close(code: number = CloseCode.NORMAL, reason = ''): void {
    if (this.#state === 'closed') return;
    if (this.#state === 'open') this.#flushSafely();
    if ((this.#state as ChannelState) === 'closed') return;
    const transport = this.#transport;
    this.#teardown(code, reason);
    transport.close(code, reason);
  }

  /** True while a resumable channel waits for a new transport. */
  get suspended(): boolean {
    return this.#suspended;
  }

  // ---- sending -------------------------------------------------------------------------

  /** @internal Router: a tell to a remote actor. */
  tellTo(guid: string, type: string, data: unknown): void {
    this.#checkSendable(type);
    const sender = this.#senderGuid();
    const json = this.#encodeOut(data, type, guid);
    const meta = encodedMeta;
    const frame: TellFrame = [Kind.TELL, guid, type, json];
    if (meta !== undefined || sender !== undefined) frame.push(meta ?? null);
    if (sender !== undefined) frame.push(sender);
    const text = JSON.stringify(frame);
    this.#checkSize(text, `tell "${type}" to actor ${guid}`);
    this.#send(text);
  }

  /** @internal Router: an ask to a remote actor. */
  askTo<R>(guid: string, type: string, data: unknown, opts: AskOptions | undefined): Promise<R> {
    let text: string;
    let timeout: number;
    const id = ++this.#nextId;
    try {
      this.#checkSendable(type);
      timeout = askTimeout(opts, this.#space.askTimeout, type, guid);
      const sender = this.#senderGuid();
      const json = this.#encodeOut(data, type, guid);
      const meta = encodedMeta;
      const frame: AskFrame = [Kind.ASK, id, guid, type, json];
      if (meta !== undefined || sender !== undefined) frame.push(meta ?? null);
      if (sender !== undefined) frame.push(sender);
      text = JSON.stringify(frame);
      this.#checkSize(text, `ask "${type}" to actor ${guid}`);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<R>((resolve, reject) => {
      const ask = new PendingAsk(id, type, guid, timeout, opts?.signal, sharedWheel, this, resolve, reject);
      (this.#pending ??= new Map()).set(id, ask);
      this.#send(text);
    });
  }

  /** @internal PendingAsk callback: the ask timed out or was aborted; tell the peer. */
  giveUp(ask: PendingAsk): void {
    this.#pending?.delete(ask.id);
    if (this.#state === 'open') this.#send(JSON.stringify([Kind.CANCEL, ask.id]));
  }

  #checkSendable(type: string): void {
    if (this.#state === 'closed') {
      throw new ActorSpaceError('CHANNEL_CLOSED', `channel ${this.id} is closed; cannot send "${type}"`, {
        details: this.#closeInfo,
      });
    }
    if (typeof type !== 'string' || type.length === 0 || type.length > 256) {
      throw new ActorSpaceError('INVALID_MESSAGE', 'message type must be a string of 1-256 characters');
    }
    if (this.#outbox.full) {
      throw new ActorSpaceError(
        'MAILBOX_FULL',
        `channel ${this.id} holds ${this.#outbox.size} frames the peer has not acknowledged; "${type}" was refused`,
      );
    }
  }

  #senderGuid(): string | undefined {
    const sender = currentSender();
    return sender instanceof Ref && sender.router === this.#space.router ? sender.guid : undefined;
  }

  /** Encodes outgoing data; its meta is then in `encodedMeta`. */
  #encodeOut(data: unknown, type: string, guid: string): unknown {
    try {
      return encode(data, this);
    } catch (error) {
      throw new ActorSpaceError('INVALID_MESSAGE', `data of "${type}" to actor ${guid} cannot be encoded`, {
        cause: error,
      });
    }
  }

  #checkSize(text: string, what: string): void {
    if (exceedsBytes(text, this.#peerMax)) {
      throw new ActorSpaceError(
        'PAYLOAD_TOO_LARGE',
        `${what} is larger than the peer's maxPayload of ${this.#peerMax} bytes`,
      );
    }
  }

  #send(text: string): void {
    this.#outbox.push(text);
    if (this.#state !== 'open') return;
    // A long turn writes every FLUSH_AT frames rather than all at its end, so the peer starts
    // on the first ones while this side still produces the rest (both sides then work at once).
    if (this.#outbox.unwritten >= FLUSH_AT) {
      this.#flushSafely();
      return;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      // A resolved promise's then() queues the same microtask as queueMicrotask, for a third of
      // the cost in Node (no async-hooks wrapper); the flush catches its own errors.
      RESOLVED.then((this.#flushTask ??= () => this.#flushQueued && this.#runFlushTask()));
    }
  }

  // Made on first send (idle channels never need it).
  #flushTask: (() => void) | null = null;

  #runFlushTask(): void {
    this.#flushQueued = false;
    if (this.#state === 'open') this.#flushSafely();
  }

  /** Flushes outside any caller's stack: a transport that throws loses only itself. */
  #flushSafely(): void {
    try {
      this.#flush();
    } catch (error) {
      const reason = `transport failed to send: ${String(error)}`;
      this.#space.log('warn', `channel ${this.id}: ${reason}`, error);
      const transport = this.#transport;
      try {
        transport.close(INTERNAL_ERROR, reason);
      } catch {}
      // A resumable channel keeps every unacknowledged frame and sends it again after a resume.
      if (this.#transport === transport && this.#state === 'open')
        this.#lostTransport(INTERNAL_ERROR, reason);
    }
  }

  /** Control frames (ping, pong, ack) are not numbered and never replayed. */
  #sendControl(text: string): void {
    if (this.#state === 'open') this.#transport.send(text);
  }

  /** Writes the outbox: the frames of one turn share one transport message when they fit. */
  #flush(): void {
    if (this.#outbox.unwritten === 0) return;
    const out = this.#outbox.takeUnwritten();
    // An acknowledgement rides along with outgoing frames once a few are unacknowledged;
    // acking every reply would only add bytes (the ack timer covers quiet periods).
    if (this.#resumable && this.#received - this.#ackSent >= ACK_PIGGYBACK) out.push(this.#ackFrame());
    if (out.length === 1) {
      this.#transport.send(out[0] as string);
      return;
    }
    const max = this.#peerMax;
    let batch: string[] = [];
    let size = 2;
    for (const frame of out) {
      if (batch.length > 0 && size + frame.length * 3 + 1 > max) {
        this.#writeBatch(batch);
        batch = [];
        size = 2;
      }
      batch.push(frame);
      size += frame.length * 3 + 1;
    }
    this.#writeBatch(batch);
  }

  #writeBatch(batch: string[]): void {
    this.#transport.send(batch.length === 1 ? (batch[0] as string) : `[${batch.join(',')}]`);
  }

  // ---- references crossing the wire -------------------------------------------------------

  /** @internal Codec hook: how a reference in outgoing data travels. */
  exportRef(ref: unknown): WireRef {
    if (ref instanceof Ref) {
      if (ref.router === this.#space.router) return { g: ref.guid };
      if (ref.router === this) return { g: ref.guid, y: 1 };
    }
    // A reference to a third party: export a forwarder the peer can address.
    const key = ref as ActorRef;
    this.#exportIds ??= new Map();
    this.#exports ??= new Map();
    let id = this.#exportIds.get(key);
    if (id === undefined) {
      id = `fwd.${newId()}`;
      this.#exportIds.set(key, id);
      this.#exports.set(id, key);
    }
    return { g: id };
  }

  /** @internal Codec hook: a working reference for an incoming wire reference. */
  importRef(wire: WireRef): unknown {
    if (typeof wire !== 'object' || wire === null || typeof wire.g !== 'string' || wire.g.length === 0) {
      throw new TypeError('malformed actor reference');
    }
    return wire.y === 1 ? this.#space.localRef(wire.g) : this.makeRemote(wire.g);
  }

  // ---- receiving -------------------------------------------------------------------------

  #onMessage(message: string | Uint8Array): void {
    if (this.#state === 'closed') return;
    this.#lastSeen = Date.now();
    let frames: Frame[];
    try {
      frames = decodeMessage(message, this.#maxPayload);
    } catch (error) {
      const v = error as ProtocolViolation;
      this.#violation(v.message, v.closeCode ?? CloseCode.BAD_FRAME);
      return;
    }
    const unsafe = typeof message === 'string' && UNSAFE_KEY.test(message);
    const wasOpen = this.#state === 'open';
    for (const frame of frames) {
      // Stop when the channel closed, or lost its transport while handling this message (the
      // rest is delivered again after a resume, as it was never counted as received).
      if ((this.#state as ChannelState) === 'closed' || (wasOpen && this.#state !== 'open')) return;
      try {
        this.#onFrame(frame, unsafe);
      } catch (error) {
        this.#report(
          error instanceof ActorSpaceError
            ? error
            : new ActorSpaceError(
                'PROTOCOL',
                `channel ${this.id} failed to handle a frame: ${String(error)}`,
                {
                  cause: error,
                },
              ),
        );
      }
    }
  }

  #onFrame(frame: Frame, unsafe: boolean): void {
    if (this.#state !== 'open') {
      this.#onHandshakeFrame(frame);
      return;
    }
    const kind = frame[0];
    if (kind <= Kind.ERROR && this.#resumable) this.#countReceived();
    switch (kind) {
      case Kind.TELL:
        this.#onTell(frame, unsafe);
        return;
      case Kind.ASK:
        this.#onAsk(frame, unsafe);
        return;
      case Kind.RESOLVE: {
        const ask = this.#pending?.get(frame[1]);
        if (!ask) return; // Answer to an ask that already gave up: nothing waits for it.
        this.#pending?.delete(frame[1]);
        let value: unknown;
        try {
          value = this.#decodeIn(frame[2], frame[3], unsafe);
        } catch (error) {
          ask.reject(error);
          return;
        }
        ask.resolve(value);
        return;
      }
      case Kind.REJECT: {
        const ask = this.#pending?.get(frame[1]);
        if (!ask) return;
        this.#pending?.delete(frame[1]);
        ask.reject(fromWireError(frame[2], 'ask'));
        return;
      }
      case Kind.CANCEL: {
        const ctx = this.#inbound?.get(frame[1]);
        if (!ctx) return;
        this.#inbound?.delete(frame[1]);
        ctx.abort(new ActorSpaceError('ABORTED', 'the asker gave up (timeout or abort)'));
        return;
      }
      case Kind.ERROR:
        this.#report(fromWireError(frame[1], 'message'));
        return;
      case Kind.PING:
        this.#sendControl(`[${Kind.PONG}]`);
        return;
      case Kind.PONG:
        return;
      case Kind.ACK:
        if (!this.#outbox.ack(frame[1])) this.#violation(`ack ${frame[1]} of a frame never sent`);
        return;
      default:
        this.#violation(`unexpected ${frame[0] === Kind.HELLO ? 'hello' : 'welcome'} on an open channel`);
    }
  }

  #decodeIn(json: unknown, meta: unknown, unsafe: boolean): unknown {
    if (unsafe) {
      const key = findUnsafeKey(json) ?? findUnsafeKey(meta);
      if (key) throw new ActorSpaceError('INVALID_MESSAGE', `message data has a forbidden key at "${key}"`);
    }
    try {
      return decodeData(json, meta ?? undefined, this);
    } catch (error) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        `message data cannot be decoded: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
  }

  #onTell(frame: TellFrame, unsafe: boolean): void {
    const [, target, type, json, meta, senderGuid] = frame;
    let data: unknown;
    try {
      data = this.#decodeIn(json, meta, unsafe);
    } catch (error) {
      this.#sendError(error as ActorSpaceError, target, type);
      return;
    }
    const ctx = new Context(senderGuid ? this.makeRemote(senderGuid) : undefined, this.#caller, this);
    const entry = this.#space.entry(target);
    if (!entry) {
      const fwd = this.#exports?.get(target);
      if (!fwd) {
        this.#sendError(noSuchActor(target, type), target, type);
        return;
      }
      try {
        fwd.tell(type, data);
      } catch (error) {
        this.#sendError(asSpaceError(error), target, type);
      }
      return;
    }
    const envelope: Envelope = { type, data, ctx, settle: null };
    if (!entry.mailbox.push(envelope)) {
      this.#sendError(mailboxFull(target, type), target, type);
      return;
    }
    entry.mailbox.run();
  }

  #onAsk(frame: AskFrame, unsafe: boolean): void {
    const [, id, target, type, json, meta, senderGuid] = frame;
    const inbound = (this.#inbound ??= new Map());
    if (inbound.has(id)) {
      this.#violation(`ask id ${id} is already in use`);
      return;
    }
    let data: unknown;
    try {
      data = this.#decodeIn(json, meta, unsafe);
    } catch (error) {
      this.#sendReject(id, error);
      return;
    }
    const ctx = new Context(senderGuid ? this.makeRemote(senderGuid) : undefined, this.#caller, this);
    const entry = this.#space.entry(target);
    if (!entry) {
      const fwd = this.#exports?.get(target);
      if (!fwd) {
        this.#sendReject(id, noSuchActor(target, type));
        return;
      }
      inbound.set(id, ctx);
      fwd.ask(type, data, { timeout: 0, signal: ctx.signal }).then(
        (value) => this._answer(id, value),
        (error) => this._answerError(id, error),
      );
      return;
    }
    inbound.set(id, ctx);
    if (!entry.mailbox.push(new AskEnvelope(type, data, ctx, this, id))) {
      inbound.delete(id);
      this.#sendReject(id, mailboxFull(target, type));
      return;
    }
    entry.mailbox.run();
  }

  /** @internal Sends the answer of incoming ask `id`, unless the asker gave up. */
  _answer(id: number, value: unknown): void {
    if (!this.#inbound?.delete(id) || this.#state !== 'open') return;
    let text: string;
    try {
      const json = encode(value, this);
      const meta = encodedMeta;
      text = JSON.stringify(meta === undefined ? [Kind.RESOLVE, id, json] : [Kind.RESOLVE, id, json, meta]);
    } catch (error) {
      this.#sendReject(
        id,
        new ActorSpaceError('INVALID_MESSAGE', 'the answer cannot be encoded', { cause: error }),
      );
      return;
    }
    if (exceedsBytes(text, this.#peerMax)) {
      this.#sendReject(
        id,
        new ActorSpaceError(
          'PAYLOAD_TOO_LARGE',
          `the answer is larger than the peer's maxPayload of ${this.#peerMax} bytes`,
        ),
      );
      return;
    }
    this.#send(text);
  }

  /** @internal Sends the failure of incoming ask `id`, unless the asker gave up. */
  _answerError(id: number, error: unknown): void {
    if (!this.#inbound?.delete(id) || this.#state !== 'open') return;
    if (!(error instanceof ActorSpaceError))
      this.#space.log('debug', `handler failed: ${String(error)}`, error);
    this.#sendReject(id, error);
  }

  #sendReject(id: number, error: unknown): void {
    const wire: WireError = toWireError(error, this.#options.exposeStack === true);
    this.#send(JSON.stringify([Kind.REJECT, id, wire]));
  }

  #sendError(error: ActorSpaceError, target: string, type: string): void {
    this.#space.log('debug', error.message);
    const wire = toWireError(error, false) as WireError & { target?: string; type?: string };
    wire.details = { target, type };
    this.#send(JSON.stringify([Kind.ERROR, wire]));
  }

  // ---- handshake -------------------------------------------------------------------------

  #onHandshakeFrame(frame: Frame): void {
    if (this.#accepting) {
      (this.#early ??= []).push(frame);
      return;
    }
    if (this.#options.accept && frame[0] === Kind.HELLO) {
      this.#onHello(frame[1]);
      return;
    }
    if (this.#options.hello && frame[0] === Kind.WELCOME) {
      this.#onWelcome(frame[1]);
      return;
    }
    this.#violation(this.#options.accept ? 'the first frame must be a hello' : 'expected a welcome first');
  }

  #onHello(hello: HelloFields): void {
    if (hello.v !== PROTOCOL_VERSION) {
      this.#violation(
        `protocol version ${String(hello.v)} is not supported; this server speaks ${PROTOCOL_VERSION}`,
      );
      return;
    }
    const accept = this.#options.accept as NonNullable<ChannelOptions['accept']>;
    if (typeof hello.maxPayload === 'number' && hello.maxPayload > 0) this.#peerMax = hello.maxPayload;
    // A client that cannot resume never acknowledges: keeping its frames would only leak.
    // Nothing was sent yet, so the outbox can still change its mind.
    if (this.#resumable && hello.resumable !== true) {
      this.#resumable = false;
      this.#outbox.forget();
    }
    this.#accepting = true;
    new Promise<AcceptResult>((resolve) => resolve(accept(hello, this))).then(
      (result) => this.#accepted(hello, result),
      (error) => this.#refused(error),
    );
  }

  #accepted(hello: HelloFields, result: AcceptResult): void {
    this.#accepting = false;
    if (this.#state === 'closed') return;
    if (result?.resume) {
      this.#handOver(result.resume, hello);
      return;
    }
    const root = result?.actor;
    if (!(root instanceof Ref) || root.router !== this.#space.router) {
      this.close(1011, 'accept() must return a root actor registered in this space');
      return;
    }
    if (result.caller) this.#caller = result.caller;
    this.#localRoot = root.guid;
    this.#session = result.session ?? null;
    const welcome: WelcomeFields = { v: PROTOCOL_VERSION, actor: root.guid };
    if (result.session !== undefined) welcome.session = result.session;
    if (Number.isFinite(this.#maxPayload)) welcome.maxPayload = this.#maxPayload;
    this.#transport.send(JSON.stringify([Kind.WELCOME, welcome]));
    this.#becomeOpen(typeof hello.actor === 'string' ? hello.actor : null);
    const early = this.#early;
    this.#early = null;
    if (early) for (const frame of early) if (this.#state === 'open') this.#onFrame(frame, true);
  }

  /** Gives this channel's transport to the suspended channel whose session the hello resumes. */
  #handOver(target: Channel, hello: HelloFields): void {
    if (!(target instanceof Channel) || !target.suspended || target === this) {
      this.close(1011, 'accept() returned a channel that cannot be resumed');
      return;
    }
    const transport = this.#transport;
    const early = this.#early ?? [];
    this.#early = null;
    // This channel ends without closing the transport it handed over.
    this.#transport = DETACHED;
    this.#teardown(CloseCode.NORMAL, `handed over to session ${target.session}`);
    target._adopt(transport, hello, early);
  }

  /** @internal Server side of resumption: continue this suspended session over `transport`. */
  _adopt(transport: Transport, hello: HelloFields, early: Frame[]): void {
    this.#attach(transport);
    if (typeof hello.maxPayload === 'number' && hello.maxPayload > 0) this.#peerMax = hello.maxPayload;
    if (!this.#outbox.rewind(typeof hello.ack === 'number' ? hello.ack : 0)) {
      this.#violation(`resume ack ${hello.ack} is ahead of the ${this.#outbox.seq} frames sent`);
      return;
    }
    const welcome: WelcomeFields = { v: PROTOCOL_VERSION, resumed: true, ack: this.#received };
    if (this.#localRoot) welcome.actor = this.#localRoot;
    if (this.#session) welcome.session = this.#session;
    if (Number.isFinite(this.#maxPayload)) welcome.maxPayload = this.#maxPayload;
    this.#ackSent = this.#received;
    transport.send(JSON.stringify([Kind.WELCOME, welcome]));
    this.#resumed();
    for (const frame of early) if (this.#state === 'open') this.#onFrame(frame, true);
  }

  #resumed(): void {
    this.#clearHandshakeTimer();
    this.#suspended = false;
    this.#state = 'open';
    this.#startHeartbeat();
    this.emit('resume', true);
    this.#flushSafely();
  }

  #refused(error: unknown): void {
    this.#accepting = false;
    this.#early = null;
    if (this.#state === 'closed') return;
    const e = asSpaceError(error);
    const explicit = (e.details as { closeCode?: unknown } | undefined)?.closeCode;
    const code =
      typeof explicit === 'number'
        ? explicit
        : error instanceof ActorSpaceError
          ? closeCodeFor(e.code)
          : 1011;
    this.#space.log('debug', `handshake refused (${code}): ${e.message}`);
    this.close(
      code,
      error instanceof ActorSpaceError ? e.message : 'internal error while accepting the connection',
    );
  }

  #onWelcome(welcome: WelcomeFields): void {
    if (welcome.v !== PROTOCOL_VERSION) {
      this.#violation(
        `server speaks protocol version ${String(welcome.v)}; this client speaks ${PROTOCOL_VERSION}`,
      );
      return;
    }
    if (typeof welcome.maxPayload === 'number' && welcome.maxPayload > 0) this.#peerMax = welcome.maxPayload;
    if (this.#suspended) {
      if (welcome.resumed === true && welcome.session === this.#session) {
        if (!this.#outbox.rewind(typeof welcome.ack === 'number' ? welcome.ack : 0)) {
          this.#violation(`resume ack ${welcome.ack} is ahead of the ${this.#outbox.seq} frames sent`);
          return;
        }
        this.#resumed();
        return;
      }
      this.#startOver(welcome.session);
    }
    if (typeof welcome.session === 'string') this.#session = welcome.session;
    this.#becomeOpen(typeof welcome.actor === 'string' ? welcome.actor : null);
    if (this.#resumable) this.emit('resume', false);
  }

  /** The server did not resume the session (it expired): nothing of it survives. */
  #startOver(session: string | undefined): void {
    const lost = new ActorSpaceError(
      'CHANNEL_CLOSED',
      `session ${this.#session} could not be resumed${session ? `; fresh session ${session} started` : ''}`,
    );
    this.#suspended = false;
    this.#failPending(lost);
    const dropped = this.#outbox.reset();
    if (dropped > 0) {
      this.#report(
        new ActorSpaceError(
          'CHANNEL_CLOSED',
          `${dropped} frames sent to the expired session were not delivered`,
          {
            details: { dropped },
          },
        ),
      );
    }
    this.#received = 0;
    this.#ackSent = 0;
    this.#exports = null;
    this.#exportIds = null;
  }

  #becomeOpen(remoteRoot: string | null): void {
    this.#clearHandshakeTimer();
    this.#state = 'open';
    this.#remote = remoteRoot ? this.makeRemote(remoteRoot) : null;
    this.#opened();
    const root = this.#localRoot ? this.#space.entry(this.#localRoot) : undefined;
    if (root && this.#remote && typeof root.actor.setRemoteActor === 'function') {
      try {
        root.actor.setRemoteActor(this.#remote);
      } catch (error) {
        this.#report(asSpaceError(error));
      }
    }
    this.#flushSafely();
  }

  #opened(): void {
    if (this.#state !== 'open') return;
    this.#startHeartbeat();
    this.emit('open');
  }

  #startHeartbeat(): void {
    const hb = this.#options.heartbeat;
    if (!hb || !(hb.interval > 0) || this.#stopHeartbeat !== null) return;
    this.#lastSeen = Date.now();
    this.#stopHeartbeat = every(hb.interval, this);
  }

  #stopTimers(): void {
    this.#stopHeartbeat?.();
    this.#stopHeartbeat = null;
    if (this.#ackTimer !== null) clearTimeout(this.#ackTimer);
    this.#ackTimer = null;
    this.#clearHandshakeTimer();
  }

  /** @internal Heartbeat ticker callback. */
  tick(): void {
    const hb = this.#options.heartbeat;
    if (hb) this.#beat(hb);
  }

  #beat(hb: HeartbeatOptions): void {
    if (Date.now() - this.#lastSeen > hb.timeout) {
      this.#space.log('debug', `channel ${this.id}: no frame for ${hb.timeout} ms, closing`);
      const reason = `no heartbeat for ${hb.timeout} ms`;
      // A resumable session only loses its transport: the peer may come back and resume.
      if (this.#canSuspend(CloseCode.TIMEOUT)) this.#transport.close(CloseCode.TIMEOUT, reason);
      else this.close(CloseCode.TIMEOUT, reason);
      return;
    }
    this.#sendControl(`[${Kind.PING}]`);
  }

  #armHandshakeTimer(what: string): void {
    const ms = this.#options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    if (!(ms > 0 && Number.isFinite(ms))) return;
    this.#clearHandshakeTimer();
    this.#handshakeTimer = setTimeout(() => {
      this.#handshakeTimer = null;
      if (this.#state !== 'connecting') return;
      // A resume attempt that stalls loses only its transport; a first handshake closes.
      if (this.#suspended) this.#transport.close(CloseCode.TIMEOUT, `no ${what} within ${ms} ms`);
      else this.close(CloseCode.TIMEOUT, `no ${what} within ${ms} ms`);
    }, ms);
    (this.#handshakeTimer as { unref?: () => void }).unref?.();
  }

  #clearHandshakeTimer(): void {
    if (this.#handshakeTimer !== null) clearTimeout(this.#handshakeTimer);
    this.#handshakeTimer = null;
  }

  // ---- resumption ------------------------------------------------------------------------

  #countReceived(): void {
    this.#received++;
    if (this.#received - this.#ackSent >= ACK_EVERY) this.#sendAck();
    else if (this.#ackTimer === null) {
      // One timer at a time, left running when an ack rides along with a batch: clearing and
      // re-arming it for every request/response pair would cost more than the ack itself.
      this.#ackTimer = setTimeout(() => {
        this.#ackTimer = null;
        this.#sendAck();
      }, ACK_DELAY);
      (this.#ackTimer as { unref?: () => void }).unref?.();
    }
  }

  #sendAck(): void {
    if (this.#received > this.#ackSent) this.#sendControl(this.#ackFrame());
  }

  #ackFrame(): string {
    this.#ackSent = this.#received;
    return `[${Kind.ACK},${this.#received}]`;
  }

  #canSuspend(code: number): boolean {
    return this.#resumable && this.#session !== null && !FINAL_CLOSE_CODES.has(code);
  }

  #lostTransport(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    if (!this.#canSuspend(code) || (this.#state === 'connecting' && !this.#suspended)) {
      this.#teardown(code, reason);
      return;
    }
    this.#suspended = true;
    this.#state = 'connecting';
    this.#stopTimers();
    this.#space.log('debug', `channel ${this.id} suspended (${code} ${reason}); waiting for a resume`);
    this.emit('suspend', code, reason);
  }

  // ---- failure and teardown ----------------------------------------------------------------

  #violation(message: string, code: number = CloseCode.BAD_FRAME): void {
    this.#space.log('warn', `channel ${this.id} closed (${code}): ${message}`);
    this.#report(
      new ActorSpaceError(code === CloseCode.PAYLOAD_TOO_LARGE ? 'PAYLOAD_TOO_LARGE' : 'PROTOCOL', message, {
        details: { closeCode: code },
      }),
    );
    this.close(code, message);
  }

  #report(error: ActorSpaceError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.#space.reportError(error, this);
  }

  /** Rejects every ask waiting for an answer and aborts every handler working on one. */
  #failPending(error: ActorSpaceError): void {
    const pending = this.#pending ? [...this.#pending.values()] : [];
    this.#pending = null;
    for (const ask of pending) ask.reject(error);
    const inbound = this.#inbound ? [...this.#inbound.values()] : [];
    this.#inbound = null;
    for (const ctx of inbound) ctx.abort(error);
  }

  #teardown(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#suspended = false;
    this.#closeInfo = { code, reason };
    this.#stopTimers();
    this.#outbox.reset();
    this.#early = null;
    this.#failPending(
      new ActorSpaceError(
        'CHANNEL_CLOSED',
        `channel ${this.id} closed (${code}${reason ? `: ${reason}` : ''}) before the answer arrived`,
        { details: { code, reason } },
      ),
    );
    this.#exports = null;
    this.#exportIds = null;
    this.#space.channelClosed(this);
    this.emit('close', code, reason);
  }
}

function noSuchActor(target: string, type: string): ActorSpaceError {
  return new ActorSpaceError(
    'NO_SUCH_ACTOR',
    `no actor "${target}" here for message "${type}"; is it registered?`,
    {
      details: { target, type },
    },
  );
}

function asSpaceError(error: unknown): ActorSpaceError {
  if (error instanceof ActorSpaceError) return error;
  return new ActorSpaceError('REMOTE_ERROR', error instanceof Error ? error.message : String(error), {
    cause: error,
  });
}

/** The close code a refused handshake uses for an error code. */
function closeCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'UNAUTHORIZED':
      return CloseCode.UNAUTHENTICATED;
    case 'FORBIDDEN':
      return CloseCode.FORBIDDEN;
    case 'NO_SUCH_ACTOR':
      return CloseCode.UNKNOWN_ROUTE;
    case 'PAYLOAD_TOO_LARGE':
      return CloseCode.PAYLOAD_TOO_LARGE;
    case 'TIMEOUT':
      return CloseCode.TIMEOUT;
    default:
      return CloseCode.BAD_FRAME;
  }
}
