import { getEventListeners } from 'node:events';
import { ActorSpace, type ChannelOptions, CloseCode, defineActor, type Transport } from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { messageCost } from '../src/protocol.js';
import { framesOf, once, pairSpaces, type RawPeer, rawPeer, rejectionOf } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

/** Two spaces joined in memory, both channels with the same options (without a handshake each takes the peer's limits to be its own). */
function pair(options: ChannelOptions = {}) {
  const p = pairSpaces(options, options);
  cleanups.push(p.destroy);
  return p;
}

/** A space with one open channel (no handshake) over `transport`. */
async function openChannel(transport: Transport, options: ChannelOptions = {}) {
  const space = new ActorSpace();
  cleanups.push(() => space.destroy());
  const ch = space.addChannel(transport, options);
  await once(ch, 'open');
  return { space, ch };
}

/** A raw peer whose socket buffer only grows: everything sent to it stays unread. */
function unreadPeer(): RawPeer & { transport: Transport & { readonly bufferedAmount: number } } {
  const peer = rawPeer();
  let buffered = 0;
  const transport = {
    ...peer.transport,
    get bufferedAmount() {
      return buffered;
    },
    send: (frame: string) => {
      buffered += frame.length;
      peer.sent.push(frame);
    },
  };
  return { ...peer, transport };
}

