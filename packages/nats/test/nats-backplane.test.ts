// The NATS backplane against a real nats-server with JetStream (Debian's, started by the
// fixture on a free port): node messages, topic events and their numbers, history, a broker
// restart, garbage on the subjects, options, and a start with no broker. Each test uses its own
// subject prefix, so its stream is its own.
import { createServer, type Socket } from 'node:net';
import type { Backplane, BackplaneEvent, BackplaneHost, BackplaneKeep } from '@actorspace/server';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect, headers, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, freePort, startBroker } from '../../node/test/fixtures/brokers.js';
import { type NatsBackplaneOptions, natsBackplane } from '../src/index.js';

/** A host that records what the backplane tells it. */
class Host implements BackplaneHost {
  readonly calls: string[] = [];
  readonly messages: string[] = [];
  readonly events: { topic: string; event: BackplaneEvent }[] = [];
  constructor(readonly node: string) {}
  message(payload: string): void {
    this.messages.push(payload);
  }
  event(topic: string, event: BackplaneEvent): void {
    this.events.push({ topic, event });
  }
  up(): void {
    this.calls.push('up');
  }
  down(reason: string): void {
    expect(typeof reason).toBe('string');
    this.calls.push('down');
  }
  of(topic: string): BackplaneEvent[] {
    return this.events.filter((e) => e.topic === topic).map((e) => e.event);
  }
}

const KEEP: BackplaneKeep = { size: 1000, ttl: 60_000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits (bounded) until `check` holds; the bound only turns a hang into a failure. */
async function until(what: string, check: () => boolean, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await sleep(10);
  }
}

let broker: Broker;
const extraBrokers: Broker[] = [];
const planes: Backplane[] = [];
const clients: NatsConnection[] = [];
let prefixes = 0;

beforeAll(async () => {
  broker = await startBroker('nats');
});

afterEach(async () => {
  await Promise.all(planes.splice(0).map((p) => p.close()));
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(extraBrokers.splice(0).map((b) => b.stop()));
});

afterAll(async () => {
  await broker?.stop();
});

function prefix(): string {
  return `t${++prefixes}_${process.pid}`;
}

/** Starts one backplane per node name, all on the same broker and prefix. */
async function nodes(
  names: string[],
  options: NatsBackplaneOptions & { servers?: string } = {},
): Promise<{ plane: Backplane; host: Host }[]> {
  const common = { servers: broker.url, prefix: prefix(), ...options };
  const made = names.map((name) => {
    const plane = natsBackplane(common);
    planes.push(plane);
    return { plane, host: new Host(name) };
  });
  await Promise.all(made.map(({ plane, host }) => plane.start(host)));
  return made;
}

async function raw(url = broker.url): Promise<NatsConnection> {
  const nc = await connect({ servers: url });
  clients.push(nc);
  return nc;
}

describe('natsBackplane: messages between nodes', () => {
  it('calls up() once at start, sends to one node, and send(null) to every node but the sender', async () => {
    const [a, b, c] = await nodes(['n-a', 'n-b', 'n-c']);
    if (!a || !b || !c) throw new Error('three nodes');
    for (const { host } of [a, b, c]) expect(host.calls).toEqual(['up']);
    expect(a.plane.name).toBe('nats');

    const odd = [
      '',
      '\uFEFFbom first',
      'line\r\nbreaks',
      'ünïcødé 💥',
      '{"json":[1,2,3]}',
      'x'.repeat(100_000),
    ];
    for (const payload of odd) a.plane.send('n-b', payload);
    a.plane.send(null, 'to all');
    // Sent after the broadcast on the same connection: once a has it, a had its broadcast too.
    a.plane.send('n-a', 'a to itself');
    await until('b and c to get the broadcast', () => b.host.messages.length === odd.length + 1);
    await until('c to get the broadcast', () => c.host.messages.length === 1);
    await until('a to get its own direct message', () => a.host.messages.length === 1);
    expect(b.host.messages).toEqual([...odd, 'to all']);
    expect(c.host.messages).toEqual(['to all']);
    expect(a.host.messages).toEqual(['a to itself']);
  });

  it('keeps the order of 10,000 messages, direct and to all', async () => {
    const [a, b, c] = await nodes(['n-a', 'n-b', 'n-c']);
    if (!a || !b || !c) throw new Error('three nodes');
    const sent: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const payload = `m${i}`;
      sent.push(payload);
      a.plane.send(i % 2 === 0 ? 'n-b' : null, payload);
    }
    await until('b to get 10,000 messages', () => b.host.messages.length === 10_000);
    await until('c to get 5,000 messages', () => c.host.messages.length === 5_000);
    expect(b.host.messages).toEqual(sent);
    expect(c.host.messages).toEqual(sent.filter((_, i) => i % 2 === 1));
    expect(a.host.messages).toEqual([]);
  });

  it('encodes node ids that are not subject tokens', async () => {
    const [a, b] = await nodes(['node.with dots*and>', 'ünï/node']);
    if (!a || !b) throw new Error('two nodes');
    a.plane.send('ünï/node', 'hello');
    b.plane.send('node.with dots*and>', 'hi');
    await until('both to get theirs', () => a.host.messages.length === 1 && b.host.messages.length === 1);
    expect(b.host.messages).toEqual(['hello']);
    expect(a.host.messages).toEqual(['hi']);
  });
});

