/**
 * The backplane on NATS (the contract is backplane.ts in `@actorspace/server`). Messages between
 * nodes travel on core NATS: `<prefix>.n.<node>` to one node, `<prefix>.all` to every node, each
 * with its sender's id in a header so a node skips its own. Topic events go to the JetStream
 * stream `<prefix>_topics` (subjects `<prefix>.t.<topic in base64url>`): the stream's sequence
 * numbers them, its creation time is their epoch, and each node's own consumer of the stream
 * (ordered: recreated where it stopped on any gap, or when JetStream's advisories tell of the
 * stream or the consumer deleted) delivers every event to it in stream order.
 * The connection's status drives down and up: once the server is lost `send` throws and
 * `publish`/`history` reject at once; after the reconnection the stream and the consumer are
 * set up again (the consumer resumes where it stopped) before `up()`.
 */
import type { Backplane, BackplaneEvent, BackplaneHost, BackplaneKeep } from '@actorspace/server';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import {
  connect,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type NodeConnectionOptions,
  nanos,
  type Status,
} from '@nats-io/transport-node';

/** Options of {@link natsBackplane}. */
export interface NatsBackplaneOptions {
  /**
   * The NATS server to connect to, or several servers of one cluster (`nats://host:4222`,
   * `tls://host:4222`; credentials may be in the URL). Undefined means the default, so
   * `servers: process.env.NATS_URL` works unset.
   * @default 'nats://127.0.0.1:4222'
   */
  servers?: string | string[] | undefined;
  /**
   * More options of the NATS client: `token`, `user` and `pass`, `authenticator`, `tls`,
   * `name`, `pingInterval`… The backplane always reconnects, forever (`maxReconnectAttempts:
   * -1`, `waitOnFirstConnect: false`), every 250 ms unless `reconnectTimeWait` is lower (at most
   * 500 ms), and pings every 10 s (`pingInterval`, `maxPingOut: 3`) unless told otherwise.
   * @default {}
   */
  nats?: Omit<NodeConnectionOptions, 'servers' | 'port'>;
  /**
   * What every subject starts with, and the stream's name (`<prefix>_topics`): clusters that
   * share a NATS server need different prefixes. 1 to 64 characters of `A-Z a-z 0-9 _ -`.
   * @default 'actorspace'
   */
  prefix?: string;
  /**
   * A secret shared by every node (at least 32 characters): the server then signs what it puts
   * on the backplane and drops what does not verify. This package only hands it to the server.
   * @default none: messages are not signed
   */
  signingKey?: string;
  /**
   * The limits of the JetStream stream that keeps topic events: they bound every topic's
   * history, whatever a topic's own `history` asks for (a topic keeps at most `size` events, for
   * at most `ttl` ms). The last node to (re)connect sets them on the stream: give every node the
   * same.
   * @default { size: 100, ttl: 120000 }
   */
  history?: {
    /** The most events kept per topic (the stream's `max_msgs_per_subject`). @default 100 */
    size?: number;
    /** Milliseconds an event is kept (the stream's `max_age`), 100 ms to 100 days. @default 120000 */
    ttl?: number;
  };
  /**
   * Milliseconds `start()` may take to connect and set up the stream and its consumer; past it,
   * it rejects and leaves nothing running.
   * @default 10000
   */
  connectTimeout?: number;
}

/**
 * Makes the NATS backplane: give it to `createActorServer({ backplane })` in every process that
 * serves as one. The server starts and closes it. The nats-server needs JetStream (`-js`).
 *
 * @throws TypeError for an invalid option.
 * @example
 * ```ts
 * import { natsBackplane } from '@actorspace/nats';
 * import { createActorServer } from '@actorspace/server';
 *
 * const server = createActorServer({
 *   routes: { '/chat': chat },
 *   backplane: natsBackplane({ servers: process.env.NATS_URL }),
 * });
 * ```
 */
export function natsBackplane(options: NatsBackplaneOptions = {}): Backplane {
  return new NatsBackplane(options);
}

