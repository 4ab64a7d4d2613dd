/**
 * Topics: publish/subscribe across sessions. A topic is named by a pattern of the server's
 * `topics` option (`room/:id`); its rules decide who subscribes and who publishes. Every event
 * gets the topic's next sequence number and is kept in the topic's history for a while, so a
 * client that comes back in a fresh session gets what it missed (`recovered: true`), or learns
 * that it cannot (`recovered: false`). Each event is encoded once for all subscribers. A
 * subscriber too slow to keep up is skipped (it gets the gap replayed from history when it
 * drains, or a `recovered: false` notice) or closed, as the topic says.
 */
import {
  type Actor,
  ActorSpaceError,
  type Caller,
  type Channel,
  CloseCode,
  checkTopic,
  EncodedTell,
  type Member,
} from '@actorspace/core';

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
  /** Sessions subscribed. */
  subscribers: number;
  /** The present members, for topics with `presence`. */
  presence: Member[];
}

/** An event kept for recovery. */
interface Kept {
  seq: number;
  at: number;
  message: EncodedTell;
}

/** One session's subscription to one topic. */
interface Subscriber {
  session: string;
  channel: Channel;
  sink: string;
  member: Member | null;
  /** The first sequence number not sent because the subscriber was slow, or null. */
  behind: number | null;
}

const DEFAULT_HISTORY = { size: 100, ttl: 120_000 };
const DEFAULT_SLOW_LIMIT = 1024 * 1024;
const SWEEP_EVERY = 30_000;
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

/** What the hub needs from the engine. */
export interface TopicHost {
  /** A failure no caller waits for (a throwing rule). */
  error(error: ActorSpaceError): void;
}

/** The server's topics: patterns, live topics, and each session's topics actor. */
export class TopicHub {
  readonly #patterns: Pattern[];
  readonly #host: TopicHost;
  readonly #topics = new Map<string, Topic>();
  #sweeper: ReturnType<typeof setInterval> | null = null;

  constructor(patterns: Pattern[], host: TopicHost) {
    this.#patterns = patterns;
    this.#host = host;
  }