describe('natsBackplane: topic events', () => {
  it('numbers concurrent publishes once, delivers them to every node in order, prev chained', async () => {
    const all = await nodes(['n-a', 'n-b', 'n-c'], { history: { size: 5000 } });
    const [a, b, c] = all;
    if (!a || !b || !c) throw new Error('three nodes');
    const published = new Map<string, number>();
    const epochs = new Set<string>();
    const publish = async (plane: Backplane, topic: string, payload: string) => {
      const { epoch, seq } = await plane.publish(topic, payload, KEEP);
      published.set(payload, seq);
      epochs.add(epoch);
    };
    const work: Promise<void>[] = [];
    for (let i = 0; i < 500; i++) {
      work.push(publish(a.plane, 'room', `a${i}`), publish(b.plane, 'room', `b${i}`));
      if (i % 5 === 0) work.push(publish(c.plane, 'other', `c${i}`));
    }
    await Promise.all(work);
    expect(published.size).toBe(1100);
    expect(epochs.size).toBe(1);
    for (const { host } of all) {
      await until(`${host.node} to get every event`, () => host.events.length === 1100);
    }
    const reference = a.host;
    for (const topic of ['room', 'other']) {
      const events = reference.of(topic);
      expect(events.length).toBe(topic === 'room' ? 1000 : 100);
      expect(events[0]?.prev).toBeUndefined();
      for (let i = 1; i < events.length; i++) {
        const [before, event] = [events[i - 1], events[i]] as [BackplaneEvent, BackplaneEvent];
        expect(event.seq).toBeGreaterThan(before.seq);
        expect(event.prev).toBe(before.seq);
      }
      for (const event of events) {
        expect(event.epoch).toBe([...epochs][0]);
        expect(published.get(event.payload)).toBe(event.seq);
        expect(Number.isSafeInteger(event.at) && event.at > 0).toBe(true);
      }
      // The same sequence on every node.
      for (const { host } of [b, c]) expect(host.of(topic)).toEqual(events);
    }
    // Each publisher's own events stay in the order it published them.
    const room = reference.of('room').map((e) => e.payload);
    const mine = room.filter((p) => p.startsWith('a'));
    expect(mine).toEqual(Array.from({ length: 500 }, (_, i) => `a${i}`));
  });

  it('reads a topic history: the newest kept, prev chained, null when unknown', async () => {
    const [a, b] = await nodes(['n-a', 'n-b'], { history: { size: 5 } });
    if (!a || !b) throw new Error('two nodes');
    const seqs: number[] = [];
    for (let i = 0; i < 8; i++) seqs.push((await a.plane.publish('a.b', `p${i}`, KEEP)).seq);
    await a.plane.publish('another', 'x', KEEP);

    const kept = await b.plane.history('a.b', KEEP);
    expect(kept?.events.map((e) => e.payload)).toEqual(['p3', 'p4', 'p5', 'p6', 'p7']);
    expect(kept?.events.map((e) => e.seq)).toEqual(seqs.slice(3));
    expect(kept?.events.map((e) => e.prev)).toEqual([undefined, ...seqs.slice(3, 7)]);
    await until('b to get the events', () => b.host.events.length === 9);
    expect(kept?.epoch).toBe(b.host.events[0]?.event.epoch);

    const three = await a.plane.history('a.b', { size: 3, ttl: 60_000 });
    expect(three?.events.map((e) => e.payload)).toEqual(['p5', 'p6', 'p7']);
    expect(three?.events[0]?.prev).toBeUndefined();
    expect(await a.plane.history('a.b', { size: 0, ttl: 60_000 })).toBeNull();
    expect(await a.plane.history('nobody published here', KEEP)).toBeNull();

    await sleep(20);
    // Every event is now older than 1 ms.
    expect(await a.plane.history('a.b', { size: 10, ttl: 1 })).toBeNull();
  });

  it('keeps the events in a file stream whose limits the last node to connect sets', async () => {
    const p = prefix();
    await nodes(['n-a'], { prefix: p, history: { size: 5, ttl: 60_000 } });
    const jsm = await jetstreamManager(await raw());
    const stream = `${p}_topics`;
    expect((await jsm.streams.info(stream)).config).toMatchObject({
      subjects: [`${p}.t.>`],
      storage: 'file',
      max_msgs_per_subject: 5,
      max_age: 60_000 * 1e6,
    });
    await nodes(['n-b'], { prefix: p, history: { size: 7, ttl: 30_000 } });
    expect((await jsm.streams.info(stream)).config).toMatchObject({
      max_msgs_per_subject: 7,
      max_age: 30_000 * 1e6,
    });
  });

  it('takes any topic name: dots, wildcards, spaces, slashes, unicode, 256 characters', async () => {
    const [a, b] = await nodes(['n-a', 'n-b']);
    if (!a || !b) throw new Error('two nodes');
    const topics = [
      '.',
      'a.b',
      '*',
      '>',
      'a.*.>',
      'with space',
      'x/y\\z',
      'ünï 💥',
      '\u0000',
      't'.repeat(256),
    ];
    for (const topic of topics) await a.plane.publish(topic, `on ${topic}`, KEEP);
    await until('b to get every event', () => b.host.events.length === topics.length);
    expect(b.host.events.map((e) => e.topic)).toEqual(topics);
    for (const topic of topics) {
      const kept = await b.plane.history(topic, KEEP);
      expect(kept?.events.map((e) => e.payload)).toEqual([`on ${topic}`]);
    }
    await expect(a.plane.publish('', 'x', KEEP)).rejects.toThrow(TypeError);
    await expect(a.plane.publish('t'.repeat(257), 'x', KEEP)).rejects.toThrow(TypeError);
    await expect(a.plane.history('\uD800', KEEP)).rejects.toThrow(TypeError);
  });

  it('ignores garbage published on its subjects by someone else', async () => {
    const p = prefix();
    const [a, b] = await nodes(['n-a', 'n-b'], { prefix: p });
    if (!a || !b) throw new Error('two nodes');
    const nc = await raw();
    const bad = new Uint8Array([0xff, 0xfe, 0xfd]);
    const from = headers();
    from.set('Actorspace-Node', 'n-x');
    nc.publish(`${p}.all`, 'no sender');
    nc.publish(`${p}.n.n-b`, 'no sender either');
    nc.publish(`${p}.all`, bad, { headers: from });
    nc.publish(`${p}.n.n-b`, bad, { headers: from });
    await nc.flush();
    a.plane.send(null, 'real');
    await until('b to get the real message', () => b.host.messages.length >= 1);
    expect(b.host.messages).toEqual(['real']);

    const first = await a.plane.publish('g', 'one', KEEP);
    const token = Buffer.from('g').toString('base64url');
    const at = headers();
    at.set('Actorspace-At', String(Date.now()));
    const badAt = headers();
    badAt.set('Actorspace-At', 'yesterday');
    nc.publish(`${p}.t.${token}`, 'no at');
    nc.publish(`${p}.t.${token}`, 'bad at', { headers: badAt });
    nc.publish(`${p}.t.${token}`, bad, { headers: at });
    nc.publish(`${p}.t.not.one.token`, 'x', { headers: at });
    nc.publish(`${p}.t.!!`, 'x', { headers: at });
    nc.publish(`${p}.t.Zx`, 'non-canonical', { headers: at });
    nc.publish(`${p}.t.Z`, 'not base64url of anything', { headers: at });
    await nc.flush();
    const second = await a.plane.publish('g', 'two', KEEP);
    await until('b to get both events', () => b.host.of('g').length === 2);
    await until('a to get both events', () => a.host.of('g').length === 2);
    for (const { host } of [a, b]) {
      expect(host.events.map((e) => e.topic)).toEqual(['g', 'g']);
      expect(host.of('g').map((e) => [e.payload, e.seq, e.prev])).toEqual([
        ['one', first.seq, undefined],
        ['two', second.seq, first.seq],
      ]);
    }
    const kept = await b.plane.history('g', KEEP);
    expect(kept?.events.map((e) => [e.payload, e.prev])).toEqual([
      ['one', undefined],
      ['two', first.seq],
    ]);
  });
});

