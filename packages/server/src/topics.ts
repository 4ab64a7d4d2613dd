/**
 * Topics: publish/subscribe across sessions. A topic is named by a pattern of the server's
 * `topics` option (`room/:id`); its rules decide who subscribes and who publishes. Every event
 * gets the topic's next sequence number and is kept in the topic's history for a while, so a
 * client that comes back in a fresh session gets what it missed (`recovered: true`), or learns
 * that it cannot (`recovered: false`). Each event is encoded once for all subscribers. A
 * subscriber too slow to keep up is skipped (it gets the gap replayed from history when it
 * drains, or a `recovered: false` notice) or closed, as the topic says. Event streams
 * (`GET <path>/topics/<topic>`, sse.ts) subscribe through the same rules, history and slow
 * policy: a subscriber's `Outlet` is a session's channel or a stream.
 */

import { randomUUID } from 'node:crypto';
import {
  type Actor,
  ActorSpaceError,
  type Caller,
  type Channel,
  CloseCode,
  checkTopic,
  decodeData,
  EncodedTell,
  encodeData,
  type Member,
} from '@actorspace/core';
import type { BackplaneEvent, BackplaneKeep } from './backplane.js';
import { encodeStreamEvent, encodeStreamEventFrom } from './sse.js';

/** Decides whether `caller` may subscribe to (or publish on) a topic; `params` are the pattern's. */
export type Rule = (caller: Caller, params: Record<string, string>) => boolean | Promise<boolean>;

/** One topic pattern of `createActorServer({ topics })`. */
export interface TopicOptions {
  /** Who may subscribe. @default everyone the server accepted */
  subscribe?: Rule;
  /** Who may publish from a client or service (the server's own code always may). @default nobody */
  publish?: Rule;
  /**
   * Events kept for recovery. `false` keeps none (every fresh session then recovers `false`).
   * @default { size: 100, ttl: 120000 }
   */
  history?: HistoryOptions | false;
  /** Subscribers may join the topic's presence, and every subscriber sees who is there. @default false */
  presence?: boolean;
  /** Events published by clients and services carry the publisher's caller id. @default true */
  publisher?: boolean;
  /** What happens to a subscriber that does not keep up. @default { limit: 1048576, policy: 'skip' } */
  slow?: SlowOptions;
  /**
   * Milliseconds a busy topic gathers events before sending them. An event published while the
   * topic is quiet (nothing sent in the last `batch` ms) goes out at once; events published
   * sooner after a send are gathered and reach each subscriber together, in one WebSocket
   * message, `batch` ms after that send. So a quiet topic adds no latency, and a busy one
   * writes to each subscriber at most once per `batch` ms instead of once per event (several
   * times more deliveries per second with many subscribers, see docs/benchmarks.md). `0` sends
   * every event at once.
   * @default 1
   */
  batch?: number;
}

/** How many events a topic keeps for recovery, and for how long. */
export interface HistoryOptions {
  /** The most events kept. @default 100 */
  size?: number;
  /** Milliseconds an event is kept. @default 120000 */
  ttl?: number;
}

/**
 * A subscriber is slow when more than `limit` bytes of messages wait to be written to it:
 * beyond what its connection already has in flight (its flow-control window, 1 MiB by
 * default), because it stopped reading or cannot keep up.
 */
export interface SlowOptions {
  /** Bytes that may wait for a subscriber before it counts as slow. @default 1048576 */
  limit?: number;
  /**
   * `skip` stops sending to a slow subscriber and, when it drains, replays what it missed from
   * history (or, when history no longer covers it, sends a `recovered: false` gap notice);
   * `close` closes its connection with 4429.
   * @default 'skip'
   */
  policy?: 'skip' | 'close';
}

/** What `actors.topic(name)` reports. */
export interface TopicInfo {
  /** The topic's name. */
  name: string;
  /** Changes when the server forgets the topic (a restart), so clients know their numbers are stale. */
  epoch: string;
  /** The sequence number of the last event (0 before the first). */
  seq: number;
  /** Subscribers: sessions subscribed, and open event streams (`GET <path>/topics/<topic>`). */
  subscribers: number;
  /** The present members, for topics with `presence`. */
  presence: Member[];
}

/** One event of a topic, as published, kept for recovery and handed to each subscriber's outlet. */
export interface TopicEvent {
  /** Its number in the topic. */
  readonly seq: number;
  /** The number of the topic's event before it (`seq - 1` on one node; any lower number in a cluster). */
  readonly prev: number;
  /** When it was published (`Date.now()`). */
  readonly at: number;
  /** The event as a tell to a session's topics sink, encoded once for every session. */
  readonly message: EncodedTell;
  /** The event as published: its type, data and publisher (for subscribers in the server's own code). */
  readonly type: string;
  readonly data: unknown;
  readonly publisher: string | undefined;
  /** The event as an event-stream block, encoded once for every stream (when first needed). */
  stream?: Uint8Array;
}

/**
 * Where one subscriber's messages go: a session's topics sink over its channel, or an event
 * stream. Every method but `ready` is called synchronously by the topic.
 */
