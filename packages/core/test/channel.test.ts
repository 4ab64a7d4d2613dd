import { getEventListeners } from 'node:events';
import {
  type ActorRef,
  ActorSpace,
  type ActorSpaceError,
  type Channel,
  CloseCode,
  clientHandshake,
  createMemoryTransportPair,
  defineActor,
  PROTOCOL_VERSION,
  type Transport,
} from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { framesOf, once, pairSpaces, rawPeer, rejectionOf, serveHello } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function pair(...args: Parameters<typeof pairSpaces>) {
  const p = pairSpaces(...args);
  cleanups.push(p.destroy);
  return p;
}

const flush = () => new Promise((r) => setTimeout(r, 0));

/** A space with one open channel (no handshake) over `transport`. */
async function openChannel(transport: Transport): Promise<Channel> {
  const space = new ActorSpace();
  cleanups.push(() => space.destroy());
  const ch = space.addChannel(transport);
  await flush();
  return ch;
}

describe('Channel', () => {
  it('carries tells and asks both ways with exact data', async () => {
    const { a, b, ab, ba } = pair();
    const got: unknown[] = [];
    a.register(defineActor({ note: (d: unknown) => void got.push(d) }), 'left');
    const calc = defineActor({ echo: (d: unknown) => d, add: (d: { x: number; y: number }) => d.x + d.y });
    b.register(calc, 'right');
    const right = ab.makeRemote<typeof calc>('right');
    const left = ba.makeRemote('left');
    const rich = { at: new Date(5), tags: new Set(['a']), m: new Map([[1, { n: 2n }]]) };
    expect(await right.ask('echo', rich)).toEqual(rich);
    expect(await right.api().add({ x: 2, y: 3 })).toBe(5);
    left.tell('note', { hello: 'world' });
    left.tell('note');
    await flush();
    expect(got).toEqual([{ hello: 'world' }, undefined]);
  });

  it('keeps per-sender order across many tells and asks', async () => {
    const { b, ab } = pair();
    const seen: number[] = [];
    b.register({ receive: (_t: string, n: unknown) => void seen.push(n as number) }, 'log');
    const log = ab.makeRemote('log');
    const asks: Promise<unknown>[] = [];
    for (let i = 0; i < 2000; i++) {
      if (i % 3 === 0) asks.push(log.ask('n', i));
      else log.tell('n', i);
    }
    await Promise.all(asks);
    await flush();
    expect(seen).toEqual(Array.from({ length: 2000 }, (_, i) => i));
  });

  it('batches the frames of one turn into one transport message', async () => {
    const peer = rawPeer();
    const r = (await openChannel(peer.transport)).makeRemote('x');
    r.tell('a', 1);
    r.tell('b', 2);
    r.tell('c', 3);
    await flush();
    expect(peer.sent).toEqual(['[[1,"x","a",1],[1,"x","b",2],[1,"x","c",3]]']);
  });

  it('writes a long turn in batches of 32 frames as it goes, in order', async () => {
    const peer = rawPeer();
    const r = (await openChannel(peer.transport)).makeRemote('x');
    for (let i = 0; i < 70; i++) r.tell('n', i);
    // Two full batches left during the turn; the rest waits for its end.
    expect(peer.sent.length).toBe(2);
    await flush();
    const batches = peer.sent.map((m) => JSON.parse(m) as unknown[][]);
    expect(batches.map((b) => b.length)).toEqual([32, 32, 6]);
    expect(batches.flat().map((f) => f[3])).toEqual(Array.from({ length: 70 }, (_, i) => i));
  });

  it('suspends a resumable channel once when the transport throws halfway through a long message', async () => {
    const peer = rawPeer();
    let broken = false;
    const space = new ActorSpace();
    cleanups.push(() => space.destroy());
    const ch = space.addChannel(
      {
        ...peer.transport,
        send: (f) => {
          if (broken) throw new Error('socket gone');
          peer.sent.push(f);
        },
      },
      { handshake: clientHandshake(), resumable: true },
    );
    const opened = once(ch, 'open');
    await flush();
    peer.push(JSON.stringify([17, { v: PROTOCOL_VERSION, session: 's1', resumable: true }]));
    await opened;
    const events: string[] = [];
    ch.on('suspend', (code) => events.push(`suspend ${code}`));
    ch.on('close', (code) => events.push(`close ${code}`));
    ch.on('error', (e) => events.push(`error ${e.code}`));
    broken = true;
    // 40 tells to a missing actor: the 32nd error frame in reply fills a batch and the write throws.
    const tells = Array.from({ length: 40 }, (_, i) => [1, 'ghost', 'n', i]);
    peer.push(JSON.stringify(tells));
    await flush();
    expect(events.filter((e) => !e.startsWith('error NO_SUCH_ACTOR'))).toEqual(['suspend 1011']);
    expect(ch.suspended).toBe(true);
  });

  it('ends the channel, rejecting its asks, when the transport throws while sending', async () => {
    const peer = rawPeer();
    const errors: unknown[] = [];
    const ch = await openChannel({
      ...peer.transport,
      send: () => {
        throw new Error('socket gone');
      },
    });
    const closed = once<[number, string]>(ch, 'close');
    const answer = rejectionOf(ch.makeRemote('x').ask('n', 1));
    const onRejection = (e: unknown) => void errors.push(e);
    process.on('unhandledRejection', onRejection);
    cleanups.push(() => void process.off('unhandledRejection', onRejection));
    const [code, reason] = await closed;
    expect(code).toBe(1011);
    expect(reason).toMatch(/socket gone/);
    expect(((await answer) as ActorSpaceError).code).toBe('CHANNEL_CLOSED');
    await flush();
    expect(errors).toEqual([]);
  });

  it('rejects REMOTE_ERROR with the remote name, message and own code, without stack by default', async () => {
    const { b, ab } = pair();
    b.register(
      defineActor({
        fail: () => {
          throw Object.assign(new RangeError('out of range'), { code: 'E_RANGE' });
        },
      }),
      'r',
    );
    const err = await rejectionOf(ab.makeRemote('r').ask('fail'));
    expect(err.code).toBe('REMOTE_ERROR');
    expect(err.details).toMatchObject({ name: 'RangeError', message: 'out of range', code: 'E_RANGE' });
    expect(err.details.stack).toBeUndefined();
  });

  it('sends stacks only when exposeStack is set', async () => {
    const { b, ab } = pair({}, { exposeStack: true });
    b.register(
      defineActor({
        fail: () => {
          throw new Error('dev');
        },
      }),
      'r',
    );
    const err = await rejectionOf(ab.makeRemote('r').ask('fail'));
    expect(err.details.stack).toContain('dev');
  });

  it('passes ActorSpaceError codes through, and never refuses a remote message for a full mailbox', async () => {
    const a = new ActorSpace('a');
    const b = new ActorSpace('b', { mailboxLimit: 1 });
    cleanups.push(
      () => a.destroy(),
      () => b.destroy(),
    );
    const [ta, tb] = createMemoryTransportPair();
    const ab = a.addChannel(ta);
    b.addChannel(tb);
    b.register(defineActor({ slow: () => new Promise((r) => setTimeout(r, 20)) }), 'slow');
    expect((await rejectionOf(ab.makeRemote('ghost').ask('x'))).code).toBe('NO_SUCH_ACTOR');
    expect((await rejectionOf(ab.makeRemote('slow').ask('nope'))).code).toBe('INVALID_MESSAGE');
    const slow = ab.makeRemote('slow');
    const results = await Promise.all(
      [slow.ask('slow'), slow.ask('slow'), slow.ask('slow')].map((p) =>
        p.then(
          () => 'ok',
          (e) => e.code,
        ),
      ),
    );
    // The mailbox limit bounds local sends; the channel's window bounds these.
    expect(results).toEqual(['ok', 'ok', 'ok']);
  });

  it('reports a tell to a missing actor back to the sender as an error event', async () => {
    const { a, ab } = pair();
    const [err] = await (async () => {
      const wait = once<[ActorSpaceError]>(ab, 'error');
      ab.makeRemote('ghost').tell('hello', 1);
      return wait;
    })();
    expect(err.code).toBe('NO_SUCH_ACTOR');
    expect(err.details).toMatchObject({ target: 'ghost', type: 'hello' });
    void a;
  });

  it('rejects pending asks with CHANNEL_CLOSED at once when the channel closes, and refuses new sends', async () => {
    const { b, ab } = pair();
    b.register({ receive: () => new Promise(() => {}) }, 'hang');
    const remote = ab.makeRemote('hang');
    const pending = remote.ask('wait');
    await flush();
    ab.close(1000, 'bye');
    const err = await rejectionOf(pending);
    expect(err.code).toBe('CHANNEL_CLOSED');
    expect(() => remote.tell('x')).toThrow(expect.objectContaining({ code: 'CHANNEL_CLOSED' }));
    expect((await rejectionOf(remote.ask('x'))).code).toBe('CHANNEL_CLOSED');
    expect(ab.state).toBe('closed');
  });

  it('aborts the handler signal when the peer disconnects or the asker times out', async () => {
    const { b, ab, ba } = pair();
    const signals: AbortSignal[] = [];
    const hang = {
      receive: (_t: string, _d: unknown, ctx: { signal: AbortSignal }) => {
        signals.push(ctx.signal);
        return new Promise(() => {});
      },
    };
    b.register(hang, 'h1');
    b.register({ ...hang }, 'h2');
    expect((await rejectionOf(ab.makeRemote('h1').ask('a', 1, { timeout: 10 }))).code).toBe('TIMEOUT');
    await flush();
    expect(signals[0]?.aborted).toBe(true);
    void ab
      .makeRemote('h2')
      .ask('b')
      .catch(() => {});
    await flush();
    await flush();
    ab.close();
    await once(ba, 'close');
    expect(signals[1]?.aborted).toBe(true);
  });

  it('rejects data a receiver would use to pollute prototypes with INVALID_MESSAGE', async () => {
    const peer = rawPeer();
    const space = new ActorSpace();
    cleanups.push(() => space.destroy());
    const seen: unknown[] = [];
    space.register({ receive: (_t: string, d: unknown) => seen.push(d) }, 'victim');
    space.addChannel(peer.transport);
    await flush();
    peer.push('[2,1,"victim","merge",{"__proto__":{"polluted":true}}]');
    peer.push('[2,2,"victim","merge",{"a":{"constructor":{"prototype":{"polluted":true}}}}]');
    await flush();
    expect(seen).toEqual([]);
    const replies = peer.sent.flatMap((s) => JSON.parse(s)).filter(Array.isArray);
    expect(replies.map((f: unknown[]) => (f[2] as { code: string }).code)).toEqual([
      'INVALID_MESSAGE',
      'INVALID_MESSAGE',
    ]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a prototype key spelled with a JSON escape, however short the message', async () => {
    const peer = rawPeer();
    const space = new ActorSpace();
    cleanups.push(() => space.destroy());
    const seen: unknown[] = [];
    space.register({ receive: (_t: string, d: unknown) => seen.push(d) }, 'victim');
    space.addChannel(peer.transport);
    await flush();
    peer.push('[2,1,"victim","merge",{"\\u005f_proto__":{"polluted":true}}]');
    await flush();
    expect(seen).toEqual([]);
    expect(framesOf(peer.sent).map((f) => (f[2] as { code: string }).code)).toEqual(['INVALID_MESSAGE']);
  });

  it('aborts the handlers of the peer\u2019s asks when this side closes the channel', async () => {
    const { b, ab, ba } = pair();
    const signals: AbortSignal[] = [];
    b.register(
      {
        receive: (_t: string, _d: unknown, ctx: { signal: AbortSignal }) => {
          signals.push(ctx.signal);
          return new Promise(() => {});
        },
      },
      'hang',
    );
    const asked = rejectionOf(ab.makeRemote('hang').ask('wait', 1, { timeout: 0 }));
    await flush();
    expect(signals).toHaveLength(1);
    ba.close(1001, 'shutting down');
    expect(signals[0]?.aborted).toBe(true);
    expect((await asked).code).toBe('CHANNEL_CLOSED');
  });

  it('closes with 4400 on garbage and unknown kinds, 4413 on oversize frames, and the space keeps serving others', async () => {
    const space = new ActorSpace('s', { maxPayload: 256 });
    cleanups.push(() => space.destroy());
    space.register(defineActor({ ping: () => 'pong' }), 'p');
    const errors: string[] = [];
    space.on('error', (e) => errors.push(e.code));
    const cases: Array<[string | Uint8Array, number]> = [
      ['not json', CloseCode.BAD_FRAME],
      ['[42,"x"]', CloseCode.BAD_FRAME],
      [new Uint8Array([1, 2]), CloseCode.BAD_FRAME],
      [`[1,"p","ping","${'x'.repeat(300)}"]`, CloseCode.PAYLOAD_TOO_LARGE],
    ];
    for (const [frame, code] of cases) {
      const peer = rawPeer();
      const ch = space.addChannel(peer.transport);
      await flush();
      peer.push(frame);
      expect(peer.closed[0]?.[0]).toBe(code);
      expect(ch.state).toBe('closed');
    }
    expect(errors).toEqual(['PROTOCOL', 'PROTOCOL', 'PROTOCOL', 'PAYLOAD_TOO_LARGE']);
    const [t1, t2] = createMemoryTransportPair();
    space.addChannel(t1);
    const other = new ActorSpace();
    cleanups.push(() => other.destroy());
    expect(await other.addChannel(t2).makeRemote('p').ask('ping')).toBe('pong');
  });

  it('refuses to send a frame larger than the peer accepts with PAYLOAD_TOO_LARGE', async () => {
    const server = new ActorSpace('srv', { maxPayload: 128 });
    const client = new ActorSpace('cli');
    cleanups.push(
      () => server.destroy(),
      () => client.destroy(),
    );
    const root = server.register(defineActor({ echo: (d: unknown) => d }));
    const [ts, tc] = createMemoryTransportPair();
    void serveHello(server, ts, () => ({ actor: root }));
    const ch = client.addChannel(tc, { handshake: clientHandshake() });
    await once(ch, 'open');
    const err = await rejectionOf(ch.remote!.ask('echo', 'x'.repeat(500)));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(ch.state).toBe('open');
    expect(await ch.remote!.ask('echo', 'small')).toBe('small');
  });

  it('answers an oversize reply with PAYLOAD_TOO_LARGE instead of sending it', async () => {
    const server = new ActorSpace('srv');
    const client = new ActorSpace('cli', { maxPayload: 200 });
    cleanups.push(
      () => server.destroy(),
      () => client.destroy(),
    );
    const root = server.register(defineActor({ big: () => 'y'.repeat(1000) }));
    const [ts, tc] = createMemoryTransportPair();
    void serveHello(server, ts, () => ({ actor: root }));
    // The hello announces the client's limit; the server holds the answer back instead of sending it.
    const ch = client.addChannel(tc, { handshake: clientHandshake() });
    await once(ch, 'open');
    const err = await rejectionOf(ch.remote!.ask('big'));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(ch.state).toBe('open');
  });

  it('answers an ask whose handler failed with an oversize error with PAYLOAD_TOO_LARGE, and stays open', async () => {
    const server = new ActorSpace('srv');
    const client = new ActorSpace('cli', { maxPayload: 2000 });
    cleanups.push(
      () => server.destroy(),
      () => client.destroy(),
    );
    const root = server.register(
      defineActor({
        fail: () => {
          throw new Error('y'.repeat(5000));
        },
        ok: () => 'ok',
      }),
    );
    const [ts, tc] = createMemoryTransportPair();
    void serveHello(server, ts, () => ({ actor: root }));
    const ch = client.addChannel(tc, { handshake: clientHandshake() });
    await once(ch, 'open');
    const err = await rejectionOf(ch.remote!.ask('fail'));
    expect(err.code).toBe('PAYLOAD_TOO_LARGE');
    expect(err.message).toContain('REMOTE_ERROR');
    expect(ch.state).toBe('open');
    expect(await ch.remote!.ask('ok')).toBe('ok');
  });
});

describe('Channel flow edges', () => {
  it('rejects ready() with CHANNEL_CLOSED when the channel closes while it waits', async () => {
    const space = new ActorSpace();
    cleanups.push(() => space.destroy());
    const peer = rawPeer();
    const ch = space.addChannel(peer.transport, {
      maxPayload: 100,
      flow: { window: 200, highWaterMark: 300 },
    });
    await flush();
    for (let i = 0; i < 50; i++) ch.makeRemote('x').tell('n', i);
    const waiting = ch.ready();
    ch.close();
    expect((await rejectionOf(waiting)).code).toBe('CHANNEL_CLOSED');
  });

  it('refuses at the call a tell larger than the window the peer announced, instead of holding it for ever', async () => {
    const space = new ActorSpace();
    cleanups.push(() => space.destroy());
    const peer = rawPeer();
    const ch = space.addChannel(peer.transport, { handshake: clientHandshake() });
    await flush();
    peer.push(JSON.stringify([17, { v: PROTOCOL_VERSION, window: 10 }]));
    expect(() => ch.makeRemote('x').tell('n', 1)).toThrow(
      expect.objectContaining({ code: 'PAYLOAD_TOO_LARGE' }),
    );
    expect(ch.bufferedAmount).toBe(0);
  });

  it('refuses a high-water mark above the send buffer', () => {
    const space = new ActorSpace();
    cleanups.push(() => space.destroy());
    expect(() =>
      space.addChannel(rawPeer().transport, { flow: { sendBuffer: 10, highWaterMark: 20 } }),
    ).toThrow(RangeError);
  });
});

describe('heartbeats', () => {
  it('closes 4408 when the peer stops answering heartbeats', async () => {
    const space = new ActorSpace();
    cleanups.push(() => space.destroy());
    const peer = rawPeer();
    const ch = space.addChannel(peer.transport, { heartbeat: { interval: 10, timeout: 30 } });
    const [code] = await once<[number]>(ch, 'close');
    expect(code).toBe(CloseCode.TIMEOUT);
    expect(peer.sent.some((s) => s.includes('[8]'))).toBe(true);
  });

  it('answers pings so a live peer is never closed by heartbeats', async () => {
    const a = new ActorSpace('a');
    const b = new ActorSpace('b');
    cleanups.push(
      () => a.destroy(),
      () => b.destroy(),
    );
    const [ta, tb] = createMemoryTransportPair();
    // Count the pings a sends: after pings spanning three timeouts, each answered by b, a is still open.
    let pings = 0;
    const tenPings = new Promise<void>((resolve) => {
      const send = ta.send.bind(ta);
      ta.send = (frame) => {
        if (frame === '[8]' && ++pings === 150) resolve();
        send(frame);
      };
    });
    const ab = a.addChannel(ta, { heartbeat: { interval: 5, timeout: 250 } });
    const ba = b.addChannel(tb);
    await tenPings;
    expect(ab.state).toBe('open');
    expect(ba.state).toBe('open');
  });
});

describe('capability passing', () => {
  it('sends a local actor reference that the receiver can call back', async () => {
    const { a, b, ab } = pair();
    const calls: string[] = [];
    const callback = a.register(
      defineActor({ notify: (msg: string) => void calls.push(msg), value: () => 7 }),
    );
    b.register(
      defineActor({
        subscribe: async (d: { cb: ActorRef }) => {
          d.cb.tell('notify', 'subscribed');
          return d.cb.ask('value');
        },
      }),
      'svc',
    );
    expect(await ab.makeRemote('svc').ask('subscribe', { cb: callback })).toBe(7);
    await flush();
    expect(calls).toEqual(['subscribed']);
  });

  it('keeps one reference that occurs several times in data one reference, inside maps and sets too', async () => {
    type Shared = { one: ActorRef; list: ActorRef[]; byRef: Map<ActorRef, Date>; set: Set<ActorRef> };
    const { a, b, ab } = pair();
    const cb = a.register(defineActor({ value: () => 7 }));
    const seen: Shared[] = [];
    b.register(
      defineActor({
        take: async (d: Shared) => {
          seen.push(d);
          return d.one.ask('value');
        },
      }),
      'svc',
    );
    const when = new Date(5);
    const sent: Shared = { one: cb, list: [cb, cb], byRef: new Map([[cb, when]]), set: new Set([cb]) };
    expect(await ab.makeRemote('svc').ask('take', sent)).toBe(7);
    const got = seen[0] as Shared;
    expect(got.list[0]).toBe(got.one);
    expect(got.list[1]).toBe(got.one);
    expect([...got.byRef.keys()][0]).toBe(got.one);
    expect(got.byRef.get(got.one)).toEqual(when);
    expect([...got.set][0]).toBe(got.one);
  });

  it('resolves a reference back into its own space when it returns home, acting as the peer', async () => {
    const { a, b, ab } = pair();
    const callers: (string | undefined)[] = [];
    const mine = a.register(
      defineActor({
        ping: (_: unknown, ctx) => {
          callers.push(ctx.caller?.type);
          return 'pong';
        },
        wipe: { callers: ['system'], handler: () => 'wiped' },
      }),
    );
    b.register(defineActor({ give: (d: { r: ActorRef }) => d.r }), 'mirror');
    const back = await ab.makeRemote('mirror').ask<ActorRef>('give', { r: mine });
    // The same actor, reached through a reference that speaks for the peer it came from.
    expect(back.guid).toBe(mine.guid);
    expect(await back.ask('ping')).toBe('pong');
    expect(await mine.ask('ping')).toBe('pong');
    expect(callers).toEqual(['client', 'system']);
    // So a peer cannot hand this side's code its own actor to call with system rights.
    await expect(back.ask('wipe')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await mine.ask('wipe')).toBe('wiped');
  });

  it('lets A pass B\u2019s reference to C, and C call B through A (two hops)', async () => {
    const A = new ActorSpace('A');
    const B = new ActorSpace('B');
    const C = new ActorSpace('C');
    cleanups.push(
      () => A.destroy(),
      () => B.destroy(),
      () => C.destroy(),
    );
    const [ab1, ba1] = createMemoryTransportPair();
    const [ac1, ca1] = createMemoryTransportPair();
    const aToB = A.addChannel(ab1);
    B.addChannel(ba1);
    const aToC = A.addChannel(ac1);
    C.addChannel(ca1);
    const log: unknown[] = [];
    B.register(
      defineActor({
        greet: (name: string, ctx) => `hello ${name} via ${ctx.channel ? 'channel' : 'local'}`,
        note: (x: unknown) => void log.push(x),
      }),
      'b-svc',
    );
    C.register(
      defineActor({
        use: async (d: { svc: ActorRef }) => {
          d.svc.tell('note', { when: new Date(1) });
          return d.svc.ask('greet', 'carol');
        },
      }),
      'c-user',
    );
    const bRef = aToB.makeRemote('b-svc');
    expect(await aToC.makeRemote('c-user').ask('use', { svc: bRef })).toBe('hello carol via channel');
    await flush();
    expect(log).toEqual([{ when: new Date(1) }]);
  });

  it('relays messages through a forwarder with the peer\u2019s caller, never as the relaying space\u2019s system', async () => {
    // B holds a reference to an actor of space D in the same process and hands it to peer C.
    const B = new ActorSpace('B');
    const C = new ActorSpace('C');
    const D = new ActorSpace('D');
    cleanups.push(
      () => B.destroy(),
      () => C.destroy(),
      () => D.destroy(),
    );
    const callers: unknown[] = [];
    const dRef = D.register(
      defineActor({
        who: (_: unknown, ctx) => void callers.push(ctx.caller),
        whoAsk: (_: unknown, ctx) => ctx.caller,
      }),
    );
    const [bc, cb] = createMemoryTransportPair();
    B.addChannel(bc, { caller: { id: 'carol', type: 'client', claims: {} } });
    const cToB = C.addChannel(cb);
    B.register(defineActor({ give: () => ({ svc: dRef }) }), 'b');
    const { svc } = await cToB.makeRemote('b').ask<{ svc: ActorRef }>('give');
    svc.tell('who');
    expect(await svc.ask('whoAsk')).toEqual({ id: 'carol', type: 'client', claims: {} });
    expect(callers).toEqual([{ id: 'carol', type: 'client', claims: {} }]);
  });

  it('releases forwarded references when their channel closes', async () => {
    const A = new ActorSpace('A');
    const B = new ActorSpace('B');
    const C = new ActorSpace('C');
    cleanups.push(
      () => A.destroy(),
      () => B.destroy(),
      () => C.destroy(),
    );
    const [ab1, ba1] = createMemoryTransportPair();
    const [ac1, ca1] = createMemoryTransportPair();
    const aToB = A.addChannel(ab1);
    B.addChannel(ba1);
    const aToC = A.addChannel(ac1);
    const cToA = C.addChannel(ca1);
    B.register(defineActor({ greet: () => 'hi' }), 'b-svc');
    let kept: ActorRef | null = null;
    C.register(defineActor({ keep: (d: { svc: ActorRef }) => void (kept = d.svc) }), 'keeper');
    await aToC.makeRemote('keeper').ask('keep', { svc: aToB.makeRemote('b-svc') });
    expect(await kept!.ask('greet')).toBe('hi');
    aToC.close();
    await once(cToA, 'close');
    expect((await rejectionOf(kept!.ask('greet'))).code).toBe('CHANNEL_CLOSED');
  });
});

describe('resource hygiene', () => {
  it('leaves no pending asks or abort listeners after 100,000 remote asks', async () => {
    const { b, ab } = pair();
    b.register({ receive: (_t: string, n: unknown) => n }, 'echo');
    const echo = ab.makeRemote('echo');
    const controller = new AbortController();
    for (let round = 0; round < 100; round++) {
      const answers = await Promise.all(
        Array.from({ length: 1000 }, (_, i) => echo.ask<number>('n', i, { signal: controller.signal })),
      );
      expect(answers[999]).toBe(999);
    }
    expect(ab.pendingCount).toBe(0);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('makes no handler signals unless a handler reads them', async () => {
    const { b, ab } = pair();
    let made = 0;
    const Original = globalThis.AbortController;
    b.register({ receive: (_t: string, n: unknown) => n }, 'echo');
    globalThis.AbortController = class extends Original {
      constructor() {
        super();
        made++;
      }
    };
    try {
      await Promise.all(Array.from({ length: 100 }, (_, i) => ab.makeRemote('echo').ask('n', i)));
    } finally {
      globalThis.AbortController = Original;
    }
    expect(made).toBe(0);
  });
});

void (null as unknown as Channel);
