// Topics as Server-Sent Events at the engine: who may open a stream (tokens in the query,
// route- and actor-bound tokens, authenticate with cookies), the wire format (ids, events,
// envelopes, heartbeats, gap notices), replay, slow clients, and the endpoint's edges. The
// adapter suite runs the same endpoint through every adapter over real sockets.
import { createServer, type Server } from 'node:http';
import { connect as tcpConnect } from 'node:net';
import { ActorSpaceError, type Caller, defineActor } from '@actorspace/core';
import { connect, type Session } from '@actorspace/node';
import {
  type ActorServer,
  type ActorServerOptions,
  createAccessToken,
  createActorServer,
  type HttpResponse,
} from '@actorspace/server';
import { attach } from '@actorspace/server/node';
import { afterEach, describe, expect, it } from 'vitest';
import { readSse, type SseReader } from './fixtures/sse-client.js';

const SECRET = 'a-test-secret-that-is-long-enough-000';
const servers: ActorServer<any>[] = [];
const readers: SseReader[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

function server(options: Partial<ActorServerOptions> = {}): ActorServer<any> {
  const actors = createActorServer({
    routes: { '/app': () => defineActor({ ping: () => 'pong' }) },
    topics: { 'news/:desk': {} },
    ...options,
  });
  servers.push(actors);
  return actors;
}

afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  for (const c of cleanups.splice(0).reverse()) await c();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** `GET <path>/topics/<topic>` on the engine itself. */
function get(
  actors: ActorServer<any>,
  topic: string,
  query = '',
  headers: Record<string, string> = {},
  method = 'GET',
): Promise<HttpResponse | null> {
  return actors.http({ method, url: `/actorspace/topics/${encodeURIComponent(topic)}${query}`, headers });
}

/** Opens a stream on the engine and reads its body as an EventSource would. */
async function stream(
  actors: ActorServer<any>,
  topic: string,
  query = '',
  headers: Record<string, string> = {},
): Promise<SseReader> {
  const reply = await get(actors, topic, query, headers);
  expect(reply?.status, JSON.stringify(reply?.body)).toBe(200);
  const body = reply?.body as ReadableStream<Uint8Array>;
  const reader = readSse(body, () => {});
  readers.push(reader);
  return reader;
}

function errorOf(reply: HttpResponse | null): { status: number | undefined; code: string } {
  return { status: reply?.status, code: JSON.parse(String(reply?.body)).error.code };
}

describe('event streams: who may open one', () => {
  it('takes the caller from a ?token= verified like a hello token; missing or forged tokens get 401', async () => {
    const seen: Caller[] = [];
    const actors = server({
      tokens: { secret: SECRET },
      topics: {
        'news/:desk': {
          subscribe: (caller) => {
            seen.push(caller);
            return caller.id === 'alice';
          },
        },
      },
    });
    const alice = await createAccessToken({
      secret: SECRET,
      caller: { id: 'alice', type: 'client' },
      expiresIn: 60,
    });
    const bob = await createAccessToken({
      secret: SECRET,
      caller: { id: 'bob', type: 'client' },
      expiresIn: 60,
    });
    const forged = await createAccessToken({
      secret: 'another-secret-that-is-long-enough-111',
      caller: { id: 'alice', type: 'client' },
      expiresIn: 60,
    });
    expect(errorOf(await get(actors, 'news/a'))).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    expect(errorOf(await get(actors, 'news/a', `?token=${forged}`))).toEqual({
      status: 401,
      code: 'UNAUTHORIZED',
    });
    expect(errorOf(await get(actors, 'news/a', '?token=garbage'))).toEqual({
      status: 401,
      code: 'UNAUTHORIZED',
    });
    // A valid token whose caller the subscribe rule refuses: 403.
    expect(errorOf(await get(actors, 'news/a', `?token=${bob}`))).toEqual({ status: 403, code: 'FORBIDDEN' });
    await stream(actors, 'news/a', `?token=${alice}`);
    expect(seen.map((c) => c.id)).toEqual(['bob', 'alice']);
    expect(actors.topic('news/a')?.subscribers).toBe(1);
  });

  it('refuses tokens bound to a route or an actor with 403: a stream has neither', async () => {
    const actors = server({ tokens: { secret: SECRET } });
    const caller = { id: 'alice', type: 'client' as const };
    const routeBound = await createAccessToken({ secret: SECRET, caller, route: '/app', expiresIn: 60 });
    const actorBound = await createAccessToken({ secret: SECRET, caller, actor: 'page-1', expiresIn: 60 });
    for (const token of [routeBound, actorBound]) {
      expect(errorOf(await get(actors, 'news/a', `?token=${token}`))).toEqual({
        status: 403,
        code: 'FORBIDDEN',
      });
    }
    expect(actors.topic('news/a')?.subscribers ?? 0).toBe(0);
  });

  it('asks authenticate with the request headers (cookies), route "" and no actor', async () => {
    const calls: Record<string, unknown>[] = [];
    const actors = server({
      authenticate: (req) => {
        calls.push({ ...req });
        return req.headers.cookie === 'sid=ok' ? { id: 'cookie-user', type: 'client' } : null;
      },
      topics: { 'news/:desk': { subscribe: (caller) => caller.id === 'cookie-user' } },
    });
    expect(errorOf(await get(actors, 'news/a'))).toEqual({ status: 401, code: 'UNAUTHORIZED' });
    await stream(actors, 'news/a', '?token=raw', { cookie: 'sid=ok' });
    expect(calls[1]).toMatchObject({
      route: '',
      actor: undefined,
      token: 'raw',
      verified: null,
      origin: null,
      url: '/actorspace/topics/news%2Fa?token=raw',
    });
    expect((calls[1]!.headers as Record<string, string>).cookie).toBe('sid=ok');
  });

  it('answers authenticate throwing FORBIDDEN with 403, and any other failure with 502 and an error event', async () => {
    const errors: ActorSpaceError[] = [];
    let mode = 'forbid';
    const actors = server({
      authenticate: async () => {
        if (mode === 'forbid') throw new ActorSpaceError('FORBIDDEN', 'not you');
        throw new Error('database down');
      },
    });
    actors.on('error', (error) => errors.push(error));
    expect(errorOf(await get(actors, 'news/a'))).toEqual({ status: 403, code: 'FORBIDDEN' });
    mode = 'crash';
    expect(errorOf(await get(actors, 'news/a'))).toEqual({ status: 502, code: 'REMOTE_ERROR' });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.message).toMatch(/database down/);
  });

  it('checks a browser Origin (same-origin by default) and lets an allowed one read the stream', async () => {
    const actors = server();
    const host = { host: 'app.test' };
    expect(errorOf(await get(actors, 'news/a', '', { ...host, origin: 'http://evil.test' }))).toEqual({
      status: 403,
      code: 'FORBIDDEN',
    });
    const same = await get(actors, 'news/a', '', { ...host, origin: 'http://app.test' });
    expect(same?.status).toBe(200);
    expect(same?.headers['access-control-allow-origin']).toBe('http://app.test');
    await (same!.body as ReadableStream).cancel();
    // No Origin (a same-origin EventSource, or not a browser): allowed, with no CORS headers.
    const none = await get(actors, 'news/a', '', host);
    expect(none?.headers['access-control-allow-origin']).toBeUndefined();
    await (none!.body as ReadableStream).cancel();
  });
});

