/**
 * The Redis backplane: ActorSpace server processes (nodes) sharing one Redis act as one. Each
 * node keeps two ioredis connections: one for commands and PUBLISH, one subscribed to three
 * channels (what is addressed to this node, what is addressed to every node, and every topic
 * event). Topic events are numbered by a Lua script that runs atomically in Redis: it reads or
 * creates the topic's epoch, increments its counter, keeps its history list, and publishes the
 * event, so every node sees each topic's events in the order of their numbers.
 *
 * Commands never wait for a connection: while either connection is down, `send` throws and
 * `publish`/`history` reject at once, and the server is told (`host.down`) once; when both are
 * back and resubscribed, it is told again (`host.up`) and resynchronises. Nothing reaches the
 * host between the two (what was published meanwhile is lost, as the contract allows).
 */
import { randomBytes } from 'node:crypto';
import type { Backplane, BackplaneEvent, BackplaneHost, BackplaneKeep } from '@actorspace/server';
import { Redis, type RedisOptions } from 'ioredis';
import {
  decodeBroadcast,
  decodeHistoryEntry,
  decodeTopicEvent,
  encodeBroadcast,
  eventBody,
  MAX_TOPIC,
  topicHeader,
} from './wire.js';

/** Options of {@link redisBackplane}. */
export interface RedisBackplaneOptions {
  /**
   * Where Redis is: `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS.
   * @default 'redis://127.0.0.1:6379'
   */
  url?: string;
  /**
   * More ioredis client options (TLS, `password`, `connectionName`, `commandTimeout`...), used
   * by both connections. The backplane sets `lazyConnect`, `enableOfflineQueue: false`,
   * `maxRetriesPerRequest: 0`, `autoResubscribe`, `autoResendUnfulfilledCommands: false` and
   * `retryStrategy` itself: what it promises depends on them.
   * @default {}
   */
  redis?: RedisOptions;
  /**
   * What every key and channel of the backplane starts with, so several applications (or
   * clusters) can share one Redis: 1 to 64 characters among `A-Z a-z 0-9 _ . : -`. Every node
   * of a cluster must use the same.
   * @default 'actorspace'
   */
  prefix?: string;
  /**
   * A secret shared by every node (at least 32 characters): the server signs each message and
   * event it puts on Redis with it (HMAC-SHA256) and drops those that do not verify, so a
   * client of the same Redis cannot speak for a node. Exposed as the backplane's `signingKey`.
   * @default none: messages are not signed
   */
  signingKey?: string;
  /**
   * Milliseconds `start()` waits for both connections to be ready and subscribed before it
   * disconnects and rejects (it may then be called again: the server keeps trying).
   * @default 10000
   */
  connectTimeout?: number;
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';
const DEFAULT_PREFIX = 'actorspace';
const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;
const MIN_SIGNING_KEY = 32;
const DEFAULT_CONNECT_TIMEOUT = 10_000;
const MAX_CONNECT_TIMEOUT = 600_000;
/** The longest node id accepted (it names the node's channel). */
const MAX_NODE = 256;
/** The epoch and counter of a topic outlive its history: at least a day without events. */
const COUNTER_TTL = 86_400_000;
/** How long close() waits for Redis to answer QUIT before it cuts the connection. */
const QUIT_GRACE = 1_000;

/** Reconnects forever: 50 ms, 100 ms, 200 ms... at most 1 s between tries. */
function retryStrategy(times: number): number {
  return Math.min(50 * 2 ** Math.min(times - 1, 5), 1_000);
}

/**
 * Numbers one event of a topic and publishes it, atomically.
 * KEYS: epoch, counter, history. ARGV: a fresh epoch, `<at>\n<payload>`, history size,
 * history ttl (ms), counter ttl (ms), the topic channel, `<topic length>\n<topic>`.
 * A topic without an epoch, or whose counter is gone (Redis lost it), starts a new epoch at 1
 * and forgets its old history: numbers are never given twice in one epoch.
 */
const PUBLISH_LUA = `
local epoch = redis.call('GET', KEYS[1])
if (not epoch) or redis.call('EXISTS', KEYS[2]) == 0 then
  epoch = ARGV[1]
  redis.call('SET', KEYS[1], epoch)
  redis.call('DEL', KEYS[2], KEYS[3])
end
local seq = redis.call('INCR', KEYS[2])
local number = string.format('%d', seq)
local size = tonumber(ARGV[3])
if size > 0 then
  redis.call('RPUSH', KEYS[3], number .. '\\n' .. ARGV[2])
  redis.call('LTRIM', KEYS[3], -size, -1)
  redis.call('PEXPIRE', KEYS[3], ARGV[4])
else
  redis.call('DEL', KEYS[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PUBLISH', ARGV[6], number .. '\\n' .. epoch .. '\\n' .. ARGV[7] .. ARGV[2])
return {epoch, seq}
`;

/** A topic's epoch and the last ARGV[1] entries of its history; nil when it has no epoch. */
const HISTORY_LUA = `
local epoch = redis.call('GET', KEYS[1])
if not epoch then return false end
return {epoch, redis.call('LRANGE', KEYS[2], -tonumber(ARGV[1]), -1)}
`;

/** The command connection, with the scripts defined on it. */
type Commands = Redis & {
  actorspacePublish(...args: (string | number)[]): Promise<unknown>;
  actorspaceHistory(...args: (string | number)[]): Promise<unknown>;
};

type State = 'new' | 'starting' | 'up' | 'down' | 'closed';

/**
 * A backplane on Redis, for `createActorServer({ backplane })`. Every node of a cluster uses the
 * same Redis, `prefix` and `signingKey`. Nothing connects until the server starts it.
 *
 * Keys (with the default prefix): `actorspace:e:<topic>` (the topic's epoch),
 * `actorspace:s:<topic>` (its counter), `actorspace:h:<topic>` (its history list); channels:
 * `actorspace:n:<node>`, `actorspace:all`, `actorspace:t`.
 *
 * @throws TypeError for a bad option: `url` not a `redis://` or `rediss://` URL, `prefix` not
 *   1-64 characters among `A-Z a-z 0-9 _ . : -`, `signingKey` shorter than 32 characters,
 *   `connectTimeout` not a positive number of milliseconds, `redis` not an object.
 * @example
 * ```ts
 * import { createActorServer } from '@actorspace/server';
 * import { redisBackplane } from '@actorspace/redis';
 *
 * const actors = createActorServer({
 *   routes,
 *   backplane: redisBackplane({ url: process.env.REDIS_URL, signingKey: process.env.BACKPLANE_KEY }),
 * });
 * ```
 */
export function redisBackplane(options: RedisBackplaneOptions = {}): Backplane {
  return new RedisBackplane(options);
}

class RedisBackplane implements Backplane {
  readonly name = 'redis';
  readonly signingKey: string | undefined;
  readonly #url: string;
  readonly #redis: RedisOptions;
  readonly #prefix: string;
  readonly #connectTimeout: number;
  #state: State = 'new';
  #host: BackplaneHost | null = null;
  #commands: Commands | null = null;
  #subscriber: Redis | null = null;
  #channels = { direct: '', all: '', topic: '' };
  /** The subscriber's current connection has confirmed its subscriptions. */
  #subscribed = false;
  /** Counts the subscriber's connections, so a late confirmation of an old one is ignored. */
  #connection = 0;
  #lastError = '';
  #starting: { resolve: () => void; reject: (error: Error) => void; timer: NodeJS.Timeout } | null = null;
  #closing: Promise<void> | null = null;
  #disposing: Promise<void> | null = null;