const DEFAULT_SERVERS = 'nats://127.0.0.1:4222';
const DEFAULT_PREFIX = 'actorspace';
const DEFAULT_SIZE = 100;
const DEFAULT_TTL = 120_000;
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const MIN_KEY = 32;
const MIN_TTL = 100;
/** 100 days: the most milliseconds whose nanoseconds stay a safe integer, rounded down. */
const MAX_TTL = 8_640_000_000;
const MAX_TIMER = 2_147_483_647;
const MAX_TOPIC = 256;
/** Milliseconds a JetStream request (publish, stream and consumer calls) may take. */
const REQUEST_TIMEOUT = 5_000;
/** Events this node's consumer asks the server for at a time. */
const BATCH = 1_000;
/** Milliseconds after which the server drops a consumer nobody pulls from (one left behind). */
const FEED_IDLE = 60_000;
const READ_IDLE = 10_000;
/** Milliseconds a history read waits for the messages it was told are there. */
const READ_EXPIRES = 5_000;
/** Milliseconds to wait before making again a stream that vanished under this node. */
const RECREATE_DELAY = 1_000;
/** Milliseconds of the stream's duplicate window (JetStream's default), or less with a shorter ttl. */
const DUPLICATE_WINDOW = 120_000;
const RETRY_MIN = 100;
const RETRY_MAX = 1_000;
/** Milliseconds close() waits for what was sent to reach the server. */
const CLOSE_FLUSH = 1_000;
/** The header naming the node that sent a message (skipped by itself on `<prefix>.all`). */
const FROM = 'Actorspace-Node';
/** The header carrying an event's `at` (ms since the epoch). */
const AT = 'Actorspace-At';
/** Where JetStream announces what happens to streams and consumers. */
const ADVISORY = '$JS.EVENT.ADVISORY';
const TOKEN = /^[A-Za-z0-9_-]+$/;
const PREFIX = /^[A-Za-z0-9_-]{1,64}$/;
const LONE_SURROGATE = /\p{Surrogate}/u;
const AT_VALUE = /^\d{1,16}$/;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The text of a message, or null when it is not UTF-8. */
function text(data: Uint8Array): string | null {
  try {
    return utf8.decode(data);
  } catch {
    return null;
  }
}

/** A node id as one subject token: itself when made of `A-Z a-z 0-9 _ -`, else `~` and its base64url. */
function nodeToken(node: string): string {
  return TOKEN.test(node) ? node : `~${Buffer.from(node, 'utf8').toString('base64url')}`;
}

/** A topic as one subject token (base64url of its UTF-8). */
function topicToken(topic: string): string {
  return Buffer.from(topic, 'utf8').toString('base64url');
}

/** The topic a subject token stands for, or null when the token is not one this package makes. */
function topicOf(token: string): string | null {
  if (!TOKEN.test(token)) return null;
  const topic = text(Buffer.from(token, 'base64url'));
  if (topic === null || topic.length === 0 || topic.length > MAX_TOPIC) return null;
  return topicToken(topic) === token ? topic : null;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC) {
    throw new TypeError(`the nats backplane: a topic must be a string of 1 to ${MAX_TOPIC} characters`);
  }
  if (LONE_SURROGATE.test(topic)) {
    throw new TypeError('the nats backplane: a topic must be well-formed Unicode (no lone surrogate)');
  }
}

function checkKeep(keep: unknown): asserts keep is BackplaneKeep {
  if (
    !isObject(keep) ||
    !(Number.isSafeInteger(keep.size) && (keep.size as number) >= 0) ||
    !(typeof keep.ttl === 'number' && keep.ttl >= 0)
  ) {
    throw new TypeError('the nats backplane: keep must be { size: integer >= 0, ttl: ms >= 0 }');
  }
}

/** The stream is gone (its API says so, or nobody answers its subjects). */
function missingStream(error: unknown): boolean {
  if (error instanceof JetStreamApiError) return error.code === JetStreamApiCodes.StreamNotFound;
  return (
    error instanceof Error && (error.name === 'JetStreamNotEnabled' || error.message === 'stream not found')
  );
}