describe('event streams: the wire format', () => {
  it('sends retry, a bare id where the stream starts, then id <epoch>:<seq>, event and the envelope', async () => {
    const actors = server({ sse: { heartbeat: false, retry: 1234 } });
    const s = await stream(actors, 'news/a');
    await s.until((b) => b.length === 2, 'the preamble');
    const epoch = actors.topic('news/a')?.epoch;
    expect(s.blocks).toEqual([
      { retry: '1234', comments: [] },
      { id: `${epoch}:0`, comments: [] },
    ]);
    actors.publish('news/a', 'story', { at: new Date(5), tags: new Set(['x']) });
    actors.publish('news/a', 'message', undefined);
    actors.publish('news/a', 'two\nlines', 'plain');
    await s.until(() => s.events().length === 3, 'three events');
    expect(s.events()).toEqual([
      {
        id: `${epoch}:1`,
        event: 'story',
        data: {
          data: { at: '1970-01-01T00:00:00.005Z', tags: ['x'] },
          meta: { values: { at: ['Date'], tags: ['set'] }, v: 1 },
        },
      },
      // undefined data: null with meta 0, as the codec carries it.
      { id: `${epoch}:2`, event: 'message', data: { data: null, meta: 0 } },
      // A line break cannot be in an event name: it becomes a space.
      { id: `${epoch}:3`, event: 'two lines', data: { data: 'plain' } },
    ]);
  });

  it('sends a comment heartbeat on idle streams at the configured interval, and none when off', async () => {
    const beating = server({ sse: { heartbeat: 20 } });
    const quiet = server({ sse: { heartbeat: false } });
    const a = await stream(beating, 'news/a');
    const b = await stream(quiet, 'news/a');
    await a.until((blocks) => blocks.filter((x) => x.comments.includes('ping')).length >= 3, 'three pings');
    expect(a.blocks.filter((x) => x.comments.length > 0).every((x) => x.id === undefined)).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    expect(b.blocks.some((x) => x.comments.length > 0)).toBe(false);
    expect(() => server({ sse: { heartbeat: -1 } })).toThrow(RangeError);
  });

  it('replays from Last-Event-ID, events published before any stream included (rich data intact)', async () => {
    const actors = server({ topics: { 'news/:desk': { history: { size: 10 } } } });
    actors.publish('news/a', 'n', { at: new Date(1) });
    actors.publish('news/a', 'n', { at: new Date(2) });
    actors.publish('news/a', 'n', { at: new Date(3) });
    const epoch = actors.topic('news/a')?.epoch;
    const s = await stream(actors, 'news/a', '', { 'last-event-id': `${epoch}:1` });
    await s.until(() => s.events().length === 2, 'the replay');
    actors.publish('news/a', 'n', { at: new Date(4) });
    await s.until(() => s.events().length === 3, 'the live event');
    expect(s.events().map((e) => [e.id, e.data.data.at, e.data.meta])).toEqual(
      [2, 3, 4].map((n) => [`${epoch}:${n}`, new Date(n).toISOString(), { values: { at: ['Date'] }, v: 1 }]),
    );
    // Already up to date: nothing replayed, no notice.
    const current = await stream(actors, 'news/a', `?lastEventId=${epoch}:4`);
    await current.until((b) => b.length >= 1, 'the retry');
    await new Promise((r) => setTimeout(r, 30));
    expect(current.blocks.filter((b) => b.id !== undefined)).toEqual([]);
  });

  it('sends an event once when a replay covers it and it was still being gathered (a busy topic)', async () => {
    const actors = server({ topics: { 'news/:desk': { history: { size: 10 }, batch: 200 } } });
    for (let n = 1; n <= 4; n++) actors.publish('news/a', 'n', n); // 1 at once, 2-4 gathered
    const epoch = actors.topic('news/a')?.epoch;
    const late = await stream(actors, 'news/a', '', { 'last-event-id': `${epoch}:1` });
    const fresh = await stream(actors, 'news/a');
    await late.until(() => late.events().length >= 3, 'the replay');
    actors.publish('news/a', 'n', 5);
    await late.until(() => late.events().some((e) => e.data.data === 5), 'the next event');
    await fresh.until(() => fresh.events().length >= 1, 'the next event (fresh)');
    expect(late.events().map((e) => e.data.data)).toEqual([2, 3, 4, 5]);
    // A stream that came while 2-4 were gathered gets what is published after it, only.
    expect(fresh.events().map((e) => e.data.data)).toEqual([5]);
  });

  it('sends a $gap notice (recovered false) when history no longer covers the id, or it is foreign', async () => {
    const actors = server({ topics: { 'news/:desk': { history: { size: 3 } } } });
    for (let n = 1; n <= 10; n++) actors.publish('news/a', 'n', n);
    const epoch = actors.topic('news/a')?.epoch;
    for (const lastId of [`${epoch}:2`, 'an-old-epoch:9', 'garbage', `${epoch}:99`]) {
      const s = await stream(actors, 'news/a', '', { 'last-event-id': lastId });
      await s.until((b) => b.some((x) => x.event === '$gap'), `the gap for ${lastId}`);
      const gap = s.blocks.find((x) => x.event === '$gap');
      expect(gap).toEqual({
        id: `${epoch}:10`,
        event: '$gap',
        data: '{"recovered":false,"seq":10}',
        comments: [],
      });
      s.close();
    }
    const s = await stream(actors, 'news/a', '', { 'last-event-id': `${epoch}:2` });
    await s.until((b) => b.some((x) => x.event === '$gap'), 'the gap');
    actors.publish('news/a', 'n', 11);
    await s.until(() => s.events().length === 2, 'the event after the gap');
    expect(s.events()[1]).toEqual({ id: `${epoch}:11`, event: 'n', data: { data: 11 } });
  });

  it('names the publisher of client-published events, unless the topic hides it', async () => {
    const actors = server({
      authenticate: () => ({ id: 'ada', type: 'client' }),
      topics: { shown: { publish: () => true }, hidden: { publish: () => true, publisher: false } },
    });
    const http: Server = createServer();
    attach(http, actors);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => http.close(() => r())));
    const port = (http.address() as { port: number }).port;
    const session: Session = await connect(`ws://127.0.0.1:${port}/actorspace`, {
      route: '/app',
      reconnect: false,
    });
    cleanups.push(() => session.close());
    const shown = await stream(actors, 'shown');
    const hidden = await stream(actors, 'hidden');
    await session.publish('shown', 'say', 'hi');
    await session.publish('hidden', 'say', 'hi');
    await shown.until(() => shown.events().length === 1, 'the shown event');
    await hidden.until(() => hidden.events().length === 1, 'the hidden event');
    expect(shown.events()[0]?.data).toEqual({ data: 'hi', publisher: 'ada' });
    expect(hidden.events()[0]?.data).toEqual({ data: 'hi' });
  });
});

