/**
 * Many server processes (nodes) as one, over a backplane (backplane.ts). Each node owns its
 * sessions and tells the others what changes (added, updated, removed; presence too), with a
 * version number per node so a node that missed a change asks for the whole state again.
 * Nodes beat every `heartbeat` ms; a node not heard of for `nodeTimeout` ms is gone, with its
 * sessions and members. Asks to a session (or an actor reference) on another node travel as
 * messages to that node and their answers come back; they fail at once with `CHANNEL_CLOSED`
 * when the node goes or the broker is lost, never by waiting for their timeout. Every message
 * is signed (HMAC-SHA256) when the backplane has a `signingKey`.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import {
  type ActorRef,
  ActorSpaceError,
  type AskOptions,
  type Caller,
  decodeData,
  EncodedTell,
  type ErrorCode,
  encodeData,
  frozenCaller,
  isActorRef,
  type Member,
  type MessageDescription,
  type RefExporter,
  type RefImporter,
  type Router,
  refThrough,
  type WireRef,
} from '@actorspace/core';
import type { Backplane, BackplaneEvent, BackplaneHost, BackplaneKeep } from './backplane.js';
import type { SessionChange } from './gateway.js';
import { Cancel } from './internal/cancel.js';
import { type ClusterLinkOptions, Links, linkOptions } from './links.js';
import type { ListedSession, SessionInfo } from './session.js';
import type { TopicCluster, TopicHub } from './topics.js';

/** Timings of the nodes' heartbeats (`createActorServer({ cluster })`). */
export interface ClusterOptions {
  /** Milliseconds between a node's heartbeats. @default 2000 */
  heartbeat?: number;
  /**
   * Milliseconds without a heartbeat after which a node counts as gone: its sessions leave
   * the registry and asks waiting on it fail. @default 10000
   */
  nodeTimeout?: number;
  /**
   * Direct links between nodes: asks, answers and tells to another node's sessions go over a
   * TCP link to it (the broker still carries membership, topics and broadcasts, and carries
   * those messages too while a link is down). `false` sends everything through the broker.
   * @default `{}`: listen on a free port of 127.0.0.1 (nodes of one machine)
   */
  link?: false | ClusterLinkOptions;
}

/** What the cluster needs from the engine. */
export interface ClusterHost {
  /** This node's route sessions. */
  localSessions(): Iterable<ListedSession>;
  /** One of this node's route sessions, by public id. */
  localSession(id: string): ListedSession | undefined;
  /** A session of another node came, changed or went. */
  remoteChanged(change: SessionChange): void;
  /** Tells this node's sessions of `route` (those offering `offering`, when given). */
  tellRoute(route: string, message: EncodedTell, offering?: string): number;
  readonly topics: TopicHub;
  log(level: 'debug' | 'warn' | 'error', message: string, details?: unknown): void;
}

/** How a cluster message names what it asks: a session's client actor, or an exported reference. */
type Target = { s: string } | { r: string };

/** What an outgoing message carries that must fail when it cannot be sent. */
interface Carried {
  /** The id of this node's pending ask it sends. */
  ask?: number;
  /** The id of another node's ask it answers. */
  answer?: number;
}

/** A message waiting for the end of the turn. */
interface Queued extends Carried {
  text: string;
  /** True for what a direct link carries when there is one (asks, answers, tells, cancels). */
  linked?: boolean;
}

/** The message kinds a direct link carries. */
const LINKED = new Set(['ask', 'ans', 'tell', 'cancel']);

/** A pending ask to another node. */
interface Pending {
  node: string;
  resolve(value: unknown): void;
  reject(error: ActorSpaceError): void;
  /** When it fails unanswered (`performance.now()`; 0: never): checked every second. */
  deadline: number;
  cleanup: (() => void) | null;
}

/** What the cluster knows of another node. */
interface NodeState {
  id: string;
  heard: number;
  /**
   * True once it was heard from since this node's backplane last came up: before that, what
   * is sent to it may be lost (it may not be subscribed again yet), so asks fail at once.
   */
  live: boolean;
  version: number;
  sessions: Map<string, RemoteSession>;
  /** Its members, by topic then key. */
  members: Map<string, Map<string, Member>>;
}

const DEFAULT_HEARTBEAT = 2_000;
const DEFAULT_NODE_TIMEOUT = 10_000;
/** References handed to other nodes that this node keeps answering for (oldest forgotten first). */
const MAX_EXPORTED = 10_000;
/** Extra time a node waits for an answer past the ask's own timeout (the owner times out first). */
const ANSWER_GRACE = 1_000;
/** How often asks past their deadline are failed (an answer lost on the way: the owner timed out). */
const SWEEP = 1_000;
/** The most characters of messages sent to a node as one broker message (NATS takes 1 MB at most). */
const MAX_BATCH = 256 * 1024;

/** A session of another node, as this node lists and reaches it. */
export class RemoteSession implements ListedSession {
  readonly publicId: string;
  readonly node: string;
  #info: SessionInfo;
  readonly #cluster: Cluster;

  constructor(cluster: Cluster, node: string, info: SessionInfo) {
    this.#cluster = cluster;
    this.node = node;
    this.publicId = info.id;
    this.#info = info;
  }

  get route(): string {
    return this.#info.route;
  }

  get capabilities(): MessageDescription[] {
    return this.#info.capabilities;
  }

