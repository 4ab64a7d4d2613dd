/**
 * The gateway over HTTP: `GET <path>/sessions`, `GET <path>/sessions/:id`,
 * `POST <path>/sessions/:id/ask`, `POST <path>/sessions/:id/tell`, `POST <path>/broadcast`, and
 * MCP at `<path>/mcp` when enabled. Every request carries `Authorization: Bearer <service
 * token or gateway key>`; every failure is `{ error: { code, message, details? } }` with the
 * error table's HTTP status.
 */
import {
  ActorSpaceError,
  type Caller,
  decodeData,
  type ErrorCode,
  encodeData,
  httpStatusFor,
} from '@actorspace/core';
import type { HttpRequest, HttpResponse } from './actor-server.js';
import type { Gateway } from './gateway.js';
import { type IdentifyHost, identify } from './handshake.js';
import { headerOf, normalizeHeaders } from './internal/headers.js';
import { createMcpEndpoint, type McpEndpoint } from './mcp.js';
import type { Metrics } from './metrics.js';

/** A request body as adapters hand it over: the raw bytes, in whatever shape the runtime has them. */
export type HttpBody =
  | string
  | Uint8Array
  | AsyncIterable<Uint8Array | string>
  | ReadableStream<Uint8Array>
  | null;

/** What the HTTP side of the gateway needs from the engine. */
export interface GatewayHttpHost {
  /** How callers are identified (tokens, gateway keys, `authenticate`). */
  identity: IdentifyHost;
  /** The largest request body, in bytes (413 past it). */
  maxPayload: number;
  /** The server's metrics, when on: `GET <path>/metrics`, and what the gateway counts. */
  metrics: Metrics | null;
  log(level: 'debug' | 'warn' | 'error', message: string, details?: unknown): void;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export class GatewayHttp {
  readonly #gateway: Gateway | null;
  readonly #host: GatewayHttpHost;
  #mcp: Promise<McpEndpoint> | null = null;
  #closed = false;

  /** `gateway` null: only `GET <path>/metrics` (servers with metrics and no gateway). */
  constructor(gateway: Gateway | null, host: GatewayHttpHost) {
    this.#gateway = gateway;
    this.#host = host;
  }

  /** True for the gateway's URLs under `base` (any method: wrong ones get 405). */
  matches(pathname: string, base: string): boolean {
    if (!pathname.startsWith(`${base}/`)) return false;
    const rest = pathname.slice(base.length);
    if (rest === '/metrics') return this.#host.metrics !== null;
    if (!this.#gateway) return false;
    return (
      rest === '/sessions' ||
      rest.startsWith('/sessions/') ||
      rest === '/broadcast' ||
      (this.#gateway.options.mcp === true && rest === '/mcp')
    );
  }

  /** Answers one gateway request; never throws (failures are JSON errors). */
  async serve(request: HttpRequest, method: string, pathname: string, base: string): Promise<HttpResponse> {
    const rest = pathname.slice(base.length);
    let response: HttpResponse;
    try {
      if (this.#closed) throw new ActorSpaceError('CHANNEL_CLOSED', 'server is shutting down');
      const caller = await this.#caller(request);
      this.#gateway?.spend(caller);
      if (rest === '/metrics') response = await this.#metrics(method);
      else if (rest === '/mcp') {
        const body = request.method.toUpperCase() === 'POST' ? await this.#parse(request) : undefined;
        response = await (await this.#endpoint()).serve(request, caller, body);
      } else response = await this.#route(request, method, rest, caller);
    } catch (error) {
      response = this.#failure(error);
    }
    const metrics = this.#host.metrics;
    if (metrics) {
      const endpoint = endpointOf(rest);
      metrics.request(endpoint, response.status);
    }
    return response;
  }

  async #metrics(method: string): Promise<HttpResponse> {
    allow(method, 'GET');
    const { body, contentType } = await (this.#host.metrics as Metrics).text();
    return {
      status: 200,
      headers: { 'content-type': contentType, 'cache-control': 'no-store' },
      body: method === 'HEAD' ? '' : body,
    };
  }

  /** Stops answering (503) and closes the MCP sessions. */
  close(): void {
    this.#closed = true;
    void this.#mcp?.then(
      (mcp) => mcp.close(),
      () => {},
    );
  }

  async #route(request: HttpRequest, method: string, rest: string, caller: Caller): Promise<HttpResponse> {
    const gateway = this.#gateway as Gateway;
    if (rest === '/sessions') {
      allow(method, 'GET');
      return json(200, { sessions: gateway.list() }, method);
    }
    if (rest === '/broadcast') {
      allow(method, 'POST');
      const body = await this.#json(request);
      return json(202, { delivered: await gateway.broadcast(caller, body, body.type, this.#data(body)) });
    }
    const [, id, action, extra] = rest.split('/').slice(1);
    const session = decodeSegment(id ?? '');
    if (extra !== undefined || !session) throw notFound(rest);
    if (action === undefined) {
      allow(method, 'GET');
      return json(200, gateway.get(session), method);
    }
    if (action === 'ask') {
      allow(method, 'POST');
      const body = await this.#json(request);
      const result = await gateway.ask(caller, session, body.type, this.#data(body), {
        transport: 'http',
        timeout: body.timeout,
        ...(request.signal && { signal: request.signal }),
      });
      // Rich values (Date, Map, BigInt, ...) in the codec's superjson form: `meta` restores them,
      // for an agent that asks for it with `"rich": true`.
      const encoded = encodeData(result);
      const answer: Record<string, unknown> = { result: encoded.json };
      if (body.rich === true && encoded.meta !== undefined) answer.meta = encoded.meta;
      return json(200, answer);
    }
    if (action === 'tell') {
      allow(method, 'POST');
      const body = await this.#json(request);
      await gateway.tell(caller, session, body.type, this.#data(body));
      return json(202, {});
    }
    throw notFound(rest);
  }

  /** The service calling: its bearer token (a service access token or a gateway key). */
  async #caller(request: HttpRequest): Promise<Caller> {
    const auth = headerOf(request.headers, 'authorization');
    const match = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
    if (!match) {
      throw new ActorSpaceError(
        'UNAUTHORIZED',
        'the gateway needs Authorization: Bearer <service token or key>',
      );
    }
    const caller = await identify(
      this.#host.identity,
      {
        url: request.url,
        headers: normalizeHeaders(request.headers),
        origin: headerOf(request.headers, 'origin'),
        ...(request.remoteAddress !== undefined && { remoteAddress: request.remoteAddress }),
      },
      { route: '', actor: undefined, token: match[1] },
      'the gateway',
    );
    if (!caller) {
      throw new ActorSpaceError(
        'UNAUTHORIZED',
        'the gateway needs Authorization: Bearer <service token or key>',
      );
    }
    if (caller.type !== 'service') throw new ActorSpaceError('FORBIDDEN', 'clients cannot use the gateway');
    return caller;
  }

  /**
   * The request's JSON body: what the framework already parsed, or the raw body read up to
   * `maxPayload` and parsed. @throws ActorSpaceError `INVALID_MESSAGE`, `PAYLOAD_TOO_LARGE`
   */
  async #parse(request: HttpRequest): Promise<unknown> {
    const parsed = request.parsedBody;
    if (parsed !== undefined && parsed !== null && typeof parsed === 'object' && !isBytes(parsed)) {
      return parsed;
    }
    const text =
      typeof parsed === 'string' || isBytes(parsed)
        ? textOf(parsed, this.#host.maxPayload)
        : await readBody(request, this.#host.maxPayload);
    try {
      return JSON.parse(text);
    } catch {
      throw new ActorSpaceError('INVALID_MESSAGE', 'the request body must be JSON');
    }
  }

  /** The request's JSON object body. @throws as {@link #parse}, and for a body that is not an object */
  async #json(request: HttpRequest): Promise<Record<string, unknown>> {
    const value = await this.#parse(request);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new ActorSpaceError('INVALID_MESSAGE', 'the request body must be a JSON object');
    }
    return value as Record<string, unknown>;
  }

  /** The body's `data`, restored from `meta` when the agent sent the codec's superjson form. */
  #data(body: Record<string, unknown>): unknown {
    return decodeData(body.data, body.meta);
  }

  #endpoint(): Promise<McpEndpoint> {
    this.#mcp ??= createMcpEndpoint(this.#gateway as Gateway);
    return this.#mcp;
  }

  #failure(error: unknown): HttpResponse {
    if (!(error instanceof ActorSpaceError)) {
      this.#host.log('error', 'a gateway request failed', error);
      this.#host.metrics?.error('REMOTE_ERROR');
      return errorResponse(500, 'REMOTE_ERROR', 'internal error');
    }
    this.#host.metrics?.error(error.code);
    const status = (error as { status?: number }).status ?? httpStatusFor(error.code);
    const response = errorResponse(status, error.code, error.message, error.details);
    const allowed = (error as { allow?: string }).allow;
    if (allowed) response.headers.allow = allowed;
    return response;
  }
}

/** A JSON error answer. */
export function errorResponse(
  status: number,
  code: ErrorCode,
  message: string,
  details?: unknown,
): HttpResponse {
  const error: Record<string, unknown> = { code, message };
  if (details !== undefined) error.details = details;
  return { status, headers: { ...JSON_HEADERS }, body: JSON.stringify({ error }) };
}

/** The endpoint label of a gateway URL (`ask`, `tell`, `session`, `sessions`, `broadcast`, `mcp`, `metrics`). */
function endpointOf(rest: string): string {
  if (rest.startsWith('/sessions/')) {
    const action = rest.split('/')[3];
    return action === 'ask' || action === 'tell' ? action : action === undefined ? 'session' : 'other';
  }
  return rest.slice(1);
}

function json(status: number, value: unknown, method = 'POST'): HttpResponse {
  return { status, headers: { ...JSON_HEADERS }, body: method === 'HEAD' ? '' : JSON.stringify(value) };
}

/** @throws ActorSpaceError (405) when the method is not the one the URL takes. */
function allow(method: string, wanted: 'GET' | 'POST'): void {
  if (method === wanted || (wanted === 'GET' && method === 'HEAD')) return;
  const error = new ActorSpaceError('INVALID_MESSAGE', `use ${wanted} here`);
  Object.assign(error, { status: 405, allow: wanted === 'GET' ? 'GET, HEAD' : 'POST' });
  throw error;
}

function notFound(rest: string): ActorSpaceError {
  return new ActorSpaceError('NO_SUCH_ACTOR', `no gateway endpoint ${rest.slice(0, 80)}`);
}

/** A URL path segment, decoded. @throws ActorSpaceError `NO_SUCH_ACTOR` for a malformed escape */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new ActorSpaceError('NO_SUCH_ACTOR', 'no such session (malformed id)');
  }
}