export interface Outlet {
  /** True for an event stream: the topic gives it `event.stream`. */
  readonly stream: boolean;
  /**
   * Writes one event, unless more than `limit` bytes already wait for this subscriber: then
   * false (it is slow).
   * @throws when it cannot carry the event: closed, or (`PAYLOAD_TOO_LARGE`) too large for it.
   */
  send(event: TopicEvent, limit: number): boolean;
  /** Tells the subscriber that events were skipped: it continues after `seq` of topic epoch `epoch`. */
  gap(epoch: string, seq: number): void;
  /** A presence change (`join`, `leave`, `update`). */
  presence(message: EncodedTell): void;
  /** Resolves once what waits for the subscriber has drained; rejects once it closed. */
  ready(): Promise<void>;
  /** Closes the subscriber: it was too slow for the topic (`slow.policy: 'close'`). */
  tooSlow(reason: string): void;
}

/** A session's outlet: tells to its topics sink actor over the session's channel. */
class ChannelOutlet implements Outlet {
  readonly stream = false;
  readonly #channel: Channel;
  readonly #sink: string;
  readonly #topic: string;

  constructor(channel: Channel, sink: string, topic: string) {
    this.#channel = channel;
    this.#sink = sink;
    this.#topic = topic;
  }

  send(event: TopicEvent, limit: number): boolean {
    return this.#channel.tellEncoded(this.#sink, event.message, limit);
  }

  gap(epoch: string, seq: number): void {
    this.#channel.makeRemote(this.#sink).tell('gap', { t: this.#topic, s: seq, e: epoch });
  }

  presence(message: EncodedTell): void {
    this.#channel.tellEncoded(this.#sink, message);
  }

  ready(): Promise<void> {
    return this.#channel.ready();
  }

  tooSlow(reason: string): void {
    this.#channel.close(CloseCode.RATE_LIMITED, reason);
  }
}

/** What `actors.subscribe()` calls with each event of a topic. */
export type TopicListener = (
  type: string,
  data: unknown,
  meta: {
    /** The topic. */
    topic: string;
    /** The event's number. */
    seq: number;
    /** Who published it (client or service id), when the topic shows publishers. */
    publisher?: string;
  },
) => void;

/** A subscriber in the server's own code: a function called with each event, never slow. */
class ListenerOutlet implements Outlet {
  readonly stream = false;
  readonly #topic: string;
  readonly #handler: TopicListener;
  readonly #host: TopicHost;

  constructor(topic: string, handler: TopicListener, host: TopicHost) {
    this.#topic = topic;
    this.#handler = handler;
    this.#host = host;
  }

