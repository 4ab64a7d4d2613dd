/**
 * Topics on the client side: a session's subscriptions, the actor that receives their events,
 * and recovery. Each event carries the topic's sequence number; a subscription drops what it
 * has seen (never a duplicate) and, when the session pairs again in a fresh session, asks the
 * server for what it missed since its last number (never a silent gap).
 *
 * The wire contract with the server's per-session topics actor (guid `$topics`):
 * asks `subscribe { topic, sink, presence?, from? }` → `{ epoch, seq, recovered?, members? }`,
 * `unsubscribe { topic }`, `publish { topic, type, data }` → `{ seq }`, `presence { topic, meta }`;
 * tells to the sink `event { t, s, y, d, p? }`, `gap { t, s }`, `join | leave | update { t, m }`.
 */
import type { Actor } from './actor.js';
import type { ActorSpace } from './actor-space.js';
import type { Channel } from './channel.js';
import { EventEmitter } from './emitter.js';
import { ActorSpaceError } from './errors.js';

/** The guid of the server's topics actor in every session. */
export const TOPICS_ACTOR = '$topics';
/** The guid of each server session's own actor: the client tells it its capabilities. */
export const SESSION_ACTOR = '$session';

/** What a topic event says besides its type and data. */
export interface TopicMeta {
  /** The topic it was published to. */
  topic: string;
  /** Its number in the topic: one more than the event before it. */
  seq: number;
  /** Who published it (the caller id), when the topic shows publishers; absent for the server's own. */
  publisher?: string;
}

/** Receives a topic's events. */
export type TopicHandler = (type: string, data: any, meta: TopicMeta) => void;

/** One member of a topic's presence: a subscription that joined with metadata. */
export interface Member {
  /** Unique per subscription (a person with two tabs is two members). */
  key: string;
  /** The member's caller id. */
  id: string;
  /** What the member joined with (or last updated to). */
  meta: Record<string, unknown>;
}

/** Options of {@link Session.subscribe}. */
export interface SubscribeOptions {
  /** Joins the topic's presence with this metadata (the topic must have `presence`). */
  presence?: Record<string, unknown>;
}

/** What a subscription says after the session paired again: whether the gap was replayed. */
export interface Recovery {
  /**
   * True when every event missed while away was replayed; false when the gap was older than
   * the topic's history (or the server restarted): events were lost, refetch what you show.
   */
  recovered: boolean;
}

/** Events of a {@link Subscription}. */
export interface SubscriptionEvents {
  /** A member joined the topic's presence. */
  join: [member: Member];
  /** A member left (unsubscribed, or its session ended; a resumed session does not leave). */
  leave: [member: Member];
  /** A member changed its metadata. */
  update: [member: Member];
  /**
   * After every reconnect (and after falling behind as a slow subscriber): `recovered: true`
   * when nothing was missed (the session resumed, or the gap was replayed), false when events
   * were lost.
   */
  recovered: [recovery: Recovery];
}

/** A topic subscription of a {@link Session}. Made by `session.subscribe()`. */
export class Subscription extends EventEmitter<SubscriptionEvents> {
  /** The topic's name. */
  readonly topic: string;
  /** @internal */ readonly handler: TopicHandler;
  /** @internal */ readonly presenceMeta: Record<string, unknown> | undefined;
  /** @internal The topic's epoch at the server (changes when the server forgot the topic). */
  epoch = '';
  /** @internal The last sequence number delivered, -1 before the first. */
  seq = -1;
  /** @internal */ readonly members = new Map<string, Member>();
  readonly #client: TopicClient;
  #active = true;

  /** @internal Use `session.subscribe()`. */
  constructor(client: TopicClient, topic: string, handler: TopicHandler, options: SubscribeOptions) {
    super();
    this.#client = client;
    this.topic = topic;
    this.handler = handler;
    this.presenceMeta = options.presence;
  }

  /** The sequence number of the last event delivered (-1 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** True until `unsubscribe()`. */
  get active(): boolean {
    return this.#active;
  }