  /** @internal The node told of a change. */
  set(info: SessionInfo): void {
    this.#info = info;
  }

  info(): SessionInfo {
    return this.#info;
  }

  call(
    caller: Caller | undefined,
    type: string,
    data: unknown,
    timeout: number,
    signal?: AbortSignal,
  ): Promise<unknown> {
    return this.#cluster.ask(this.node, { s: this.publicId }, caller, type, data, { timeout, signal });
  }

  send(caller: Caller | undefined, type: string, data: unknown): void {
    this.#cluster.tell(this.node, { s: this.publicId }, caller, type, data);
  }
}

/** One node's part in a cluster: membership, the shared registry and presence, calls across nodes. */
export class Cluster implements BackplaneHost, TopicCluster {
  readonly node = `n-${randomUUID()}`;
  readonly #backplane: Backplane;
  readonly #host: ClusterHost;
  readonly #heartbeat: number;
  readonly #nodeTimeout: number;
  readonly #key: Buffer | null;
  readonly #nodes = new Map<string, NodeState>();
  /** Every other node's sessions, by public id. */
  readonly #remote = new Map<string, RemoteSession>();
  readonly #pending = new Map<number, Pending>();
  /** Asks other nodes made of this one, still running: by node, then ask id. */
  readonly #serving = new Map<string, Map<number, Cancel | AbortController>>();
  readonly #exported = new Map<string, ActorRef>();
  readonly #exportedIds = new Map<ActorRef, string>();
  #nextAsk = 0;
  #nextRef = 0;
  #version = 0;
  #up = false;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | null = null;
  #sweeper: ReturnType<typeof setInterval> | null = null;
  #started: Promise<void> | null = null;
  #bad = 0;
  /** Messages gathered for the end of this turn, by destination (null: every node). */
  readonly #outbox = new Map<string | null, Queued[]>();
  /** The number of the last signed message this node sent, and of the last it got from each node. */
  #sent = 0;
  readonly #numbers = new Map<string, number>();
  #flushing = false;
  #lastBeat = Date.now();
  /** True once the backplane was up: a later `up()` follows an outage. */
  #wasUp = false;
  /** Direct links to the other nodes (null when off, or when this node could not listen). */
  #links: Links | null;

  constructor(backplane: Backplane, host: ClusterHost, options: ClusterOptions = {}) {
    if (!backplane || typeof backplane !== 'object' || typeof backplane.start !== 'function') {
      throw new TypeError(
        'createActorServer: backplane must be a Backplane (redisBackplane(), natsBackplane())',
      );
    }
    this.#heartbeat = positive('cluster.heartbeat', options.heartbeat, DEFAULT_HEARTBEAT);
    this.#nodeTimeout = positive('cluster.nodeTimeout', options.nodeTimeout, DEFAULT_NODE_TIMEOUT);
    if (this.#nodeTimeout <= this.#heartbeat) {
      throw new RangeError('createActorServer: cluster.nodeTimeout must be longer than cluster.heartbeat');
    }
    const key = backplane.signingKey;
    if (key !== undefined && (typeof key !== 'string' || key.length < 32)) {
      throw new TypeError('backplane signingKey must be a secret of at least 32 characters');
    }
    this.#key = key === undefined ? null : Buffer.from(key);
    this.#backplane = backplane;
    this.#host = host;
    const link = linkOptions(options.link);
    this.#links = link && new Links(this.#linkHost(), link, this.#heartbeat);
    if (!this.#key) {
      host.log(
        'warn',
        `the ${backplane.name} backplane has no signingKey: any client of the broker can speak for a node`,
      );
    }
  }

  /** The backplane's name. */
  get name(): string {
    return this.#backplane.name;
  }

  /** True while the backplane is connected. */
  get connected(): boolean {
    return this.#up;
  }

  /** The other nodes this node hears from. */
  get nodes(): number {
    return this.#nodes.size;
  }

  /** The direct links to other nodes that are open. */
  get links(): number {
    return this.#links?.open ?? 0;
  }

  /** Starts the backplane (again and again, until it connects or the server closes). */
  start(): Promise<void> {
    this.#started ??= this.#connect();
    return this.#started;
  }