  send(event: TopicEvent): boolean {
    const meta: Parameters<TopicListener>[2] = { topic: this.#topic, seq: event.seq };
    if (event.publisher !== undefined) meta.publisher = event.publisher;
    try {
      this.#handler(event.type, event.data, meta);
    } catch (error) {
      this.#host.error(new ActorSpaceError('REMOTE_ERROR', 'a topic listener threw', { cause: error }));
    }
    return true;
  }

  gap(): void {
    // A listener never falls behind; a renumbered topic simply continues.
  }

  presence(): void {}

  ready(): Promise<void> {
    return Promise.resolve();
  }

  tooSlow(): void {}
}

/** One subscription to one topic: a session's, or an event stream's. */
interface Subscriber {
  /** The session id, or the event stream's id: one subscription each. */
  key: string;
  outlet: Outlet;
  member: Member | null;
  /** The first sequence number not sent because the subscriber was slow, or null. */
  behind: number | null;
  /**
   * The next sequence number it is owed: events below it were sent (or published before it
   * subscribed), so a gathered event that a replay already covered is not sent twice.
   */
  next?: number;
}

const DEFAULT_HISTORY = { size: 100, ttl: 120_000 };
const DEFAULT_SLOW_LIMIT = 1024 * 1024;
/** Milliseconds a busy topic gathers events (see {@link TopicOptions.batch}). */
const DEFAULT_BATCH = 1;
const SWEEP_EVERY = 30_000;
/** Events of a topic remembered by nonce on a backplane (a replayed one is dropped). */
const MAX_NONCES = 4096;
/** Milliseconds between a slow subscriber's connection draining and the next try. */
const RETRY_AFTER = 20;

/** A compiled pattern: `room/:id` matches `room/42` with `{ id: '42' }`. */
interface Pattern {
  source: string;
  regex: RegExp;
  keys: string[];
  options: TopicOptions;
}

/**
 * Checks the `topics` option and compiles its patterns.
 * @throws TypeError for a malformed pattern or options.
 */
export function compileTopics(topics: unknown): Pattern[] {
  if (topics === undefined) return [];
  if (typeof topics !== 'object' || topics === null) {
    throw new TypeError('createActorServer: topics must be an object of pattern → options');
  }
  return Object.entries(topics as Record<string, TopicOptions>).map(([source, options]) => {
    const where = `createActorServer: topic "${source}"`;
    if (!source || source.length > 256) throw new TypeError(`${where}: a pattern is 1-256 characters`);
    if (typeof options !== 'object' || options === null)
      throw new TypeError(`${where} needs options ({} for defaults)`);
    for (const rule of ['subscribe', 'publish'] as const) {
      if (options[rule] !== undefined && typeof options[rule] !== 'function') {
        throw new TypeError(`${where}: ${rule} must be a function (caller, params) => boolean`);
      }
    }
    const keys: string[] = [];
    const parts = source.split('/').map((segment) => {
      if (segment.startsWith(':')) {
        const key = segment.slice(1);
        if (!/^[A-Za-z_]\w*$/.test(key))
          throw new TypeError(`${where}: "${segment}" is not a parameter name`);
        keys.push(key);
        return '([^/]+)';
      }
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
    return { source, regex: new RegExp(`^${parts.join('/')}$`), keys, options };
  });
}

/** A topic and the pattern parameters its name gave, or null. */
type Found = { topic: Topic; params: Record<string, string> } | null;

/** What the hub needs from the engine. */
export interface TopicHost {
  /** A failure no caller waits for (a throwing rule). */
  error(error: ActorSpaceError): void;
}

/**
 * The topics' side of a backplane (cluster.ts): events are numbered by the broker and come
 * back to every node through {@link TopicHub.deliver}; presence changes go to every node.
 */
export interface TopicCluster {
  /** Numbers and spreads one event (its payload as {@link TopicHub.deliver} reads it). */
  publish(topic: string, payload: string, keep: BackplaneKeep): Promise<{ epoch: string; seq: number }>;
  /** What the broker keeps of a topic. */
  history(topic: string, keep: BackplaneKeep): Promise<{ epoch: string; events: BackplaneEvent[] } | null>;
  /** A member of this node joined, changed or left a topic's presence. */
  presence(topic: string, kind: 'join' | 'leave' | 'update', member: Member): void;
}

/** The server's topics: patterns, live topics, and each session's topics actor. */
export class TopicHub {
  readonly #patterns: Pattern[];
  readonly #host: TopicHost;
  readonly #topics = new Map<string, Topic>();
  #sweeper: ReturnType<typeof setInterval> | null = null;
  /** Set when the server runs on a backplane: the broker numbers events, every node delivers them. */
  cluster: TopicCluster | null = null;

  constructor(patterns: Pattern[], host: TopicHost) {
    this.#patterns = patterns;
    this.#host = host;
  }

  /** The topic `name` (made when first used), or FORBIDDEN when no pattern matches. */
  #topic(name: string): { topic: Topic; params: Record<string, string> } {
    const found = this.#find(name);
    if (found) return found;
    throw new ActorSpaceError('FORBIDDEN', `no topic pattern matches "${name.slice(0, 64)}"`, {
      details: { topic: name.slice(0, 256) },
    });
  }

  #find(name: string): Found {
    checkTopic(name);
    for (const pattern of this.#patterns) {
      const m = pattern.regex.exec(name);
      if (!m) continue;
      const params: Record<string, string> = Object.create(null);
      pattern.keys.forEach((key, i) => {
        params[key] = m[i + 1] as string;
      });
      let topic = this.#topics.get(name);
      if (!topic) {
        const cluster = this.cluster;
        topic = new Topic(
          name,
          pattern.options,
          cluster ? (kind, member) => cluster.presence(name, kind, member) : null,
        );
        this.#topics.set(name, topic);
        this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_EVERY);
        this.#sweeper.unref?.();
      }
      return { topic, params };
    }
    return null;
  }

  /**
   * Publishes from the server's own code (no rule applies). Resolves the event's sequence
   * number: at once on one node; on a backplane once the broker numbered it (rejecting with
   * `CHANNEL_CLOSED` when the broker cannot be reached).
   * @throws ActorSpaceError `FORBIDDEN` when no pattern matches; `INVALID_MESSAGE` for data the
   *   codec cannot carry; TypeError for a bad topic name or type.
   */
  publish(name: string, type: string, data: unknown, publisher?: Caller): Promise<number> {
    const { topic } = this.#topic(name);
    const cluster = this.cluster;
    if (!cluster) return Promise.resolve(topic.publish(type, data, publisher));
    checkEventType(type);
    const { json, meta } = encodeData(data, null);
    const by =
      publisher && publisher.type !== 'system' && topic.options.publisher !== false ? publisher.id : null;
    // The topic and a nonce travel inside the payload (which the cluster signs): an event copied
    // onto another topic, or sent again, is recognised and dropped.
    const payload = JSON.stringify([type, json, meta ?? null, by, name, randomUUID()]);
    return cluster.publish(name, payload, topic.keep).then(
      (numbered) => numbered.seq,
      (error) => {
        throw error instanceof ActorSpaceError
          ? error
          : new ActorSpaceError(
              'CHANNEL_CLOSED',
              `the backplane could not publish: ${String((error as Error)?.message ?? error)}`,
            );
      },
    );
  }

