// Topics over real sockets: rules, presence that survives drops, recovery across fresh
// sessions and server restarts (true when history covers the gap, false when not, never a
// duplicate), slow subscribers that never slow the others, broadcast, and 1,000 subscribers.
import type { Socket } from 'node:net';
import {
  type Caller,
  connect,
  defineActor,
  type Member,
  type Session,
  type TopicMeta,
} from '@actorspace/node';
import type { ActorServerOptions } from '@actorspace/server';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { type Running, startServer } from './fixtures/real-server.js';

const running: Running[] = [];
const sessions: Session[] = [];

async function start(options: Partial<ActorServerOptions> = {}, port = 0): Promise<Running> {
  const r = await startServer(
    {
      routes: { '/app': () => defineActor({ ping: () => 'pong', pushed: () => {} }) },
      authenticate: ({ headers }) => ({ id: String(headers['x-user'] ?? 'anon'), type: 'client' }),
      ...options,
    },
    port,
  );
  running.push(r);
  return r;
}

async function client(
  server: Running,
  user = 'ada',
  extra: Parameters<typeof connect>[1] = { route: '/app' },
) {
  const session = await connect(server.url, {
    reconnect: { initialDelay: 10, maxDelay: 50, jitter: false },
    headers: { 'x-user': user },
    ...extra,
    route: '/app',
  });
  sessions.push(session);
  return session;
}

/** Collects a subscription's events. */
function collector() {
  const events: { type: string; data: unknown; meta: TopicMeta }[] = [];
  const handler = (type: string, data: unknown, meta: TopicMeta) => void events.push({ type, data, meta });
  return { events, handler, seqs: () => events.map((e) => e.meta.seq) };
}

const until = async (check: () => boolean, what: string, ms = 10_000) => {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * A subscriber that got the first `seen` events of `topic`, then stayed away longer than the
 * server's resume window (its session ended there): what it gets next is a fresh session.
 */
async function awayTooLong(topic: string, history: number, seen: number) {
  const server = await start({ resume: { ttl: 50 }, topics: { [topic]: { history: { size: history } } } });
  const session = await client(server, 'ada', {
    route: '/app',
    reconnect: { initialDelay: 300, jitter: false },
  });
  const c = collector();
  const sub = await session.subscribe(topic, c.handler);
  const recoveries: boolean[] = [];
  sub.on('recovered', ({ recovered }) => recoveries.push(recovered));
  for (const i of range(1, seen)) server.actors.publish(topic, 'n', i);
  await until(() => c.events.length === seen, 'the first events');
  const away = new Promise<void>((resolve) => session.on('status', (s) => s === 'reconnecting' && resolve()));
  server.drop();
  await away;
  await until(() => server.actors.sessions().length === 0, 'the session to end');
  return { server, session, c, recoveries };
}

/** A client whose socket can stop being read, as a frozen tab's would (`pause()` / `resume()`). */
async function stallable(server: Running, reconnect: boolean) {
  let socket: WebSocket | null = null;
  const session = await client(server, 'slow', {
    route: '/app',
    ...(reconnect ? {} : { reconnect: false }),
    createSocket: (url: string) => {
      socket = new WebSocket(url, { perMessageDeflate: false });
      return socket as never;
    },
  });
  const raw = () => (socket as unknown as { _socket: Socket })._socket;
  return { session, pause: () => raw().pause(), resume: () => raw().resume() };
}

/** Publishes `count` events at a pace a reading client keeps up with (1 ms every 20 events). */
async function paced(server: Running, topic: string, count: number, pad: number) {
  const payload = 'x'.repeat(pad);
  for (const i of range(1, count)) {
    server.actors.publish(topic, 'n', { i, payload });
    if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
  }
}

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close()));
  await Promise.all(running.splice(0).map((r) => r.stop()));
});