  /** The topic's present members (for topics with `presence`), as of the last event. */
  presence(): Member[] {
    return [...this.members.values()];
  }

  /**
   * Changes this subscription's presence metadata; every subscriber gets an `update`.
   * @throws ActorSpaceError `FORBIDDEN` when the topic has no presence; `CHANNEL_CLOSED`.
   */
  async update(meta: Record<string, unknown>): Promise<void> {
    if (typeof meta !== 'object' || meta === null) throw new TypeError('update needs an object of metadata');
    await this.#client.ask('presence', { topic: this.topic, meta });
  }

  /** Stops the subscription: no more events; its presence leaves. */
  async unsubscribe(): Promise<void> {
    if (!this.#active) return;
    this.#active = false;
    this.#client.forget(this);
    await this.#client.ask('unsubscribe', { topic: this.topic }).catch(() => {
      // The session is gone: so is the subscription.
    });
  }

  /** @internal Events from the topic (or its replay): each once, in order. */
  deliver(seq: number, type: string, data: unknown, publisher: string | undefined): void {
    if (!this.#active || seq <= this.seq) return;
    this.seq = seq;
    const meta: TopicMeta = { topic: this.topic, seq };
    if (publisher !== undefined) meta.publisher = publisher;
    this.handler(type, data, meta);
  }

  /** @internal The present members after (re)subscribing: changes become join and leave events. */
  resetMembers(members: Member[]): void {
    const now = new Map(members.map((m) => [m.key, m]));
    const before = [...this.members.values()];
    this.members.clear();
    for (const [key, member] of now) this.members.set(key, member);
    for (const member of before) if (!now.has(member.key)) this.emit('leave', member);
    for (const member of members) {
      const old = before.find((m) => m.key === member.key);
      if (!old) this.emit('join', member);
      else if (JSON.stringify(old.meta) !== JSON.stringify(member.meta)) this.emit('update', member);
    }
  }

  /**
   * @internal Presence changes that arrived while a subscribe was being answered: the answer's
   * members are from before them, so they are applied again after it (null when not joining).
   */
  joining: [kind: 'join' | 'leave' | 'update', member: Member][] | null = null;

  /** @internal */
  presenceChanged(kind: 'join' | 'leave' | 'update', member: Member): void {
    this.joining?.push([kind, member]);
    if (kind === 'leave') this.members.delete(member.key);
    else this.members.set(member.key, member);
    this.emit(kind, member);
  }
}

/** What the server answers a subscribe. */
interface Subscribed {
  epoch: string;
  seq: number;
  recovered?: boolean;
  members?: Member[];
}

/** A session's topics: its subscriptions and the actor that receives their events. @internal */
export class TopicClient {
  readonly #channel: () => Channel | null;
  readonly #subs = new Map<string, Subscription>();
  readonly sink: string;

