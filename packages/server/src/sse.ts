/**
 * Topics as Server-Sent Events: `GET <path>/topics/<topic>` answers `text/event-stream` for a
 * plain `EventSource`. The stream is a subscriber of its topic like a session is: the same
 * patterns, `subscribe` rules, authentication (a `?token=` verified as a hello's token, and
 * `authenticate`), history replay from `Last-Event-ID`, and slow-subscriber policy, measured
 * in bytes the adapter has not yet taken from the stream. Each event is encoded once for
 * every stream.
 *
 * Wire format (docs/topics-sse.md): `id: <epoch>:<seq>`, `event: <type>`,
 * `data: {"data":<json>,"meta"?:<meta>,"publisher"?:<caller id>}`; `event: $gap` with
 * `data: {"recovered":false,"seq":<n>}` when events were lost; `: ping` comments.
 */
import {
  ActorSpaceError,
  type Caller,
  decodeData,
  type EncodedTell,
  type ErrorCode,
  encodeData,
  frozenCaller,
  httpStatusFor,
} from '@actorspace/core';
import type { HttpRequest, HttpResponse } from './actor-server.js';
import type { UpgradeRequest } from './connection.js';
import { type IdentifyHost, identify } from './handshake.js';
import { normalizeHeaders } from './internal/headers.js';
import type { HeadersLike } from './peer.js';
import type { Outlet, TopicEvent, TopicHub } from './topics.js';

/**
 * Options of the topics' event streams (`GET <path>/topics/<topic>`), the `sse` option of
 * `createActorServer`.
 */
export interface EventStreamOptions {
  /**
   * Milliseconds between `: ping` comments on a stream with nothing waiting to be written,
   * which keep proxies from closing an idle stream and find dead connections. `false` sends none.
   * @default 15000
   */
  heartbeat?: number | false;
  /**
   * The `retry:` field sent once at the start of each stream: how many milliseconds an
   * `EventSource` waits before it reconnects. `false` sends none (the browser's default, about 3 s).
   * @default 2000
   */
  retry?: number | false;
}

/** The control event that tells a stream events were lost (its name is reserved on streams). */
const GAP_EVENT = '$gap';

const encoder = new TextEncoder();
const PING = encoder.encode(': ping\n\n');
/** The target of the frames an event stream decodes a replayed event from (never sent). */
const REPLAY_TARGET = '$sse';
/** Replayed events were checked when published: decoding them again applies no limits. */
const NO_LIMITS = {
  depth: Number.MAX_SAFE_INTEGER,
  arrayLength: Number.MAX_SAFE_INTEGER,
  bigintDigits: Number.MAX_SAFE_INTEGER,
};

/**
 * One topic event as an event-stream block: `id: <epoch>:<seq>`, `event: <type>` and
 * `data:` the JSON of `{ data, meta?, publisher? }` (the codec's `encodeData` of the data).
 * @throws ActorSpaceError `INVALID_MESSAGE` for data the codec cannot carry.
 */
export function encodeStreamEvent(
  epoch: string,
  seq: number,
  type: string,
  data: unknown,
  publisher: string | undefined,
): Uint8Array {
  const { json, meta } = encodeData(data);
  const payload: Record<string, unknown> = { data: json };
  if (meta !== undefined) payload.meta = meta;
  if (publisher !== undefined) payload.publisher = publisher;
  // A line break would end the field: an event name never holds one.
  const name = /[\r\n]/.test(type) ? type.replace(/\r\n|[\r\n]/g, ' ') : type;
  return encoder.encode(`id: ${epoch}:${seq}\nevent: ${name}\ndata: ${JSON.stringify(payload)}\n\n`);
}

/**
 * {@link encodeStreamEvent} of an event kept as a topics tell (`event { t, s, y, d, p? }`):
 * for events published while no stream subscribed, replayed to one later.
 */
export function encodeStreamEventFrom(epoch: string, message: EncodedTell): Uint8Array {
  const frame = JSON.parse(message.frame(REPLAY_TARGET)) as unknown[];
  const tell = decodeData(frame[3], frame[4], null, NO_LIMITS) as {
    s: number;
    y: string;
    d: unknown;
    p?: string;
  };
  return encodeStreamEvent(epoch, tell.s, tell.y, tell.d, tell.p);
}

/** Where a stream resumes: the `<epoch>:<seq>` of the last event its client saw. */
type Since = { epoch: string; seq: number };

/**
 * The `Last-Event-ID` a client sent: null when it sent none, the position it names, or a
 * position that matches no topic (a foreign or malformed id), which gets a gap notice.
 */
export function parseLastEventId(value: string | null | undefined): Since | null {
  if (value === null || value === undefined) return null;
  const id = value.trim();
  if (id === '') return null;
  const colon = id.lastIndexOf(':');
  const seq = colon > 0 ? Number(id.slice(colon + 1)) : Number.NaN;
  if (!Number.isSafeInteger(seq) || seq < 0 || !/^\d+$/.test(id.slice(colon + 1)))
    return { epoch: '', seq: 0 };
  return { epoch: id.slice(0, colon), seq };
}

