/**
 * The backplane contract: what a broker must do for several ActorSpace server processes
 * (nodes) to act as one. The server does the rest itself (the session registry and its
 * expiry, presence, asks across nodes, signing): a backplane only carries messages between
 * nodes and numbers topic events. `@actorspace/redis` and `@actorspace/nats` implement it;
 * anyone can write another one.
 *
 * What the server relies on:
 * - Messages from one node to another (or to all) arrive in the order they were sent, or not
 *   at all (a broker outage may lose some; the server resynchronises on {@link BackplaneHost.up}).
 * - A node never receives its own messages sent to all (`send(null, ...)`).
 * - Topic events reach every node, itself included, in the order of their numbers, each
 *   number given once per topic and epoch.
 */

/** One topic event as the backplane numbered it. */
export interface BackplaneEvent {
  /**
   * What the numbers belong to: changes when the broker forgot the topic (its counter or
   * stream was lost), so numbers from before are meaningless.
   */
  readonly epoch: string;
  /** The event's number in its topic: increasing, not necessarily by one. */
  readonly seq: number;
  /**
   * The number of the topic's previous event in this epoch (0 before the first), when the
   * backplane knows it. Undefined when it does not (the first event of a topic a node sees):
   * the server then takes it to follow the last event of the topic it has.
   */
  readonly prev?: number | undefined;
  /** When it was published (ms since the epoch, the publishing node's clock). */
  readonly at: number;
  /** What the server published: opaque to the backplane. */
  readonly payload: string;
}

/** How many events of a topic the backplane keeps for recovery, and for how long. */
export interface BackplaneKeep {
  /** The most events kept (0: none). */
  readonly size: number;
  /** Milliseconds an event is kept. */
  readonly ttl: number;
}

/** What a backplane delivers to the server that started it. Every method is synchronous. */
export interface BackplaneHost {
  /** This node's id: unique for each start of a server. */
  readonly node: string;
  /** A message another node sent to this node, or to every node. */
  message(payload: string): void;
  /** A topic event (this node's own included), in order within its topic. */
  event(topic: string, event: BackplaneEvent): void;
  /**
   * The backplane is connected and subscribed: at start, and again after it lost the broker.
   * Messages sent while it was down may be lost; the server resynchronises.
   */
  up(): void;
  /** The backplane lost the broker: sends fail until {@link up}. */
  down(reason: string): void;
}

/**
 * A broker connection shared by the nodes of one cluster. Made by a factory such as
 * `redisBackplane({ url })`, given to `createActorServer({ backplane })`, started and closed
 * by the server.
 */
export interface Backplane {
  /** A short name for logs and health (`redis`, `nats`). */
  readonly name: string;
  /**
   * A secret shared by every node: when set, the server signs each message and event it puts
   * on the backplane (HMAC-SHA256) and drops those whose signature does not verify.
   */
  readonly signingKey?: string | undefined;
  /**
   * Connects and subscribes to what is addressed to `host.node`, to every node, and to every
   * topic event; calls `host.up()` when ready. Resolves once ready.
   * @throws (rejects) when the broker cannot be reached in time.
   */
  start(host: BackplaneHost): Promise<void>;
  /**
   * Sends `payload` to the node `to`, or to every other node when `to` is null.
   * @throws Error when the broker is not connected (the server fails the call at once).
   */
  send(to: string | null, payload: string): void;
  /**
   * Numbers an event of `topic` and delivers it to every node's `host.event()`, keeping the
   * last `keep.size` events for `keep.ttl` ms. Resolves with its epoch and number.
   * @throws (rejects) when the broker is not connected or refused it.
   */
  publish(
    topic: string,
    payload: string,
    keep: BackplaneKeep,
  ): Promise<{
    /** The topic's epoch. */
    epoch: string;
    /** The event's number. */
    seq: number;
  }>;
  /**
   * The events the broker keeps for `topic`, oldest first, with the topic's epoch; `null` when
   * it keeps nothing for it.
   * @throws (rejects) when the broker is not connected.
   */
  history(
    topic: string,
    keep: BackplaneKeep,
  ): Promise<{
    /** The topic's epoch. */
    epoch: string;
    /** The kept events, oldest first. */
    events: BackplaneEvent[];
  } | null>;
  /** Unsubscribes and disconnects. */
  close(): Promise<void>;
}
