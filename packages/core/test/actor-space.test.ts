import { type Actor, type ActorRef, ActorSpace, defineActor } from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { rejectionOf } from './helpers.js';

const spaces: ActorSpace[] = [];
function space(options?: ConstructorParameters<typeof ActorSpace>[1]): ActorSpace {
  const s = new ActorSpace(undefined, options);
  spaces.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(spaces.splice(0).map((s) => s.destroy()));
});

const tick = () => new Promise((r) => setTimeout(r, 0));

describe('ActorSpace', () => {
  it('delivers tells and answers asks for a local actor', async () => {
    const s = space();
    const seen: unknown[] = [];
    const ref = s.register(
      defineActor({
        note: (data: string) => {
          seen.push(data);
        },
        double: (n: number) => n * 2,
      }),
      'calc',
    );
    ref.tell('note', 'a');
    ref.receive('note', 'b');
    expect(await ref.ask('double', 21)).toBe(42);
    expect(await ref.api().double(4)).toBe(8);
    expect(seen).toEqual(['a', 'b']);
    expect(s.ref('calc')).toBe(ref);
  });

  it('handles one message at a time, in order, under 1,000 concurrent asks to an async actor', async () => {
    const s = space();
    let inside = 0;
    let maxInside = 0;
    const order: number[] = [];
    const ref = s.register({
      async receive(_type: string, n: unknown) {
        inside++;
        maxInside = Math.max(maxInside, inside);
        await new Promise((r) => setTimeout(r, (n as number) % 3 === 0 ? 1 : 0));
        await Promise.resolve();
        order.push(n as number);
        inside--;
        return n;
      },
    });
    const n = 1000;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => ref.ask<number>('work', i)));
    expect(answers).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(order).toEqual(answers);
    expect(maxInside).toBe(1);
  });

  it('keeps state updates of an async actor from interleaving', async () => {
    const s = space();
    let balance = 0;
    const bank = s.register(
      defineActor({
        deposit: async (amount: number) => {
          const read = balance;
          await tick();
          balance = read + amount;
          return balance;
        },
      }),
    );
    await Promise.all(Array.from({ length: 50 }, () => bank.ask('deposit', 1)));
    expect(balance).toBe(50);
  });

  it('rejects asks with MAILBOX_FULL past the mailbox limit and still serves the rest', async () => {
    const s = space({ mailboxLimit: 5 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const ref = s.register({ receive: async () => gate });
    const asks = Array.from({ length: 8 }, (_, i) =>
      ref.ask('wait', i).then(
        () => 'ok',
        (e) => e.code,
      ),
    );
    await tick();
    release();
    const results = await Promise.all(asks);
    expect(results.filter((r) => r === 'MAILBOX_FULL').length).toBeGreaterThan(0);
    expect(results.filter((r) => r === 'ok').length).toBeGreaterThanOrEqual(5);
  });

  it('throws MAILBOX_FULL on a tell that cannot be queued', () => {
    const s = space({ mailboxLimit: 2 });
    const ref = s.register({ receive: () => undefined });
    ref.tell('a');
    ref.tell('b');
    expect(() => ref.tell('c')).toThrow(expect.objectContaining({ code: 'MAILBOX_FULL' }));
  });

  it('rejects with TIMEOUT when no answer comes in time, and aborts the handler signal', async () => {
    const s = space();
    let signal: AbortSignal | undefined;
    const ref = s.register({
      receive: (_t: string, _d: unknown, ctx) => {
        signal = ctx.signal;
        return new Promise(() => {});
      },
    });
    const err = await rejectionOf(ref.ask('never', undefined, { timeout: 20 }));
    expect(err.code).toBe('TIMEOUT');
    expect(err.message).toContain('"never"');
    expect(signal?.aborted).toBe(true);
  });

  it('rejects with ABORTED when the signal aborts, before or during the ask', async () => {
    const s = space();
    const ref = s.register({ receive: () => new Promise(() => {}) });
    const before = new AbortController();
    before.abort();
    expect((await rejectionOf(ref.ask('x', 1, { signal: before.signal }))).code).toBe('ABORTED');
    const during = new AbortController();
    const pending = ref.ask('x', 1, { signal: during.signal });
    during.abort();
    expect((await rejectionOf(pending)).code).toBe('ABORTED');
  });

  it('reports NO_SUCH_ACTOR for unknown or unregistered actors, and calls onStop', async () => {
    const s = space();
    expect(() => s.ref('ghost')).toThrow(expect.objectContaining({ code: 'NO_SUCH_ACTOR' }));
    const stopped: unknown[] = [];
    const actor: Actor = { receive: () => new Promise(() => {}), onStop: (why) => stopped.push(why) };
    const ref = s.register(actor, 'temp');
    const first = ref.ask('a');
    const queued = ref.ask('b');
    await tick();
    s.unregister('temp', 'bye');
    expect(stopped).toEqual(['bye']);
    expect((await rejectionOf(queued)).code).toBe('NO_SUCH_ACTOR');
    expect((await rejectionOf(ref.ask('c'))).code).toBe('NO_SUCH_ACTOR');
    // The ask being handled when the actor went away does not hang either.
    expect((await rejectionOf(first)).code).toBe('NO_SUCH_ACTOR');
  });

  it('rejects local asks still waiting when the space is destroyed', async () => {
    const s = space();
    const ref = s.register({ receive: () => new Promise(() => {}) });
    const pending = ref.ask('wait', undefined, { timeout: 0 });
    await tick();
    await s.destroy();
    expect((await rejectionOf(pending)).code).toBe('NO_SUCH_ACTOR');
  });

  it('rejects with the handler error, keeping its code, and INVALID_MESSAGE for unknown types', async () => {
    const s = space();
    const ref = s.register(
      defineActor({
        fail: () => {
          throw Object.assign(new TypeError('bad input'), { code: 'E_BAD' });
        },
      }),
    );
    const err = await rejectionOf(ref.ask('fail'));
    expect(err.message).toBe('bad input');
    // A message type the actor has no handler for (which its type would not allow).
    const untyped: ActorRef = ref;
    expect((await rejectionOf(untyped.ask('nope'))).code).toBe('INVALID_MESSAGE');
    expect((await rejectionOf(untyped.ask('toString'))).code).toBe('INVALID_MESSAGE');
  });

  it('emits error when a tell handler throws, and keeps serving', async () => {
    const s = space();
    const errors: string[] = [];
    s.on('error', (e) => errors.push(e.code));
    const ref = s.register(
      defineActor({
        boom: () => {
          throw new Error('x');
        },
        ok: () => 'fine',
      }),
    );
    ref.tell('boom');
    expect(await ref.ask('ok')).toBe('fine');
    expect(errors).toEqual(['REMOTE_ERROR']);
  });

  it('gives the sending actor as ctx.sender for messages sent from inside receive', async () => {
    const s = space();
    const echo = s.register(defineActor({ who: (_: unknown, ctx) => ctx.sender?.guid ?? null }));
    const caller = s.register(defineActor({ go: () => echo.ask('who') }), 'caller');
    expect(await caller.ask('go')).toBe('caller');
    expect(await echo.ask('who')).toBeNull();
  });

  it('validates its input with clear errors', () => {
    const s = space();
    // Misuse is a programming error: TypeError or RangeError, as in Node, never a wire code.
    expect(() => s.register({} as Actor)).toThrow(TypeError);
    s.register({ receive: () => 1 }, 'dup');
    expect(() => s.register({ receive: () => 1 }, 'dup')).toThrow(/already registered/);
    expect(() => new ActorSpace('x', { mailboxLimit: -1 })).toThrow(RangeError);
    expect(() => new ActorSpace('')).toThrow(TypeError);
    expect(() => s.addChannel({} as never)).toThrow(TypeError);
    expect(() => defineActor({ a: 1 } as never)).toThrow(TypeError);
  });

  it('rejects a bad timeout and a bad message type', async () => {
    const s = space();
    const ref = s.register({ receive: () => 1 });
    await expect(ref.ask('a', 1, { timeout: -5 })).rejects.toBeInstanceOf(RangeError);
    await expect(ref.ask('')).rejects.toBeInstanceOf(TypeError);
    expect(() => ref.tell('x'.repeat(257))).toThrow(TypeError);
  });

  it('leaves no pending entries after 100,000 asks', async () => {
    const s = space();
    const ref = s.register({ receive: (_t: string, n: unknown) => n });
    // Rounds of 1,000: the default mailbox limit, so every ask is accepted.
    for (let round = 0; round < 100; round++) {
      await Promise.all(Array.from({ length: 1000 }, (_, i) => ref.ask('n', i)));
    }
    expect(s.pendingAsks).toBe(0);
  });
});