/** Records the codes of the `error` events of channels and spaces. */
function errorsOf(...emitters: Array<{ on(event: 'error', fn: (e: { code: string }) => void): unknown }>) {
  const codes: string[] = [];
  for (const e of emitters) e.on('error', (error) => void codes.push(error.code));
  return codes;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const flush = () => new Promise((r) => setTimeout(r, 0));

describe('flow control', () => {
  it('delivers 20,000 tells to an async actor in order, none refused, within a window far smaller than them', async () => {
    const total = 20_000;
    const { a, b, ab, ba } = pair({ maxPayload: 4096, flow: { window: 8192 } });
    const errors = errorsOf(a, b, ab, ba);
    const got: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    b.register(
      {
        async receive(_type: string, n: unknown) {
          got.push(n as number);
          if ((n as number) % 100 === 99) await new Promise((r) => setTimeout(r, 1));
          if (got.length === total) done();
        },
      },
      'sink',
    );
    const sink = ab.makeRemote('sink');
    for (let i = 0; i < total; i++) sink.tell('n', i);
    // Far more than the window: the rest waits at the sender for credit.
    expect(ab.bufferedAmount).toBeGreaterThan(8192);
    await all;
    expect(got).toEqual(range(total));
    expect(ab.bufferedAmount).toBe(0);
    expect(errors).toEqual([]);
    expect(ab.state).toBe('open');
    expect(ba.state).toBe('open');
  });

  it('refuses a tell with MAILBOX_FULL at the call once the send buffer is full, and lets it continue after ready()', async () => {
    const { b, ab } = pair({
      maxPayload: 1024,
      flow: { window: 2048, sendBuffer: 8192, highWaterMark: 4096 },
    });
    const got: number[] = [];
    b.register({ receive: (_t: string, n: unknown) => void got.push(n as number) }, 'sink');
    const sink = ab.makeRemote('sink');
    let sent = 0;
    let refused: { code?: string } | null = null;
    while (refused === null && sent < 100_000) {
      try {
        sink.tell('n', sent);
        sent++;
      } catch (error) {
        refused = error as { code?: string };
      }
    }
    expect(refused?.code).toBe('MAILBOX_FULL');
    expect(ab.bufferedAmount).toBeGreaterThan(4096);
    const drained = once(ab, 'drain');
    await ab.ready();
    await drained;
    expect(ab.bufferedAmount).toBeLessThan(4096);
    sink.tell('n', sent++);
    await sink.ask('n', sent++);
    expect(got).toEqual(range(sent));
  });

  it('resolves ready() at once while less than the high-water mark is held', async () => {
    const { ab } = pair();
    ab.makeRemote('x').tell('n', 1);
    expect(ab.bufferedAmount).toBeGreaterThan(0);
    let ready = false;
    void ab.ready().then(() => {
      ready = true;
    });
    await Promise.resolve();
    expect(ready).toBe(true);
  });

  it('never holds an answer behind tells the peer has no credit for', async () => {
    const { a, b, ab } = pair({ maxPayload: 1024, flow: { window: 2048 } });
    a.register(defineActor({ help: (n: number) => n + 1 }), 'helper');
    const fills: number[] = [];
    b.register(
      defineActor({
        // Holds svc's mailbox, and so the credit of every tell behind it, until A answers.
        work: (n: number, ctx) => ctx.channel!.makeRemote('helper').ask<number>('help', n),
        fill: (n: number) => void fills.push(n),
      }),
      'svc',
    );
    const svc = ab.makeRemote('svc');
    const result = svc.ask('work', 41);
    for (let i = 0; i < 300; i++) svc.tell('fill', i);
    expect(ab.bufferedAmount).toBeGreaterThan(2048);
    expect(await result).toBe(42);
    await svc.ask('fill', 300);
    expect(fills).toEqual(range(301));
  });

  it('closes with 4429 a peer that sends past the window it was given', async () => {
    const peer = rawPeer();
    const { ch: victim, space: victimSpace } = await openChannel(peer.transport, {
      maxPayload: 1024,
      flow: { window: 2048 },
    });
    // The first tell is taken into a handler that never ends; the rest wait in its mailbox.
    victimSpace.register({ receive: () => new Promise(() => {}) }, 'hang');
    const errors = errorsOf(victim);
    const closed = once<[number, string]>(victim, 'close');
    const frame = `[1,"hang","n","${'x'.repeat(100)}"]`;
    let pushed = 0;
    while (peer.closed.length === 0 && pushed < 100) {
      peer.push(frame);
      pushed++;
    }
    const [code, reason] = await closed;
    expect(code).toBe(CloseCode.RATE_LIMITED);
    expect(reason).toMatch(/window/);
    expect(peer.closed[0]?.[0]).toBe(CloseCode.RATE_LIMITED);
    expect(pushed).toBe(Math.floor(2048 / messageCost(frame.length, false)) + 1);
    expect(errors).toEqual(['MAILBOX_FULL']);
  });

  it('closes with 4429 a peer that keeps asking but never reads the answers', async () => {
    const peer = unreadPeer();
    const { space, ch } = await openChannel(peer.transport, {
      flow: { highWaterMark: 512, answerBuffer: 2048 },
    });
    space.register(defineActor({ n: (d: unknown) => d }), 'echo');
    const errors = errorsOf(ch);
    const closed = once<[number, string]>(ch, 'close');
    let id = 0;
    while (peer.closed.length === 0 && id < 1000) {
      peer.push(`[2,${++id},"echo","n","${'x'.repeat(40)}"]`);
    }
    const [code, reason] = await closed;
    expect(code).toBe(CloseCode.RATE_LIMITED);
    expect(reason).toMatch(/not read or acknowledged/);
    expect(id).toBeLessThan(1000);
    expect(errors).toEqual(['MAILBOX_FULL']);
  });

  it('closes once, reporting once, a peer that leaves answers unread while 20,000 of its asks are being handled', async () => {
    const peer = unreadPeer();
    const { space, ch } = await openChannel(peer.transport, {
      flow: { highWaterMark: 512, answerBuffer: 2048 },
    });
    space.register({ receive: () => new Promise(() => {}) }, 'hang');
    space.register(defineActor({ n: (d: unknown) => d }), 'echo');
    const errors = errorsOf(ch);
    const closes: number[] = [];
    ch.on('close', (code) => void closes.push(code));
    peer.push(`[${range(20_000).map((i) => `[2,${i + 1},"hang","n",${i}]`)}]`);
    let id = 20_000;
    expect(() => {
      while (peer.closed.length === 0 && id < 21_000) {
        peer.push(`[2,${++id},"echo","n","${'x'.repeat(40)}"]`);
      }
    }).not.toThrow();
    await flush();
    expect(closes).toEqual([CloseCode.RATE_LIMITED]);
    expect(peer.closed.map(([code]) => code)).toEqual([CloseCode.RATE_LIMITED]);
    expect(errors).toEqual(['MAILBOX_FULL']);
  });

  it('keeps one abort listener for 1,000 asks on one signal, and aborting rejects them all and cancels the handler', async () => {
    const { b, ab } = pair();
    let running!: (signal: AbortSignal) => void;
    const firstRuns = new Promise<AbortSignal>((resolve) => {
      running = resolve;
    });
    const started: unknown[] = [];
    b.register(
      {
        receive: (_t: string, n: unknown, ctx: { signal: AbortSignal }) => {
          started.push(n);
          running(ctx.signal);
          return new Promise(() => {});
        },
      },
      'hang',
    );
    const controller = new AbortController();
    const hang = ab.makeRemote('hang');
    const asks = range(1000).map((i) => hang.ask('n', i, { signal: controller.signal }));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    const handlerSignal = await firstRuns;
    const handlerAborted = new Promise((resolve) => handlerSignal.addEventListener('abort', resolve));
    controller.abort();
    const errors = await Promise.all(asks.map(rejectionOf));
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ABORTED']));
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    expect(ab.pendingCount).toBe(0);
    await handlerAborted;
    // The asks still waiting in the mailbox were taken back: none ever runs.
    b.register(defineActor({ ping: () => 'pong' }), 'other');
    expect(await ab.makeRemote('other').ask('ping')).toBe('pong');
    expect(started).toEqual([0]);
  });

  it('never writes an ask cancelled before its frame was written', async () => {
    const peer = rawPeer();
    const { ch } = await openChannel(peer.transport);
    const x = ch.makeRemote('x');
    const controller = new AbortController();
    x.tell('before', 1);
    const cancelled = x.ask('n', 1, { signal: controller.signal });
    x.tell('after', 2);
    controller.abort();
    expect((await rejectionOf(cancelled)).code).toBe('ABORTED');
    await flush();
    expect(framesOf(peer.sent)).toEqual([
      [1, 'x', 'before', 1],
      [1, 'x', 'after', 2],
    ]);
    expect(ch.bufferedAmount).toBe(0);
  });

  it('never writes an ask that gives up while it waits for credit', async () => {
    const peer = rawPeer();
    const { ch } = await openChannel(peer.transport, { maxPayload: 1024, flow: { window: 1026 } });
    const x = ch.makeRemote('x');
    const fill = 'y'.repeat(1000);
    x.tell('fill', fill);
    const controller = new AbortController();
    const cancelled = x.ask('n', 1, { signal: controller.signal });
    x.tell('after', 2);
    await flush();
    // The ask waits for credit, and the peer is asked for it (a PING) once.
    expect(framesOf(peer.sent)).toEqual([[1, 'x', 'fill', fill], [8]]);
    controller.abort();
    expect((await rejectionOf(cancelled)).code).toBe('ABORTED');
    // The peer consumed the first tell: the credit is back, and only the tell behind the ask goes.
    peer.push(`[11,${messageCost((peer.sent[0] as string).length, false)}]`);
    await flush();
    expect(framesOf(peer.sent).slice(2)).toEqual([[1, 'x', 'after', 2]]);
    expect(ch.bufferedAmount).toBe(0);
  });

  it('tells the peer of an ask that gives up after its frame was written', async () => {
    const peer = rawPeer();
    const { ch } = await openChannel(peer.transport);
    const controller = new AbortController();
    const cancelled = ch.makeRemote('x').ask('n', 1, { signal: controller.signal });
    await flush();
    controller.abort();
    expect((await rejectionOf(cancelled)).code).toBe('ABORTED');
    await flush();
    const frames = framesOf(peer.sent);
    expect(frames[0]?.[0]).toBe(2);
    expect(frames.slice(1)).toEqual([[5, frames[0]?.[1]]]);
  });
});