describe('topics', () => {
  it('delivers server publishes once, in order, with seq and rich data', async () => {
    const server = await start({ topics: { 'news/:desk': {} } });
    const session = await client(server);
    const c = collector();
    const sub = await session.subscribe('news/world', c.handler);
    const at = new Date(5);
    expect(await server.actors.publish('news/world', 'story', { title: 'a', at })).toBe(1);
    server.actors.publish('news/world', 'story', { title: 'b' });
    server.actors.publish('news/sport', 'story', { title: 'elsewhere' });
    await until(() => c.events.length === 2, 'two events');
    expect(c.events[0]).toEqual({
      type: 'story',
      data: { title: 'a', at },
      meta: { topic: 'news/world', seq: 1 },
    });
    expect(c.seqs()).toEqual([1, 2]);
    expect(server.actors.topic('news/world')).toMatchObject({ seq: 2, subscribers: 1 });
    await sub.unsubscribe();
    server.actors.publish('news/world', 'story', { title: 'after' });
    await session.server.ask('ping');
    expect(c.events).toHaveLength(2);
    expect(server.actors.topic('news/world')?.subscribers).toBe(0);
  });

  it('applies rules (sync, async, with params) and refuses unmatched topics with FORBIDDEN', async () => {
    const seen: [Caller['id'], Record<string, string>][] = [];
    const server = await start({
      topics: {
        'room/:id': {
          subscribe: async (caller, params) => {
            seen.push([caller.id, { ...params }]);
            await new Promise((r) => setTimeout(r, 5));
            return params.id !== 'secret';
          },
          publish: (caller, { id }) => caller.id === 'ada' && id === 'lobby',
        },
        announcements: {},
      },
    });
    const ada = await client(server, 'ada');
    const bob = await client(server, 'bob');
    const lobby = collector();
    await bob.subscribe('room/lobby', lobby.handler);
    expect(seen).toContainEqual(['bob', { id: 'lobby' }]);
    await expect(ada.subscribe('room/secret', () => {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ada.subscribe('nowhere', () => {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    // Publishing: the rule lets ada into the lobby only; without a rule, only the server publishes.
    expect(await ada.publish('room/lobby', 'say', 'hi')).toBe(1);
    await expect(bob.publish('room/lobby', 'say', 'me too')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ada.publish('room/other', 'say', 'x')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(ada.publish('announcements', 'x', 1)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await until(() => lobby.events.length === 1, 'the lobby event');
    expect(lobby.events[0]?.meta).toEqual({ topic: 'room/lobby', seq: 1, publisher: 'ada' });
    // A failed subscribe leaves nothing behind: subscribing again works once allowed.
    await expect(ada.subscribe('room/secret', () => {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await ada.subscribe('room/lobby', () => {});
  });

  it('hides publishers where the topic says so, and refuses a second subscription to one topic', async () => {
    const server = await start({ topics: { anon: { publish: () => true, publisher: false } } });
    const session = await client(server);
    const c = collector();
    await session.subscribe('anon', c.handler);
    await expect(session.subscribe('anon', () => {})).rejects.toThrow(TypeError);
    await session.publish('anon', 'x', 1);
    await until(() => c.events.length === 1, 'the event');
    expect(c.events[0]?.meta).toEqual({ topic: 'anon', seq: 1 });
  });

  it('keeps presence across a dropped socket (no leave/join flap), and leaves when a session ends', async () => {
    const server = await start({ topics: { 'room/:id': { presence: true } } });
    const ada = await client(server, 'ada');
    const bob = await client(server, 'bob');
    const adaSub = await ada.subscribe('room/1', () => {}, { presence: { name: 'Ada' } });
    const changes: string[] = [];
    for (const kind of ['join', 'leave', 'update'] as const) {
      adaSub.on(kind, (m: Member) => changes.push(`${kind} ${m.id} ${JSON.stringify(m.meta)}`));
    }
    const bobSub = await bob.subscribe('room/1', () => {}, { presence: { name: 'Bob' } });
    expect(
      bobSub
        .presence()
        .map((m) => m.meta.name)
        .sort(),
    ).toEqual(['Ada', 'Bob']);
    await until(() => changes.length === 1, 'the join');
    expect(changes).toEqual(['join bob {"name":"Bob"}']);

    // Bob's connection drops and resumes: the same session, so presence does not flap.
    const reopened = new Promise<void>((resolve) => bob.on('status', (s) => s === 'open' && resolve()));
    server.drop();
    await reopened;
    await bobSub.update({ name: 'Bob', away: false });
    await until(() => changes.length === 2, 'the update');
    expect(changes[1]).toBe('update bob {"name":"Bob","away":false}');
    expect(server.actors.topic('room/1')?.presence).toHaveLength(2);

    // Bob closes the tab: his session ends, and he leaves.
    await bob.close();
    await until(() => changes.length === 3, 'the leave');
    expect(changes[2]).toMatch(/^leave bob/);
    expect(adaSub.presence().map((m) => m.id)).toEqual(['ada']);
    await expect(ada.subscribe('room/2', () => {}, { presence: {} })).resolves.toBeDefined();
  });

  it('recovers a gap history covers after a fresh session: recovered true, no duplicate, no hole', async () => {
    const { server, c, recoveries } = await awayTooLong('feed', 100, 5);
    for (const i of range(6, 30)) server.actors.publish('feed', 'n', i);
    await until(() => recoveries.length === 1, 'the recovery');
    await until(() => c.events.length === 30, 'every event');
    expect(recoveries).toEqual([true]);
    expect(c.seqs()).toEqual(range(1, 30));
    expect(c.events.map((e) => e.data)).toEqual(range(1, 30));
    server.actors.publish('feed', 'n', 31);
    await until(() => c.events.length === 31, 'the next event');
  });

  it('says recovered false when the gap is older than history, and when the server restarted', async () => {
    const { server, c, recoveries } = await awayTooLong('feed', 10, 1);
    for (const i of range(2, 40)) server.actors.publish('feed', 'n', i);
    await until(() => recoveries.length === 1, 'the recovery');
    expect(recoveries).toEqual([false]);
    // Nothing of the gap is delivered; what follows is.
    server.actors.publish('feed', 'n', 41);
    await until(() => c.events.length === 2, 'the next event');
    expect(c.seqs()).toEqual([1, 41]);

    // The server restarts on the same port: the topic's numbers begin again, and the client knows.
    const port = server.port;
    running.splice(running.indexOf(server), 1);
    await server.stop();
    const again = await start({ topics: { feed: {} } }, port);
    await until(() => recoveries.length === 2, 'the recovery after the restart', 15_000);
    expect(recoveries[1]).toBe(false);
    again.actors.publish('feed', 'n', 'new 1');
    await until(() => c.events.length === 3, 'the first event after the restart');
    expect(c.events[2]?.meta.seq).toBe(1);
  });

  it('recovers exactly up to the edge of history: a gap of size events is replayed, size + 1 is not', async () => {
    for (const [missed, expected] of [
      [10, true],
      [11, false],
    ] as const) {
      const { server, session, c, recoveries } = await awayTooLong('edge', 10, 1);
      for (const i of range(2, 1 + missed)) server.actors.publish('edge', 'n', i);
      await until(() => recoveries.length === 1, 'the recovery');
      expect(recoveries).toEqual([expected]);
      server.actors.publish('edge', 'n', 'next');
      await until(() => c.events.at(-1)?.data === 'next', 'the next event');
      expect(c.seqs()).toEqual(expected ? range(1, 2 + missed) : [1, 2 + missed]);
      await session.close();
    }
  });

  it('never slows the others for a subscriber that stops reading: it is skipped, then told of the gap', async () => {
    const server = await start({
      topics: { firehose: { history: { size: 50 }, slow: { limit: 64 * 1024 } } },
    });
    const fast = await client(server, 'fast');
    const fastEvents = collector();
    await fast.subscribe('firehose', fastEvents.handler);
    const slow = await stallable(server, true);
    const slowEvents = collector();
    const slowSub = await slow.session.subscribe('firehose', slowEvents.handler);
    const gaps: boolean[] = [];
    slowSub.on('recovered', ({ recovered }) => gaps.push(recovered));
    slow.pause();
    // A burst beyond a client's credit window would make any subscriber fall behind.
    await paced(server, 'firehose', 2000, 1000);
    await until(() => fastEvents.events.length === 2000, 'every event at the fast subscriber');
    expect(fastEvents.seqs()).toEqual(range(1, 2000));
    slow.resume();
    await until(() => gaps.length === 1, 'the gap notice');
    expect(gaps).toEqual([false]);
    server.actors.publish('firehose', 'n', { i: 2001 });
    await until(() => slowEvents.events.at(-1)?.meta.seq === 2001, 'the next event at the slow one');
    // What it got is in order, without duplicates.
    const seqs = slowEvents.seqs();
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('closes a slow subscriber when the topic says so, and the others go on', async () => {
    const server = await start({ topics: { strict: { slow: { limit: 32 * 1024, policy: 'close' } } } });
    const fast = await client(server, 'fast');
    const fastEvents = collector();
    await fast.subscribe('strict', fastEvents.handler);
    const slow = await stallable(server, false);
    await slow.session.subscribe('strict', () => {});
    slow.pause();
    await paced(server, 'strict', 5000, 500);
    await until(() => fastEvents.events.length === 5000, 'every event at the fast subscriber');
    slow.resume();
    await until(() => slow.session.status === 'closed', 'the slow session to close');
    expect(server.actors.topic('strict')?.subscribers).toBe(1);
  });

  it('gathers the events of a busy topic into one message per subscriber, in order; a quiet one waits for nothing', async () => {
    const server = await start({ topics: { batched: { batch: 30 }, single: { batch: 0 }, quiet: {} } });
    let messages = 0;
    const session = await client(server, 'ada', {
      route: '/app',
      createSocket: (url: string) => {
        const ws = new WebSocket(url, { perMessageDeflate: false });
        ws.on('message', () => messages++);
        return ws as never;
      },
    });
    const batched = collector();
    const single = collector();
    await session.subscribe('batched', batched.handler);
    await session.subscribe('single', single.handler);
    // Ten events, each published in an event-loop turn of its own.
    const turns = async (topic: string) => {
      for (const i of range(1, 10)) {
        server.actors.publish(topic, 'n', i);
        await new Promise((r) => setImmediate(r));
      }
    };
    let before = messages;
    await turns('single');
    await until(() => single.events.length === 10, 'the unbatched events');
    const unbatched = messages - before;
    before = messages;
    await turns('batched');
    await until(() => batched.events.length === 10, 'the batched events');
    expect(batched.seqs()).toEqual(range(1, 10));
    expect(unbatched).toBeGreaterThanOrEqual(5);
    // The first went out at once (the topic was quiet), the other nine together.
    expect(messages - before).toBeLessThanOrEqual(2);

    // The default topic (batch: 1): events 20 ms apart are each sent the moment they are published.
    const quiet = collector();
    await session.subscribe('quiet', quiet.handler);
    for (const i of range(1, 5)) {
      const at = messages;
      server.actors.publish('quiet', 'n', i);
      await until(() => quiet.events.length === i, `quiet event ${i}`);
      expect(messages - at).toBe(1);
      await new Promise((r) => setTimeout(r, 20));
    }
    // …and the same topic, busy, gathers: ten events in ten turns take fewer messages.
    before = messages;
    await turns('quiet');
    await until(() => quiet.events.length === 15, 'the busy events');
    expect(quiet.seqs()).toEqual(range(1, 15));
    expect(messages - before).toBeLessThan(10);
  });

  it('lets server code subscribe: every event in order, the kept ones first, until it unsubscribes', async () => {
    const errors: string[] = [];
    const server = await start({ topics: { 'feed/:id': { publish: () => true, history: { size: 10 } } } });
    server.actors.on('error', (e) => errors.push(e.code));
    for (const i of range(1, 5)) await server.actors.publish('feed/a', 'n', i);
    const seen: [string, unknown, number, string | undefined][] = [];
    const stop = await server.actors.subscribe(
      'feed/a',
      (type, data, meta) => {
        seen.push([type, data, meta.seq, meta.publisher]);
        if (data === 'boom') throw new Error('a listener bug');
      },
      { replay: 2 },
    );
    expect(seen.map((e) => e[1])).toEqual([4, 5]);
    const ada = await client(server);
    await ada.publish('feed/a', 'say', { at: new Date(3) });
    await server.actors.publish('feed/a', 'n', 'boom');
    await server.actors.publish('feed/a', 'n', 'after');
    // A busy topic gathers events for a millisecond (its `batch`), for listeners too.
    await until(() => seen.length === 5, 'the three events');
    expect(seen.slice(2)).toEqual([
      ['say', { at: new Date(3) }, 6, 'ada'],
      ['n', 'boom', 7, undefined],
      ['n', 'after', 8, undefined],
    ]);
    expect(errors).toEqual(['REMOTE_ERROR']);
    stop();
    await server.actors.publish('feed/a', 'n', 'unheard');
    await ada.server.ask('ping'); // the event went out meanwhile, to nobody here
    await new Promise((r) => setTimeout(r, 20));
    expect(seen).toHaveLength(5);
    expect(server.actors.topic('feed/a')?.subscribers).toBe(0);
    await expect(server.actors.subscribe('nowhere', () => {})).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(server.actors.subscribe('feed/a', 'x' as never)).rejects.toThrow(TypeError);
    await expect(server.actors.subscribe('feed/a', () => {}, { replay: -1 })).rejects.toThrow(TypeError);
  });

  it('broadcasts to the client root actor of every session of a route', async () => {
    const server = await start();
    const got: unknown[] = [];
    const make = async (user: string) =>
      client(server, user, {
        route: '/app',
        actor: defineActor({ notice: (d: unknown) => void got.push(d) }),
      });
    await make('a');
    await make('b');
    expect(server.actors.broadcast('/app', 'notice', { at: new Date(1) })).toBe(2);
    expect(server.actors.broadcast('/elsewhere', 'notice', 1)).toBe(0);
    await until(() => got.length === 2, 'both notices');
    expect(got).toEqual([{ at: new Date(1) }, { at: new Date(1) }]);
  });

  it('delivers to 1,000 subscribers, each event once and in order', async () => {
    const server = await start({ topics: { wide: {} } });
    const counts = new Array<number>(1000).fill(0);
    let inOrder = true;
    await Promise.all(
      counts.map(async (_, n) => {
        const session = await client(server, `user${n}`);
        let last = 0;
        await session.subscribe('wide', (_type, _data, meta) => {
          if (meta.seq !== last + 1) inOrder = false;
          last = meta.seq;
          counts[n]!++;
        });
      }),
    );
    expect(server.actors.topic('wide')?.subscribers).toBe(1000);
    for (const i of range(1, 20)) server.actors.publish('wide', 'tick', i);
    await until(() => counts.every((c) => c === 20), '20 events at each of 1,000 subscribers', 30_000);
    expect(inOrder).toBe(true);
  });
});
