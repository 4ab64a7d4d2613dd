/**
 * ActorSpace: a place where actors live. It registers actors, delivers local messages
 * through their mailboxes, and pairs with other spaces over channels.
 */

import type { Actor } from './actor.js';
import { type ActorRef, type AskOptions, checkType, Ref, type Router } from './actor-ref.js';
import type { Caller } from './caller.js';
import {
  Channel,
  type ChannelHost,
  type ChannelOptions,
  type MessageOrigin,
  type RemoteActor,
} from './channel.js';
import { type DataLimits, dataLimits, type Limits } from './codec.js';
import type { OutputValidationError } from './definitions.js';
import { EventEmitter } from './emitter.js';
import { ActorSpaceError, CloseCode, describeMessage, mailboxFull } from './errors.js';
import { newId } from './internal/id.js';
import type { Delivered } from './internal/inbound.js';
import { askTimeout, PendingAsk } from './internal/pending-ask.js';
import { currentSender } from './internal/running.js';
import { sharedWheel } from './internal/timer-wheel.js';
import { Context, Envelope, Mailbox, type Origin } from './mailbox.js';
import type { Transport } from './transport.js';
import { isWebSocketLike, type WebSocketLike, webSocketTransport } from './transports/web-socket.js';

/** Where a space writes what it notices. Every method is optional; the default writes nothing. */
export interface Logger {
  /** Routine events, for tracing: a channel suspended, a session resumed, an error reported to listeners. */
  debug?(message: string, details?: unknown): void;
  /** Something went wrong and was dealt with: a peer closed for a bad frame, an `onStop` that threw. */
  warn?(message: string, details?: unknown): void;
  /** A failure inside the library or the app that needs a look: an internal error, a listener that threw. */
  error?(message: string, details?: unknown): void;
}

/** Options of {@link ActorSpace}. */
export interface SpaceOptions {
  /**
   * How many messages sent from this space may wait in one actor's mailbox before further
   * local sends fail with `MAILBOX_FULL` (messages from channels are bounded by their window).
   * @default 1000
   */
  mailboxLimit?: number;
  /**
   * Default ask timeout in ms (0 waits for ever).
   * @default 30000
   */
  askTimeout?: number;
  /**
   * Largest incoming frame in bytes for this space's channels.
   * @default 1048576
   */
  maxPayload?: number;
  /** Bounds on data arriving over this space's channels. */
  limits?: DataLimits;
  /** Where to write warnings and protocol traces. @default quiet */
  logger?: Logger;
}

/** Events of an {@link ActorSpace}. */
export interface SpaceEvents {
  /** A failure nobody waited for: a tell's handler threw, a peer sent a bad frame... */
  error: [error: ActorSpaceError, channel: Channel | null];
  /** A channel was added. */
  channel: [channel: Channel];
}

/** The default logger: writes nothing (one shared object, not one per space). */
const QUIET: Logger = Object.freeze({});

/** A registered actor. */
interface ActorEntry {
  actor: Actor;
  mailbox: Mailbox;
  ref: Ref;
}

