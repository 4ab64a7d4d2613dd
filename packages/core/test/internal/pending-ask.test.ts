import { getEventListeners } from 'node:events';
import { describe, expect, it } from 'vitest';
import { type AskOwner, askTimeout, PendingAsk } from '../../src/internal/pending-ask.js';
import { TimerWheel } from '../../src/internal/timer-wheel.js';
import { rejectionOf } from '../helpers.js';

/** An owner that records the asks that gave up. */
function owner(): AskOwner & { gaveUp: PendingAsk[] } {
  const gaveUp: PendingAsk[] = [];
  return { gaveUp, giveUp: (ask) => void gaveUp.push(ask) };
}

/** An ask `type` to actor `target` and the promise it settles. */
function pending(
  id: number,
  by: AskOwner,
  options: { timeout?: number; signal?: AbortSignal; wheel?: TimerWheel } = {},
  type = 'x',
  target = 'y',
): { ask: PendingAsk; answer: Promise<unknown> } {
  let ask!: PendingAsk;
  const answer = new Promise<unknown>((resolve, reject) => {
    ask = new PendingAsk(
      id,
      type,
      target,
      options.timeout ?? 0,
      options.signal,
      options.wheel ?? new TimerWheel(),
      by,
      resolve,
      reject,
    );
  });
  return { ask, answer };
}

const listeners = (signal: AbortSignal) => getEventListeners(signal, 'abort').length;

describe('PendingAsk', () => {
  it('leaves exactly one abort listener on a signal shared by 10,000 asks', () => {
    const controller = new AbortController();
    const by = owner();
    const wheel = new TimerWheel();
    const asks = Array.from({ length: 10_000 }, (_, i) =>
      pending(i + 1, by, { signal: controller.signal, wheel }),
    );
    expect(listeners(controller.signal)).toBe(1);
    for (const { ask } of asks) ask.resolve(null);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('rejects every ask on a signal with ABORTED when it aborts, each giving up once', async () => {
    const controller = new AbortController();
    const by = owner();
    const wheel = new TimerWheel();
    const asks = Array.from({ length: 10_000 }, (_, i) =>
      pending(i + 1, by, { signal: controller.signal, wheel }),
    );
    const reason = new Error('user left');
    controller.abort(reason);
    const errors = await Promise.all(asks.map(({ answer }) => rejectionOf(answer)));
    expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ABORTED']));
    expect((errors[0] as Error).cause).toBe(reason);
    expect(errors[0]?.message).toContain('ask "x" to actor y');
    expect(by.gaveUp).toHaveLength(10_000);
    expect(new Set(by.gaveUp).size).toBe(10_000);
    expect(asks.every(({ ask }) => !ask.pending)).toBe(true);
    expect(listeners(controller.signal)).toBe(0);
  });

  it('keeps the listener while one ask on the signal still waits, and removes it when the last settles', async () => {
    const controller = new AbortController();
    const by = owner();
    const wheel = new TimerWheel();
    const asks = Array.from({ length: 100 }, (_, i) =>
      pending(i + 1, by, { signal: controller.signal, wheel }),
    );
    for (const { ask } of asks.slice(0, 50)) ask.resolve('ok');
    for (const { ask } of asks.slice(50, 99)) ask.reject(new Error('no'));
    expect(listeners(controller.signal)).toBe(1);
    asks[99]?.ask.resolve('last');
    expect(listeners(controller.signal)).toBe(0);
    controller.abort();
    expect(by.gaveUp).toEqual([]);
    expect(await asks[0]?.answer).toBe('ok');
    expect(await asks[99]?.answer).toBe('last');
    await Promise.allSettled(asks.map(({ answer }) => answer));
  });

  it('rejects with TIMEOUT naming the ask once its deadline passes, and gives up', async () => {
    const by = owner();
    const { ask, answer } = pending(1, by, { timeout: 10 }, 'addTodo', 'a1b2');
    const error = await rejectionOf(answer);
    expect(error.code).toBe('TIMEOUT');
    expect(error.message).toContain('ask "addTodo" to actor a1b2');
    expect(error.details).toEqual({ target: 'a1b2', type: 'addTodo', timeout: 10 });
    expect(by.gaveUp).toEqual([ask]);
  });

  it('settles once: later answers, deadlines and aborts do nothing', async () => {
    const by = owner();
    const controller = new AbortController();
    const { ask, answer } = pending(1, by, { signal: controller.signal });
    ask.resolve('first');
    ask.reject(new Error('second'));
    ask.expire();
    controller.abort();
    ask.abort();
    expect(await answer).toBe('first');
    expect(by.gaveUp).toEqual([]);
  });
});

describe('askTimeout', () => {
  it('returns the given timeout, or the fallback when there is none', () => {
    expect(askTimeout(undefined, 30_000, 'ask "x" to actor y')).toBe(30_000);
    expect(askTimeout({}, 30_000, 'ask "x" to actor y')).toBe(30_000);
    expect(askTimeout({ timeout: 0 }, 30_000, 'ask "x" to actor y')).toBe(0);
    expect(askTimeout({ timeout: 5 }, 30_000, 'ask "x" to actor y')).toBe(5);
  });

  it('throws RangeError for a timeout that is not a non-negative number', () => {
    for (const timeout of [-1, Number.NaN, '5' as unknown as number]) {
      expect(() => askTimeout({ timeout }, 30_000, 'ask "x" to actor y')).toThrow(RangeError);
    }
  });

  it('throws ABORTED, naming the ask, for a signal that already fired', () => {
    const controller = new AbortController();
    const reason = new Error('gone');
    controller.abort(reason);
    let thrown: { code?: string; message?: string; cause?: unknown } = {};
    try {
      askTimeout({ signal: controller.signal, timeout: 5 }, 30_000, 'ask "x" to actor y');
    } catch (error) {
      thrown = error as typeof thrown;
    }
    expect(thrown.code).toBe('ABORTED');
    expect(thrown.message).toContain('ask "x" to actor y');
    expect(thrown.cause).toBe(reason);
  });
});