describe('natsBackplane: losing the broker', () => {
  it('calls down(), fails fast while down, then up() with messages and events flowing again', async () => {
    const own = await startBroker('nats');
    extraBrokers.push(own);
    const [a, b] = await nodes(['n-a', 'n-b'], { servers: own.url });
    if (!a || !b) throw new Error('two nodes');
    const before = await a.plane.publish('r', 'before', KEEP);
    await until(
      'both to get the first event',
      () => a.host.events.length === 1 && b.host.events.length === 1,
    );

    await own.kill();
    await until('both to be down', () => a.host.calls.includes('down') && b.host.calls.includes('down'));
    expect(() => a.plane.send(null, 'lost')).toThrow(/not connected/);
    expect(() => b.plane.send('n-a', 'lost')).toThrow(Error);
    await expect(a.plane.publish('r', 'lost', KEEP)).rejects.toThrow(Error);
    await expect(b.plane.history('r', KEEP)).rejects.toThrow(Error);

    await own.restart();
    await until('both to be up again', () => a.host.calls.length === 3 && b.host.calls.length === 3);
    expect(a.host.calls).toEqual(['up', 'down', 'up']);
    expect(b.host.calls).toEqual(['up', 'down', 'up']);

    a.plane.send('n-b', 'after');
    b.plane.send(null, 'after to all');
    await until('the messages after', () => b.host.messages.length === 1 && a.host.messages.length === 1);
    expect(b.host.messages).toEqual(['after']);
    expect(a.host.messages).toEqual(['after to all']);

    const after = await b.plane.publish('r', 'after', KEEP);
    expect(after.epoch).toBe(before.epoch);
    expect(after.seq).toBeGreaterThan(before.seq);
    for (const { host } of [a, b]) {
      await until(`${host.node} to get the event after`, () => host.of('r').length === 2);
      expect(host.of('r').map((e) => [e.payload, e.seq, e.prev, e.epoch])).toEqual([
        ['before', before.seq, undefined, before.epoch],
        ['after', after.seq, before.seq, before.epoch],
      ]);
    }
    const kept = await a.plane.history('r', KEEP);
    expect(kept?.events.map((e) => e.payload)).toEqual(['before', 'after']);
  });

  it('starts a new epoch when the stream is gone', async () => {
    const p = prefix();
    const [a, b] = await nodes(['n-a', 'n-b'], { prefix: p });
    if (!a || !b) throw new Error('two nodes');
    const first = await a.plane.publish('s', 'first', KEEP);
    await until('b to get the first event', () => b.host.events.length === 1);
    const jsm = await jetstreamManager(await raw());
    await jsm.streams.delete(`${p}_topics`);

    // The publish that finds no stream fails and makes the stream again.
    let next: { epoch: string; seq: number } | null = null;
    await until('a publish in a new stream', () => {
      if (next) return true;
      a.plane.publish('s', 'second', KEEP).then(
        (r) => {
          next ??= r;
        },
        () => undefined,
      );
      return false;
    });
    const second = next as unknown as { epoch: string; seq: number };
    expect(second.epoch).not.toBe(first.epoch);
    for (const { host } of [a, b]) {
      await until(`${host.node} to get an event of the new epoch`, () =>
        host.of('s').some((e) => e.epoch === second.epoch),
      );
      const events = host.of('s').filter((e) => e.epoch === second.epoch);
      expect(events[0]?.prev).toBeUndefined();
      expect(events.map((e) => e.payload).every((payload) => payload === 'second')).toBe(true);
    }
    expect(a.host.calls).toEqual(['up']);
  });
});