  constructor(options: RedisBackplaneOptions) {
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('redisBackplane(options): options must be an object');
    }
    const url = options.url === undefined ? DEFAULT_URL : options.url;
    checkUrl(url);
    this.#url = url;
    const redis = options.redis === undefined ? {} : options.redis;
    if (typeof redis !== 'object' || redis === null || Array.isArray(redis)) {
      throw new TypeError('redisBackplane: redis must be an object of ioredis options');
    }
    this.#redis = redis;
    const prefix = options.prefix === undefined ? DEFAULT_PREFIX : options.prefix;
    if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
      throw new TypeError('redisBackplane: prefix must be 1 to 64 characters among A-Z a-z 0-9 _ . : -');
    }
    this.#prefix = prefix;
    const key = options.signingKey;
    if (key !== undefined && (typeof key !== 'string' || key.length < MIN_SIGNING_KEY)) {
      throw new TypeError(
        `redisBackplane: signingKey must be a secret of at least ${MIN_SIGNING_KEY} characters`,
      );
    }
    this.signingKey = key;
    const timeout = options.connectTimeout === undefined ? DEFAULT_CONNECT_TIMEOUT : options.connectTimeout;
    if (typeof timeout !== 'number' || !(timeout > 0 && timeout <= MAX_CONNECT_TIMEOUT)) {
      throw new TypeError(`redisBackplane: connectTimeout must be between 1 and ${MAX_CONNECT_TIMEOUT} ms`);
    }
    this.#connectTimeout = timeout;
  }

  start(host: BackplaneHost): Promise<void> {
    if (this.#state !== 'new') {
      return Promise.reject(
        new Error(`the redis backplane was already ${this.#state === 'closed' ? 'closed' : 'started'}`),
      );
    }
    try {
      checkHost(host);
    } catch (error) {
      return Promise.reject(error);
    }
    this.#state = 'starting';
    this.#host = host;
    this.#lastError = '';
    const p = this.#prefix;
    this.#channels = { direct: `${p}:n:${host.node}`, all: `${p}:all`, topic: `${p}:t` };
    const options: RedisOptions = {
      disconnectTimeout: 0,
      ...this.#redis,
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResubscribe: true,
      autoResendUnfulfilledCommands: false,
      retryStrategy,
    };
    const commands = new Redis(this.#url, options) as Commands;
    commands.defineCommand('actorspacePublish', { lua: PUBLISH_LUA, numberOfKeys: 3 });
    commands.defineCommand('actorspaceHistory', { lua: HISTORY_LUA, numberOfKeys: 2 });
    const subscriber = new Redis(this.#url, options);
    this.#commands = commands;
    this.#subscriber = subscriber;
    for (const client of [commands, subscriber]) {
      // Without a listener, an 'error' event would crash the process.
      client.on('error', (error: unknown) => {
        if (this.#commands === commands)
          this.#lastError = error instanceof Error ? error.message : String(error);
      });
    }
    // Every handler checks that its connection is still the current one: after a failed start,
    // the next start() makes new connections while the old ones are still shutting.
    commands.on('ready', () => {
      if (this.#commands === commands) this.#maybeUp();
    });
    commands.on('close', () => {
      if (this.#commands === commands) this.#lost('commands');
    });
    subscriber.on('ready', () => {
      if (this.#subscriber === subscriber) this.#subscribe(subscriber);
    });
    subscriber.on('close', () => {
      if (this.#subscriber !== subscriber) return;
      this.#subscribed = false;
      this.#connection++;
      this.#lost('subscriber');
    });
    subscriber.on('message', (channel: string, message: string) => {
      if (this.#subscriber === subscriber) this.#receive(channel, message);
    });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Not ready in time: disconnect, and let the server try again with another start().
        this.#starting = null;
        this.#state = 'new';
        this.#host = null;
        const why = this.#lastError ? `: ${this.#lastError}` : '';
        const error = new Error(
          `could not connect to redis at ${redact(this.#url)} within ${this.#connectTimeout} ms${why}`,
        );
        this.#dispose().then(() => reject(error));
      }, this.#connectTimeout);
      this.#starting = { resolve, reject, timer };
      commands.connect().catch(noop);
      subscriber.connect().catch(noop);
    });
  }

  send(to: string | null, payload: string): void {
    if (to !== null && (typeof to !== 'string' || to === '')) {
      throw new TypeError('send(to): to must be a node id or null');
    }
    if (typeof payload !== 'string') throw new TypeError('send(payload): payload must be a string');
    const commands = this.#ready();
    const published =
      to === null
        ? commands.publish(this.#channels.all, encodeBroadcast((this.#host as BackplaneHost).node, payload))
        : commands.publish(`${this.#prefix}:n:${to}`, payload);
    // A message lost with the connection is lost: the server resynchronises on up().
    published.catch(noop);
  }

  async publish(
    topic: string,
    payload: string,
    keep: BackplaneKeep,
  ): Promise<{ epoch: string; seq: number }> {
    checkTopic(topic);
    if (typeof payload !== 'string') throw new TypeError('publish(payload): payload must be a string');
    checkKeep(keep);
    const commands = this.#ready();
    const p = this.#prefix;
    const at = Date.now();
    const historyTtl = Math.max(Math.ceil(keep.ttl), 1);
    let reply: unknown;
    try {
      reply = await commands.actorspacePublish(
        `${p}:e:${topic}`,
        `${p}:s:${topic}`,
        `${p}:h:${topic}`,
        newEpoch(),
        eventBody(at, payload),
        keep.ttl > 0 ? keep.size : 0,
        historyTtl,
        Math.max(historyTtl, COUNTER_TTL),
        this.#channels.topic,
        topicHeader(topic),
      );
    } catch (error) {
      throw failure('publish', error);
    }
    if (!Array.isArray(reply) || typeof reply[0] !== 'string' || typeof reply[1] !== 'number') {
      throw new Error('the redis backplane got an unexpected reply to publish');
    }
    return { epoch: reply[0], seq: reply[1] };
  }

  async history(
    topic: string,
    keep: BackplaneKeep,
  ): Promise<{ epoch: string; events: BackplaneEvent[] } | null> {
    checkTopic(topic);
    checkKeep(keep);
    const commands = this.#ready();
    if (keep.size === 0 || keep.ttl <= 0) return null;
    const p = this.#prefix;
    let reply: unknown;
    try {
      reply = await commands.actorspaceHistory(`${p}:e:${topic}`, `${p}:h:${topic}`, keep.size);
    } catch (error) {
      throw failure('history', error);
    }
    if (!Array.isArray(reply) || typeof reply[0] !== 'string' || !Array.isArray(reply[1])) return null;
    const epoch = reply[0];
    const since = Date.now() - keep.ttl;
    const events: BackplaneEvent[] = [];
    for (const entry of reply[1] as unknown[]) {
      if (typeof entry !== 'string') continue;
      const event = decodeHistoryEntry(entry, epoch);
      if (event && event.at >= since) events.push(event);
    }
    return events.length === 0 ? null : { epoch, events };
  }

  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    const starting = this.#starting;
    this.#starting = null;
    this.#state = 'closed';
    this.#host = null;
    if (starting) clearTimeout(starting.timer);
    this.#closing = this.#dispose().then(() => {
      starting?.reject(new Error('the redis backplane was closed before it connected'));
    });
    return this.#closing;
  }

  /**
   * Lets go of the connections: unsubscribes, quits (or cuts) both, and resolves once nothing
   * of them is left, this time's and any earlier one's still shutting.
   */
  #dispose(): Promise<void> {
    const commands = this.#commands;
    const subscriber = this.#subscriber;
    this.#commands = null;
    this.#subscriber = null;
    this.#subscribed = false;
    this.#connection++;
    const earlier = this.#disposing;
    const disposing = (async () => {
      if (subscriber?.status === 'ready') await settle(subscriber.unsubscribe(), QUIT_GRACE);
      await Promise.all([earlier, commands && shut(commands), subscriber && shut(subscriber)]);
    })();
    this.#disposing = disposing;
    return disposing;
  }

  /** The command connection when the backplane is up. @throws Error when it is not. */
  #ready(): Commands {
    if (this.#state === 'closed') throw new Error('the redis backplane is closed');
    const commands = this.#commands;
    if (this.#state !== 'up' || !commands || commands.status !== 'ready') {
      throw new Error('the redis backplane is not connected');
    }
    return commands;
  }

  /** The subscriber (re)connected: subscribes (again), and is up once Redis confirms it. */
  #subscribe(subscriber: Redis): void {
    if (this.#state === 'closed') return;
    const connection = this.#connection;
    const { direct, all, topic } = this.#channels;
    // ioredis resubscribes by itself after a reconnection (autoResubscribe); subscribing again
    // is harmless to Redis, and its reply says when the subscriptions are in place.
    subscriber.subscribe(direct, all, topic).then(
      () => {
        if (connection !== this.#connection || subscriber.status !== 'ready') return;
        this.#subscribed = true;
        this.#maybeUp();
      },
      (error: unknown) => {
        this.#lastError = error instanceof Error ? error.message : String(error);
      },
    );
  }

  /** Both connections ready and subscribed: up (once), and start() resolves the first time. */
  #maybeUp(): void {
    if (this.#state !== 'starting' && this.#state !== 'down') return;
    if (!this.#subscribed || this.#commands?.status !== 'ready' || this.#subscriber?.status !== 'ready')
      return;
    const first = this.#state === 'starting';
    this.#state = 'up';
    const host = this.#host as BackplaneHost;
    safely(() => host.up());
    if (first && this.#starting) {
      const { resolve, timer } = this.#starting;
      this.#starting = null;
      clearTimeout(timer);
      resolve();
    }
  }

  /** A connection closed: down (once, until up again). */
  #lost(which: 'commands' | 'subscriber'): void {
    if (this.#state !== 'up') return;
    this.#state = 'down';
    const host = this.#host as BackplaneHost;
    const why = this.#lastError || 'connection closed';
    safely(() => host.down(`lost the redis ${which} connection: ${why}`));
  }

  /** A message on one of the three channels; what does not parse is dropped. */
  #receive(channel: string, message: string): void {
    const host = this.#host;
    if (this.#state !== 'up' || !host) return;
    const { direct, all, topic } = this.#channels;
    if (channel === topic) {
      const decoded = decodeTopicEvent(message);
      if (decoded) safely(() => host.event(decoded.topic, decoded.event));
    } else if (channel === direct) {
      safely(() => host.message(message));
    } else if (channel === all) {
      const decoded = decodeBroadcast(message);
      if (decoded && decoded.node !== host.node) safely(() => host.message(decoded.payload));
    }
  }
}

function noop(): void {}

/** Calls the host: an exception there must not reach ioredis (it would rethrow it, uncaught). */
function safely(call: () => void): void {
  try {
    call();
  } catch {
    // The host's failure is its own.
  }
}

/** A fresh epoch: 96 random bits. */
function newEpoch(): string {
  return randomBytes(12).toString('base64url');
}

/** Waits for `promise` to settle, or `ms`, whichever comes first; never rejects. */
async function settle(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    promise.catch(noop),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
    }),
  ]);
  clearTimeout(timer);
}