function positive(name: string, value: number | undefined, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(`SpaceOptions.${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}

/** A local ask as its mailbox sees it: the answer settles the pending ask. */
class LocalAsk extends PendingAsk implements Origin {
  taken(): void {}
  answer(_id: number, value: unknown): void {
    this.resolve(value);
  }
  fail(_id: number, error: unknown): void {
    this.reject(error);
  }
}

/**
 * The part of a space that channels and references talk to. One object with prototype
 * methods rather than a bag of closures: a server holds one space per connection, and every
 * closure would cost memory per connection.
 */
class SpaceCore implements ChannelHost, Router {
  readonly entries = new Map<string, ActorEntry>();
  readonly channels = new Set<Channel>();
  readonly router: Router = this;
  readonly space: ActorSpace;
  readonly maxPayload: number;
  readonly askTimeout: number;
  readonly mailboxLimit: number;
  readonly limits: Limits;
  readonly logger: Logger;
  #system: Caller | null = null;
  /** Local asks waiting for an answer; made on first use. */
  localAsks: Set<PendingAsk> | null = null;

  constructor(space: ActorSpace, options: SpaceOptions) {
    this.space = space;
    this.mailboxLimit = positive('mailboxLimit', options.mailboxLimit, 1000);
    this.askTimeout = positive('askTimeout', options.askTimeout, 30_000, true);
    this.maxPayload = positive('maxPayload', options.maxPayload, 1024 * 1024);
    this.limits = dataLimits(options.limits);
    this.logger = options.logger ?? QUIET;
  }

  /** The caller of local messages (made on first use). */
  get system(): Caller {
    this.#system ??= { id: this.space.id, type: 'system', claims: {} };
    return this.#system;
  }

  localRef(guid: string): ActorRef {
    return this.entries.get(guid)?.ref ?? new Ref(this, guid);
  }

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
  ): Delivered | null {
    const entry = this.entries.get(target);
    if (!entry || entry.mailbox.stopped) return null;
    const env = new Envelope(type, data, new Context(sender, caller, channel), origin, id, cost, id !== 0);
    entry.mailbox.push(env, false);
    entry.mailbox.run();
    return env;
  }

  paired(local: string | null, remote: RemoteActor): void {
    const actor = local === null ? undefined : this.entries.get(local)?.actor;
    if (typeof actor?.setRemoteActor !== 'function') return;
    try {
      actor.setRemoteActor(remote);
    } catch (error) {
      this.tellFailed(local as string, error, 'setRemoteActor');
    }
  }

  log(level: 'debug' | 'warn' | 'error', message: string, details?: unknown): void {
    const fn = this.logger[level];
    if (fn) fn.call(this.logger, `[actorspace ${this.space.id}] ${message}`, details);
  }

  reportError(error: ActorSpaceError, channel: Channel | null): void {
    this.log('debug', error.message);
    this.space.emit('error', error, channel);
  }

  channelClosed(channel: Channel): void {
    this.channels.delete(channel);
  }

  /** An answer its output schema refused: the handler's bug, which the asker cannot fix. */
  answerRefused(guid: string, error: OutputValidationError): void {
    this.log('error', `actor ${guid}: ${error.message}`, error.issues);
  }

  /** What a tell's handler threw: nobody waits for its answer, so the space reports it. */
  tellFailed(guid: string, error: unknown, env: Envelope | string): void {
    const type = typeof env === 'string' ? env : env.type;
    const e =
      error instanceof ActorSpaceError
        ? error
        : new ActorSpaceError(
            'REMOTE_ERROR',
            `actor ${guid} failed handling ${typeof env === 'string' ? env : `tell "${type}"`}: ${String(error)}`,
            { cause: error, details: { target: guid, type } },
          );
    this.log('warn', e.message, error);
    this.space.emit('error', e, (typeof env === 'string' ? undefined : env.ctx.channel) ?? null);
  }

  #entry(guid: string, type: string, kind: 'tell' | 'ask'): ActorEntry {
    checkType(type);
    const entry = this.entries.get(guid);
    if (!entry) {
      throw new ActorSpaceError(
        'NO_SUCH_ACTOR',
        `${describeMessage(kind, type, guid)}: no such actor in space ${this.space.id}`,
        { details: { target: guid, type } },
      );
    }
    return entry;
  }

  #full(kind: 'tell' | 'ask', guid: string, type: string): ActorSpaceError {
    return mailboxFull(
      describeMessage(kind, type, guid),
      `its mailbox holds ${this.mailboxLimit} messages (SpaceOptions.mailboxLimit)`,
      { target: guid, type },
    );
  }

  tellTo(guid: string, type: string, data: unknown, caller?: Caller): void {
    const entry = this.#entry(guid, type, 'tell');
    const ctx = new Context(currentSender() ?? undefined, caller ?? this.system, undefined);
    if (!entry.mailbox.push(new Envelope(type, data, ctx, null, 0, 0, false), true)) {
      throw this.#full('tell', guid, type);
    }
    entry.mailbox.schedule();
  }

  askTo<R>(
    guid: string,
    type: string,
    data: unknown,
    opts: AskOptions | undefined,
    caller?: Caller,
  ): Promise<R> {
    let entry: ActorEntry;
    let timeout: number;
    try {
      entry = this.#entry(guid, type, 'ask');
      timeout = askTimeout(opts, this.askTimeout, describeMessage('ask', type, guid));
    } catch (error) {
      return Promise.reject(error);
    }
    const ctx = new Context(currentSender() ?? undefined, caller ?? this.system, undefined);
    return new Promise<R>((resolve, reject) => {
      const asks = (this.localAsks ??= new Set());
      let env: Envelope | null = null;
      const ask: LocalAsk = new LocalAsk(
        0,
        type,
        guid,
        timeout,
        opts?.signal,
        sharedWheel,
        // A given-up ask leaves the mailbox at once (or its running handler's signal aborts).
        { giveUp: () => env?.cancel(new ActorSpaceError('ABORTED', 'the asker gave up (timeout or abort)')) },
        (value) => {
          asks.delete(ask);
          resolve(value);
        },
        (error) => {
          asks.delete(ask);
          reject(error);
        },
      );
      asks.add(ask);
      env = new Envelope(type, data, ctx, ask, 0, 0, true);
      if (!entry.mailbox.push(env, true)) {
        ask.reject(this.#full('ask', guid, type));
        return;
      }
      entry.mailbox.schedule();
    });
  }
}

/**
 * A space of actors. Register actors, get references, and pair with other spaces over
 * channels; messages to a local actor go through its mailbox, one at a time, in order.
 *
 * @example
 * const space = new ActorSpace('client');
 * const counter = space.register(defineActor({ inc: (n: number) => (total += n) }));
 * await counter.ask('inc', 2);
 */
export class ActorSpace extends EventEmitter<SpaceEvents> {
  /** This space's id. */
  readonly id: string;
  readonly #core: SpaceCore;
  #destroyed = false;

  /** @throws TypeError for an empty id; RangeError for a bad option. */
  constructor(id: string = newId(), options: SpaceOptions = {}) {
    super();
    if (typeof id !== 'string' || id.length === 0)
      throw new TypeError('ActorSpace id must be a non-empty string');
    this.id = id;
    this.#core = new SpaceCore(this, options);
  }

  /** Number of registered actors. */
  get size(): number {
    return this.#core.entries.size;
  }

  /** The channels currently attached. */
  get channels(): ReadonlySet<Channel> {
    return this.#core.channels;
  }

  /** Local asks waiting for an answer (for leak checks and metrics). */
  get pendingAsks(): number {
    return this.#core.localAsks?.size ?? 0;
  }

  /**
   * Registers an actor and returns its reference.
   * @throws TypeError when `actor` has no `receive` or `guid` is not 1-256 characters or is taken;
   *   ActorSpaceError `CHANNEL_CLOSED` when the space is destroyed.
   */
  register<A extends Actor>(actor: A, guid: string = newId()): ActorRef<A> {
    this.#checkAlive();
    if (!actor || typeof actor.receive !== 'function') {
      throw new TypeError('register() needs an actor: an object with a receive() method');
    }
    if (typeof guid !== 'string' || guid.length === 0 || guid.length > 256) {
      throw new TypeError('actor guid must be a string of 1-256 characters');
    }
    const core = this.#core;
    if (core.entries.has(guid))
      throw new TypeError(`actor guid "${guid}" is already registered in space ${this.id}`);
    const ref = new Ref(core, guid);
    core.entries.set(guid, { actor, mailbox: new Mailbox(actor, ref, core.mailboxLimit, core), ref });
    return ref.typed<A>();
  }

  /** The actor registered in this space under `guid` (or a reference's guid), or undefined. */
  actorOf(guid: string | ActorRef): Actor | undefined {
    return this.#core.entries.get(typeof guid === 'string' ? guid : guid.guid)?.actor;
  }

  /** Unregisters an actor: waiting asks reject with `NO_SUCH_ACTOR`, then `onStop` is called. */
  unregister(guid: string, reason?: unknown): void {
    const entry = this.#core.entries.get(guid);
    if (!entry) return;
    this.#core.entries.delete(guid);
    entry.mailbox.stop(
      new ActorSpaceError('NO_SUCH_ACTOR', `actor ${guid} was unregistered before handling the message`),
    );
    if (typeof entry.actor.onStop === 'function') {
      try {
        entry.actor.onStop(reason);
      } catch (error) {
        this.#core.log('warn', `onStop of actor ${guid} threw`, error);
      }
    }
  }

  /**
   * A reference to a registered local actor.
   * @throws ActorSpaceError `NO_SUCH_ACTOR` when no actor has that guid.
   */
  ref<A = any>(guid: string): ActorRef<A> {
    const entry = this.#core.entries.get(guid);
    if (!entry)
      throw new ActorSpaceError('NO_SUCH_ACTOR', `no actor "${guid}" is registered in space ${this.id}`);
    return entry.ref.typed<A>();
  }

  /**
   * Attaches a transport (or a WebSocket) to this space and returns the channel over it.
   * @throws TypeError when the transport is not one; ActorSpaceError `CHANNEL_CLOSED` when the space is destroyed.
   * @example
   * const channel = space.addChannel(new WebSocket(url), { handshake: clientHandshake({ route: '/todos', actor: root }) });
   */
  addChannel(transport: Transport | WebSocketLike, options: ChannelOptions = {}): Channel {
    this.#checkAlive();
    const t = isWebSocketLike(transport) ? webSocketTransport(transport) : transport;
    if (
      !t ||
      typeof t.send !== 'function' ||
      typeof t.onMessage !== 'function' ||
      typeof t.onClose !== 'function'
    ) {
      throw new TypeError('addChannel needs a Transport or a WebSocket');
    }
    const channel = new Channel(this.#core, t, options);
    this.#core.channels.add(channel);
    this.emit('channel', channel);
    return channel;
  }

  /** Closes every channel (1001), unregisters every actor (`onStop` is called) and rejects local asks. */
  async destroy(reason: unknown = 'space destroyed'): Promise<void> {
    if (this.#destroyed) return;
    this.#destroyed = true;
    const core = this.#core;
    for (const channel of [...core.channels]) channel.close(CloseCode.GOING_AWAY, 'space destroyed');
    for (const guid of [...core.entries.keys()]) this.unregister(guid, reason);
    const asks = core.localAsks;
    core.localAsks = null;
    if (asks) {
      const gone = new ActorSpaceError('CHANNEL_CLOSED', `space ${this.id} was destroyed before the answer`);
      for (const ask of asks) ask.reject(gone);
    }
  }

  #checkAlive(): void {
    if (this.#destroyed) throw new ActorSpaceError('CHANNEL_CLOSED', `space ${this.id} is destroyed`);
  }
}