describe('natsBackplane: options, start and close', () => {
  it('rejects bad options with a TypeError', () => {
    const bad: unknown[] = [
      'nats://x',
      { servers: 42 },
      { servers: [] },
      { servers: [''] },
      { nats: 'x' },
      { nats: { servers: ['nats://x'] } },
      { nats: { port: 4222 } },
      { prefix: '' },
      { prefix: 'a.b' },
      { prefix: 'x'.repeat(65) },
      { signingKey: 'short' },
      { signingKey: 42 },
      { history: 5 },
      { history: { size: 0 } },
      { history: { size: 1.5 } },
      { history: { ttl: 10 } },
      { history: { ttl: '1000' } },
      { connectTimeout: 0 },
      { connectTimeout: Number.NaN },
      { connectTimeout: '5' },
      { server: 'nats://typo' },
    ];
    for (const options of bad) {
      expect(() => natsBackplane(options as NatsBackplaneOptions), JSON.stringify(options)).toThrow(
        TypeError,
      );
    }
    const key = 'k'.repeat(32);
    const plane = natsBackplane({ signingKey: key, servers: undefined });
    expect(plane.signingKey).toBe(key);
    expect(plane.name).toBe('nats');
    expect(natsBackplane().signingKey).toBeUndefined();
  });

  it('rejects start() when nobody listens, within connectTimeout, and leaves nothing running', async () => {
    const port = await freePort();
    const plane = natsBackplane({ servers: `nats://127.0.0.1:${port}`, connectTimeout: 500 });
    planes.push(plane);
    const host = new Host('n-a');
    await expect(plane.start(host)).rejects.toThrow(/could not connect|did not start/);
    await expect(plane.start(host)).rejects.toThrow(Error);
    expect(host.calls).toEqual([]);
    expect(() => plane.send(null, 'x')).toThrow(/not connected/);
    await expect(plane.publish('t', 'x', KEEP)).rejects.toThrow(/not connected/);
    // Nothing reconnects in the background: a listener on that port hears nobody.
    const heard = await listen(port, 1_000);
    expect(heard).toBe(0);
    await plane.close();
    await plane.close();
  });

  it('rejects start() when the server never answers its handshake, and does not try again', async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.resume();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    try {
      const plane = natsBackplane({ servers: `nats://127.0.0.1:${port}`, connectTimeout: 500 });
      planes.push(plane);
      const host = new Host('n-a');
      await expect(plane.start(host)).rejects.toThrow(/could not connect|did not start/);
      expect(host.calls).toEqual([]);
      const tried = sockets.length;
      expect(tried).toBeGreaterThan(0);
      await sleep(1_000);
      expect(sockets.length).toBe(tried);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('closes twice, then calls the host no more and fails every call', async () => {
    const [a, b] = await nodes(['n-a', 'n-b']);
    if (!a || !b) throw new Error('two nodes');
    await Promise.all([a.plane.close(), a.plane.close()]);
    await a.plane.close();
    b.plane.send('n-a', 'are you there');
    b.plane.send(null, 'anyone');
    await b.plane.publish('c', 'event', KEEP);
    await until('b to get its own event', () => b.host.events.length === 1);
    b.plane.send('n-b', 'b to itself');
    await until('b to get its own message', () => b.host.messages.length === 1);
    expect(a.host.messages).toEqual([]);
    expect(a.host.events).toEqual([]);
    expect(a.host.calls).toEqual(['up']);
    expect(() => a.plane.send(null, 'x')).toThrow(/not connected/);
    await expect(a.plane.publish('c', 'x', KEEP)).rejects.toThrow(Error);
    await expect(a.plane.history('c', KEEP)).rejects.toThrow(Error);
    await expect(a.plane.start(new Host('n-a'))).rejects.toThrow(/closed/);
  });
});

/** Listens on `port` for `ms` and counts the connections that came. */
async function listen(port: number, ms: number): Promise<number> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  await sleep(ms);
  await new Promise((resolve) => server.close(resolve));
  return count;
}