/** One open event stream: a topic subscriber whose messages become the response body. */
class EventStream implements Outlet {
  readonly stream = true;
  readonly key: string;
  readonly topic: string;
  readonly body: ReadableStream<Uint8Array>;
  #controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  #open = true;
  #waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  readonly #ended: (stream: EventStream) => void;

  constructor(key: string, topic: string, ended: (stream: EventStream) => void) {
    this.key = key;
    this.topic = topic;
    this.#ended = ended;
    // No high-water mark: everything enqueued waits for the adapter, so the queue's size is
    // exactly what was written and not yet taken towards the socket.
    this.body = new ReadableStream<Uint8Array>(
      {
        start: (controller) => {
          this.#controller = controller;
        },
        // The adapter wants more and nothing waits: the stream has drained.
        pull: () => this.#drained(),
        // The client went away (or the adapter gave up): the subscriber leaves at once.
        cancel: () => this.#end(),
      },
      { highWaterMark: 0, size: (chunk) => chunk.byteLength },
    );
  }

  /** Bytes written and not yet taken by the adapter. */
  get queued(): number {
    const desired = this.#open ? this.#controller?.desiredSize : 0;
    return desired ? Math.max(0, -desired) : 0;
  }

  get open(): boolean {
    return this.#open;
  }