  async #connect(): Promise<void> {
    try {
      await this.#links?.listen();
    } catch (error) {
      this.#host.log('warn', 'cluster links are off: this node cannot listen for them', error);
      this.#links = null;
    }
    for (let attempt = 0; !this.#closed; attempt++) {
      try {
        await this.#backplane.start(this);
        break;
      } catch (error) {
        if (this.#closed) return;
        this.#host.log('warn', `the ${this.name} backplane did not start; trying again`, error);
        await new Promise((r) => setTimeout(r, Math.min(5_000, 250 * 2 ** attempt)));
      }
    }
    if (this.#closed) return;
    this.#timer = setInterval(() => this.#beat(), this.#heartbeat);
    this.#timer.unref?.();
    // One timer for every pending ask, not one each: an ask's own timeout is kept by the node
    // that runs it, this is only for answers lost on the way.
    this.#sweeper = setInterval(() => this.#sweep(), SWEEP);
    this.#sweeper.unref?.();
  }

  /** Says goodbye (the others drop this node's sessions at once) and stops the backplane. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#up) this.#sendSafe(null, ['bye']);
    this.#flush();
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#failPending(null, 'the server is shutting down');
    for (const node of [...this.#nodes.keys()]) this.#drop(node, 'server closing');
    await Promise.all([this.#links?.stop(), this.#backplane.close()]);
  }

  // ---- the registry across nodes --------------------------------------------------------------

  /** The sessions of every other node. */
  remoteSessions(): IterableIterator<RemoteSession> {
    return this.#remote.values();
  }

  /** A session of another node, by public id. */
  remoteSession(id: string): RemoteSession | undefined {
    return this.#remote.get(id);
  }

  /** One of this node's sessions came, changed or went: every other node hears of it. */
  sessionChanged(change: SessionChange): void {
    this.#change(['ses', change.kind, change.session]);
  }

  /** A member of this node joined, changed or left a topic's presence. */
  presence(topic: string, kind: 'join' | 'leave' | 'update', member: Member): void {
    this.#change(['pres', topic, kind, member]);
  }

  #change(body: unknown[]): void {
    this.#version++;
    if (this.#up) this.#sendSafe(null, [body[0], this.#version, ...body.slice(1)]);
  }

  /**
   * Tells the sessions of `route` on every other node: `message` as this node encoded it for its own
   * sessions (decoded and checked once on each other node). Returns how many sessions of that
   * route the other nodes list.
   */
  broadcast(route: string, message: EncodedTell, caller?: Caller, offering?: string): number {
    const { json, meta } = message.encoded;
    const sent = ['bc', route, message.type, json, meta ?? null, wireCaller(caller), offering ?? null];
    if (!this.#sendSafe(null, sent)) return 0;
    let count = 0;
    for (const session of this.#remote.values()) {
      if (session.route !== route) continue;
      if (offering !== undefined && !session.capabilities.some((c) => c.type === offering)) continue;
      count++;
    }
    return count;
  }

  // ---- topics ---------------------------------------------------------------------------------

  publish(topic: string, payload: string, keep: BackplaneKeep): Promise<{ epoch: string; seq: number }> {
    if (!this.#up) return Promise.reject(this.#down());
    return this.#backplane.publish(topic, this.#sign(payload), keep).catch((error) => {
      throw new ActorSpaceError(
        'CHANNEL_CLOSED',
        `the ${this.name} backplane could not publish: ${message(error)}`,
      );
    });
  }

  async history(
    topic: string,
    keep: BackplaneKeep,
  ): Promise<{ epoch: string; events: BackplaneEvent[] } | null> {
    if (!this.#up) throw this.#down();
    const kept = await this.#backplane.history(topic, keep);
    if (!kept) return null;
    const events: BackplaneEvent[] = [];
    for (const event of kept.events) {
      const verified = this.#verify(event.payload);
      if (verified !== null) events.push({ ...event, payload: verified.text });
    }
    return { epoch: kept.epoch, events };
  }

  // ---- asks across nodes ----------------------------------------------------------------------

  /** Asks, on node `node`, a session's client actor or an exported reference, as `caller`. */
  ask(
    node: string,
    target: Target,
    caller: Caller | undefined,
    type: string,
    data: unknown,
    opts: { timeout: number; signal?: AbortSignal | undefined },
  ): Promise<unknown> {
    if (!this.#up) return Promise.reject(this.#down());
    if (!this.#nodes.get(node)?.live) return Promise.reject(gone(node));
    if (opts.signal?.aborted) return Promise.reject(new ActorSpaceError('ABORTED', 'the asker gave up'));
    let encoded: { json: unknown; meta: unknown };
    try {
      encoded = encodeData(data, this.#exporter);
    } catch (error) {
      return Promise.reject(error);
    }
    const id = ++this.#nextAsk;
    return new Promise((resolve, reject) => {
      const deadline = opts.timeout > 0 ? performance.now() + opts.timeout + ANSWER_GRACE : 0;
      const pending: Pending = { node, resolve, reject, deadline, cleanup: null };
      this.#pending.set(id, pending);
      const signal = opts.signal;
      if (signal) {
        const abort = (): void => {
          this.#sendSafe(node, ['cancel', id]);
          this.#settle(id, new ActorSpaceError('ABORTED', 'the asker gave up'));
        };
        signal.addEventListener('abort', abort, { once: true });
        pending.cleanup = () => signal.removeEventListener('abort', abort);
      }
      const sent = this.#sendSafe(
        node,
        ['ask', id, target, type, encoded.json, encoded.meta ?? null, wireCaller(caller), opts.timeout],
        { ask: id },
      );
      if (!sent) this.#settle(id, this.#down());
    });
  }

  /** Tells, on node `node`, a session's client actor or an exported reference, as `caller`. */
  tell(node: string, target: Target, caller: Caller | undefined, type: string, data: unknown): void {
    if (!this.#up) throw this.#down();
    if (!this.#nodes.get(node)?.live) throw gone(node);
    const { json, meta } = encodeData(data, this.#exporter);
    if (!this.#sendSafe(node, ['tell', target, type, json, meta ?? null, wireCaller(caller)]))
      throw this.#down();
  }

  #settle(id: number, error: ActorSpaceError | null, value?: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.cleanup?.();
    if (error) pending.reject(error);
    else pending.resolve(value);
  }

  /** Fails the asks whose answer is late past their timeout and grace. */
  #sweep(): void {
    const now = performance.now();
    for (const [id, pending] of this.#pending) {
      if (pending.deadline !== 0 && pending.deadline <= now) {
        this.#settle(id, new ActorSpaceError('TIMEOUT', `no answer from node ${pending.node} in time`));
      }
    }
  }

  /** Fails every ask waiting on `node` (every node when null) at once. */
  #failPending(node: string | null, reason: string): void {
    for (const [id, pending] of [...this.#pending]) {
      if (node === null || pending.node === node) {
        this.#settle(id, new ActorSpaceError('CHANNEL_CLOSED', reason));
      }
    }
  }

  /** References in data crossing to another node: kept here, named `<node>~<n>` there. */
  readonly #exporter: RefExporter = {
    exportRef: (ref: unknown): WireRef => {
      const actor = ref as ActorRef;
      let id = this.#exportedIds.get(actor);
      if (id === undefined) {
        id = `${this.node}~${(++this.#nextRef).toString(36)}`;
        this.#exported.set(id, actor);
        this.#exportedIds.set(actor, id);
        if (this.#exported.size > MAX_EXPORTED) {
          const [oldest, oldRef] = this.#exported.entries().next().value as [string, ActorRef];
          this.#exported.delete(oldest);
          this.#exportedIds.delete(oldRef);
        }
      }
      return { g: id };
    },
  };

  /** An exported reference by its id; one in use moves to the back of the forgetting order. */
  #held(id: unknown): ActorRef | undefined {
    if (typeof id !== 'string') return undefined;
    const ref = this.#exported.get(id);
    if (ref) {
      this.#exported.delete(id);
      this.#exported.set(id, ref);
    }
    return ref;
  }

  /** References from another node: their messages go back to the node that holds the actor. */
  readonly #importer: RefImporter = {
    importRef: (wire: WireRef): unknown => {
      const at = wire.g.indexOf('~');
      const node = at > 0 ? wire.g.slice(0, at) : '';
      if (node === this.node) {
        const home = this.#exported.get(wire.g);
        if (home) return home;
      }
      return refThrough(this.#routerTo(node), wire.g);
    },
  };

  #routerTo(node: string): Router {
    return {
      tellTo: (guid, type, data, caller) => {
        try {
          this.tell(node, { r: guid }, caller, type, data);
        } catch {
          // A tell has nobody to tell of its failure.
        }
      },
      askTo: <R>(guid: string, type: string, data: unknown, opts: AskOptions | undefined, caller?: Caller) =>
        this.ask(node, { r: guid }, caller, type, data, {
          timeout: opts?.timeout ?? 30_000,
          signal: opts?.signal,
        }) as Promise<R>,
    };
  }

  // ---- BackplaneHost --------------------------------------------------------------------------

  up(): void {
    if (this.#closed) return;
    this.#up = true;
    // What this node sends to another before hearing from it again may be lost.
    for (const node of this.#nodes.values()) node.live = false;
    this.#host.log('debug', `the ${this.name} backplane is up (node ${this.node})`);
    // Who is there, and what they hold: every node answers with its state.
    this.#sendSafe(null, this.#stateMessage(1));
    // Topic events published while this node was cut off: from what the broker kept.
    if (this.#wasUp) this.#host.topics.catchUp().catch(() => {});
    this.#wasUp = true;
  }

  down(reason: string): void {
    if (!this.#up) return;
    this.#up = false;
    this.#host.log('warn', `the ${this.name} backplane lost its broker: ${reason}`);
    this.#failPending(null, `the ${this.name} backplane lost its broker`);
    // The links are made again from the state exchanged when the broker is back.
    this.#links?.forgetAll();
    // The nodes that asked have failed those asks already: their handlers stop too.
    for (const serving of this.#serving.values())
      for (const controller of serving.values()) controller.abort();
    this.#serving.clear();
  }

  event(topic: string, event: BackplaneEvent): void {
    const verified = this.#verify(event.payload);
    if (verified === null) return;
    const payload = verified.text;
    this.#host.topics.deliver(topic, payload === event.payload ? event : { ...event, payload });
  }

  message(payload: string): void {
    const verified = this.#verify(payload);
    if (verified === null) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(verified.text);
    } catch {
      this.#refused('a malformed message');
      return;
    }
    // What one node sent another within one turn of its event loop comes as one batch.
    const batch = Array.isArray(parsed) && Array.isArray(parsed[0]);
    if (verified.n > 0) {
      // Signed messages of a node carry increasing numbers: one seen before is a replay.
      const from = (batch ? (parsed as unknown[][])[0] : (parsed as unknown[]))?.[1];
      if (typeof from !== 'string' || verified.n <= (this.#numbers.get(from) ?? 0)) {
        this.#refused('a replayed message');
        return;
      }
      this.#numbers.set(from, verified.n);
    }
    if (batch) {
      for (const one of parsed as unknown[]) this.#handle(one);
    } else this.#handle(parsed);
  }

  #handle(parsed: unknown): void {
    const m = parsed as unknown[];
    if (!Array.isArray(m) || typeof m[0] !== 'string' || typeof m[1] !== 'string') {
      this.#refused('a malformed message');
      return;
    }
    const [kind, from] = m as [string, string];
    if (from === this.node || this.#closed) return;
    try {
      this.#receive(kind, from, m.slice(2));
    } catch (error) {
      this.#host.log(
        'warn',
        `a ${kind.slice(0, 16)} message from node ${from.slice(0, 64)} was refused`,
        error,
      );
    }
  }

  #receive(kind: string, from: string, m: unknown[]): void {
    if (kind === 'bye') {
      this.#drop(from, 'it closed');
      return;
    }
    const node = this.#nodes.get(from);
    if (node) {
      node.heard = Date.now();
      node.live = true;
    }
    switch (kind) {
      case 'hb':
        if (!node || (m[0] as number) !== node.version) this.#want(from);
        return;
      case 'want':
        this.#sendSafe(from, this.#stateMessage(0));
        return;
      case 'state':
        this.#applyState(from, m);
        return;
      case 'ses':
      case 'pres': {
        if (!node || (m[0] as number) !== node.version + 1) {
          this.#want(from);
          return;
        }
        node.version = m[0] as number;
        if (kind === 'ses') this.#applySession(node, m[1] as SessionChange['kind'], m[2] as SessionInfo);
        else this.#applyMember(node, m[1] as string, m[2] as 'join' | 'leave' | 'update', m[3] as Member);
        return;
      }
      case 'ask':
        this.#serve(from, m);
        return;
      case 'tell':
        this.#serveTell(m);
        return;
      case 'ans': {
        const [id, ok, json, meta] = m as [number, number, unknown, unknown];
        // Only the node that was asked answers.
        if (this.#pending.get(id)?.node !== from) return;
        if (ok === 1) {
          let value: unknown;
          try {
            value = decodeData(json, meta ?? undefined, this.#importer);
          } catch (error) {
            this.#settle(id, error as ActorSpaceError);
            return;
          }
          this.#settle(id, null, value);
        } else this.#settle(id, remoteError(json));
        return;
      }
      case 'via':
        this.#links?.announced(from, m[0]);
        return;
      case 'cancel':
        this.#serving
          .get(from)
          ?.get(m[0] as number)
          ?.abort();
        return;
      case 'bc': {
        const [route, type, json, meta, caller, offering] = m as [
          string,
          string,
          unknown,
          unknown,
          WireCaller | null,
          string | null,
        ];
        const data = decodeData(json, meta ?? undefined);
        this.#host.tellRoute(route, new EncodedTell(type, data, toCaller(caller)), offering ?? undefined);
        return;
      }
      default:
        this.#refused(`an unknown message kind "${kind.slice(0, 16)}"`);
    }
  }

  /** Answers an ask another node made of a session (or a reference) of this node. */
  #serve(from: string, m: unknown[]): void {
    const [id, target, type, json, meta, caller, timeout] = m as [
      number,
      Target,
      string,
      unknown,
      unknown,
      WireCaller | null,
      number,
    ];
    // A session's ask is this package's code through and through: the light cancellation does.
    // A reference may lead to any router: it gets a real AbortSignal.
    const session = typeof target === 'object' && target !== null && 's' in target;
    const controller = session ? new Cancel() : new AbortController();
    let serving = this.#serving.get(from);
    if (!serving) {
      serving = new Map();
      this.#serving.set(from, serving);
    }
    serving.set(id, controller);
    const answer = (ok: boolean, value: unknown): void => {
      serving.delete(id);
      if (serving.size === 0 && this.#serving.get(from) === serving) this.#serving.delete(from);
      if (ok) {
        try {
          const encoded = encodeData(value, this.#exporter);
          this.#sendSafe(from, ['ans', id, 1, encoded.json, encoded.meta ?? null], { answer: id });
          return;
        } catch (error) {
          value = error;
        }
      }
      this.#sendSafe(from, ['ans', id, 0, wireError(value)]);
    };
    let result: Promise<unknown>;
    try {
      const data = decodeData(json, meta ?? undefined, this.#importer);
      const who = toCaller(caller);
      result = this.#call(target, who, type, data, timeout, controller.signal);
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (value) => answer(true, value),
      (error) => answer(false, error),
    );
  }

  #call(
    target: Target,
    caller: Caller | undefined,
    type: string,
    data: unknown,
    timeout: number,
    signal: AbortSignal,
  ): Promise<unknown> {
    if ('s' in target) {
      const session = this.#host.localSession(target.s);
      if (!session)
        throw new ActorSpaceError('NO_SUCH_ACTOR', `no session "${String(target.s).slice(0, 64)}"`);
      return session.call(caller, type, data, timeout, signal);
    }
    const ref = this.#held(target.r);
    if (!ref || !isActorRef(ref))
      throw new ActorSpaceError('NO_SUCH_ACTOR', 'that reference is no longer held');
    const { router, guid } = ref as unknown as { router: Router; guid: string };
    return router.askTo(guid, type, data, { timeout, signal }, caller);
  }

  #serveTell(m: unknown[]): void {
    const [target, type, json, meta, caller] = m as [Target, string, unknown, unknown, WireCaller | null];
    const data = decodeData(json, meta ?? undefined, this.#importer);
    const who = toCaller(caller);
    if ('s' in target) {
      this.#host.localSession(target.s)?.send(who, type, data);
      return;
    }
    const ref = this.#held(target.r) as unknown as { router: Router; guid: string } | undefined;
    ref?.router.tellTo(ref.guid, type, data, who);
  }

  // ---- membership -----------------------------------------------------------------------------

  /** This node's whole state; `reply` 1 asks every node for theirs. Its link address comes last. */
  #stateMessage(reply: 0 | 1): unknown[] {
    const sessions = [...this.#host.localSessions()].map((s) => s.info());
    const link = this.#links?.address ?? null;
    return ['state', this.#version, sessions, this.#host.topics.localMembers(), reply, link];
  }

  #want(node: string): void {
    this.#sendSafe(node, ['want']);
  }

  #applyState(from: string, m: unknown[]): void {
    const [version, sessions, members, reply] = m as [
      number,
      SessionInfo[],
      { topic: string; members: Member[] }[],
      number,
    ];
    let node = this.#nodes.get(from);
    // A state older than the changes already applied (a slow reply) would undo them.
    if (node && version < node.version) return;
    if (!node) {
      node = { id: from, heard: Date.now(), live: true, version, sessions: new Map(), members: new Map() };
      this.#nodes.set(from, node);
      this.#host.log('debug', `node ${from} joined the cluster`);
    } else if (reply === 1) {
      // It has just (re)connected to the broker: what it was asked before may never have
      // reached it, so those asks fail now instead of at their timeout.
      this.#failPending(from, `node ${from} reconnected to the broker; the ask may not have reached it`);
    }
    node.version = version;
    node.heard = Date.now();
    // Sessions: what it holds now replaces what this node believed.
    const seen = new Set<string>();
    for (const info of sessions) {
      seen.add(info.id);
      this.#applySession(node, node.sessions.has(info.id) ? 'updated' : 'added', info);
    }
    for (const id of [...node.sessions.keys()]) {
      if (!seen.has(id)) this.#applySession(node, 'removed', (node.sessions.get(id) as RemoteSession).info());
    }
    const memberSeen = new Set<string>();
    for (const { topic, members: list } of members) {
      for (const member of list) {
        memberSeen.add(`${topic}\n${member.key}`);
        this.#applyMember(node, topic, 'join', member);
      }
    }
    for (const [topic, list] of [...node.members]) {
      for (const member of [...list.values()]) {
        if (!memberSeen.has(`${topic}\n${member.key}`)) this.#applyMember(node, topic, 'leave', member);
      }
    }
    if (reply === 1) this.#sendSafe(from, this.#stateMessage(0));
    this.#links?.connect(from, m[4]);
  }

  #applySession(node: NodeState, kind: SessionChange['kind'], info: SessionInfo): void {
    if (!isSessionInfo(info)) {
      this.#refused('a malformed session');
      return;
    }
    const listed: SessionInfo = { ...info, node: node.id };
    if (kind === 'removed') {
      const session = node.sessions.get(info.id);
      if (!session) return;
      node.sessions.delete(info.id);
      this.#remote.delete(info.id);
      this.#host.remoteChanged({ kind, session: listed });
      return;
    }
    let session = node.sessions.get(info.id);
    if (session) {
      // `lastSeen` of an open session is "now": a change only when something else changed.
      if (sameSession(session.info(), listed)) return;
      session.set(listed);
      this.#host.remoteChanged({ kind: 'updated', session: listed });
    } else {
      session = new RemoteSession(this, node.id, listed);
      node.sessions.set(info.id, session);
      this.#remote.set(info.id, session);
      this.#host.remoteChanged({ kind: 'added', session: listed });
    }
  }

  #applyMember(node: NodeState, topic: string, kind: 'join' | 'leave' | 'update', member: Member): void {
    if (typeof topic !== 'string' || !isMember(member) || !['join', 'leave', 'update'].includes(kind)) {
      this.#refused('a malformed presence change');
      return;
    }
    let list = node.members.get(topic);
    if (kind === 'leave') {
      if (!list?.delete(member.key)) return;
      if (list.size === 0) node.members.delete(topic);
    } else {
      if (!list) {
        list = new Map();
        node.members.set(topic, list);
      }
      const old = list.get(member.key);
      if (old && JSON.stringify(old) === JSON.stringify(member)) return;
      list.set(member.key, member);
      if (old) kind = 'update';
    }
    this.#host.topics.remotePresence(topic, kind, member);
  }

  /** A node is gone: its sessions leave the registry, its members leave, asks on it fail. */
  #drop(id: string, reason: string): void {
    const node = this.#nodes.get(id);
    if (!node) return;
    this.#nodes.delete(id);
    this.#numbers.delete(id);
    this.#host.log('debug', `node ${id} left the cluster (${reason})`);
    for (const session of [...node.sessions.values()]) this.#applySession(node, 'removed', session.info());
    for (const [topic, list] of [...node.members]) {
      for (const member of [...list.values()]) this.#applyMember(node, topic, 'leave', member);
    }
    this.#links?.forget(id);
    this.#failPending(id, `node ${id} is gone (${reason})`);
    this.#stopServing(id);
  }

  /** Stops the handlers of the asks `node` made of this one (it has failed them already). */
  #stopServing(node: string): void {
    const serving = this.#serving.get(node);
    this.#serving.delete(node);
    if (serving) for (const controller of serving.values()) controller.abort();
  }

  #beat(): void {
    if (this.#up) this.#sendSafe(null, ['hb', this.#version]);
    const now = Date.now();
    const late = now - this.#lastBeat > 2 * this.#heartbeat;
    this.#lastBeat = now;
    // This node's own event loop stalled: the others' heartbeats wait unread behind this beat,
    // so silence proves nothing this time.
    if (late) return;
    for (const node of [...this.#nodes.values()]) {
      if (now - node.heard > this.#nodeTimeout)
        this.#drop(node.id, `not heard of for ${this.#nodeTimeout} ms`);
    }
  }

  // ---- the wire -------------------------------------------------------------------------------

  /**
   * Sends `[kind, this node, ...rest]` (`body` is `[kind, ...rest]`, built afresh by the caller:
   * it is changed in place); false when the backplane cannot. `ask` names the
   * pending ask the message carries, `answer` the ask of another node it answers: when it
   * cannot be sent, that ask fails at once.
   */
  #sendSafe(to: string | null, body: unknown[], carries?: Carried): boolean {
    if (!this.#up) return false;
    body.splice(1, 0, this.node);
    const text = JSON.stringify(body);
    // Gathered until the event loop has handled what the sockets brought (setImmediate): one
    // write per destination, however many asks and answers were made meanwhile (a busy node
    // sends a handful of writes, not one per message; a quiet one waits for nothing).
    let queued = this.#outbox.get(to);
    if (!queued) {
      queued = [];
      this.#outbox.set(to, queued);
    }
    const linked = LINKED.has(body[0] as string);
    queued.push(carries ? { text, linked, ...carries } : { text, linked });
    if (!this.#flushing) {
      this.#flushing = true;
      setImmediate(this.#flush);
    }
    return true;
  }

  /**
   * Sends what was gathered: each destination's messages as one (a batch when several), in
   * batches of at most {@link MAX_BATCH} characters (brokers bound their messages: NATS at 1 MB).
   */
  readonly #flush = (): void => {
    this.#flushing = false;
    const outbox = [...this.#outbox];
    this.#outbox.clear();
    for (const [to, all] of outbox) {
      let queued = all;
      if (to !== null && this.#links?.usable(to)) {
        // What a link carries goes there; membership keeps to the broker.
        const linked: Queued[] = [];
        queued = [];
        for (const q of all) (q.linked ? linked : queued).push(q);
        if (linked.length > 0) this.#sendLinked(to, linked);
      }
      let batch: Queued[] = [];
      let size = 0;
      for (const item of queued) {
        if (batch.length > 0 && size + item.text.length > MAX_BATCH) {
          this.#sendBatch(to, batch);
          batch = [];
          size = 0;
        }
        batch.push(item);
        size += item.text.length + 1;
      }
      if (batch.length > 0) this.#sendBatch(to, batch);
    }
  };

  /** Sends on the link to `to` in batches (through the broker when the link just went). */
  #sendLinked(to: string, queued: Queued[]): void {
    const links = this.#links as Links;
    let from = 0;
    let size = 0;
    for (let i = 0; i <= queued.length; i++) {
      const item = queued[i];
      if (i === queued.length || (i > from && size + (item as Queued).text.length > MAX_BATCH)) {
        const batch = queued.slice(from, i);
        const text = batchText(batch);
        let sent: boolean;
        try {
          sent = links.send(to, text);
        } catch {
          // Longer than a link frame: never sent, never put behind what follows on the broker.
          this.#failBatch(to, batch, 'PAYLOAD_TOO_LARGE', 'is too large for a link');
          sent = true;
        }
        if (!sent) this.#sendBatch(to, batch, text);
        from = i;
        size = 0;
      }
      if (item) size += item.text.length + 1;
    }
  }

  #sendBatch(to: string | null, batch: Queued[], text = batchText(batch)): void {
    try {
      this.#backplane.send(to, this.#sign(text));
    } catch (error) {
      this.#host.log('debug', `the ${this.name} backplane could not send`, error);
      const large = text.length > MAX_BATCH;
      this.#failBatch(
        to,
        batch,
        large ? 'PAYLOAD_TOO_LARGE' : 'CHANNEL_CLOSED',
        large ? 'is too large for the backplane' : 'could not be sent',
      );
    }
  }

  /** Nothing `batch` carried arrives: its asks fail now, and the asks it answered hear why. */
  #failBatch(to: string | null, batch: Queued[], code: ErrorCode, why: string): void {
    for (const item of batch) {
      if (item.ask !== undefined) this.#settle(item.ask, new ActorSpaceError(code, `the ask ${why}`));
      if (item.answer !== undefined && to !== null && code === 'PAYLOAD_TOO_LARGE') {
        this.#sendSafe(to, ['ans', item.answer, 0, { code, message: `the answer ${why}` }]);
      }
    }
  }

  /** Signs `text`, numbered: a message seen again (a replay on the broker) is dropped. */
  #sign(text: string): string {
    if (!this.#key) return text;
    const body = `${++this.#sent}.${text}`;
    return `${createHmac('sha256', this.#key).update(body).digest('base64url')}.${body}`;
  }

  /**
   * The message without its signature and number, and its number (0 unsigned), or null when
   * the signature is missing or wrong.
   */
  #verify(payload: string): { text: string; n: number } | null {
    if (!this.#key) return { text: payload, n: 0 };
    const dot = payload.indexOf('.');
    const next = payload.indexOf('.', dot + 1);
    if (dot !== 43 || next < 0) {
      this.#refused('an unsigned message');
      return null;
    }
    const body = payload.slice(dot + 1);
    const given = Buffer.from(payload.slice(0, dot));
    const expected = Buffer.from(createHmac('sha256', this.#key).update(body).digest('base64url'));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      this.#refused('a message with a wrong signature');
      return null;
    }
    return { text: payload.slice(next + 1), n: Number(payload.slice(dot + 1, next)) };
  }

  /** Counts a refused message; logged now and then, not for each. */
  #refused(what: string): void {
    this.#bad++;
    if (this.#bad === 1 || this.#bad % 1000 === 0) {
      this.#host.log('warn', `the ${this.name} backplane dropped ${what} (${this.#bad} so far)`);
    }
  }

  /** Messages refused so far (unsigned, wrongly signed or malformed). */
  get refused(): number {
    return this.#bad;
  }

  /** What the direct links hear of and tell this cluster. */
  #linkHost() {
    return {
      node: this.node,
      key: this.#key,
      accepting: () => this.#up && !this.#closed,
      received: (from: string, text: string) => this.#linked(from, text),
      opened: (node: string, id: string): boolean => {
        if (!this.#up) return false;
        try {
          // Through the broker, after what was sent there before: the other node holds what
          // the link brings until this arrives.
          this.#backplane.send(node, this.#sign(JSON.stringify(['via', this.node, id])));
          return true;
        } catch {
          return false;
        }
      },
      lost: (node: string, reason: string) => {
        // What the link carried may be lost both ways: asks on that node fail now, and it is
        // asked again only once heard from (a killed node's asks fail at once, not at the timeout).
        const state = this.#nodes.get(node);
        if (state) state.live = false;
        this.#failPending(node, `the link to node ${node} closed (${reason})`);
        this.#stopServing(node);
      },
      log: (level: 'debug' | 'warn', text: string, details?: unknown) => this.#host.log(level, text, details),
    };
  }

  /** Messages that came on the link from `from`: only what links carry, and only as `from`. */
  #linked(from: string, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.#refused('a malformed message');
      return;
    }
    const batch = Array.isArray(parsed) && Array.isArray(parsed[0]);
    for (const one of batch ? (parsed as unknown[]) : [parsed]) {
      const m = one as unknown[];
      if (!Array.isArray(m) || m[1] !== from || !LINKED.has(m[0] as string)) {
        this.#refused('a malformed message');
        continue;
      }
      this.#handle(m);
    }
  }

  #down(): ActorSpaceError {
    return new ActorSpaceError('CHANNEL_CLOSED', `the ${this.name} backplane is not connected`);
  }
}