  /**
   * An event the backplane numbered (from any node, this one included): kept in the topic's
   * history and sent to this node's subscribers. Events of topics no pattern of this node
   * matches, and payloads this node cannot read, are dropped.
   */
  deliver(name: string, event: BackplaneEvent): void {
    const decoded = readEvent(event.payload, name);
    if (decoded) {
      this.#findSafe(name)?.topic.receive(
        event,
        decoded.type,
        decoded.data,
        decoded.publisher,
        decoded.nonce,
      );
    }
  }

  /** A member of another node joined, changed or left topic `name`'s presence. */
  remotePresence(name: string, kind: 'join' | 'leave' | 'update', member: Member): void {
    const found = this.#findSafe(name);
    if (found?.topic.options.presence) found.topic.remotePresence(kind, member);
  }

  /**
   * The backplane is back after an outage: each topic someone here subscribes to reads what
   * the broker kept, so events published while this node could not hear them reach its
   * subscribers now (or, when the broker forgot them, the subscribers hear of the gap).
   */
  async catchUp(): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    for (const [name, topic] of [...this.#topics]) {
      if (!topic.subscribed) continue;
      try {
        const kept = await cluster.history(name, topic.keep);
        for (const event of kept?.events ?? [])
          this.deliver(name, { ...event, epoch: kept?.epoch ?? event.epoch });
      } catch {
        // The broker went again: the next time it is back, this runs again.
        return;
      }
    }
  }

  /** The members of this node's subscribers, by topic (a cluster node's presence, for the others). */
  localMembers(): { topic: string; members: Member[] }[] {
    const out: { topic: string; members: Member[] }[] = [];
    for (const [name, topic] of this.#topics) {
      const members = topic.localMembers();
      if (members.length > 0) out.push({ topic: name, members });
    }
    return out;
  }

  #findSafe(name: string): Found {
    try {
      return this.#find(name);
    } catch {
      return null;
    }
  }

  /** On a backplane, a topic first used here learns its epoch, number and history from the broker. */
  async #loaded(topic: Topic): Promise<void> {
    const cluster = this.cluster;
    if (!cluster) return;
    topic.loading ??= cluster
      .history(topic.name, topic.keep)
      .then((kept) => topic.load(kept))
      .catch(() => {
        // The broker is away: the topic starts from what reaches this node (recovery may fail).
        topic.loading = null;
      });
    await topic.loading;
  }

  /** What a topic looks like now, or null when it does not exist (yet). */
  info(name: string): TopicInfo | null {
    return this.#topics.get(name)?.info() ?? null;
  }

  /** The actor a session's client talks to about topics (guid `$topics` in its space). */
  sessionActor(session: string, caller: Caller): Actor {
    const hub = this;
    return {
      async receive(type, data, ctx) {
        const request = (typeof data === 'object' && data !== null ? data : {}) as Record<string, unknown>;
        const channel = ctx.channel;
        if (!channel) throw new ActorSpaceError('FORBIDDEN', 'topics are for the session peer');
        switch (type) {
          case 'subscribe':
            return hub.#subscribe(session, caller, channel, request);
          case 'unsubscribe':
            hub.#topics.get(String(request.topic))?.remove(session);
            return true;
          case 'publish':
            return hub.#publish(caller, request);
          case 'presence':
            return hub.#update(session, request);
          default:
            throw new ActorSpaceError(
              'INVALID_MESSAGE',
              `the topics actor has no message "${type.slice(0, 64)}"`,
            );
        }
      },
      onStop() {
        hub.dropSession(session);
      },
    };
  }

  /**
   * Publishes as `caller` (a service through the gateway), under the topic's `publish` rule.
   * Resolves with the event's number and how many subscribers it went to.
   * @throws ActorSpaceError `FORBIDDEN` when no pattern matches or the rule refuses;
   *   `INVALID_MESSAGE` for a bad topic name or data the codec cannot carry.
   */
  async publishAs(
    caller: Caller,
    topic: string,
    type: string,
    data: unknown,
  ): Promise<{ seq: number; subscribers: number }> {
    try {
      const { seq } = await this.#publish(caller, { topic, type, data });
      return { seq, subscribers: this.#topics.get(topic)?.info().subscribers ?? 0 };
    } catch (error) {
      if (error instanceof TypeError) throw new ActorSpaceError('INVALID_MESSAGE', error.message);
      throw error;
    }
  }

  /** A session ended: it leaves every topic (and their presence). */
  dropSession(session: string): void {
    for (const topic of this.#topics.values()) topic.remove(session);
  }

  /**
   * Whether `caller` may open an event stream on topic `name`: a pattern must match, and its
   * `subscribe` rule allow the caller.
   * @throws ActorSpaceError `FORBIDDEN` when no pattern matches or the rule refuses; TypeError
   *   for a topic name that is not 1-256 characters.
   */
  async allowStream(name: string, caller: Caller): Promise<void> {
    const { topic, params } = this.#topic(name);
    await this.#allowed(topic, 'subscribe', caller, params);
    await this.#loaded(topic);
  }

  /**
   * Adds an event stream (allowed by {@link allowStream}) to topic `name` as subscriber `key`,
   * replaying what it missed after `since` when history still holds it. Answers the topic's
   * epoch and number, and with `since` whether the gap was replayed.
   */
  openStream(
    name: string,
    key: string,
    outlet: Outlet,
    since: { epoch: string; seq: number } | null,
  ): { epoch: string; seq: number; recovered?: boolean } {
    const { topic } = this.#topic(name);
    return topic.add({ key, outlet, member: null, behind: null }, null, undefined, since);
  }

  /**
   * Adds a subscriber in the server's own code: `handler` gets every event of topic `name` (of
   * every node, on a backplane), in order, first the last `replay` events history keeps.
   * @throws ActorSpaceError `FORBIDDEN` when no pattern matches; TypeError for a bad name.
   */
  async listen(name: string, key: string, handler: TopicListener, replay: number): Promise<void> {
    const { topic } = this.#topic(name);
    await this.#loaded(topic);
    topic.add(
      { key, outlet: new ListenerOutlet(name, handler, this.#host), member: null, behind: null },
      null,
      undefined,
      topic.since(replay),
    );
  }

  /** An event stream or a listener (`actors.subscribe`) ended: it leaves its topic at once. */
  leave(name: string, key: string): void {
    this.#topics.get(name)?.remove(key);
  }

  /** Stops the sweeper; the topics are forgotten. */
  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
    for (const topic of this.#topics.values()) topic.stop();
    this.#topics.clear();
  }

  async #subscribe(session: string, caller: Caller, channel: Channel, request: Record<string, unknown>) {
    const { topic, params } = this.#topic(request.topic as string);
    await this.#allowed(topic, 'subscribe', caller, params);
    const sink = request.sink;
    if (typeof sink !== 'string' || sink.length === 0 || sink.length > 256) {
      throw new ActorSpaceError('INVALID_MESSAGE', 'subscribe needs the sink actor guid');
    }
    const presence = request.presence;
    if (
      presence !== undefined &&
      (typeof presence !== 'object' || presence === null || Array.isArray(presence))
    ) {
      throw new ActorSpaceError('INVALID_MESSAGE', 'presence must be an object of metadata');
    }
    if (presence !== undefined && !topic.options.presence) {
      throw new ActorSpaceError('FORBIDDEN', `topic "${topic.name}" has no presence`);
    }
    const from = request.from as { epoch?: unknown; seq?: unknown } | undefined;
    const since =
      from && typeof from.epoch === 'string' && Number.isSafeInteger(from.seq)
        ? { epoch: from.epoch, seq: from.seq as number }
        : null;
    await this.#loaded(topic);
    return topic.add(
      { key: session, outlet: new ChannelOutlet(channel, sink, topic.name), member: null, behind: null },
      caller,
      presence as Record<string, unknown> | undefined,
      since,
    );
  }

  async #publish(caller: Caller, request: Record<string, unknown>) {
    const { topic, params } = this.#topic(request.topic as string);
    await this.#allowed(topic, 'publish', caller, params);
    if (typeof request.type !== 'string')
      throw new ActorSpaceError('INVALID_MESSAGE', 'publish needs a type');
    return { seq: await this.publish(topic.name, request.type, request.data, caller) };
  }

  #update(session: string, request: Record<string, unknown>) {
    const topic = this.#topics.get(String(request.topic));
    const meta = request.meta;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) {
      throw new ActorSpaceError('INVALID_MESSAGE', 'presence needs an object of metadata');
    }
    if (!topic?.update(session, meta as Record<string, unknown>)) {
      throw new ActorSpaceError('FORBIDDEN', 'not a present member of this topic');
    }
    return true;
  }

  async #allowed(
    topic: Topic,
    rule: 'subscribe' | 'publish',
    caller: Caller,
    params: Record<string, string>,
  ) {
    const check = topic.options[rule];
    // Without a rule, anyone subscribes and only the server publishes.
    if (check === undefined) {
      if (rule === 'subscribe') return;
    } else {
      try {
        if ((await check(caller, params)) === true) return;
      } catch (error) {
        this.#host.error(
          new ActorSpaceError('REMOTE_ERROR', `the ${rule} rule of topic "${topic.name}" threw`, {
            cause: error,
          }),
        );
      }
    }
    throw new ActorSpaceError(
      'FORBIDDEN',
      `${caller.type} ${caller.id} may not ${rule} on topic "${topic.name}"`,
      {
        details: { topic: topic.name, rule },
      },
    );
  }

  /** Forgets topics nobody subscribes to whose history has expired. */
  #sweep(): void {
    for (const [name, topic] of this.#topics) if (topic.idle()) this.#topics.delete(name);
    if (this.#topics.size === 0 && this.#sweeper) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }
}

/**
 * A topic event as the cluster published it (`[type, json, meta, publisher, topic, nonce]`),
 * decoded; null when it is malformed or names another topic.
 */
function readEvent(
  payload: string,
  name: string,
): { type: string; data: unknown; publisher: string | undefined; nonce: string } | null {
  try {
    const [type, json, meta, by, topic, nonce] = JSON.parse(payload) as [
      string,
      unknown,
      unknown,
      string | null,
      string,
      string,
    ];
    checkEventType(type);
    if (topic !== name || typeof nonce !== 'string') return null;
    return { type, data: decodeData(json, meta ?? undefined), publisher: by ?? undefined, nonce };
  } catch {
    return null;
  }
}

/** @throws TypeError for an event type that is not a string of 1-256 characters (as a tell's). */
function checkEventType(type: unknown): asserts type is string {
  if (typeof type !== 'string' || type.length === 0 || type.length > 256) {
    throw new TypeError(`a message type is a string of 1-256 characters, got ${String(type).slice(0, 40)}`);
  }
}

/** One live topic: its numbers, history, subscribers and members. */
class Topic {
  readonly name: string;
  readonly options: TopicOptions;
  /** On one node, made here; on a backplane, the broker's ('' until this node learns it). */
  epoch: string;
  seq = 0;
  /** On a backplane: the broker's history being read, once per topic on this node. */
  loading: Promise<void> | null = null;
  /** On a backplane: where this node's presence changes go. */
  readonly #report: ((kind: 'join' | 'leave' | 'update', member: Member) => void) | null;
  /** On a backplane: the nonces of the latest events, to drop one that comes again. */
  readonly #nonces = new Set<string>();
  /** On a backplane: the members subscribed on other nodes, by key. */
  readonly #remote = new Map<string, Member>();
  lastPublish = 0;
  readonly #history: TopicEvent[] = [];
  readonly #size: number;
  readonly #ttl: number;
  readonly #subs = new Map<string, Subscriber>();
  readonly #limit: number;
  /** Event streams among the subscribers: while there are any, each event is encoded for them as published. */
  #streams = 0;
  readonly #batch: number;
  #pending: TopicEvent[] = [];
  #flushTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the last send to the subscribers ended (`performance.now()`). */
  #sentAt = Number.NEGATIVE_INFINITY;

  constructor(
    name: string,
    options: TopicOptions,
    report: ((kind: 'join' | 'leave' | 'update', member: Member) => void) | null,
  ) {
    this.name = name;
    this.options = options;
    this.#report = report;
    this.epoch = report ? '' : crypto.randomUUID();
    const history =
      options.history === false ? { size: 0, ttl: 0 } : { ...DEFAULT_HISTORY, ...options.history };
    this.#size = Math.max(0, Math.floor(history.size));
    this.#ttl = Math.max(0, history.ttl);
    this.#limit = options.slow?.limit ?? DEFAULT_SLOW_LIMIT;
    this.#batch = Math.max(0, options.batch ?? DEFAULT_BATCH);
  }

  /** What the broker keeps of this topic (its history options). */
  get keep(): BackplaneKeep {
    return { size: this.#size, ttl: this.#ttl };
  }

  publish(type: string, data: unknown, publisher: Caller | undefined): number {
    const by =
      publisher && publisher.type !== 'system' && this.options.publisher !== false ? publisher.id : undefined;
    const seq = this.seq + 1;
    this.#dispatch(this.#event(seq, seq - 1, Date.now(), type, data, by));
    return seq;
  }

  #event(
    seq: number,
    prev: number,
    at: number,
    type: string,
    data: unknown,
    by: string | undefined,
  ): TopicEvent {
    const tell: Record<string, unknown> = { t: this.name, s: seq, y: type, d: data };
    if (by !== undefined) tell.p = by;
    const event: TopicEvent = {
      seq,
      prev,
      at,
      message: new EncodedTell('event', tell),
      type,
      data,
      publisher: by,
    };
    if (this.#streams > 0) event.stream = encodeStreamEvent(this.epoch, seq, type, data, by);
    return event;
  }

  /**
   * An event the backplane numbered. A new epoch (the broker forgot the topic, or this node
   * learns it) renumbers the topic; an event that does not follow the last one this node has
   * (it missed some while the broker was away) starts history over. Either way the
   * subscribers hear of the gap (`recovered: false`), never silently.
   */
  receive(
    numbered: BackplaneEvent,
    type: string,
    data: unknown,
    by: string | undefined,
    nonce: string,
  ): void {
    // The same event again (a replay on the broker): once is enough.
    if (this.#nonces.has(nonce)) return;
    this.#nonces.add(nonce);
    if (this.#nonces.size > MAX_NONCES) this.#nonces.delete(this.#nonces.values().next().value as string);
    let prev = numbered.prev ?? this.seq;
    if (numbered.epoch !== this.epoch) {
      // Numbers of another epoch mean nothing here: the new one starts just before this event.
      prev = numbered.prev ?? numbered.seq - 1;
      this.epoch = numbered.epoch;
      this.#restart(prev);
    } else if (numbered.seq <= this.seq) {
      return;
    } else if (prev !== this.seq) {
      this.#restart(prev);
    }
    this.#dispatch(this.#event(numbered.seq, prev, numbered.at, type, data, by));
  }

  /** Forgets history and tells every subscriber it continues after `seq` (of the current epoch). */
  #restart(seq: number): void {
    this.#history.length = 0;
    this.stop();
    this.seq = seq;
    for (const sub of this.#subs.values()) this.#gap(sub);
  }

  /** The broker's history of this topic, read when the topic was first used on this node. */
  load(kept: { epoch: string; events: BackplaneEvent[] } | null): void {
    if (!kept || kept.events.length === 0) return;
    if (this.epoch !== '' && this.epoch !== kept.epoch) return;
    const first = this.#history[0];
    const older: TopicEvent[] = [];
    let prev: number | undefined;
    for (const numbered of kept.events) {
      if (first && numbered.seq >= first.seq) break;
      if (numbered.seq <= this.seq && !first && this.epoch !== '') continue;
      const decoded = readEvent(numbered.payload, this.name);
      if (!decoded) {
        older.length = 0;
        prev = undefined;
        continue;
      }
      this.#nonces.add(decoded.nonce);
      const p = numbered.prev ?? prev;
      if (p !== undefined && prev !== undefined && p !== prev) {
        // A hole inside what the broker kept: only what follows it can be replayed.
        older.length = 0;
      }
      if (p === undefined) {
        // Where this run starts is unknown: only what follows it can be replayed.
        prev = numbered.seq;
        continue;
      }
      older.push(this.#event(numbered.seq, p, numbered.at, decoded.type, decoded.data, decoded.publisher));
      prev = numbered.seq;
    }
    if (older.length === 0) return;
    const last = older[older.length - 1] as TopicEvent;
    // They join what arrived meanwhile only when nothing is missing between them.
    if (first && first.prev !== last.seq) return;
    this.epoch = kept.epoch;
    this.#history.unshift(...older);
    if (this.#history.length > this.#size) this.#history.splice(0, this.#history.length - this.#size);
    this.seq = Math.max(this.seq, last.seq);
  }

  #dispatch(event: TopicEvent): void {
    const seq = event.seq;
    this.seq = seq;
    this.lastPublish = Date.now();
    if (this.#size > 0) {
      this.#history.push(event);
      if (this.#history.length > this.#size) this.#history.shift();
    }
    if (this.#batch > 0) {
      const since = performance.now() - this.#sentAt;
      if (this.#flushTimer || since < this.#batch) {
        // Busy: gathered, and sent together `batch` ms after the last send (one message each).
        this.#pending.push(event);
        this.#flushTimer ??= setTimeout(this.#flushPending, this.#batch - since);
        return;
      }
    }
    for (const sub of this.#subs.values()) if (sub.behind === null) this.#send(sub, event);
    this.#sent();
  }

  /** Sends the gathered events to every subscriber, in order. */
  readonly #flushPending = (): void => {
    this.#flushTimer = null;
    const events = this.#pending;
    this.#pending = [];
    for (const sub of this.#subs.values()) {
      for (const event of events) {
        // A subscriber that fell behind on one of them gets the rest from history.
        if (sub.behind !== null || !this.#send(sub, event)) break;
      }
    }
    this.#sent();
  };

  /**
   * Notes when this send's writes end: the connections write what was queued in microtasks
   * queued before this one, so the time is taken after them (a send to many subscribers takes
   * milliseconds, and the next publish should count from its end).
   */
  #sent(): void {
    if (this.#batch > 0) queueMicrotask(this.#sentNow);
  }

  readonly #sentNow = (): void => {
    this.#sentAt = performance.now();
  };

  /** Drops what is gathered and stops the batch timer (the server closes). */
  stop(): void {
    if (this.#flushTimer) clearTimeout(this.#flushTimer);
    this.#flushTimer = null;
    this.#pending = [];
  }

  /** Adds a subscriber (replaying from `since` when it comes back); answers the subscribe. */
  add(
    sub: Subscriber,
    caller: Caller | null,
    presence: Record<string, unknown> | undefined,
    since: { epoch: string; seq: number } | null,
  ): { epoch: string; seq: number; recovered?: boolean; members?: Member[] } {
    const old = this.#subs.get(sub.key);
    if (old?.member) sub.member = old.member;
    if (old?.outlet.stream) this.#streams--;
    this.#subs.set(sub.key, sub);
    if (sub.outlet.stream) this.#streams++;
    if (presence !== undefined && caller) {
      const joined = !sub.member;
      sub.member = { key: sub.member?.key ?? crypto.randomUUID(), id: caller.id, meta: presence };
      this.#presence(joined ? 'join' : 'update', sub.member);
    }
    const answer: { epoch: string; seq: number; recovered?: boolean; members?: Member[] } = {
      epoch: this.epoch,
      seq: this.seq,
    };
    sub.next = this.seq + 1;
    if (this.options.presence) answer.members = this.members();
    if (since) {
      const recoverable = since.epoch === this.epoch && since.seq <= this.seq && this.#holdsAfter(since.seq);
      answer.recovered = recoverable;
      if (recoverable) {
        // The client continues from its own number; the gap follows as events.
        answer.seq = since.seq;
        sub.next = since.seq + 1;
        const missed = this.#history.find((kept) => kept.seq > since.seq);
        if (missed) {
          sub.behind = missed.seq;
          this.#catchUp(sub);
        }
      }
    }
    return answer;
  }

  remove(key: string): void {
    const sub = this.#subs.get(key);
    if (!sub) return;
    this.#delete(sub);
    if (sub.member) this.#presence('leave', sub.member);
  }

  #delete(sub: Subscriber): void {
    this.#subs.delete(sub.key);
    if (sub.outlet.stream) this.#streams--;
  }

  update(session: string, meta: Record<string, unknown>): boolean {
    const sub = this.#subs.get(session);
    if (!sub?.member) return false;
    sub.member = { ...sub.member, meta };
    this.#presence('update', sub.member);
    return true;
  }

  members(): Member[] {
    const out = this.localMembers();
    for (const member of this.#remote.values()) out.push(member);
    return out;
  }

  /** The members subscribed on this node. */
  localMembers(): Member[] {
    const out: Member[] = [];
    for (const sub of this.#subs.values()) if (sub.member) out.push(sub.member);
    return out;
  }

  /** A member on another node joined, changed or left: this node's subscribers hear of it. */
  remotePresence(kind: 'join' | 'leave' | 'update', member: Member): void {
    if (kind === 'leave') {
      if (!this.#remote.delete(member.key)) return;
    } else this.#remote.set(member.key, member);
    this.#tellPresence(kind, member);
  }

  info(): TopicInfo {
    return {
      name: this.name,
      epoch: this.epoch,
      seq: this.seq,
      subscribers: this.#subs.size,
      presence: this.members(),
    };
  }

  /** True while a session, stream or listener of this node subscribes. */
  get subscribed(): boolean {
    return this.#subs.size > 0;
  }

  /** Nobody subscribes and nothing kept is still useful. */
  idle(): boolean {
    return this.#subs.size === 0 && this.#remote.size === 0 && Date.now() - this.lastPublish > this.#ttl;
  }

  /** Where a subscriber that wants the last `count` kept events starts (null: from now). */
  since(count: number): { epoch: string; seq: number } | null {
    if (count <= 0) return null;
    this.#expire();
    const first = this.#history[Math.max(0, this.#history.length - count)];
    return first ? { epoch: this.epoch, seq: first.prev } : null;
  }

  /** True when history still holds event `seq` (or `seq` is past the last one). */
  #covers(seq: number): boolean {
    if (seq > this.seq) return true;
    this.#expire();
    const first = this.#history[0];
    return first !== undefined && first.seq <= seq;
  }

  /** True when history still holds every event after `seq` (nothing is missing in between). */
  #holdsAfter(seq: number): boolean {
    if (seq >= this.seq) return true;
    this.#expire();
    const first = this.#history[0];
    return first !== undefined && first.prev <= seq;
  }

  #expire(): void {
    const oldest = Date.now() - this.#ttl;
    while (this.#history.length > 0 && (this.#history[0] as TopicEvent).at < oldest) this.#history.shift();
  }

  /** Sends one event to one subscriber; a slow one falls behind (or is closed). */
  #send(sub: Subscriber, event: TopicEvent): boolean {
    // Sent already (a replay covered it), or published before this subscriber came.
    if (event.seq < (sub.next ?? 0)) return true;
    let sent: boolean;
    try {
      // Published before any stream subscribed (a replay): encoded for streams now, once.
      if (sub.outlet.stream) event.stream ??= encodeStreamEventFrom(this.epoch, event.message);
      sent = sub.outlet.send(event, this.#limit);
    } catch (error) {
      // Closed: its session (or stream) is ending, and leaves on its own. Too large for this
      // peer, or not encodable for a stream: a gap, never a silent one.
      const code = (error as ActorSpaceError).code;
      if (code === 'PAYLOAD_TOO_LARGE' || (sub.outlet.stream && code !== 'CHANNEL_CLOSED')) this.#gap(sub);
      return false;
    }
    if (sent) {
      sub.next = event.seq + 1;
      return true;
    }
    if (this.options.slow?.policy === 'close') {
      this.#delete(sub);
      sub.outlet.tooSlow(`too slow for topic "${this.name}" (slow.limit)`);
      return false;
    }
    sub.behind = event.seq;
    this.#retry(sub);
    return false;
  }

  /** Tries a slow subscriber again once its connection drains (and a moment more, if it is still behind). */
  #retry(sub: Subscriber): void {
    sub.outlet.ready().then(
      () => setTimeout(() => this.#catchUp(sub), RETRY_AFTER),
      () => {
        // Closed: its session is ending.
      },
    );
  }

  /** Replays what a subscriber missed from history, or tells it the gap cannot be filled. */
  #catchUp(sub: Subscriber): void {
    if (this.#subs.get(sub.key) !== sub || sub.behind === null) return;
    if (!this.#covers(sub.behind)) {
      this.#gap(sub);
      return;
    }
    const from = sub.behind;
    sub.behind = null;
    for (const kept of this.#history) {
      if (kept.seq < from) continue;
      if (!this.#send(sub, kept)) return;
    }
  }

  /** Tells a subscriber that events were skipped: it continues from the topic's number. */
  #gap(sub: Subscriber): void {
    sub.behind = null;
    sub.next = this.seq + 1;
    try {
      sub.outlet.gap(this.epoch, this.seq);
    } catch {
      // The session is ending.
    }
  }

  #presence(kind: 'join' | 'leave' | 'update', member: Member): void {
    this.#report?.(kind, member);
    this.#tellPresence(kind, member);
  }

  #tellPresence(kind: 'join' | 'leave' | 'update', member: Member): void {
    const message = new EncodedTell(kind, { t: this.name, m: member });
    for (const sub of this.#subs.values()) {
      try {
        sub.outlet.presence(message);
      } catch {
        // Closed: that session is leaving.
      }
    }
  }
}
