// Many server processes as one, on real brokers: three node processes (the built engine) on a
// real redis-server, then on a real nats-server, each started on a free port by the test. From
// any node: the registry lists every node's tabs; services ask tabs on other nodes over
// WebSocket, HTTP and MCP; topics spread with one order, presence and recovery across nodes;
// broadcasts reach every node; actor references work across nodes; forged inter-node messages
// are dropped. Then the drills: the broker restarts mid-traffic, a node is killed.

import { createHmac } from 'node:crypto';
import { connect as tcpConnect } from 'node:net';
import { natsBackplane } from '@actorspace/nats';
import {
  type ActorRef,
  type ActorSpace,
  type Caller,
  connect,
  defineActor,
  type Session,
} from '@actorspace/node';
import { redisBackplane } from '@actorspace/redis';
import {
  type Backplane,
  type BackplaneHost,
  createActorServer,
  type PublicSessionInfo,
} from '@actorspace/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Broker, freePort, startBroker } from './fixtures/brokers.js';
import { type ClusterNode, type Front, startFront, startNode } from './fixtures/cluster.js';

const KEY = 'g'.repeat(40);
const SIGNING_KEY = 's'.repeat(40);

const until = async (check: () => boolean | Promise<boolean>, what: string | (() => string), ms = 15_000) => {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** What a tab saw: broadcasts, and the callers of what services asked. */
interface TabLog {
  news: unknown[];
  callers: Caller[];
}

/** A tab's root actor: what services may call (its capabilities), and `news` from the server. */
function tabActor(name: string, log: TabLog, space: () => ActorSpace) {
  let count = 0;
  const counter = defineActor({ inc: { callers: ['service'], handler: () => ++count } });
  let counterRef: ActorRef | undefined;
  return defineActor({
    echo: {
      description: 'Answers with what it got and where',
      callers: ['service'],
      handler: (data: unknown, ctx) => {
        if (ctx.caller) log.callers.push(ctx.caller);
        return { tab: name, data };
      },
    },
    // Never answers; gives up when the asker does (an actor handles one message at a time).
    hang: {
      callers: ['service'],
      handler: (_: unknown, ctx) =>
        new Promise((_resolve, reject) =>
          ctx.signal.addEventListener('abort', () => reject(new Error('gave up'))),
        ),
    },
    fail: {
      callers: ['service'],
      handler: () => {
        throw new Error('the tab refused');
      },
    },
    counter: { callers: ['service'], handler: () => (counterRef ??= space().register(counter)) },
    callBack: {
      callers: ['service'],
      handler: (ref: ActorRef) => ref.ask('hello', `from ${name}`),
    },
    news: (data: unknown) => {
      log.news.push(data);
    },
  });
}

describe.each(['redis', 'nats'] as const)('%s backplane', (kind) => {
  let broker: Broker;
  let linkPort = 0;
  const nodes: ClusterNode[] = [];
  const sessions: Session[] = [];
  const clients: Client[] = [];
  const fronts: Front[] = [];
  const logs = new Map<string, TabLog>();

  const node = (name: string) => nodes.find((n) => n.name === name) as ClusterNode;

  async function tab(url: string, user: string, extra: Partial<Parameters<typeof connect>[1]> = {}) {
    const log: TabLog = { news: [], callers: [] };
    logs.set(user, log);
    let session: Session | null = null;
    session = await connect(url, {
      route: '/tab',
      actor: tabActor(user, log, () => (session as Session).space),
      headers: { 'x-user': user },
      reconnect: { initialDelay: 10, maxDelay: 100, jitter: false },
      ...extra,
    });
    sessions.push(session);
    return session;
  }

  async function service(at: ClusterNode) {
    const session = await connect(at.url, { token: KEY, reconnect: false });
    sessions.push(session);
    return session;
  }

  /** The sessions node `at` lists (as services see them). */
  async function listed(at: ClusterNode): Promise<PublicSessionInfo[]> {
    const r = await fetch(`${at.http}/sessions`, { headers: { authorization: `Bearer ${KEY}` } });
    return ((await r.json()) as { sessions: PublicSessionInfo[] }).sessions;
  }

  /** Waits until node `at` lists `user`'s tab with its capabilities; resolves its public id. */
  async function seen(at: ClusterNode, user: string): Promise<string> {
    let id = '';
    await until(async () => {
      const found = (await listed(at)).find((s) => s.caller.id === user && s.capabilities.length > 0);
      id = found?.id ?? '';
      return found !== undefined;
    }, `${at.name} to list ${user}`);
    return id;
  }

  async function startNodes(names: string[], extra: { nodeTimeout?: number; link?: 'off' | number } = {}) {
    const started = await Promise.all(
      names.map((name) =>
        startNode(name, {
          backplane: kind,
          broker: broker.url,
          gatewayKey: KEY,
          signingKey: SIGNING_KEY,
          ...extra,
        }),
      ),
    );
    nodes.push(...started);
    return started;
  }

  beforeAll(async () => {
    broker = await startBroker(kind);
    // A and B reach each other over a direct link (A on a known port); C has links off, so
    // what it asks and answers goes through the broker.
    linkPort = await freePort();
    await Promise.all([
      startNodes(['A'], { link: linkPort }),
      startNodes(['B']),
      startNodes(['C'], { link: 'off' }),
    ]);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close().catch(() => {})));
    await Promise.all(sessions.splice(0).map((s) => s.close()));
    await Promise.all(fronts.splice(0).map((f) => f.close()));
    await Promise.all(nodes.splice(0).map((n) => n.stop()));
    await broker?.stop();
  }, 60_000);

  it("lists every node's tabs on every node, and forgets a tab that leaves", async () => {
    const ada = await tab(node('A').url, 'ada');
    await tab(node('B').url, 'bob');
    await tab(node('C').url, 'cy');
    for (const at of ['A', 'B', 'C']) {
      for (const user of ['ada', 'bob', 'cy']) await seen(node(at), user);
    }
    // A remote session names its node; a node's own do not.
    const onB = await listed(node('B'));
    expect(onB.find((s) => s.caller.id === 'ada')?.node).toEqual(expect.any(String));
    expect(onB.find((s) => s.caller.id === 'bob')?.node).toBeUndefined();
    // The gateway's WebSocket API sees the same registry.
    const bot = await service(node('C'));
    const list = (await bot.server.ask('sessions')) as PublicSessionInfo[];
    expect(list.map((s) => s.caller.id).sort()).toEqual(expect.arrayContaining(['ada', 'bob', 'cy']));

    const extra = await tab(node('A').url, 'eve');
    await seen(node('C'), 'eve');
    await extra.close();
    await until(async () => !(await listed(node('C'))).some((s) => s.caller.id === 'eve'), 'eve to leave C');
    expect(ada.status).toBe('open');
  });

  it('asks a tab on another node over WebSocket, HTTP and MCP, rich data and errors intact', async () => {
    const adaId = await seen(node('B'), 'ada');
    // WebSocket: a service on B asks ada's tab on A, as itself.
    const bot = await service(node('B'));
    const at = new Date(5);
    const answer = await bot.server.ask('ask', {
      session: adaId,
      type: 'echo',
      data: { at, big: 10n, tags: new Set(['x']) },
    });
    expect(answer).toEqual({ tab: 'ada', data: { at, big: 10n, tags: new Set(['x']) } });
    expect(logs.get('ada')?.callers.at(-1)).toMatchObject({ id: 'agent', type: 'service' });
    await expect(bot.server.ask('ask', { session: adaId, type: 'fail' })).rejects.toMatchObject({
      code: 'REMOTE_ERROR',
    });
    await expect(bot.server.ask('ask', { session: adaId, type: 'news', data: 1 })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    // A reference to the tab, held by the service: its asks cross nodes too.
    const ref = (await bot.server.ask('client', adaId)) as ActorRef;
    expect(await ref.ask('echo', 1)).toEqual({ tab: 'ada', data: 1 });

    // HTTP on C.
    const post = (path: string, body: unknown) =>
      fetch(`${node('C').http}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    const r = await post(`/sessions/${adaId}/ask`, { type: 'echo', data: { n: 1 } });
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ result: { tab: 'ada', data: { n: 1 } } });
    const failed = await post(`/sessions/${adaId}/ask`, { type: 'fail' });
    expect(failed.status).toBe(502);
    expect(((await failed.json()) as { error: { code: string } }).error.code).toBe('REMOTE_ERROR');

    // MCP on C: the tab's capabilities are tools there.
    const client = new Client({ name: 'cluster-agent', version: '1.0.0' });
    clients.push(client);
    await client.connect(
      new StreamableHTTPClientTransport(new URL(`${node('C').http}/mcp`), {
        requestInit: { headers: { authorization: `Bearer ${KEY}` } },
      }),
    );
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('tab_echo');
    const called = await client.callTool({ name: 'tab_echo', arguments: { session: adaId, x: 2 } });
    expect(JSON.parse((called.content as { text: string }[])[0]?.text ?? '')).toMatchObject({ tab: 'ada' });

    // Server code on B (through bob's route actor) asks ada's tab on A as the server.
    const bobTab = await tab(node('B').url, 'bob2');
    expect(await bobTab.server.ask('askSession', { id: adaId, type: 'echo', data: 3 })).toEqual({
      tab: 'ada',
      data: 3,
    });
  });

  it('links nodes directly where it can, refuses strangers on the link port, and keeps answering', async () => {
    /** The number of open direct links node `at` reports. */
    const links = async (at: string): Promise<number> => {
      const probe = await tab(node(at).url, `probe-${at}`);
      const report = (await probe.server.ask('health')) as { cluster: { links: number } };
      await probe.close();
      return report.cluster.links;
    };
    // A and B link to each other; C, with links off, to nobody (it uses the broker).
    await until(async () => (await links('A')) === 1 && (await links('B')) === 1, 'A and B linked');
    expect(await links('C')).toBe(0);

    /**
     * Writes `bytes` to A's link port; resolves what A sent back, past its opening nonce
     * (`["hi", nonce]`), once A closed the connection.
     */
    const stranger = (bytes: Buffer) =>
      new Promise<string>((resolve) => {
        let got = '';
        const socket = tcpConnect(linkPort, '127.0.0.1', () => socket.write(bytes));
        socket.on('data', (d) => {
          got += String(d);
        });
        socket.on('error', () => {});
        socket.on('close', () => resolve(got.replace(/^[\s\S]{4}\["hi","[\w-]+"\]/, '')));
      });
    const frame = (text: string) => {
      const body = Buffer.from(text);
      const head = Buffer.alloc(4);
      head.writeUInt32BE(body.length);
      return Buffer.concat([head, body]);
    };
    // A hello without the proof, one for another node, a frame longer than a hello may be, and
    // HTTP where frames belong: each is closed without an answer.
    expect(await stranger(frame(JSON.stringify(['hello', 'n-rogue', 'n-x', 'n-rogue/1', 'guess'])))).toBe('');
    expect(await stranger(frame('not json at all'))).toBe('');
    expect(await stranger(Buffer.from([0xff, 0xff, 0xff, 0xff, 1, 2, 3]))).toBe('');
    expect(await stranger(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))).toBe('');

    // The link between A and B is untouched, and asks cross both ways and through C's broker path.
    expect(await links('A')).toBe(1);
    const adaId = await seen(node('B'), 'ada');
    const bobId = await seen(node('A'), 'bob');
    const cyId = await seen(node('A'), 'cy');
    const onB = await service(node('B'));
    const onA = await service(node('A'));
    const onC = await service(node('C'));
    const ways: [Session, string, string][] = [
      [onB, adaId, 'ada'], // B → A on the link
      [onA, bobId, 'bob'], // A → B on the link
      [onA, cyId, 'cy'], // A → C through the broker
      [onC, adaId, 'ada'], // C → A through the broker
    ];
    for (const [i, [from, session, user]] of ways.entries()) {
      expect(await from.server.ask('ask', { session, type: 'echo', data: i })).toEqual({
        tab: user,
        data: i,
      });
    }
    // Asks keep their order when they cross on the link.
    const sent = Array.from({ length: 200 }, (_, i) => i);
    await tab(node('A').url, 'lin');
    const linId = await seen(node('B'), 'lin');
    const counterRef = (await onB.server.ask('ask', { session: linId, type: 'counter' })) as ActorRef;
    const counts = (await Promise.all(sent.map(() => counterRef.ask('inc')))) as number[];
    expect(counts).toEqual(sent.map((i) => (counts[0] as number) + i));
  });

  it('spreads a topic across nodes: one order everywhere, presence of every node, recovery on another node', async () => {
    const names = ['A', 'B', 'C'];
    const subs = await Promise.all(
      names.map(async (name) => {
        const s = await tab(node(name).url, `sub-${name}`);
        const got: { seq: number; data: unknown }[] = [];
        const sub = await s.subscribe('room/1', (_type, data, meta) => got.push({ seq: meta.seq, data }), {
          presence: { name },
        });
        return { s, sub, got };
      }),
    );
    await until(() => subs.every(({ sub }) => sub.presence().length === 3), 'presence of all three nodes');
    expect(
      subs[0]?.sub
        .presence()
        .map((m) => m.meta.name)
        .sort(),
    ).toEqual(['A', 'B', 'C']);

    // Two publishers on two nodes at once: every subscriber sees the same 40 events in one order.
    await Promise.all([
      ...Array.from({ length: 20 }, (_, i) => subs[0]?.s.publish('room/1', 'say', `a${i}`)),
      ...Array.from({ length: 20 }, (_, i) => subs[1]?.s.publish('room/1', 'say', `b${i}`)),
    ]);
    await until(() => subs.every(({ got }) => got.length === 40), 'forty events on every node');
    const order = subs[0]?.got.map((e) => `${e.seq}:${e.data}`);
    for (const { got } of subs) expect(got.map((e) => `${e.seq}:${e.data}`)).toEqual(order);
    for (const { got } of subs) {
      for (let i = 1; i < got.length; i++) expect(got[i]?.seq).toBeGreaterThan(got[i - 1]?.seq as number);
    }

    // A subscriber behind a front moves from A to B while events are published: it resubscribes
    // on B from its last number and gets exactly what it missed.
    let target = node('A').port;
    const front = await startFront(() => [target]);
    fronts.push(front);
    const mover = await tab(front.url, 'mover');
    const got: unknown[] = [];
    const recoveries: boolean[] = [];
    const sub = await mover.subscribe('room/1', (_t, data) => got.push(data));
    sub.on('recovered', ({ recovered }) => recoveries.push(recovered));
    await subs[2]?.s.publish('room/1', 'say', 'before');
    await until(() => got.length === 1, 'the first event');
    const firstId = mover.id;
    front.pause();
    front.drop();
    for (let i = 0; i < 5; i++) await subs[2]?.s.publish('room/1', 'say', `missed${i}`);
    target = node('B').port;
    front.resume();
    await until(() => recoveries.length === 1, 'the resubscription on B');
    expect(mover.id).not.toBe(firstId);
    expect(recoveries).toEqual([true]);
    await subs[2]?.s.publish('room/1', 'say', 'after');
    await until(() => got.length === 7, 'the missed events and the next');
    expect(got).toEqual(['before', 'missed0', 'missed1', 'missed2', 'missed3', 'missed4', 'after']);

    // An event stream on C sees what a tab on A publishes, numbered as everyone sees it.
    const stream = await fetch(`${node('C').http}/topics/room%2F1`);
    const reader = (stream.body as ReadableStream<Uint8Array>).getReader();
    const published = await subs[0]?.s.publish('room/1', 'say', 'streamed');
    let text = '';
    while (!text.includes('streamed')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(new RegExp(`id: [^\n]+:${published}\nevent: say\n`));

    // Leaving: every node sees the member go.
    await subs[2]?.sub.unsubscribe();
    await until(() => subs[0]?.sub.presence().length === 2, 'C to leave');
  });

  it('broadcasts to the tabs of a route on every node', async () => {
    const before = ['ada', 'bob', 'cy'].map((u) => logs.get(u)?.news.length ?? 0);
    const onA = await tab(node('A').url, 'caster');
    const count = (await onA.server.ask('broadcast', {
      route: '/tab',
      type: 'news',
      data: { n: 1 },
    })) as number;
    expect(count).toBeGreaterThanOrEqual(3);
    await until(
      () =>
        ['ada', 'bob', 'cy'].every((u, i) => (logs.get(u)?.news.length ?? 0) === (before[i] as number) + 1),
      'the broadcast on every node',
    );
    expect(logs.get('bob')?.news.at(-1)).toEqual({ n: 1 });
  });

  it('hands actor references across nodes, both ways', async () => {
    const adaId = await seen(node('C'), 'ada');
    const bot = await service(node('C'));
    // A reference from ada's tab (on A) to a service on C: each ask crosses to A and into the tab.
    const counter = (await bot.server.ask('ask', { session: adaId, type: 'counter' })) as ActorRef;
    expect(await counter.ask('inc')).toBe(1);
    expect(await counter.ask('inc')).toBe(2);
    // A reference from the service (on C) to ada's tab (on A): the tab calls back across nodes.
    const mine = bot.space.register(defineActor({ hello: (text: string) => `hi, ${text}` }));
    expect(await bot.server.ask('ask', { session: adaId, type: 'callBack', data: mine })).toBe(
      'hi, from ada',
    );
  });

  it('drops inter-node messages not signed with the cluster key, and malformed ones that are', async () => {
    const before = (await listed(node('A'))).length;
    const news = logs.get('bob')?.news.length ?? 0;
    for (const key of [undefined, 'w'.repeat(40), SIGNING_KEY]) {
      const rogue: Backplane =
        kind === 'redis' ? redisBackplane({ url: broker.url }) : natsBackplane({ servers: broker.url });
      const host: BackplaneHost = {
        node: 'n-rogue',
        message: () => {},
        event: () => {},
        up: () => {},
        down: () => {},
      };
      await rogue.start(host);
      let n = 0;
      // Signed as nodes sign: HMAC over `<number>.<message>`, numbers increasing per node.
      const signed = (text: string, number = ++n) => {
        const body = `${number}.${text}`;
        return `${createHmac('sha256', key as string)
          .update(body)
          .digest('base64url')}.${body}`;
      };
      const send = (message: unknown) => {
        const text = typeof message === 'string' ? message : JSON.stringify(message);
        rogue.send(null, key ? signed(text) : text);
      };
      const info = { id: 'forged', route: '/tab', caller: { id: 'x', type: 'client', claims: {} } };
      if (key !== SIGNING_KEY) {
        // Well-formed, but not signed with the cluster's key: a fake session and a broadcast.
        send(['state', 'n-rogue', 1, [{ ...info, state: 'open', capabilities: [] }], [], 0]);
        send(['bc', 'n-rogue', '/tab', 'news', 'forged', null, null, null]);
      } else {
        // Signed, as by a node with a bug: malformed messages are refused, and a good one passes.
        send([
          'state',
          'n-rogue',
          1,
          [{ ...info, capabilities: 'all' }],
          [{ topic: 'room/1', members: [7] }],
          0,
        ]);
        send(['ses', 'n-rogue', 2, 'added', 42]);
        send(['bc', 'n-rogue', '/tab', 123, null, null, null, null]);
        send(['ask', 'n-rogue', 1, { s: 'nobody' }, 'echo', null, null, ['x', 'system', {}], 10]);
        send(['zzz', 'n-rogue']);
        send('not json');
        send('null');
        send(['bc', 'n-rogue', '/tab', 'news', 'signed', null, null, null]);
        // The same signed message again (a replay by whoever reads the broker): dropped.
        rogue.send(
          null,
          signed(JSON.stringify(['bc', 'n-rogue', '/tab', 'news', 'signed', null, null, null]), n),
        );
      }
      await rogue.close();
    }
    // A real broadcast after those: once it and the signed one arrived, the rest had their chance.
    const onA = await tab(node('A').url, 'caster2');
    await onA.server.ask('broadcast', { route: '/tab', type: 'news', data: 'real' });
    await until(() => (logs.get('bob')?.news.length ?? 0) >= news + 2, 'the real and the signed broadcast');
    await new Promise((r) => setTimeout(r, 300));
    expect(logs.get('bob')?.news.slice(news).sort()).toEqual(['real', 'signed']);
    expect((await listed(node('A'))).some((s) => s.id === 'forged')).toBe(false);
    expect((await listed(node('A'))).length).toBe(before + 1);
    // Every node still answers across nodes.
    const adaId = await seen(node('C'), 'ada');
    const bot = await service(node('C'));
    expect(await bot.server.ask('ask', { session: adaId, type: 'echo', data: 'still' })).toEqual({
      tab: 'ada',
      data: 'still',
    });
  });

  it('survives a broker restart: asks in flight fail at once, then everything works again', async () => {
    const adaId = await seen(node('B'), 'ada');
    const bobId = await seen(node('B'), 'bob');
    const bot = await service(node('B'));
    const watcher = await tab(node('C').url, 'watcher');
    const events: unknown[] = [];
    const watched = await watcher.subscribe('room/2', (_t, data) => events.push(data));
    const recoveries: boolean[] = [];
    watched.on('recovered', ({ recovered }) => recoveries.push(recovered));
    const publisher = await tab(node('A').url, 'publisher');
    await publisher.publish('room/2', 'say', 'before');
    await until(() => events.length === 1, 'the first event');

    // An ask in flight from B to ada's tab on A, which never answers (its own timeout is 20 s).
    const inFlight = bot.server
      .ask('ask', { session: adaId, type: 'hang', timeout: 20_000 }, { timeout: 25_000 })
      .then(
        () => 'answered',
        (e: { code: string }) => e.code,
      );
    await new Promise((r) => setTimeout(r, 100));
    await broker.kill();
    expect(await inFlight).toBe('CHANNEL_CLOSED');
    // While the broker is away: asks across nodes fail at once, a node's own tabs still answer.
    await until(async () => {
      const r = await bot.server.ask('ask', { session: adaId, type: 'echo', data: 0 }).then(
        () => null,
        (e: { code: string }) => e.code,
      );
      return r === 'CHANNEL_CLOSED';
    }, 'a cross-node ask to fail at once');
    expect(await bot.server.ask('ask', { session: bobId, type: 'echo', data: 'local' })).toEqual({
      tab: 'bob',
      data: 'local',
    });

    await broker.restart();
    let last = '';
    await until(
      async () =>
        (last = await bot.server.ask('ask', { session: adaId, type: 'echo', data: 'back' }).then(
          (v) => JSON.stringify(v),
          (e: Error) => e.message,
        )) === JSON.stringify({ tab: 'ada', data: 'back' }),
      () => `cross-node asks after the restart (last: ${last})`,
      30_000,
    );
    for (const at of ['A', 'B', 'C']) await seen(node(at), 'ada');
    // Topics flow again across nodes, with no event twice.
    await until(
      async () => {
        await publisher.publish('room/2', 'say', 'after').catch(() => {});
        return events.includes('after');
      },
      'events after the restart',
      30_000,
    );
    expect(events.filter((e) => e === 'before')).toHaveLength(1);
    // Redis (no persistence here) forgot the topic: its numbers start again in a new epoch, and
    // the subscriber hears that it may have missed events. NATS keeps its stream on disk.
    expect(recoveries).toEqual(kind === 'redis' ? [false] : []);
  }, 90_000);

  it("drops a killed node's tabs within the node timeout, fails asks on it, and its clients pair afresh elsewhere", async () => {
    const [d] = await startNodes(['D']);
    const onD = d as ClusterNode;
    let ports = [onD.port, node('B').port];
    const front = await startFront(() => ports);
    fronts.push(front);
    const tess = await tab(front.url, 'tess');
    const firstId = tess.id;
    const tessId = await seen(node('A'), 'tess');
    const bot = await service(node('A'));
    const inFlight = bot.server
      .ask('ask', { session: tessId, type: 'hang', timeout: 25_000 }, { timeout: 30_000 })
      .then(
        () => 'answered',
        (e: { code: string }) => e.code,
      );
    await new Promise((r) => setTimeout(r, 100));
    await onD.kill();
    ports = [node('B').port];
    // Its client pairs again through the front, with B: a fresh session, at once.
    await until(() => tess.id !== null && tess.id !== firstId && tess.status === 'open', 'tess on B');
    // The ask waiting on D fails when its link to A closes: at once, while A still lists D's tab
    // (it leaves the registry at the node timeout, 10 s by default).
    expect(await inFlight).toBe('CHANNEL_CLOSED');
    expect((await listed(node('A'))).some((s) => s.id === tessId)).toBe(true);
    await until(async () => !(await listed(node('A'))).some((s) => s.id === tessId), "D's tab to leave A");
    const again = await seen(node('A'), 'tess');
    expect(again).not.toBe(tessId);
    expect(await bot.server.ask('ask', { session: again, type: 'echo', data: 'hi' })).toEqual({
      tab: 'tess',
      data: 'hi',
    });
  }, 60_000);
});

describe('backplane options', () => {
  it('refuses what is not a backplane, heartbeats slower than the node timeout, and short signing keys', () => {
    const routes = { '/tab': () => defineActor({}) };
    expect(() => createActorServer({ routes, backplane: {} as Backplane })).toThrow(TypeError);
    const backplane = redisBackplane({ url: 'redis://127.0.0.1:1' });
    expect(() =>
      createActorServer({ routes, backplane, cluster: { heartbeat: 5000, nodeTimeout: 1000 } }),
    ).toThrow(RangeError);
    expect(() => createActorServer({ routes, backplane, cluster: { heartbeat: -1 } })).toThrow(RangeError);
    expect(() => createActorServer({ routes, backplane, cluster: { link: { port: 70_000 } } })).toThrow(
      RangeError,
    );
    expect(() =>
      createActorServer({ routes, backplane, cluster: { link: 'on' as unknown as false } }),
    ).toThrow(TypeError);
    expect(() => createActorServer({ routes, backplane, cluster: { link: { host: '' } } })).toThrow(
      TypeError,
    );
    expect(() => redisBackplane({ signingKey: 'short' })).toThrow(TypeError);
    expect(() => natsBackplane({ signingKey: 'short' })).toThrow(TypeError);
    // A forged backplane with a short key is refused by the server itself.
    const weak = { ...backplane, name: 'weak', signingKey: 'short' } as Backplane;
    expect(() => createActorServer({ routes, backplane: weak })).toThrow(TypeError);
  });
});