describe('event streams: slow clients', () => {
  /** A stream nobody reads yet: what is written waits in the engine, counted. */
  async function unread(actors: ActorServer<any>, topic: string) {
    const reply = await get(actors, topic);
    return reply?.body as ReadableStream<Uint8Array>;
  }
  const payload = 'x'.repeat(1000);
  /** Publishes at a pace a reading stream keeps up with (a synchronous burst outruns any reader). */
  async function paced(actors: ActorServer<any>, topic: string, count: number) {
    for (let i = 1; i <= count; i++) {
      actors.publish(topic, 'n', { i, payload });
      if (i % 4 === 0) await new Promise((r) => setTimeout(r, 0));
    }
  }

  it('skips a stream that stops reading, then replays or sends a gap once it drains, never a duplicate', async () => {
    const actors = server({
      sse: { heartbeat: 10, retry: false },
      topics: { fire: { history: { size: 20 }, slow: { limit: 16 * 1024 } } },
    });
    const fast = await stream(actors, 'fire');
    const body = await unread(actors, 'fire');
    await paced(actors, 'fire', 200);
    await fast.until(() => fast.events().length === 200, 'every event at the reading stream');
    // The slow one holds at most its limit (plus one event): the rest was skipped.
    await new Promise((r) => setTimeout(r, 50));
    const slow = readSse(body, () => {});
    readers.push(slow);
    await slow.until((b) => b.some((x) => x.event === '$gap'), 'the gap notice');
    actors.publish('fire', 'n', { i: 201 });
    await slow.until(() => slow.events().some((e) => e.data.data?.i === 201), 'the next event');
    const seqs = slow.blocks.filter((b) => b.event === 'n').map((b) => Number(b.id?.split(':')[1]));
    expect(seqs.length).toBeLessThan(30);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
    // Before the gap: what fitted its limit; the gap says where it continues.
    expect(slow.blocks.find((b) => b.event === '$gap')?.data).toBe('{"recovered":false,"seq":200}');
  });

  it('replays the skipped events from history when history still holds them', async () => {
    const actors = server({
      sse: { heartbeat: false, retry: false },
      topics: { fire: { history: { size: 500 }, slow: { limit: 8 * 1024 } } },
    });
    const body = await unread(actors, 'fire');
    for (let i = 1; i <= 100; i++) actors.publish('fire', 'n', { i, payload });
    const slow = readSse(body, () => {});
    readers.push(slow);
    await slow.until(() => slow.events().length === 100, 'every event, replayed');
    expect(slow.events().map((e) => e.data.data.i)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(slow.blocks.some((b) => b.event === '$gap')).toBe(false);
  });

  it('ends a stream that stops reading when the topic says close, and frees what waited', async () => {
    const actors = server({ topics: { strict: { slow: { limit: 16 * 1024, policy: 'close' } } } });
    const body = await unread(actors, 'strict');
    const fast = await stream(actors, 'strict');
    await paced(actors, 'strict', 100);
    expect(actors.topic('strict')?.subscribers).toBe(1);
    await fast.until(() => fast.events().length === 100, 'every event at the reading stream');
    // The errored stream is cut, not ended: a client cannot take it for a complete answer.
    await expect(body.getReader().read()).rejects.toMatchObject({ code: 'MAILBOX_FULL' });
  });

  it('counts bytes the socket has not taken over a real connection (node adapter)', async () => {
    const actors = server({ topics: { strict: { slow: { limit: 64 * 1024, policy: 'close' } } } });
    const http: Server = createServer();
    attach(http, actors);
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      http.closeAllConnections();
      return new Promise<void>((r) => http.close(() => r()));
    });
    const port = (http.address() as { port: number }).port;
    // A client that sends its request and then never reads, as a frozen tab would...
    const socket = tcpConnect(port, '127.0.0.1');
    socket.write('GET /actorspace/topics/strict HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise<void>((r) => socket.once('data', () => r()));
    socket.pause();
    cleanups.push(() => void socket.destroy());
    // ...and one that reads.
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${port}/actorspace/topics/strict`, {
      signal: controller.signal,
    });
    const reading = readSse(res.body as ReadableStream<Uint8Array>, () => controller.abort());
    readers.push(reading);
    expect(actors.topic('strict')?.subscribers).toBe(2);
    let closedAt = 0;
    for (let i = 1; i <= 20_000; i++) {
      actors.publish('strict', 'n', { i, payload });
      if (i % 4 === 0) {
        await new Promise((r) => setTimeout(r, 0));
        if (!closedAt && actors.topic('strict')?.subscribers === 1) closedAt = i;
        if (closedAt && i >= closedAt + 100) break;
      }
    }
    // The one that stopped reading is closed once the socket's buffers are full and 64 KiB more
    // waits in the engine (far below 20 MB); the reader keeps up and gets every event.
    expect(closedAt).toBeGreaterThan(64);
    const total = actors.topic('strict')?.seq ?? 0;
    expect(total).toBeLessThan(20_000);
    await reading.until(() => reading.events().length === total, 'every event at the reading client');
    expect(reading.blocks.some((b) => b.event === '$gap')).toBe(false);
  });
});

describe('event streams: the endpoint', () => {
  it('refuses a bad topic in the URL with 400, answers HEAD without subscribing, and can be turned off', async () => {
    const actors = server();
    const bad = await actors.http({ method: 'GET', url: '/actorspace/topics/%E0%A4%A' });
    expect(errorOf(bad)).toEqual({ status: 400, code: 'INVALID_MESSAGE' });
    expect(errorOf(await get(actors, 'x'.repeat(257)))).toEqual({ status: 400, code: 'INVALID_MESSAGE' });
    const head = await get(actors, 'news/a', '', {}, 'HEAD');
    expect(head?.status).toBe(200);
    expect(head?.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(head?.body).toBe('');
    expect(actors.topic('news/a')?.subscribers).toBe(0);
    // A topic written with plain slashes is the same topic.
    const plain = await actors.http({ method: 'GET', url: '/actorspace/topics/news/a' });
    expect(plain?.status).toBe(200);
    expect(actors.topic('news/a')?.subscribers).toBe(1);
    await (plain!.body as ReadableStream).cancel();
    expect(actors.topic('news/a')?.subscribers).toBe(0);

    const off = server({ sse: false });
    expect(off.wants('GET', '/actorspace/topics/news%2Fa')).toBe(false);
    expect(await get(off, 'news/a')).toBeNull();
  });

  it('ends a stream when the request signal aborts', async () => {
    const actors = server();
    const controller = new AbortController();
    const reply = await actors.http({
      method: 'GET',
      url: '/actorspace/topics/news%2Fa',
      signal: controller.signal,
    });
    const s = readSse(reply?.body as ReadableStream<Uint8Array>, () => {});
    expect(actors.topic('news/a')?.subscribers).toBe(1);
    controller.abort();
    expect(actors.topic('news/a')?.subscribers).toBe(0);
    expect(await s.ended).toBe('end');
  });

  it('ends every stream on close, writing what waited first, and refuses new ones with 503', async () => {
    const actors = server();
    const s = await stream(actors, 'news/a');
    actors.publish('news/a', 'last', 1);
    const closing = actors.close();
    expect(await s.ended).toBe('end');
    expect(s.events().map((e) => e.event)).toEqual(['last']);
    expect(errorOf(await get(actors, 'news/a'))).toEqual({ status: 503, code: 'CHANNEL_CLOSED' });
    await closing;
  });
});