/** Resolves when `work` settles or after `ms`, whichever is first (never rejects). */
function within(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    work.then(
      () => undefined,
      () => undefined,
    ),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** The options, checked, with their defaults. */
interface Settings {
  servers: string[];
  client: NodeConnectionOptions;
  prefix: string;
  signingKey: string | undefined;
  size: number;
  ttl: number;
  connectTimeout: number;
}

function settings(options: NatsBackplaneOptions): Settings {
  if (!isObject(options)) throw new TypeError('natsBackplane: options must be an object');
  const known = new Set(['servers', 'nats', 'prefix', 'signingKey', 'history', 'connectTimeout']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`natsBackplane: unknown option "${key}"`);
  }
  const given = options.servers ?? DEFAULT_SERVERS;
  const servers = typeof given === 'string' ? [given] : given;
  if (
    !Array.isArray(servers) ||
    servers.length === 0 ||
    !servers.every((s) => typeof s === 'string' && s.trim() !== '')
  ) {
    throw new TypeError('natsBackplane: servers must be a server URL or a non-empty array of them');
  }
  const nats = options.nats ?? {};
  if (!isObject(nats)) throw new TypeError('natsBackplane: nats must be an object of NATS client options');
  if ('servers' in nats || 'port' in nats) {
    throw new TypeError('natsBackplane: give the servers as options.servers, not in options.nats');
  }
  const prefix = options.prefix ?? DEFAULT_PREFIX;
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new TypeError('natsBackplane: prefix must be 1 to 64 characters of A-Z a-z 0-9 _ -');
  }
  const key = options.signingKey;
  if (key !== undefined && (typeof key !== 'string' || key.length < MIN_KEY)) {
    throw new TypeError(`natsBackplane: signingKey must be a secret of at least ${MIN_KEY} characters`);
  }
  const history: unknown = options.history ?? {};
  if (!isObject(history)) throw new TypeError('natsBackplane: history must be { size?, ttl? }');
  const size: unknown = history.size ?? DEFAULT_SIZE;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 1) {
    throw new TypeError('natsBackplane: history.size must be an integer of at least 1');
  }
  const ttl: unknown = history.ttl ?? DEFAULT_TTL;
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl < MIN_TTL || ttl > MAX_TTL) {
    throw new TypeError(`natsBackplane: history.ttl must be an integer from ${MIN_TTL} to ${MAX_TTL} ms`);
  }
  const connectTimeout: unknown = options.connectTimeout ?? DEFAULT_CONNECT_TIMEOUT;
  if (typeof connectTimeout !== 'number' || !(connectTimeout > 0) || connectTimeout > MAX_TIMER) {
    throw new TypeError(
      `natsBackplane: connectTimeout must be a positive number of ms, at most ${MAX_TIMER}`,
    );
  }
  const wait =
    typeof nats.reconnectTimeWait === 'number' ? Math.max(0, Math.min(nats.reconnectTimeWait, 500)) : 250;
  const timeout = typeof nats.timeout === 'number' ? Math.min(nats.timeout, connectTimeout) : connectTimeout;
  const client: NodeConnectionOptions = {
    pingInterval: 10_000,
    maxPingOut: 3,
    ...nats,
    servers: [...servers],
    timeout,
    reconnect: true,
    maxReconnectAttempts: -1,
    waitOnFirstConnect: false,
    reconnectTimeWait: wait,
  };
  return { servers: [...servers], client, prefix, signingKey: key, size, ttl, connectTimeout };
}

type State = 'idle' | 'starting' | 'up' | 'down' | 'closed';

/** This node's consumer of the topic events: one at a time, replaced on any trouble. */
interface Feed {
  readonly name: string;
  messages: ConsumerMessages | null;
  /** The last delivery sequence: each message must be the next one, else the feed restarts. */
  delivered: number;
}

/** What a topic subject's message carries, when it is one of ours. */
interface Parsed {
  topic: string;
  at: number;
  payload: string;
}

/** The connection and what lives on it (only while started). */
interface Link {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** One start of the backplane. */
class NatsBackplane implements Backplane {
  readonly name = 'nats';
  readonly signingKey: string | undefined;
  readonly #settings: Settings;
  readonly #stream: string;
  /** `<prefix>.t.`: what each topic's subject starts with. */
  readonly #topics: string;
  readonly #all: string;

  #state: State = 'idle';
  #host: BackplaneHost | null = null;
  /** This node's id as a subject token. */
  #self = '';
  #link: Link | null = null;
  /** The sender header every message of this node carries (encoded again on each publish). */
  #from: MsgHdrs | null = null;
  /** Bumped whenever the connection is lost, the start fails, or close(): older work gives up. */
  #gen = 0;
  #connecting: Promise<unknown> | null = null;
  #feed: Feed | null = null;
  /** The stream's creation time: the events' epoch. */
  #epoch: string | undefined;
  /** The stream sequence the feed delivers next. */
  #next = 0;
  /**
   * Each topic's last event the feed delivered in this epoch, least recent first: a topic
   * silent for longer than the stream keeps events is forgotten (its next `prev` is unknown).
   */
  readonly #prev = new Map<string, { seq: number; heard: number }>();
  /** Publishes and history reads in flight: losing the server fails them at once. */
  readonly #inflight = new Set<(error: Error) => void>();
  /** Retry delays, cut short by close(). */
  readonly #waits = new Set<{ timer: ReturnType<typeof setTimeout>; resolve(): void }>();
  #starting: { resolve(): void; reject(error: Error): void } | null = null;
  #lastError: unknown;
  #closing: Promise<void> | null = null;