  constructor(space: ActorSpace, channel: () => Channel | null) {
    this.#channel = channel;
    // The same guid in every client space (unless a shared space has it already), so a topic's
    // event frame is one string for all its subscribers.
    const taken = (() => {
      try {
        space.ref(TOPICS_ACTOR);
        return true;
      } catch {
        return false;
      }
    })();
    this.sink = space.register(this.#sinkActor(), taken ? undefined : TOPICS_ACTOR).guid;
  }

  /** Subscribes (the first time) or subscribes again from where `sub` stopped (a fresh session). */
  async subscribe(topic: string, handler: TopicHandler, options: SubscribeOptions): Promise<Subscription> {
    checkTopic(topic);
    if (typeof handler !== 'function')
      throw new TypeError('subscribe needs a handler (type, data, meta) => void');
    if (this.#subs.has(topic)) {
      throw new TypeError(
        `already subscribed to topic "${topic}"; share that Subscription, or unsubscribe first`,
      );
    }
    const sub = new Subscription(this, topic, handler, options ?? {});
    // Registered before asking: events may arrive before the answer.
    this.#subs.set(topic, sub);
    try {
      await this.#join(sub, undefined);
    } catch (error) {
      this.#subs.delete(topic);
      throw error;
    }
    return sub;
  }

  /** Publishes an event to a topic, where its rule lets this session. */
  async publish(topic: string, type: string, data: unknown): Promise<number> {
    checkTopic(topic);
    const answer = (await this.ask('publish', { topic, type, data })) as { seq: number };
    return answer.seq;
  }

  /** The session paired again in a fresh session: every subscription asks for what it missed. */
  resubscribe(): void {
    for (const sub of this.#subs.values()) {
      const from = sub.seq >= 0 && sub.epoch ? { epoch: sub.epoch, seq: sub.seq } : undefined;
      this.#join(sub, from).catch(() => {
        // The session ended again meanwhile: the next fresh session tries again.
      });
    }
  }

  /** The session resumed: its subscriptions missed nothing (the channel replayed it all). */
  resumed(): void {
    for (const sub of this.#subs.values()) sub.emit('recovered', { recovered: true });
  }

  forget(sub: Subscription): void {
    if (this.#subs.get(sub.topic) === sub) this.#subs.delete(sub.topic);
  }

  ask(type: string, data: unknown): Promise<unknown> {
    const channel = this.#channel();
    if (!channel) return Promise.reject(new ActorSpaceError('CHANNEL_CLOSED', 'the session is not paired'));
    return channel.makeRemote(TOPICS_ACTOR).ask(type, data);
  }

  async #join(sub: Subscription, from: { epoch: string; seq: number } | undefined): Promise<void> {
    const request: Record<string, unknown> = { topic: sub.topic, sink: this.sink };
    if (sub.presenceMeta !== undefined) request.presence = sub.presenceMeta;
    if (from) request.from = from;
    const changes: [kind: 'join' | 'leave' | 'update', member: Member][] = [];
    sub.joining = changes;
    let answer: Subscribed;
    try {
      answer = (await this.ask('subscribe', request)) as Subscribed;
    } finally {
      if (sub.joining === changes) sub.joining = null;
    }
    const sameTopic = sub.epoch === '' || sub.epoch === answer.epoch;
    sub.epoch = answer.epoch;
    // A topic the server forgot (restarted) numbers from 0 again.
    if (!sameTopic) sub.seq = -1;
    sub.seq = Math.max(sub.seq, answer.seq);
    if (answer.members) {
      // Changes told after the server answered can reach the sink before the answer is read.
      const members = new Map(answer.members.map((m) => [m.key, m]));
      for (const [kind, member] of changes) {
        if (kind === 'leave') members.delete(member.key);
        else members.set(member.key, member);
      }
      sub.resetMembers([...members.values()]);
    }
    if (from) sub.emit('recovered', { recovered: answer.recovered === true && sameTopic });
  }

  #sinkActor(): Actor {
    const subs = this.#subs;
    return {
      receive(type, data) {
        const m = data as { t: string; s: number; y: string; d: unknown; p?: string; m: Member };
        const sub = subs.get(m?.t);
        if (!sub) return;
        switch (type) {
          case 'event':
            sub.deliver(m.s, m.y, m.d, m.p);
            return;
          case 'gap': {
            // Events were skipped (this subscriber fell behind): continue from the topic's number.
            // A gap with another epoch renumbers the topic (a cluster's broker forgot it).
            const epoch = (m as { e?: unknown }).e;
            if (typeof epoch === 'string' && epoch !== sub.epoch) {
              const known = sub.epoch !== '';
              sub.epoch = epoch;
              sub.seq = m.s;
              // Learning the epoch of a topic first seen without one skips nothing.
              if (!known) return;
            } else sub.seq = Math.max(sub.seq, m.s);
            sub.emit('recovered', { recovered: false });
            return;
          }
          case 'join':
          case 'leave':
          case 'update':
            sub.presenceChanged(type, m.m);
            return;
        }
      },
    };
  }
}

/** @throws TypeError for a topic name that is not a string of 1-256 characters. */
export function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > 256) {
    throw new TypeError(`a topic is a string of 1-256 characters, got ${String(topic).slice(0, 40)}`);
  }
}
