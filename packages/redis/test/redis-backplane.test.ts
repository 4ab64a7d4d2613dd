// The Redis backplane against a real redis-server (Debian's, started on a free port by the
// fixture): two or three backplanes, each with a fake host recording what it is given.
import { createServer, type Socket } from 'node:net';
import type { Backplane, BackplaneEvent, BackplaneHost, BackplaneKeep } from '@actorspace/server';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, freePort, startBroker } from '../../node/test/fixtures/brokers.js';
import { redisBackplane } from '../src/index.js';

interface FakeHost extends BackplaneHost {
  messages: string[];
  events: { topic: string; event: BackplaneEvent }[];
  ups: number;
  downs: string[];
}

let nodes = 0;

function fakeHost(name = 'node'): FakeHost {
  const host: FakeHost = {
    node: `${name}-${++nodes}-${Math.random().toString(36).slice(2)}`,
    messages: [],
    events: [],
    ups: 0,
    downs: [],
    message: (payload) => void host.messages.push(payload),
    event: (topic, event) => void host.events.push({ topic, event }),
    up: () => void host.ups++,
    down: (reason) => void host.downs.push(reason),
  };
  return host;
}

/** Waits until `check` holds (polling), or fails the test with `what`. */
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

const KEEP: BackplaneKeep = { size: 100, ttl: 60_000 };
const TOPIC = 'rooms/1: chat ✓ 🎉\nsecond line';

/** Backplanes started by a test, closed after it. */
const open: Backplane[] = [];

async function started(
  broker: Broker,
  host: FakeHost,
  options: Parameters<typeof redisBackplane>[0] = {},
): Promise<Backplane> {
  const backplane = redisBackplane({ url: broker.url, connectTimeout: 5_000, ...options });
  open.push(backplane);
  await backplane.start(host);
  return backplane;
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((b) => b.close()));
});