/** Quits a connection (or cuts it), and waits until nothing of it is left. */
async function shut(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready') await settle(client.quit(), QUIT_GRACE);
  // (QUIT changed the status: TypeScript does not know, hence the cast.)
  if ((client.status as Redis['status']) === 'end') return;
  const stream = client.stream as Redis['stream'] | undefined;
  const open = stream !== undefined && !stream.destroyed;
  const closed = open ? new Promise<void>((resolve) => stream.once('close', () => resolve())) : null;
  client.disconnect();
  if (closed) await settle(closed, QUIT_GRACE);
  // On a socket that was already gone, ioredis still arms its `disconnectTimeout` timer to
  // destroy it: let it run out, so that nothing is left once close() resolves.
  else if (stream) await settle(new Promise(noop), (client.options.disconnectTimeout ?? 0) + 1);
}

/** The error a failed command rejects with: says what failed, keeps Redis's error as cause. */
function failure(what: string, error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  const notConnected = /writeable|closed|MaxRetriesPerRequest|max retries/i.test(message);
  return new Error(
    notConnected
      ? `the redis backplane is not connected (${what}: ${message})`
      : `the redis backplane failed to ${what}: ${message}`,
    { cause: error },
  );
}

/** The URL with its password hidden, for messages. */
function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