  write(bytes: Uint8Array | string): void {
    if (!this.#open || !this.#controller) return;
    this.#controller.enqueue(typeof bytes === 'string' ? encoder.encode(bytes) : bytes);
  }

  send(event: TopicEvent, limit: number): boolean {
    if (!this.#open) throw new ActorSpaceError('CHANNEL_CLOSED', 'the event stream has ended');
    const bytes = event.stream as Uint8Array;
    // One event always fits an empty stream, however large: only a backlog makes it slow.
    const queued = this.queued;
    if (queued > 0 && queued + bytes.byteLength > limit) return false;
    this.write(bytes);
    return true;
  }

  gap(epoch: string, seq: number): void {
    this.write(`id: ${epoch}:${seq}\nevent: ${GAP_EVENT}\ndata: {"recovered":false,"seq":${seq}}\n\n`);
  }

  presence(): void {
    // Streams see events only: they neither join presence nor hear of it.
  }

  ready(): Promise<void> {
    if (!this.#open)
      return Promise.reject(new ActorSpaceError('CHANNEL_CLOSED', 'the event stream has ended'));
    if (this.queued === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  /** Too slow for its topic: the stream errors, dropping what waits, and the adapter cuts the connection. */
  tooSlow(reason: string): void {
    if (!this.#open) return;
    this.#controller?.error(new ActorSpaceError('MAILBOX_FULL', reason));
    this.#end();
  }

  /** Ends the stream cleanly: what waits is still written, then the response ends. */
  close(): void {
    if (!this.#open) return;
    try {
      this.#controller?.close();
    } catch {
      // Already errored or closed by the runtime.
    }
    this.#end();
  }

  #drained(): void {
    const waiters = this.#waiters;
    if (waiters.length === 0) return;
    this.#waiters = [];
    for (const w of waiters) w.resolve();
  }

  #end(): void {
    if (!this.#open) return;
    this.#open = false;
    const waiters = this.#waiters;
    this.#waiters = [];
    const closed = new ActorSpaceError('CHANNEL_CLOSED', 'the event stream has ended');
    for (const w of waiters) w.reject(closed);
    this.#ended(this);
  }
}

/** What the event streams need from the engine. */
export interface EventStreamHost {
  /** The server's topics. */
  readonly topics: TopicHub;
  /** `tokens` and `authenticate`, shared with the handshake. */
  readonly identity: IdentifyHost;
  /** The engine's `origins` check. */
  checkOrigin(origin: string | null, headers: HeadersLike): boolean;
  /** A failure no caller waits for (a throwing `authenticate`). */
  error(error: ActorSpaceError): void;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

/** An HTTP refusal: the error table's status and `{ error: { code, message } }`. */
function refusal(code: ErrorCode, message: string, head: boolean): HttpResponse {
  return {
    status: httpStatusFor(code),
    headers: { ...JSON_HEADERS },
    body: head ? '' : JSON.stringify({ error: { code, message } }),
  };
}

/** Every event stream of one engine: serves `GET <path>/topics/<topic>`, beats and closes them. */
export class EventStreams {
  readonly #host: EventStreamHost;
  readonly #heartbeat: number;
  readonly #retry: number;
  readonly #streams = new Set<EventStream>();
  #timer: ReturnType<typeof setInterval> | null = null;
  #next = 0;
  #closed = false;

  /** @throws RangeError for a heartbeat or retry that is not a positive number (or false). */
  constructor(host: EventStreamHost, options: EventStreamOptions = {}) {
    this.#host = host;
    this.#heartbeat = interval('sse.heartbeat', options.heartbeat, 15_000);
    this.#retry = interval('sse.retry', options.retry, 2_000);
  }

  /** Open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /**
   * Answers `GET|HEAD <base>/topics/<topic>`: a `text/event-stream` of the topic, or a JSON
   * refusal (400, 401, 403, 503, 502 when `authenticate` failed).
   */
  async serve(request: HttpRequest, method: string, pathname: string, base: string): Promise<HttpResponse> {
    const head = method === 'HEAD';
    if (this.#closed) return refusal('CHANNEL_CLOSED', 'the server is shutting down', head);
    let name: string;
    try {
      name = decodeURIComponent(pathname.slice(`${base}/topics/`.length));
    } catch {
      return refusal('INVALID_MESSAGE', 'the topic in the URL is not percent-encoded', head);
    }
    if (name.length === 0 || name.length > 256) {
      return refusal('INVALID_MESSAGE', 'a topic is a string of 1-256 characters', head);
    }
    const headers = normalizeHeaders(request.headers);
    const origin = headers.origin || null;
    if (!this.#host.checkOrigin(origin, headers)) {
      return refusal('FORBIDDEN', 'this origin may not open event streams here', head);
    }
    const query = new URL(request.url, 'http://localhost').searchParams;
    const key = `sse-${(++this.#next).toString(36)}`;
    const what = `the event stream of topic "${name.slice(0, 64)}"`;
    let caller: Caller;
    try {
      const upgrade: UpgradeRequest = { url: request.url, headers, origin };
      if (request.remoteAddress !== undefined) upgrade.remoteAddress = request.remoteAddress;
      const token = query.get('token') ?? undefined;
      // A stream names no route and no actor: a token bound to either is refused (403).
      caller =
        (await identify(this.#host.identity, upgrade, { route: '', actor: undefined, token }, what)) ??
        frozenCaller({ id: key, type: 'client' });
      await this.#host.topics.allowStream(name, caller);
    } catch (error) {
      if (error instanceof ActorSpaceError) return refusal(error.code, error.message, head);
      this.#host.error(
        new ActorSpaceError('REMOTE_ERROR', `${what} failed: ${String(error)}`, { cause: error }),
      );
      return refusal('REMOTE_ERROR', 'internal error while opening the event stream', head);
    }
    if (this.#closed) return refusal('CHANNEL_CLOSED', 'the server is shutting down', head);

    const replyHeaders: Record<string, string> = {
      'content-type': 'text/event-stream; charset=utf-8',
      // no-transform: compression middleware (compression, @fastify/compress, hono) leaves it alone.
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    };
    if (origin) {
      // An origin `origins` allows may read the stream (EventSource is a CORS request).
      replyHeaders['access-control-allow-origin'] = origin;
      replyHeaders['access-control-allow-credentials'] = 'true';
      replyHeaders.vary = 'origin';
    }
    if (head) return { status: 200, headers: replyHeaders, body: '' };

    const since = parseLastEventId(headers['last-event-id'] ?? query.get('lastEventId'));
    const signal = request.signal;
    const onAbort = (): void => stream.close();
    const stream = new EventStream(key, name, (ended) => {
      this.#streams.delete(ended);
      signal?.removeEventListener('abort', onAbort);
      this.#host.topics.leave(ended.topic, ended.key);
      if (this.#streams.size === 0) this.#stopBeating();
    });
    this.#streams.add(stream);
    if (this.#retry > 0) stream.write(`retry: ${this.#retry}\n\n`);
    let opened: { epoch: string; seq: number; recovered?: boolean };
    try {
      opened = this.#host.topics.openStream(name, key, stream, since);
    } catch (error) {
      stream.close();
      return refusal(
        error instanceof ActorSpaceError ? error.code : 'INVALID_MESSAGE',
        (error as Error).message,
        head,
      );
    }
    // Where the client is: an id with no data sets the EventSource's lastEventId without an
    // event, so a reconnect resumes from here even before the first event.
    if (!since) stream.write(`id: ${opened.epoch}:${opened.seq}\n\n`);
    else if (!opened.recovered) stream.gap(opened.epoch, opened.seq);
    if (signal) {
      if (signal.aborted) stream.close();
      else signal.addEventListener('abort', onAbort, { once: true });
    }
    this.#startBeating();
    return { status: 200, headers: replyHeaders, body: stream.body };
  }

  /** Ends every stream (what waits is still written) and refuses new ones with 503. */
  close(): void {
    this.#closed = true;
    for (const stream of [...this.#streams]) stream.close();
    this.#stopBeating();
  }

  #startBeating(): void {
    if (this.#timer || this.#heartbeat <= 0 || this.#streams.size === 0) return;
    this.#timer = setInterval(() => {
      // A stream with a backlog is not idle, and a ping would only add to it.
      for (const stream of this.#streams) if (stream.queued === 0) stream.write(PING);
    }, this.#heartbeat);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #stopBeating(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
  }
}

/** A positive number of milliseconds, 0 for `false`, or the default. @throws RangeError */
function interval(name: string, value: number | false | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (value === false) return 0;
  if (!(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw new RangeError(
      `createActorServer: ${name} must be a positive number or false, got ${String(value)}`,
    );
  }
  return value;
}
