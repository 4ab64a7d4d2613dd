import { describe, expect, it } from 'vitest';
import type { Actor } from '../src/actor.js';
import { Ref, type Router } from '../src/actor-ref.js';
import { ActorSpaceError } from '../src/errors.js';
import { Context, Envelope, Mailbox, type Origin, type TellErrorReporter } from '../src/mailbox.js';

const router: Router = {
  tellTo: () => {},
  askTo: () => Promise.resolve(undefined as never),
};

/** An origin (a channel, as its mailbox sees it) recording what it is told. */
function recorder() {
  const taken: number[] = [];
  const answers: Array<[number, unknown]> = [];
  const failures: Array<[number, unknown]> = [];
  const origin: Origin = {
    taken: (cost) => void taken.push(cost),
    answer: (id, value) => void answers.push([id, value]),
    fail: (id, error) => void failures.push([id, error]),
  };
  return { origin, taken, answers, failures };
}

/** An ask (`id` > 0) or tell (`id` 0) of `data` from `origin`, costing `cost` bytes of credit. */
function envelope(origin: Origin | null, id: number, data: unknown, cost = 10): Envelope {
  return new Envelope('n', data, new Context(undefined, undefined, undefined), origin, id, cost, id !== 0);
}

/** An actor whose every handler runs until the test finishes it. */
function slowActor() {
  const started: unknown[] = [];
  const finish: Array<(value: unknown) => void> = [];
  const signals: AbortSignal[] = [];
  const actor: Actor = {
    receive: (_type, data, ctx) => {
      started.push(data);
      signals.push(ctx.signal);
      return new Promise((resolve) => finish.push(resolve));
    },
  };
  return { actor, started, finish, signals };
}