function checkUrl(url: unknown): void {
  if (typeof url !== 'string') throw new TypeError('redisBackplane: url must be a string');
  let protocol: string;
  try {
    protocol = new URL(url).protocol;
  } catch {
    throw new TypeError(`redisBackplane: url is not a URL: ${redact(url)}`);
  }
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new TypeError(`redisBackplane: url must start with redis:// or rediss://, not ${protocol}//`);
  }
}

function checkHost(host: BackplaneHost): void {
  const h = host as Partial<BackplaneHost> | null;
  if (
    typeof h !== 'object' ||
    h === null ||
    typeof h.message !== 'function' ||
    typeof h.event !== 'function' ||
    typeof h.up !== 'function' ||
    typeof h.down !== 'function'
  ) {
    throw new TypeError('start(host): host must have message, event, up and down');
  }
  if (typeof h.node !== 'string' || h.node === '' || h.node.length > MAX_NODE || h.node.includes('\n')) {
    throw new TypeError(`start(host): host.node must be 1 to ${MAX_NODE} characters, without a newline`);
  }
}

function checkTopic(topic: unknown): asserts topic is string {
  if (typeof topic !== 'string' || topic.length === 0 || topic.length > MAX_TOPIC) {
    throw new TypeError(`topic must be a string of 1 to ${MAX_TOPIC} characters`);
  }
}

function checkKeep(keep: BackplaneKeep): void {
  const k = keep as Partial<BackplaneKeep> | null;
  if (
    typeof k !== 'object' ||
    k === null ||
    !Number.isSafeInteger(k.size) ||
    (k.size as number) < 0 ||
    typeof k.ttl !== 'number' ||
    !(k.ttl >= 0 && k.ttl <= Number.MAX_SAFE_INTEGER)
  ) {
    throw new TypeError('keep must be { size: a whole number >= 0, ttl: milliseconds >= 0 }');
  }
}