  /** The topic `name` (made when first used), or FORBIDDEN when no pattern matches. */
  #topic(name: string): { topic: Topic; params: Record<string, string> } {
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
        topic = new Topic(name, pattern.options);
        this.#topics.set(name, topic);
        this.#sweeper ??= setInterval(() => this.#sweep(), SWEEP_EVERY);
        this.#sweeper.unref?.();
      }
      return { topic, params };
    }
    throw new ActorSpaceError('FORBIDDEN', `no topic pattern matches "${name.slice(0, 64)}"`, {
      details: { topic: name.slice(0, 256) },
    });
  }

  /**
   * Publishes from the server's own code (no rule applies). Resolves the event's sequence number.
   * @throws ActorSpaceError `FORBIDDEN` when no pattern matches; `INVALID_MESSAGE` for data the
   *   codec cannot carry; TypeError for a bad topic name or type.
   */
  publish(name: string, type: string, data: unknown, publisher?: Caller): number {
    return this.#topic(name).topic.publish(type, data, publisher);
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

  /** A session ended: it leaves every topic (and their presence). */
  dropSession(session: string): void {
    for (const topic of this.#topics.values()) topic.remove(session);
  }

  /** Stops the sweeper; the topics are forgotten. */
  close(): void {
    if (this.#sweeper) clearInterval(this.#sweeper);
    this.#sweeper = null;
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
    return topic.add(
      { session, channel, sink, member: null, behind: null },
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
    return { seq: topic.publish(request.type, request.data, caller) };
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

/** One live topic: its numbers, history, subscribers and members. */
class Topic {
  readonly name: string;
  readonly options: TopicOptions;
  readonly epoch = crypto.randomUUID();
  seq = 0;
  lastPublish = 0;
  readonly #history: Kept[] = [];
  readonly #size: number;
  readonly #ttl: number;
  readonly #subs = new Map<string, Subscriber>();
  readonly #limit: number;

  constructor(name: string, options: TopicOptions) {
    this.name = name;
    this.options = options;
    const history =
      options.history === false ? { size: 0, ttl: 0 } : { ...DEFAULT_HISTORY, ...options.history };
    this.#size = Math.max(0, Math.floor(history.size));
    this.#ttl = Math.max(0, history.ttl);
    this.#limit = options.slow?.limit ?? DEFAULT_SLOW_LIMIT;
  }

  publish(type: string, data: unknown, publisher: Caller | undefined): number {
    const event: Record<string, unknown> = { t: this.name, s: this.seq + 1, y: type, d: data };
    if (publisher && publisher.type !== 'system' && this.options.publisher !== false) event.p = publisher.id;
    const message = new EncodedTell('event', event);
    const seq = ++this.seq;
    const at = Date.now();
    this.lastPublish = at;
    if (this.#size > 0) {
      this.#history.push({ seq, at, message });
      if (this.#history.length > this.#size) this.#history.shift();
    }
    for (const sub of this.#subs.values()) if (sub.behind === null) this.#send(sub, message, seq);
    return seq;
  }

  /** Adds a subscriber (replaying from `since` when it comes back); answers the subscribe. */
  add(
    sub: Subscriber,
    caller: Caller,
    presence: Record<string, unknown> | undefined,
    since: { epoch: string; seq: number } | null,
  ): { epoch: string; seq: number; recovered?: boolean; members?: Member[] } {
    const old = this.#subs.get(sub.session);
    if (old?.member) sub.member = old.member;
    this.#subs.set(sub.session, sub);
    if (presence !== undefined) {
      const joined = !sub.member;
      sub.member = { key: sub.member?.key ?? crypto.randomUUID(), id: caller.id, meta: presence };
      this.#presence(joined ? 'join' : 'update', sub.member);
    }
    const answer: { epoch: string; seq: number; recovered?: boolean; members?: Member[] } = {
      epoch: this.epoch,
      seq: this.seq,
    };
    if (this.options.presence) answer.members = this.members();
    if (since) {
      const recoverable = since.epoch === this.epoch && since.seq <= this.seq && this.#covers(since.seq + 1);
      answer.recovered = recoverable;
      if (recoverable) {
        // The client continues from its own number; the gap follows as events.
        answer.seq = since.seq;
        sub.behind = since.seq + 1;
        this.#catchUp(sub);
      }
    }
    return answer;
  }

  remove(session: string): void {
    const sub = this.#subs.get(session);
    if (!sub) return;
    this.#subs.delete(session);
    if (sub.member) this.#presence('leave', sub.member);
  }

  update(session: string, meta: Record<string, unknown>): boolean {
    const sub = this.#subs.get(session);
    if (!sub?.member) return false;
    sub.member = { ...sub.member, meta };
    this.#presence('update', sub.member);
    return true;
  }

  members(): Member[] {
    const out: Member[] = [];
    for (const sub of this.#subs.values()) if (sub.member) out.push(sub.member);
    return out;
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

  /** Nobody subscribes and nothing kept is still useful. */
  idle(): boolean {
    return this.#subs.size === 0 && Date.now() - this.lastPublish > this.#ttl;
  }

  /** True when history still holds event `seq` (or `seq` is the next one). */
  #covers(seq: number): boolean {
    if (seq > this.seq) return true;
    this.#expire();
    const first = this.#history[0];
    return first !== undefined && first.seq <= seq;
  }

  #expire(): void {
    const oldest = Date.now() - this.#ttl;
    while (this.#history.length > 0 && (this.#history[0] as Kept).at < oldest) this.#history.shift();
  }

  /** Sends one event to one subscriber; a slow one falls behind (or is closed). */
  #send(sub: Subscriber, message: EncodedTell, seq: number): boolean {
    let sent: boolean;
    try {
      sent = sub.channel.tellEncoded(sub.sink, message, this.#limit);
    } catch (error) {
      // Closed: its session is ending, and leaves on its own. Too large for this peer: a gap.
      if ((error as ActorSpaceError).code === 'PAYLOAD_TOO_LARGE') this.#gap(sub);
      return false;
    }
    if (sent) return true;
    if (this.options.slow?.policy === 'close') {
      this.#subs.delete(sub.session);
      sub.channel.close(CloseCode.RATE_LIMITED, `too slow for topic "${this.name}" (slow.limit)`);
      return false;
    }
    sub.behind = seq;
    this.#retry(sub);
    return false;
  }

  /** Tries a slow subscriber again once its connection drains (and a moment more, if it is still behind). */
  #retry(sub: Subscriber): void {
    sub.channel.ready().then(
      () => setTimeout(() => this.#catchUp(sub), RETRY_AFTER),
      () => {
        // Closed: its session is ending.
      },
    );
  }

  /** Replays what a subscriber missed from history, or tells it the gap cannot be filled. */
  #catchUp(sub: Subscriber): void {
    if (this.#subs.get(sub.session) !== sub || sub.behind === null) return;
    if (!this.#covers(sub.behind)) {
      this.#gap(sub);
      return;
    }
    const from = sub.behind;
    sub.behind = null;
    for (const kept of this.#history) {
      if (kept.seq < from) continue;
      if (!this.#send(sub, kept.message, kept.seq)) return;
    }
  }

  /** Tells a subscriber that events were skipped: it continues from the topic's number. */
  #gap(sub: Subscriber): void {
    sub.behind = null;
    try {
      sub.channel.makeRemote(sub.sink).tell('gap', { t: this.name, s: this.seq });
    } catch {
      // The session is ending.
    }
  }

  #presence(kind: 'join' | 'leave' | 'update', member: Member): void {
    const message = new EncodedTell(kind, { t: this.name, m: member });
    for (const sub of this.#subs.values()) {
      try {
        sub.channel.tellEncoded(sub.sink, message);
      } catch {
        // Closed: that session is leaving.
      }
    }
  }
}