function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}

function textOf(value: string | Uint8Array, limit: number): string {
  const size = typeof value === 'string' ? Buffer.byteLength(value) : value.byteLength;
  if (size > limit) throw tooLarge(limit);
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

function tooLarge(limit: number): ActorSpaceError {
  return new ActorSpaceError('PAYLOAD_TOO_LARGE', `the request body is larger than ${limit} bytes`);
}

/** Reads the raw body up to `limit` bytes. @throws ActorSpaceError `PAYLOAD_TOO_LARGE`, `INVALID_MESSAGE` */
export async function readBody(request: HttpRequest, limit: number): Promise<string> {
  const declared = Number(headerOf(request.headers, 'content-length') ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  const body = request.body;
  if (body === undefined || body === null)
    throw new ActorSpaceError('INVALID_MESSAGE', 'a JSON body is required');
  if (typeof body === 'string' || isBytes(body)) return textOf(body, limit);
  const chunks: Buffer[] = [];
  let size = 0;
  const iterable: AsyncIterable<Uint8Array | string> =
    Symbol.asyncIterator in body ? body : streamChunks(body as ReadableStream<Uint8Array>);
  for await (const chunk of iterable) {
    const bytes =
      typeof chunk === 'string'
        ? Buffer.from(chunk)
        : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    size += bytes.byteLength;
    if (size > limit) throw tooLarge(limit);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function* streamChunks(stream: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