describe('redis backplane, one broker', () => {
  let broker: Broker;
  let prefixes = 0;
  /** A prefix of its own for each test: tests do not see each other's keys and messages. */
  const prefix = () => `test${++prefixes}`;

  beforeAll(async () => {
    broker = await startBroker('redis');
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('calls up() once started, and is named redis', async () => {
    const host = fakeHost();
    const backplane = await started(broker, host, { prefix: prefix() });
    expect(host.ups).toBe(1);
    expect(host.downs).toEqual([]);
    expect(backplane.name).toBe('redis');
    expect(backplane.signingKey).toBeUndefined();
  });

  it('sends to one node only, and to every other node but not the sender', async () => {
    const p = prefix();
    const [ha, hb, hc] = [fakeHost('a'), fakeHost('b'), fakeHost('c')];
    const a = await started(broker, ha, { prefix: p });
    await started(broker, hb, { prefix: p });
    await started(broker, hc, { prefix: p });

    a.send(hb.node, 'for b only');
    a.send(null, 'for all');
    // Sent last on the same connection, so it arrives after anything sent before it.
    a.send(ha.node, 'marker');
    await until('b and c to get the broadcast', () => hb.messages.length === 2 && hc.messages.length === 1);
    await until('a to get its marker', () => ha.messages.length === 1);

    expect(hb.messages).toEqual(['for b only', 'for all']);
    expect(hc.messages).toEqual(['for all']);
    expect(ha.messages).toEqual(['marker']);
  });

  it('delivers 10,000 messages in order, each exactly as sent', async () => {
    const p = prefix();
    const [ha, hb] = [fakeHost('a'), fakeHost('b')];
    const a = await started(broker, ha, { prefix: p });
    await started(broker, hb, { prefix: p });
    const sent = Array.from({ length: 10_000 }, (_, i) => `${i}\n✓ "x" ${'y'.repeat(i % 37)}\n`);
    for (const [i, payload] of sent.entries()) a.send(i % 2 ? hb.node : null, payload);
    await until('b to get every message', () => hb.messages.length === sent.length, 30_000);
    expect(hb.messages).toEqual(sent);
    expect(ha.messages).toEqual([]);
  });

  it('numbers concurrent events gaplessly, in order, the same on every node', async () => {
    const p = prefix();
    const hosts = [fakeHost('a'), fakeHost('b'), fakeHost('c')];
    const [a, b] = [
      await started(broker, hosts[0]!, { prefix: p }),
      await started(broker, hosts[1]!, { prefix: p }),
    ];
    await started(broker, hosts[2]!, { prefix: p });

    const published = await Promise.all([
      ...Array.from({ length: 500 }, (_, i) =>
        a.publish(TOPIC, `a${i}`, KEEP).then((r) => ({ ...r, payload: `a${i}` })),
      ),
      ...Array.from({ length: 500 }, (_, i) =>
        b.publish(TOPIC, `b${i}`, KEEP).then((r) => ({ ...r, payload: `b${i}` })),
      ),
    ]);
    const epoch = published[0]!.epoch;
    expect(published.every((r) => r.epoch === epoch)).toBe(true);
    const bySeq = new Map(published.map((r) => [r.seq, r.payload]));
    expect([...bySeq.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));

    for (const host of hosts) {
      await until(`${host.node} to get 1000 events`, () => host.events.length === 1000);
      expect(host.events.map((e) => e.topic).every((t) => t === TOPIC)).toBe(true);
      expect(host.events.map((e) => e.event.seq)).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1));
      for (const { event } of host.events) {
        expect(event.epoch).toBe(epoch);
        expect(event.prev).toBe(event.seq - 1);
        expect(event.payload).toBe(bySeq.get(event.seq));
        expect(typeof event.at).toBe('number');
      }
      // Each node's publishes were numbered in the order it made them.
      const mine = host.events.map((e) => e.event.payload).filter((x) => x.startsWith('a'));
      expect(mine).toEqual(Array.from({ length: 500 }, (_, i) => `a${i}`));
    }
  });

  it('keeps the last keep.size events as history, oldest first', async () => {
    const p = prefix();
    const host = fakeHost();
    const a = await started(broker, host, { prefix: p });
    const keep = { size: 3, ttl: 60_000 };
    const results = [];
    for (let i = 1; i <= 5; i++) results.push(await a.publish(TOPIC, `e${i}`, keep));

    const history = await a.history(TOPIC, keep);
    expect(history?.epoch).toBe(results[0]!.epoch);
    expect(history?.events.map((e) => [e.seq, e.prev, e.payload, e.epoch])).toEqual([
      [3, 2, 'e3', results[0]!.epoch],
      [4, 3, 'e4', results[0]!.epoch],
      [5, 4, 'e5', results[0]!.epoch],
    ]);
    const delivered = await untilEvents(host, 5);
    expect(history?.events).toEqual(delivered.slice(2));
    // A smaller keep at reading returns fewer.
    expect((await a.history(TOPIC, { size: 2, ttl: 60_000 }))?.events.map((e) => e.seq)).toEqual([4, 5]);
    expect(await a.history('nobody published here', keep)).toBeNull();
    expect(await a.history(TOPIC, { size: 0, ttl: 60_000 })).toBeNull();
  });

  it('drops history older than keep.ttl, and keeps none when keep.size is 0', async () => {
    const p = prefix();
    const a = await started(broker, fakeHost(), { prefix: p });
    await a.publish('old and new', 'old', { size: 10, ttl: 60_000 });
    await sleep(1_200);
    await a.publish('old and new', 'new', { size: 10, ttl: 60_000 });
    const recent = await a.history('old and new', { size: 10, ttl: 1_000 });
    expect(recent?.events.map((e) => e.payload)).toEqual(['new']);
    expect((await a.history('old and new', { size: 10, ttl: 60_000 }))?.events.map((e) => e.payload)).toEqual(
      ['old', 'new'],
    );

    // Redis forgets the list itself once its ttl has passed.
    await a.publish('short', 'gone soon', { size: 10, ttl: 200 });
    const raw = new Redis(broker.url);
    try {
      expect(await raw.exists(`${p}:h:short`)).toBe(1);
      await sleep(400);
      expect(await raw.exists(`${p}:h:short`)).toBe(0);
      // Its epoch and counter stay (numbers do not restart while subscribers hold them).
      expect(await raw.get(`${p}:s:short`)).toBe('1');
      expect(await raw.pttl(`${p}:e:short`)).toBeGreaterThan(3_600_000);
    } finally {
      raw.disconnect();
    }
    expect(await a.history('short', { size: 10, ttl: 200 })).toBeNull();

    const none = await a.publish('nothing kept', 'x', { size: 0, ttl: 60_000 });
    expect(none.seq).toBe(1);
    expect(await a.history('nothing kept', { size: 10, ttl: 60_000 })).toBeNull();
  });

  it('uses the documented keys and channels, under its prefix', async () => {
    const p = prefix();
    const host = fakeHost();
    const a = await started(broker, host, { prefix: p });
    const { epoch } = await a.publish('a/b: c', 'payload', KEEP);
    const raw = new Redis(broker.url);
    try {
      expect(await raw.get(`${p}:e:a/b: c`)).toBe(epoch);
      expect(await raw.get(`${p}:s:a/b: c`)).toBe('1');
      expect(await raw.lrange(`${p}:h:a/b: c`, 0, -1)).toHaveLength(1);
      expect((await raw.pubsub('CHANNELS', `${p}:*`)).sort()).toEqual(
        [`${p}:all`, `${p}:n:${host.node}`, `${p}:t`].sort(),
      );
    } finally {
      raw.disconnect();
    }
  });

  it('starts a new epoch when Redis lost a topic counter', async () => {
    const p = prefix();
    const a = await started(broker, fakeHost(), { prefix: p });
    const first = await a.publish('t', 'one', KEEP);
    await a.publish('t', 'two', KEEP);
    const raw = new Redis(broker.url);
    try {
      await raw.del(`${p}:s:t`);
    } finally {
      raw.disconnect();
    }
    const after = await a.publish('t', 'three', KEEP);
    expect(after.epoch).not.toBe(first.epoch);
    expect(after.seq).toBe(1);
    expect((await a.history('t', KEEP))?.events.map((e) => e.payload)).toEqual(['three']);
  });

  it('does not mix clusters with different prefixes', async () => {
    const [ha, hb] = [fakeHost('a'), fakeHost('b')];
    const a = await started(broker, ha, { prefix: prefix() });
    await started(broker, hb, { prefix: prefix() });
    a.send(null, 'hello');
    await a.publish('shared name', 'x', KEEP);
    a.send(ha.node, 'marker');
    await until('a to get its marker and event', () => ha.messages.length === 1 && ha.events.length === 1);
    expect(hb.messages).toEqual([]);
    expect(hb.events).toEqual([]);
  });

  it('works the same over RESP2', async () => {
    const p = prefix();
    const [ha, hb] = [fakeHost('a'), fakeHost('b')];
    const a = await started(broker, ha, { prefix: p, redis: { protocol: 2 } });
    const b = await started(broker, hb, { prefix: p });
    a.send(hb.node, 'from resp2');
    b.send(null, 'to resp2');
    const { seq } = await a.publish('topic', 'event', KEEP);
    await until('both to get everything', () => hb.messages.length === 1 && ha.messages.length === 1);
    await until('both to get the event', () => ha.events.length === 1 && hb.events.length === 1);
    expect(hb.messages).toEqual(['from resp2']);
    expect(ha.messages).toEqual(['to resp2']);
    expect(ha.events[0]!.event.seq).toBe(seq);
    expect((await a.history('topic', KEEP))?.events.map((e) => e.payload)).toEqual(['event']);
  });

  it('ignores malformed messages on its channels', async () => {
    const p = prefix();
    const host = fakeHost();
    const a = await started(broker, host, { prefix: p });
    const raw = new Redis(broker.url);
    try {
      const garbage = [
        '',
        'garbage',
        '\n',
        '1\nE\n',
        '1\nE\n5\nabc',
        '0\nE\n1\nt1\nzero seq',
        '-1\nE\n1\nt1\nnegative',
        'x\nE\n1\nt1\nnot a number',
        '1\n\n1\nt1\nempty epoch',
        '1\nE\n0\n1\nempty topic',
        '1\nE\n999\nt1\ntoo long a topic',
        '1\nE\n1\ntnot-a-time\npayload',
        '1\nE\n1\nt1.5\nfractional time',
        '99999999999999999999\nE\n1\nt1\nhuge seq',
      ];
      for (const message of garbage) await raw.publish(`${p}:t`, message);
      for (const message of ['', 'no newline', '\nno sender']) await raw.publish(`${p}:all`, message);
      // Well formed, from a stranger: delivered (the server's signatures sort these out).
      await raw.publish(`${p}:t`, '7\nE\n1\nt12\nwell formed');
      await a.publish('real', 'event', KEEP);
      await until('the real event', () => host.events.some((e) => e.topic === 'real'));
      expect(
        host.events.map((e) => [e.topic, e.event.seq, e.event.epoch, e.event.at, e.event.payload]),
      ).toEqual([
        ['t', 7, 'E', 12, 'well formed'],
        ['real', 1, expect.any(String), expect.any(Number), 'event'],
      ]);
      expect(host.messages).toEqual([]);
      // Garbage in a history list is skipped too.
      await raw.rpush(`${p}:h:real`, 'junk', '2\nnot a time\nx');
      expect((await a.history('real', KEEP))?.events.map((e) => e.payload)).toEqual(['event']);
    } finally {
      raw.disconnect();
    }
  });

  it('survives a host that throws', async () => {
    const p = prefix();
    const host = fakeHost();
    let calls = 0;
    host.event = (topic, event) => {
      calls++;
      if (calls === 1) throw new Error('the host failed');
      host.events.push({ topic, event });
    };
    const a = await started(broker, host, { prefix: p });
    await a.publish('t', 'first', KEEP);
    await a.publish('t', 'second', KEEP);
    await until('the second event', () => host.events.length === 1);
    expect(host.events[0]!.event.payload).toBe('second');
    a.send(host.node, 'still up');
    await until('a message', () => host.messages.length === 1);
  });

  it('calls nothing on the host once closed, and refuses to work', async () => {
    const p = prefix();
    const [ha, hb] = [fakeHost('a'), fakeHost('b')];
    const a = await started(broker, ha, { prefix: p });
    const b = await started(broker, hb, { prefix: p });
    await a.close();
    await a.close();
    b.send(ha.node, 'to a');
    b.send(null, 'to all');
    await b.publish('t', 'event', KEEP);
    await until('b to get its own event', () => hb.events.length === 1);
    expect(ha).toMatchObject({ messages: [], events: [], ups: 1, downs: [] });
    expect(() => a.send(hb.node, 'x')).toThrow(/closed/);
    await expect(a.publish('t', 'x', KEEP)).rejects.toThrow(/closed/);
    await expect(a.history('t', KEEP)).rejects.toThrow(/closed/);
    await expect(a.start(fakeHost())).rejects.toThrow(Error);
  });

  it('refuses to start twice', async () => {
    const host = fakeHost();
    const a = await started(broker, host, { prefix: prefix() });
    await expect(a.start(host)).rejects.toThrow(/already started/);
    expect(host.ups).toBe(1);
  });

  it('checks its arguments', async () => {
    const host = fakeHost();
    const a = await started(broker, host, { prefix: prefix() });
    expect(() => a.send('', 'x')).toThrow(TypeError);
    expect(() => a.send(host.node, 42 as unknown as string)).toThrow(TypeError);
    await expect(a.publish('', 'x', KEEP)).rejects.toThrow(TypeError);
    await expect(a.publish('x'.repeat(257), 'x', KEEP)).rejects.toThrow(TypeError);
    await expect(a.publish('t', 'x', { size: -1, ttl: 1 })).rejects.toThrow(TypeError);
    await expect(a.publish('t', 'x', { size: 1, ttl: Number.NaN })).rejects.toThrow(TypeError);
    await expect(a.history('t', { size: 1.5, ttl: 1 })).rejects.toThrow(TypeError);
    const b = redisBackplane({ url: broker.url });
    open.push(b);
    await expect(b.start({ ...fakeHost(), node: 'bad\nnode' })).rejects.toThrow(TypeError);
  });
});