function mailbox(actor: Actor, limit = 1000, reporter?: TellErrorReporter): Mailbox {
  return new Mailbox(
    actor,
    new Ref(router, 'box'),
    limit,
    reporter ?? { tellFailed: () => {}, answerRefused: () => {} },
  );
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('Mailbox', () => {
  it('handles one message at a time, in arrival order, even when the handler is async', async () => {
    const slow = slowActor();
    const box = mailbox(slow.actor);
    const from = recorder();
    for (let i = 1; i <= 3; i++) box.push(envelope(from.origin, i, i), false);
    box.run();
    expect(slow.started).toEqual([1]);
    expect(box.length).toBe(2);
    box.run();
    expect(slow.started).toEqual([1]);
    slow.finish[0]?.('one');
    await tick();
    expect(slow.started).toEqual([1, 2]);
    expect(from.answers).toEqual([[1, 'one']]);
    slow.finish[1]?.('two');
    await tick();
    slow.finish[2]?.('three');
    await tick();
    expect(slow.started).toEqual([1, 2, 3]);
    expect(from.answers).toEqual([
      [1, 'one'],
      [2, 'two'],
      [3, 'three'],
    ]);
    expect(box.length).toBe(0);
  });

  it('gives each message its credit back as it leaves the queue to be handled', async () => {
    const slow = slowActor();
    const box = mailbox(slow.actor);
    const from = recorder();
    box.push(envelope(from.origin, 0, 'a', 11), false);
    box.push(envelope(from.origin, 0, 'b', 22), false);
    expect(from.taken).toEqual([]);
    box.run();
    expect(from.taken).toEqual([11]);
    slow.finish[0]?.(undefined);
    await tick();
    expect(from.taken).toEqual([11, 22]);
  });

  it('unlinks a waiting message at once on remove(): the length drops, its credit comes back, and it never runs', async () => {
    const slow = slowActor();
    const box = mailbox(slow.actor);
    const from = recorder();
    const envs = ['a', 'b', 'c', 'd'].map((d, i) => envelope(from.origin, i + 1, d, 10 + i));
    for (const env of envs) box.push(env, false);
    box.run();
    expect(box.length).toBe(3);
    box.remove(envs[2] as Envelope);
    expect(box.length).toBe(2);
    expect(from.taken).toEqual([10, 12]);
    box.remove(envs[3] as Envelope);
    expect(box.length).toBe(1);
    // Removing again, or removing what is not waiting, does nothing.
    box.remove(envs[3] as Envelope);
    box.remove(envs[0] as Envelope);
    expect(box.length).toBe(1);
    expect(from.taken).toEqual([10, 12, 13]);
    box.push(envelope(from.origin, 5, 'e'), false);
    for (let i = 0; i < 3; i++) {
      slow.finish[i]?.(i);
      await tick();
    }
    expect(slow.started).toEqual(['a', 'b', 'e']);
    expect(from.failures).toEqual([]);
  });

  it('takes a waiting message back on cancel() and aborts its signal', () => {
    const slow = slowActor();
    const box = mailbox(slow.actor);
    const from = recorder();
    box.push(envelope(from.origin, 1, 'a'), false);
    const waiting = envelope(from.origin, 2, 'b');
    box.push(waiting, false);
    box.run();
    const reason = new ActorSpaceError('ABORTED', 'the asker gave up');
    waiting.cancel(reason);
    expect(box.length).toBe(0);
    expect(waiting.ctx.aborted).toBe(true);
    expect(waiting.ctx.signal.reason).toBe(reason);
  });

  it('rejects a message whose asker gave up while it waited, without running it', async () => {
    const slow = slowActor();
    const box = mailbox(slow.actor);
    const from = recorder();
    box.push(envelope(from.origin, 1, 'a'), false);
    const waiting = envelope(from.origin, 2, 'b');
    box.push(waiting, false);
    box.run();
    const reason = new ActorSpaceError('ABORTED', 'timed out');
    waiting.ctx.abort(reason);
    slow.finish[0]?.('done');
    await tick();
    expect(slow.started).toEqual(['a']);
    expect(from.failures).toEqual([[2, reason]]);
  });

  it('rejects the waiting asks and the running one on stop(), aborts the running handler, and accepts nothing more', async () => {
    const slow = slowActor();
    const tellErrors: unknown[] = [];
    const box = mailbox(slow.actor, 1000, {
      tellFailed: (_g, error) => void tellErrors.push(error),
      answerRefused: () => {},
    });
    const from = recorder();
    box.push(envelope(from.origin, 1, 'running'), false);
    box.push(envelope(from.origin, 2, 'waiting ask'), false);
    box.push(envelope(from.origin, 0, 'waiting tell'), false);
    box.run();
    const reason = new ActorSpaceError('NO_SUCH_ACTOR', 'unregistered');
    box.stop(reason);
    expect(box.stopped).toBe(true);
    expect(from.failures).toEqual([
      [1, reason],
      [2, reason],
    ]);
    expect(slow.signals[0]?.aborted).toBe(true);
    expect(box.length).toBe(0);
    expect(box.push(envelope(from.origin, 3, 'late'), false)).toBe(false);
    // The running handler finishing later answers nothing more, and nothing else runs.
    slow.finish[0]?.('too late');
    await tick();
    expect(from.answers).toEqual([]);
    expect(slow.started).toEqual(['running']);
    expect(tellErrors).toEqual([]);
  });

  it('refuses local sends past the limit, and never refuses a delivery from a channel', () => {
    const slow = slowActor();
    const box = mailbox(slow.actor, 2);
    const from = recorder();
    expect(box.push(envelope(null, 0, 1), true)).toBe(true);
    expect(box.push(envelope(null, 0, 2), true)).toBe(true);
    expect(box.push(envelope(null, 0, 3), true)).toBe(false);
    expect(box.length).toBe(2);
    for (let i = 0; i < 5; i++) expect(box.push(envelope(from.origin, 0, i), false)).toBe(true);
    expect(box.length).toBe(7);
  });

  it('reports what a tell handler threw, and answers an ask whose handler threw with the error', async () => {
    const reported: Array<[string, unknown]> = [];
    const boom = new Error('boom');
    const box = mailbox(
      {
        receive: (_type, data) => {
          if (data === 'sync') throw boom;
          return Promise.reject(boom);
        },
      },
      1000,
      { tellFailed: (guid, error) => void reported.push([guid, error]), answerRefused: () => {} },
    );
    const from = recorder();
    box.push(envelope(from.origin, 0, 'sync'), false);
    box.push(envelope(from.origin, 1, 'async'), false);
    box.run();
    await tick();
    expect(reported).toEqual([['box', boom]]);
    expect(from.failures).toEqual([[1, boom]]);
  });
});