  constructor(options: NatsBackplaneOptions) {
    this.#settings = settings(options);
    this.signingKey = this.#settings.signingKey;
    const { prefix } = this.#settings;
    this.#stream = `${prefix}_topics`;
    this.#topics = `${prefix}.t.`;
    this.#all = `${prefix}.all`;
  }

  // ---- start and close --------------------------------------------------------------------

  async start(host: BackplaneHost): Promise<void> {
    if (this.#state === 'closed') throw new Error('the nats backplane is closed');
    if (this.#state !== 'idle') throw new Error('the nats backplane is already started');
    if (!host || typeof host.node !== 'string' || host.node === '') {
      throw new TypeError('the nats backplane: start(host) needs a host with a node id');
    }
    this.#host = host;
    this.#self = nodeToken(host.node);
    this.#state = 'starting';
    this.#lastError = undefined;
    const gen = this.#gen;
    const ms = this.#settings.connectTimeout;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#starting = { resolve, reject };
        timer = setTimeout(() => {
          const why = this.#lastError === undefined ? '' : `: ${message(this.#lastError)}`;
          reject(new Error(`the nats backplane did not start within ${ms} ms${why}`));
        }, ms);
        const connecting = this.#attach(gen);
        this.#connecting = connecting;
        connecting.catch(reject);
      });
    } catch (error) {
      if (this.#state === 'starting') await this.#reset();
      throw error;
    } finally {
      clearTimeout(timer);
      this.#starting = null;
    }
  }

  /** Whether work begun in generation `gen` may still attach a connection. */
  #attaching(gen: number): boolean {
    return this.#gen === gen && (this.#state === 'starting' || this.#state === 'down');
  }