/** Messages as one text: the message itself, or a batch of them. */
function batchText(batch: Queued[]): string {
  return batch.length === 1 ? (batch[0] as Queued).text : `[${batch.map((q) => q.text).join(',')}]`;
}

function sameSession(a: SessionInfo, b: SessionInfo): boolean {
  const open = a.state === 'open' && b.state === 'open';
  return (
    JSON.stringify({ ...a, lastSeen: open ? 0 : a.lastSeen }) ===
    JSON.stringify({ ...b, lastSeen: open ? 0 : b.lastSeen })
  );
}

/** A session another node lists has the shape the gateway relies on. */
function isSessionInfo(info: unknown): info is SessionInfo {
  const i = info as SessionInfo;
  return (
    typeof i === 'object' &&
    i !== null &&
    typeof i.id === 'string' &&
    typeof i.route === 'string' &&
    typeof i.caller === 'object' &&
    i.caller !== null &&
    typeof i.caller.id === 'string' &&
    (i.caller.type === 'client' || i.caller.type === 'service') &&
    (i.state === 'open' || i.state === 'suspended') &&
    Array.isArray(i.capabilities) &&
    i.capabilities.every((c) => typeof c === 'object' && c !== null && typeof c.type === 'string')
  );
}

function isMember(member: unknown): member is Member {
  const m = member as Member;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.key === 'string' &&
    typeof m.id === 'string' &&
    typeof m.meta === 'object' &&
    m.meta !== null
  );
}