describe('redis backplane, broker restart', () => {
  let broker: Broker;

  beforeAll(async () => {
    broker = await startBroker('redis');
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('goes down once, fails fast while down, comes back up, and starts a new epoch', async () => {
    const [ha, hb] = [fakeHost('a'), fakeHost('b')];
    const a = await started(broker, ha);
    const b = await started(broker, hb);
    const before = await a.publish(TOPIC, 'before', KEEP);
    await until('b to get the event', () => hb.events.length === 1);
    expect(before.seq).toBe(1);

    await broker.kill();
    await until('both to go down', () => ha.downs.length === 1 && hb.downs.length === 1);
    expect(ha.downs[0]).toMatch(/redis/);
    expect(() => a.send(hb.node, 'lost')).toThrow(/not connected/);
    expect(() => a.send(null, 'lost')).toThrow(Error);
    await expect(a.publish(TOPIC, 'lost', KEEP)).rejects.toThrow(/not connected/);
    await expect(a.history(TOPIC, KEEP)).rejects.toThrow(/not connected/);
    // Several reconnection attempts fail meanwhile: down() is still called only once.
    await sleep(1_500);
    expect(ha.downs).toHaveLength(1);
    expect(hb.downs).toHaveLength(1);
    expect(ha.ups).toBe(1);

    await broker.restart();
    await until('both to come back up', () => ha.ups === 2 && hb.ups === 2);
    a.send(hb.node, 'after');
    b.send(null, 'after to all');
    await until('the messages', () => hb.messages.length === 1 && ha.messages.length === 1);
    expect(hb.messages).toEqual(['after']);
    expect(ha.messages).toEqual(['after to all']);

    const after = await b.publish(TOPIC, 'after', KEEP);
    expect(after.epoch).not.toBe(before.epoch);
    expect(after.seq).toBe(1);
    await until('both to get the new event', () => ha.events.length === 2 && hb.events.length === 2);
    for (const host of [ha, hb]) {
      expect(host.events[1]!.event).toMatchObject({ epoch: after.epoch, seq: 1, prev: 0, payload: 'after' });
    }
    expect((await a.history(TOPIC, KEEP))?.events.map((e) => e.payload)).toEqual(['after']);
    expect(ha.downs).toHaveLength(1);
    expect(ha.ups).toBe(2);
  });

  it('rejects commands in flight when the broker goes away', async () => {
    const host = fakeHost();
    const a = await started(broker, host);
    const pending = Array.from({ length: 200 }, (_, i) => a.publish('busy', 'x'.repeat(10_000) + i, KEEP));
    // Watched before the kill: a rejection while the kill is awaited is never left unhandled.
    const all = Promise.allSettled(pending);
    await broker.kill();
    const settled = await all;
    for (const result of settled) {
      if (result.status === 'rejected') expect(result.reason).toBeInstanceOf(Error);
    }
    await until('down', () => host.downs.length === 1);
    await broker.restart();
    await until('up again', () => host.ups === 2);
  });
});

describe('redis backplane options', () => {
  it('validates its options', () => {
    const bad: unknown[] = [
      null,
      'redis://x',
      { url: 42 },
      { url: 'not a url' },
      { url: 'http://127.0.0.1:6379' },
      { signingKey: 'short' },
      { signingKey: 42 },
      { prefix: '' },
      { prefix: 'has space' },
      { prefix: 'x'.repeat(65) },
      { prefix: 'ünïcode' },
      { connectTimeout: 0 },
      { connectTimeout: -1 },
      { connectTimeout: Number.NaN },
      { connectTimeout: '1000' },
      { url: null },
      { prefix: null },
      { connectTimeout: null },
      { signingKey: null },
      { redis: 'x' },
      { redis: null },
      { redis: [] },
    ];
    for (const options of bad) {
      expect(
        () => redisBackplane(options as Parameters<typeof redisBackplane>[0]),
        JSON.stringify(options),
      ).toThrow(TypeError);
    }
    const key = 'k'.repeat(32);
    const good = redisBackplane({
      url: 'rediss://:pw@example.com:6380/2',
      prefix: 'a.b:c-d_1',
      signingKey: key,
    });
    expect(good.signingKey).toBe(key);
    expect(good.name).toBe('redis');
    expect(redisBackplane().name).toBe('redis');
  });

  it('closes without having started, twice', async () => {
    const backplane = redisBackplane();
    await backplane.close();
    await backplane.close();
    expect(() => backplane.send(null, 'x')).toThrow(/closed/);
  });

  it('refuses to work before it is started', async () => {
    const backplane = redisBackplane();
    expect(() => backplane.send(null, 'x')).toThrow(/not connected/);
    await expect(backplane.publish('t', 'x', KEEP)).rejects.toThrow(/not connected/);
    await expect(backplane.history('t', KEEP)).rejects.toThrow(/not connected/);
  });

  it('rejects start() when nobody listens, leaves nothing behind, and can start again', async () => {
    const port = await freePort();
    const sockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const baseline = sockets();
    const host = fakeHost();
    const backplane = redisBackplane({ url: `redis://127.0.0.1:${port}`, connectTimeout: 500 });
    open.push(backplane);
    await expect(backplane.start(host)).rejects.toThrow(
      /could not connect to redis at redis:\/\/127\.0\.0\.1/,
    );
    expect(sockets()).toBe(baseline);
    expect(host).toMatchObject({ ups: 0, downs: [] });
    expect(() => backplane.send(null, 'x')).toThrow(/not connected/);
    // It does not try again by itself: a server now listening on the port sees no connection.
    const seen: Socket[] = [];
    const server = createServer((socket) => {
      seen.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    try {
      await sleep(1_500);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(seen).toHaveLength(0);

    // The server calls start() again until it works: once Redis is there, it does.
    const broker = await startBroker('redis', port);
    try {
      await backplane.start(host);
      expect(host).toMatchObject({ ups: 1, downs: [] });
      backplane.send(host.node, 'works');
      await until('the message', () => host.messages.length === 1);
      await backplane.close();
    } finally {
      await broker.stop();
    }
  });

  it('rejects start() when closed while connecting', async () => {
    const port = await freePort();
    const backplane = redisBackplane({ url: `redis://127.0.0.1:${port}`, connectTimeout: 5_000 });
    const starting = backplane.start(fakeHost());
    await sleep(100);
    await backplane.close();
    await expect(starting).rejects.toThrow(/closed before it connected/);
  });
});

async function untilEvents(host: FakeHost, count: number): Promise<BackplaneEvent[]> {
  await until(`${count} events`, () => host.events.length >= count);
  return host.events.map((e) => e.event);
}