  /**
   * Connects, listens to the connection's status, subscribes to this node's subjects, and sets
   * up the stream and the feed: at start, and again when the client gave up its connection.
   */
  async #attach(gen: number): Promise<void> {
    const { client, servers } = this.#settings;
    let nc: NatsConnection;
    try {
      nc = await connect(client);
    } catch (error) {
      this.#lastError = error;
      throw new Error(`the nats backplane could not connect to ${servers.join(', ')}: ${message(error)}`, {
        cause: error,
      });
    }
    // Listened to at once, so no change of the connection goes unseen.
    const status = nc.status();
    if (!this.#attaching(gen)) {
      await nc.close().catch(() => undefined);
      return;
    }
    const js = jetstream(nc, { timeout: REQUEST_TIMEOUT });
    const jsm = await jetstreamManager(nc, { timeout: REQUEST_TIMEOUT, checkAPI: false });
    if (!this.#attaching(gen)) {
      await nc.close().catch(() => undefined);
      return;
    }
    this.#link = { nc, js, jsm };
    this.#from = headers();
    this.#from.set(FROM, this.#self);
    void this.#watch(nc, status);
    const { prefix } = this.#settings;
    nc.subscribe(`${prefix}.n.${this.#self}`, {
      callback: (error, msg) => {
        if (!error) this.#message(msg, false);
      },
    });
    nc.subscribe(this.#all, {
      callback: (error, msg) => {
        if (!error) this.#message(msg, true);
      },
    });
    // JetStream's advisories tell at once of a stream or a consumer deleted under this node
    // (a consumer's own notice may not come); without the permission, heartbeats tell later.
    nc.subscribe(`${ADVISORY}.STREAM.*.${this.#stream}`, {
      callback: (error, msg) => {
        const action = msg?.subject.split('.')[4];
        if (!error && (action === 'CREATED' || action === 'DELETED')) this.#restartFeed(this.#feed);
      },
    });
    nc.subscribe(`${ADVISORY}.CONSUMER.DELETED.${this.#stream}.*`, {
      callback: (error, msg) => {
        const feed = this.#feed;
        if (!error && feed && msg.subject.endsWith(`.${feed.name}`)) this.#restartFeed(feed);
      },
    });
    void this.#setup(gen);
  }

  /** Undoes a start that failed: back to idle, nothing left running. */
  async #reset(): Promise<void> {
    this.#gen++;
    this.#state = 'idle';
    this.#stopFeed(false);
    this.#cancelWaits();
    const link = this.#link;
    this.#link = null;
    this.#from = null;
    await link?.nc.close().catch(() => undefined);
    await this.#connecting?.catch(() => undefined);
    this.#connecting = null;
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const wasUp = this.#state === 'up';
    this.#state = 'closed';
    this.#gen++;
    this.#starting?.reject(new Error('the nats backplane was closed while starting'));
    this.#fail(new Error('the nats backplane is closed'));
    this.#cancelWaits();
    const feed = this.#stopFeed(false);
    const link = this.#link;
    this.#link = null;
    if (link && !link.nc.isClosed()) {
      if (wasUp) {
        const removed = feed ? link.jsm.consumers.delete(this.#stream, feed.name) : Promise.resolve(true);
        await within(Promise.allSettled([removed, link.nc.flush()]), CLOSE_FLUSH);
      }
      await link.nc.close().catch(() => undefined);
    }
    await this.#connecting?.catch(() => undefined);
  }

  // ---- the connection's ups and downs -------------------------------------------------------

  async #watch(nc: NatsConnection, status: AsyncIterable<Status>): Promise<void> {
    try {
      for await (const s of status) {
        if (this.#link?.nc !== nc) continue;
        if (s.type === 'disconnect') this.#lost(`lost the NATS server ${s.server}`);
        else if (s.type === 'reconnect') void this.#setup(this.#gen);
        else if (s.type === 'close') {
          // The client gave up (it does after repeated authentication errors): start anew.
          this.#lost('the NATS connection closed');
          if (this.#state === 'down') void this.#replace(this.#gen);
        }
      }
    } catch {
      // The iterator ends with the connection.
    }
  }

  #lost(reason: string): void {
    if (this.#state === 'closed' || this.#state === 'idle') return;
    this.#gen++;
    this.#stopFeed(false);
    this.#fail(new Error(`the nats backplane ${reason}`));
    if (this.#state === 'up') {
      this.#state = 'down';
      this.#call((host) => host.down(reason));
    }
  }

  /** Connects anew, again and again, after the client closed its connection by itself. */
  async #replace(gen: number): Promise<void> {
    this.#link = null;
    this.#from = null;
    for (let attempt = 0; this.#attaching(gen); attempt++) {
      await this.#delay(Math.min(RETRY_MAX, RETRY_MIN * 2 ** attempt));
      if (!this.#attaching(gen)) return;
      try {
        const attaching = this.#attach(gen);
        this.#connecting = attaching;
        await attaching;
        return;
      } catch (error) {
        this.#lastError = error;
      }
    }
  }

  /** Sets up the stream and this node's consumer, retrying until done or the connection changes. */
  async #setup(gen: number): Promise<void> {
    if (this.#state !== 'starting' && this.#state !== 'down') return;
    for (let attempt = 0; this.#gen === gen; attempt++) {
      try {
        const link = this.#link;
        if (!link) return;
        await link.nc.flush();
        if (this.#gen !== gen) return;
        await this.#openFeed(gen);
        if (this.#gen !== gen) return;
        const starting = this.#state === 'starting';
        this.#state = 'up';
        this.#call((host) => host.up());
        if (starting) this.#starting?.resolve();
        return;
      } catch (error) {
        if (this.#gen !== gen) return;
        this.#lastError = error;
        await this.#delay(Math.min(RETRY_MAX, RETRY_MIN * 2 ** attempt));
      }
    }
  }

  // ---- the topic events' stream and this node's consumer -----------------------------------

  /** The stream, created when missing, its limits set to the options'. */
  async #ensureStream(jsm: JetStreamManager): Promise<StreamInfo> {
    const { size, ttl } = this.#settings;
    const subject = `${this.#topics}>`;
    // Events carry no message id, so the duplicate window only has to stay within max_age.
    const limits = {
      max_msgs_per_subject: size,
      max_age: nanos(ttl),
      duplicate_window: nanos(Math.min(ttl, DUPLICATE_WINDOW)),
    };
    let info = await this.#streamInfo(jsm);
    if (!info && this.#epoch !== undefined) {
      // The stream this node used is gone (deleted, or the server lost its store). Made again at
      // once, a nats-server 2.9 may give it the old one's numbers and broken files; meanwhile
      // another node may make it.
      await this.#delay(RECREATE_DELAY);
      info = await this.#streamInfo(jsm);
    }
    if (!info) {
      const config: Partial<StreamConfig> & { name: string } = {
        name: this.#stream,
        subjects: [subject],
        storage: StorageType.File,
        retention: RetentionPolicy.Limits,
        discard: DiscardPolicy.Old,
        num_replicas: 1,
        ...limits,
      };
      try {
        await jsm.streams.add(config);
      } catch (error) {
        // Another node may have made it meanwhile.
        if (!(await this.#streamInfo(jsm))) throw error;
      }
      info = await this.#streamInfo(jsm);
      if (!info) throw new Error(`the stream ${this.#stream} vanished as it was made`);
    }
    const { config } = info;
    if (
      config.max_msgs_per_subject !== limits.max_msgs_per_subject ||
      config.max_age !== limits.max_age ||
      !config.subjects?.includes(subject)
    ) {
      await jsm.streams.update(this.#stream, { ...config, subjects: [subject], ...limits });
      info = await this.#streamInfo(jsm);
      if (!info) throw new Error(`the stream ${this.#stream} vanished as it was updated`);
    }
    // The answer to a creation may lack the creation time (nats-server 2.9): only a real one is an epoch.
    if (!info.created || info.created.startsWith('0001-')) {
      throw new Error(`the stream ${this.#stream} has no creation time yet`);
    }
    return info;
  }

  /** The stream's info, or null when there is no such stream. */
  async #streamInfo(jsm: JetStreamManager): Promise<StreamInfo | null> {
    try {
      return await jsm.streams.info(this.#stream);
    } catch (error) {
      if (error instanceof JetStreamApiError && error.code === JetStreamApiCodes.StreamNotFound) return null;
      throw error;
    }
  }

  /**
   * Checks the stream (a new one is a new epoch) and starts this node's consumer where the
   * last one stopped: at the stream's end on the first start, at its beginning in a new epoch.
   */
  async #openFeed(gen: number): Promise<void> {
    const link = this.#link;
    if (!link) throw new Error('the nats backplane is not connected');
    const info = await this.#ensureStream(link.jsm);
    if (this.#gen !== gen) return;
    const { first_seq, last_seq } = info.state;
    if (this.#epoch === undefined) this.#next = last_seq + 1;
    else if (this.#epoch !== info.created) {
      this.#prev.clear();
      this.#next = Math.max(1, first_seq);
    } else if (last_seq + 1 < this.#next) {
      // The stream lost its newest events: what follows cannot chain to what this node saw.
      this.#prev.clear();
      this.#next = last_seq + 1;
    }
    this.#epoch = info.created;
    const ci = await link.jsm.consumers.add(this.#stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.#next,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(FEED_IDLE),
    });
    if (this.#gen !== gen || this.#feed) {
      link.jsm.consumers.delete(this.#stream, ci.name).catch(() => undefined);
      return;
    }
    const feed: Feed = { name: ci.name, messages: null, delivered: 0 };
    const messages = await link.js.consumers
      .getConsumerFromInfo(ci)
      .consume({ max_messages: BATCH, callback: (m) => this.#event(feed, m) });
    // Nothing arrives before this line: the server's answers come on a later turn.
    feed.messages = messages;
    if (this.#gen !== gen || this.#feed) {
      messages.stop();
      link.jsm.consumers.delete(this.#stream, ci.name).catch(() => undefined);
      return;
    }
    this.#feed = feed;
    void this.#watchFeed(feed, messages);
  }

  async #watchFeed(feed: Feed, messages: ConsumerMessages): Promise<void> {
    try {
      for await (const note of messages.status()) {
        switch (note.type) {
          case 'consumer_deleted':
          case 'consumer_not_found':
          case 'stream_not_found':
          case 'heartbeats_missed':
            this.#restartFeed(feed);
            break;
          default:
        }
      }
    } catch {
      // Ends with the feed.
    }
  }

  /** Replaces the feed (a gap, a lost consumer or stream) while connected; it resumes where it stopped. */
  #restartFeed(feed: Feed | null): void {
    if (!feed || this.#feed !== feed || this.#state !== 'up') return;
    this.#stopFeed(true);
    const gen = this.#gen;
    void (async () => {
      for (let attempt = 0; this.#gen === gen && this.#state === 'up' && !this.#feed; attempt++) {
        try {
          await this.#openFeed(gen);
          return;
        } catch (error) {
          this.#lastError = error;
          await this.#delay(Math.min(RETRY_MAX, RETRY_MIN * 2 ** attempt));
        }
      }
    })();
  }

  /** Stops the feed; deletes its consumer when connected (else the server drops it after a minute). */
  #stopFeed(remove: boolean): Feed | null {
    const feed = this.#feed;
    if (!feed) return null;
    this.#feed = null;
    feed.messages?.stop();
    if (remove) this.#link?.jsm.consumers.delete(this.#stream, feed.name).catch(() => undefined);
    return feed;
  }

  #event(feed: Feed, m: JsMsg): void {
    if (this.#feed !== feed || this.#state === 'closed') return;
    const delivery = m.info.deliverySequence;
    if (delivery !== feed.delivered + 1) {
      this.#restartFeed(feed);
      return;
    }
    feed.delivered = delivery;
    const seq = m.seq;
    if (seq < this.#next) return;
    // A skipped number is an event removed before this node saw it: no chain survives that.
    if (seq !== this.#next) this.#prev.clear();
    this.#next = seq + 1;
    const parsed = this.#parse(m);
    const epoch = this.#epoch;
    if (!parsed || epoch === undefined) return;
    const prev = this.#prev.get(parsed.topic)?.seq;
    this.#remember(parsed.topic, seq);
    const event: BackplaneEvent = { epoch, seq, prev, at: parsed.at, payload: parsed.payload };
    this.#call((host) => host.event(parsed.topic, event));
  }

  /** Records a topic's last event, and forgets the topics silent for longer than events are kept. */
  #remember(topic: string, seq: number): void {
    const now = Date.now();
    this.#prev.delete(topic);
    this.#prev.set(topic, { seq, heard: now });
    const before = now - this.#settings.ttl;
    for (const [name, last] of this.#prev) {
      if (last.heard >= before) break;
      this.#prev.delete(name);
    }
  }

  #parse(m: JsMsg): Parsed | null {
    if (!m.subject.startsWith(this.#topics)) return null;
    const topic = topicOf(m.subject.slice(this.#topics.length));
    if (topic === null) return null;
    const at = m.headers?.get(AT) ?? '';
    if (!AT_VALUE.test(at)) return null;
    const payload = text(m.data);
    if (payload === null) return null;
    return { topic, at: Number(at), payload };
  }

  // ---- the backplane ------------------------------------------------------------------------

  send(to: string | null, payload: string): void {
    const link = this.#link;
    if (this.#state !== 'up' || !link || !this.#from) throw new Error('the nats backplane is not connected');
    if (to !== null && (typeof to !== 'string' || to === '')) {
      throw new TypeError('the nats backplane: send(to) needs a node id or null');
    }
    if (typeof payload !== 'string') throw new TypeError('the nats backplane: a payload must be a string');
    const subject = to === null ? this.#all : `${this.#settings.prefix}.n.${nodeToken(to)}`;
    link.nc.publish(subject, payload, { headers: this.#from });
  }

  publish(topic: string, payload: string, keep: BackplaneKeep): Promise<{ epoch: string; seq: number }> {
    try {
      checkTopic(topic);
      checkKeep(keep);
      if (typeof payload !== 'string') throw new TypeError('the nats backplane: a payload must be a string');
    } catch (error) {
      return Promise.reject(error);
    }
    const ready = this.#ready();
    if (ready instanceof Error) return Promise.reject(ready);
    const { link, feed } = ready;
    const h = headers();
    h.set(AT, String(Date.now()));
    const published = link.js.publish(`${this.#topics}${topicToken(topic)}`, payload, {
      headers: h,
      timeout: REQUEST_TIMEOUT,
    });
    return this.#guard(published).then(
      (ack) => ({ epoch: this.#epochSince(feed), seq: ack.seq }),
      (error: unknown) => {
        if (missingStream(error)) this.#restartFeed(this.#feed);
        throw new Error(`the nats backplane could not publish: ${message(error)}`, { cause: error });
      },
    );
  }

  history(topic: string, keep: BackplaneKeep): Promise<{ epoch: string; events: BackplaneEvent[] } | null> {
    try {
      checkTopic(topic);
      checkKeep(keep);
    } catch (error) {
      return Promise.reject(error);
    }
    const ready = this.#ready();
    if (ready instanceof Error) return Promise.reject(ready);
    if (keep.size === 0) return Promise.resolve(null);
    return this.#guard(this.#read(ready.link, ready.feed, topic, keep)).catch((error: unknown) => {
      if (missingStream(error)) this.#restartFeed(this.#feed);
      throw new Error(`the nats backplane could not read the history: ${message(error)}`, { cause: error });
    });
  }

  /** Reads the kept messages of one topic through a consumer of its subject alone. */
  async #read(
    link: Link,
    feed: Feed,
    topic: string,
    keep: BackplaneKeep,
  ): Promise<{ epoch: string; events: BackplaneEvent[] } | null> {
    const ci = await link.jsm.consumers.add(this.#stream, {
      ack_policy: AckPolicy.None,
      deliver_policy: DeliverPolicy.All,
      filter_subject: `${this.#topics}${topicToken(topic)}`,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(READ_IDLE),
    });
    const found: (Parsed & { seq: number })[] = [];
    try {
      if (ci.num_pending > 0) {
        const messages = await link.js.consumers
          .getConsumerFromInfo(ci)
          .fetch({ max_messages: ci.num_pending, expires: READ_EXPIRES });
        try {
          for await (const m of messages) {
            const parsed = this.#parse(m);
            if (parsed && parsed.topic === topic) found.push({ ...parsed, seq: m.seq });
            if (m.info.pending === 0) break;
          }
        } finally {
          messages.stop();
        }
      }
    } finally {
      link.jsm.consumers.delete(this.#stream, ci.name).catch(() => undefined);
    }
    const epoch = this.#epochSince(feed);
    const since = Date.now() - keep.ttl;
    const events: BackplaneEvent[] = [];
    let prev: number | undefined;
    const recent = found.filter((e) => e.at >= since);
    for (const { seq, at, payload } of recent.slice(Math.max(0, recent.length - keep.size))) {
      events.push({ epoch, seq, prev, at, payload });
      prev = seq;
    }
    return events.length === 0 ? null : { epoch, events };
  }

  // ---- helpers ------------------------------------------------------------------------------

  /** The connection and the feed, when up with a feed (it is briefly away while replaced). */
  #ready(): { link: Link; feed: Feed } | Error {
    const link = this.#link;
    if (this.#state !== 'up' || !link) return new Error('the nats backplane is not connected');
    const feed = this.#feed;
    if (!feed) return new Error('the nats backplane is setting up its stream again');
    return { link, feed };
  }

  /**
   * The epoch, when the feed is still the one a publish or read began with: a replaced feed may
   * mean a new stream, so what was answered meanwhile may belong to either.
   * @throws Error when the feed changed.
   */
  #epochSince(feed: Feed): string {
    if (this.#feed !== feed || this.#epoch === undefined) {
      throw new Error('the nats backplane set up its stream again meanwhile');
    }
    return this.#epoch;
  }

  #message(msg: Msg, all: boolean): void {
    if (this.#state !== 'up' && this.#state !== 'down') return;
    const from = msg.headers?.get(FROM);
    if (!from || (all && from === this.#self)) return;
    const payload = text(msg.data);
    if (payload === null) return;
    this.#call((host) => host.message(payload));
  }

  /** Calls the host, unless closed; its failures are its own. */
  #call(fn: (host: BackplaneHost) => void): void {
    const host = this.#host;
    if (!host || this.#state === 'closed') return;
    try {
      fn(host);
    } catch {
      // The host's own failure: nothing the backplane can do about it.
    }
  }

  /** `work`, failed at once when the connection is lost or closed. */
  #guard<T>(work: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const fail = (error: Error) => reject(error);
      this.#inflight.add(fail);
      work.then(resolve, reject).finally(() => this.#inflight.delete(fail));
    });
  }

  #fail(error: Error): void {
    const failing = [...this.#inflight];
    this.#inflight.clear();
    for (const fail of failing) fail(error);
  }

  #delay(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wait = {
        resolve,
        timer: setTimeout(() => {
          this.#waits.delete(wait);
          resolve();
        }, ms),
      };
      this.#waits.add(wait);
    });
  }

  #cancelWaits(): void {
    for (const wait of this.#waits) {
      clearTimeout(wait.timer);
      wait.resolve();
    }
    this.#waits.clear();
  }
}