type WireCaller = [string, Caller['type'], Record<string, unknown>];

function wireCaller(caller: Caller | undefined): WireCaller | null {
  return caller && caller.type !== 'system' ? [caller.id, caller.type, caller.claims] : null;
}

function toCaller(wire: WireCaller | null | undefined): Caller | undefined {
  if (!Array.isArray(wire)) return undefined;
  const [id, type, claims] = wire;
  if (typeof id !== 'string' || (type !== 'client' && type !== 'service')) return undefined;
  return frozenCaller({ id, type, claims: typeof claims === 'object' && claims !== null ? claims : {} });
}

function wireError(error: unknown): { code: ErrorCode; message: string; details?: unknown } {
  if (error instanceof ActorSpaceError) {
    const out: { code: ErrorCode; message: string; details?: unknown } = {
      code: error.code,
      message: error.message,
    };
    if (error.details !== undefined) out.details = error.details;
    return out;
  }
  return { code: 'REMOTE_ERROR', message: message(error) };
}

function remoteError(wire: unknown): ActorSpaceError {
  const w = (typeof wire === 'object' && wire !== null ? wire : {}) as Record<string, unknown>;
  const code = typeof w.code === 'string' ? (w.code as ErrorCode) : 'REMOTE_ERROR';
  return new ActorSpaceError(code, typeof w.message === 'string' ? w.message : 'failed on another node', {
    ...(w.details !== undefined && { details: w.details }),
  });
}

function gone(node: string): ActorSpaceError {
  return new ActorSpaceError(
    'CHANNEL_CLOSED',
    `node ${node.slice(0, 64)} is not in the cluster, or not heard from since its link closed or the broker came back`,
  );
}

function message(error: unknown): string {
  return (error as Error)?.message ?? String(error);
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new RangeError(`createActorServer: ${name} must be a positive number, got ${String(value)}`);
  }
  return value;
}
