import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  FrameWriter,
  frameWeight,
  type WriterHost,
  type WriterLimits,
} from '../../src/internal/frame-writer.js';
import { messageCost } from '../../src/protocol.js';
import type { Transport } from '../../src/transport.js';

const MIB = 1024 * 1024;

/** A transport that records what it is given and reports a settable `bufferedAmount`. */
interface FakeLink extends Transport {
  readonly sent: string[];
  bufferedAmount: number;
}

function fakeLink(): FakeLink {
  const sent: string[] = [];
  return {
    sent,
    bufferedAmount: 0,
    send: (message) => void sent.push(message),
    close: () => {},
    onMessage: () => {},
    onClose: () => {},
  };
}

/** The channel as the writer sees it, recording every call. */
class FakeHost implements WriterHost {
  link: Transport | null;
  peerMaxPayload = MIB;
  /** Asks that gave up: their frames must not be written. */
  readonly gaveUp = new Set<number>();
  /** Control frames written with the next message. */
  due: string[] = [];
  /** Whether written frames are kept for replay (a resumable channel). */
  keeps = false;
  readonly kept: Array<[string, number]> = [];
  drains = 0;
  readonly overBudgets: number[] = [];
  readonly failures: unknown[] = [];

  /** How often the writer asked for credit. */
  creditRequests = 0;

  constructor(link: Transport | null) {
    this.link = link;
  }
  creditWanted(): void {
    this.creditRequests++;
  }
  /** The asks keepAsk was called for: each is marked written by the channel. */
  readonly asked: number[] = [];
  keepAsk(id: number): boolean {
    this.asked.push(id);
    return !this.gaveUp.has(id);
  }
  control(out: string[]): void {
    out.push(...this.due.splice(0));
  }
  written(text: string, size: number): void {
    this.kept.push([text, size]);
  }
  drained(): void {
    this.drains++;
  }
  overBudget(bytes: number): void {
    this.overBudgets.push(bytes);
  }
  failed(error: unknown): void {
    this.failures.push(error);
  }
}

/** A writer over a fake link, open with `window` bytes of credit. */
function setup(limits: Partial<WriterLimits> = {}, window = MIB) {
  const link = fakeLink();
  const host = new FakeHost(link);
  const writer = new FrameWriter(host, {
    sendBuffer: 16 * MIB,
    answerBuffer: 16 * MIB,
    highWaterMark: MIB,
    ...limits,
  });
  writer.rebase(window, 0, 0);
  return { link, host, writer };
}

const tell = (n: number) => `[1,"x","n",${n}]`;
const ask = (id: number, n: number) => `[2,${id},"x","n",${n}]`;
const answer = (id: number) => `[3,${id},"ok"]`;
/** What a queued frame weighs against the budgets. */
const size = (frame: string) => frameWeight(frame);
/** The credit a frame spends on the wire: its length and one separator. */
const cost = (frame: string) => frame.length + 1;
const batch = (...frames: string[]) => `[${frames.join(',')}]`;
/** Lets the writer's scheduled write (a microtask) run. */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

afterEach(() => {
  vi.useRealTimers();
});

describe('FrameWriter', () => {
  it('writes the frames queued in one turn as one message, in order', async () => {
    const { link, writer } = setup();
    writer.data(tell(1), 0);
    writer.other(answer(7));
    writer.data(ask(2, 2), 2);
    expect(link.sent).toEqual([]);
    await endOfTurn();
    expect(link.sent).toEqual([batch(tell(1), answer(7), ask(2, 2))]);
    writer.data(tell(3), 0);
    await endOfTurn();
    // A message of one frame is the frame itself, not a batch.
    expect(link.sent[1]).toBe(tell(3));
  });

  it('writes a long turn every 32 frames as it goes', async () => {
    const { link, writer } = setup();
    for (let i = 0; i < 70; i++) writer.data(tell(i), 0);
    expect(link.sent).toHaveLength(2);
    await endOfTurn();
    const messages = link.sent.map((m) => JSON.parse(m) as unknown[][]);
    expect(messages.map((m) => m.length)).toEqual([32, 32, 6]);
    expect(messages.flat().map((f) => f[3])).toEqual(Array.from({ length: 70 }, (_, i) => i));
  });

  it('holds tells and asks the peer has no credit for while answers queued after them go ahead', async () => {
    const { link, writer } = setup({}, cost(tell(1)) + 5);
    writer.data(tell(1), 0);
    writer.data(ask(2, 2), 2);
    writer.other(answer(9));
    await endOfTurn();
    expect(link.sent).toEqual([tell(1), answer(9)]);
    expect(writer.heldData).toBe(size(ask(2, 2)));
    expect(writer.credit(cost(tell(1)))).toBe(true);
    await endOfTurn();
    expect(link.sent).toEqual([tell(1), answer(9), ask(2, 2)]);
    expect(writer.heldData).toBe(0);
  });

  it('asks the host for credit once per wait, and again after credit came but did not cover the wait', async () => {
    const { writer, host } = setup({}, cost(tell(1)) + 5);
    writer.data(tell(1), 0);
    writer.data(tell(2), 0);
    writer.data(tell(3), 0);
    await endOfTurn();
    expect(host.creditRequests).toBe(1);
    writer.schedule();
    await endOfTurn();
    expect(host.creditRequests).toBe(1);
    // Credit for one more tell: the third still waits, so the host is asked again.
    expect(writer.credit(cost(tell(1)))).toBe(true);
    await endOfTurn();
    expect(host.creditRequests).toBe(2);
  });

  it('spends credit for the whole of a message that carries a tell, control frames and answers included', async () => {
    const { link, host, writer } = setup();
    host.due = ['[11,40]'];
    writer.data(tell(1), 0);
    writer.other(answer(7));
    await endOfTurn();
    const [message] = link.sent as [string];
    expect(message).toBe(batch('[11,40]', tell(1), answer(7)));
    const spent = messageCost(message.length, true);
    expect(spent).toBe(cost('[11,40]') + cost(tell(1)) + cost(answer(7)));
    // The peer can have consumed everything that was charged, and not one byte more.
    expect(writer.credit(spent + 1)).toBe(false);
    expect(writer.credit(spent)).toBe(true);
  });

  it('spends no credit for a message of answers and control frames alone', async () => {
    const { link, host, writer } = setup();
    host.due = ['[10,3]'];
    writer.other(answer(1));
    await endOfTurn();
    expect(link.sent).toEqual([batch('[10,3]', answer(1))]);
    expect(writer.credit(1)).toBe(false);
  });

  it('writes an answer apart from a tell when the credit does not cover both', async () => {
    const { link, writer } = setup({}, cost(tell(1)));
    writer.data(tell(1), 0);
    writer.other(answer(7));
    await endOfTurn();
    expect(link.sent).toEqual([tell(1), answer(7)]);
    expect(writer.credit(cost(tell(1)) + 1)).toBe(false);
    expect(writer.credit(cost(tell(1)))).toBe(true);
  });

  it('refuses credit that cannot be true: more than was charged, or less than already granted', async () => {
    const { writer } = setup({}, 100);
    expect(writer.credit(1)).toBe(false);
    writer.data(tell(1), 0);
    await endOfTurn();
    const charged = cost(tell(1));
    expect(writer.credit(charged + 1)).toBe(false);
    expect(writer.credit(charged - 4)).toBe(true);
    expect(writer.credit(charged - 5)).toBe(false);
    expect(writer.credit(charged - 4)).toBe(true);
    expect(writer.credit(charged)).toBe(true);
  });

  it('holds a tell or ask only while it fits the send buffer', async () => {
    const budget = size(tell(1)) + 40;
    const { host, writer } = setup({ sendBuffer: budget, highWaterMark: budget });
    expect(writer.canHold(budget)).toBe(true);
    expect(writer.canHold(budget + 1)).toBe(false);
    host.keeps = true;
    writer.data(tell(1), 0);
    expect(writer.canHold(40)).toBe(true);
    expect(writer.canHold(41)).toBe(false);
    // Written and kept for replay: still held until the peer acknowledges it.
    await endOfTurn();
    expect(writer.heldData).toBe(size(tell(1)));
    expect(writer.canHold(41)).toBe(false);
    writer.release(size(tell(1)));
    expect(writer.canHold(budget)).toBe(true);
    // Written and not kept: released at once.
    host.keeps = false;
    writer.data(tell(2), 0);
    await endOfTurn();
    expect(writer.heldData).toBe(0);
  });

  it('needs a drain once the tells and asks held reach the high-water mark, and reports it once they fall below', () => {
    const { link, host, writer } = setup({ highWaterMark: 2 * size(tell(1)) + 2 });
    host.link = null;
    writer.data(tell(1), 0);
    writer.data(tell(2), 0);
    expect(writer.heldData).toBe(size(tell(1)) + size(tell(2)));
    expect(writer.needDrain).toBe(false);
    writer.data(tell(3), 0);
    expect(writer.needDrain).toBe(true);
    host.link = link;
    host.keeps = true;
    writer.flush();
    expect(link.sent).toHaveLength(1);
    expect(writer.needDrain).toBe(true);
    writer.release(size(tell(1)));
    expect(writer.needDrain).toBe(false);
    expect(host.drains).toBe(1);
    writer.release(size(tell(2)));
    expect(host.drains).toBe(1);
  });

  it('reports the drain when frames that are not kept are written', () => {
    const { host, writer } = setup({ highWaterMark: 2 * size(tell(1)) + 2 });
    for (let i = 1; i <= 3; i++) writer.data(tell(i), 0);
    expect(writer.needDrain).toBe(true);
    writer.flush();
    expect(writer.heldData).toBe(0);
    expect(writer.needDrain).toBe(false);
    expect(host.drains).toBe(1);
  });

  it('calls overBudget and queues nothing for an answer past the answer budget', () => {
    const two = size(answer(1)) + size(answer(2));
    const { link, host, writer } = setup({ answerBuffer: two + 5 });
    host.link = null;
    writer.other(answer(1));
    writer.other(answer(2));
    expect(writer.heldOther).toBe(two);
    writer.other(answer(3));
    expect(host.overBudgets).toEqual([two + size(answer(3))]);
    expect(writer.heldOther).toBe(two);
    host.link = link;
    writer.flush();
    expect(link.sent).toEqual([batch(answer(1), answer(2))]);
  });

  it('calls overBudget once for a run of refused answers, and again after a reset', () => {
    const two = size(answer(1)) + size(answer(2));
    const { host, writer } = setup({ answerBuffer: two + 5 });
    host.link = null;
    writer.other(answer(1));
    writer.other(answer(2));
    // The host closes the channel when told, and that close answers the peer's other asks:
    // those refusals must not tell it again (and re-enter the close).
    writer.other(answer(3));
    writer.other(answer(4));
    const over = two + size(answer(3));
    expect(host.overBudgets).toEqual([over]);
    writer.reset();
    writer.other(answer(5));
    writer.other(answer(6));
    writer.other(answer(7));
    expect(host.overBudgets).toEqual([over, over]);
  });

  it('writes nothing while the socket holds more than the high-water mark, and resumes once it has drained', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { link, writer } = setup({ highWaterMark: 100 });
    link.bufferedAmount = 101;
    writer.data(tell(1), 0);
    writer.other(answer(2));
    await Promise.resolve();
    expect(link.sent).toEqual([]);
    vi.advanceTimersByTime(100);
    expect(link.sent).toEqual([]);
    link.bufferedAmount = 100;
    vi.advanceTimersByTime(10);
    expect(link.sent).toEqual([batch(tell(1), answer(2))]);
  });

  it('stops writing in the middle of a turn once a write takes the socket above the high-water mark', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { link, host, writer } = setup({ highWaterMark: 30 });
    link.send = (message) => {
      link.sent.push(message);
      link.bufferedAmount += message.length;
    };
    // One frame per message: three writes take the socket past 30 bytes.
    host.peerMaxPayload = 50;
    for (let i = 0; i < 6; i++) writer.data(tell(i), 0);
    writer.flush();
    expect(link.bufferedAmount).toBeGreaterThan(30);
    expect(link.sent.length).toBeLessThan(6);
    const before = link.sent.length;
    vi.advanceTimersByTime(50);
    expect(link.sent).toHaveLength(before);
    link.bufferedAmount = 0;
    vi.advanceTimersByTime(10);
    expect(link.sent).toEqual([0, 1, 2, 3, 4, 5].map(tell));
  });

  it('drops the frame of an ask that gave up before it was written, and releases its bytes', () => {
    const { link, host, writer } = setup();
    host.link = null;
    writer.data(ask(5, 1), 5);
    writer.data(tell(2), 0);
    expect(writer.heldData).toBe(size(ask(5, 1)) + size(tell(2)));
    host.gaveUp.add(5);
    host.link = link;
    host.keeps = true;
    writer.flush();
    expect(link.sent).toEqual([tell(2)]);
    expect(host.kept).toEqual([[tell(2), size(tell(2))]]);
    expect(writer.heldData).toBe(size(tell(2)));
  });

  it('asks keepAsk only once an ask frame goes out, never while it waits for credit', async () => {
    const { link, host, writer } = setup({}, cost(ask(2, 2)));
    writer.data(tell(1), 0);
    writer.data(ask(2, 2), 2);
    await endOfTurn();
    expect(link.sent).toEqual([tell(1)]);
    expect(host.asked).toEqual([]);
    writer.credit(cost(tell(1)));
    await endOfTurn();
    expect(host.asked).toEqual([2]);
    expect(link.sent).toEqual([tell(1), ask(2, 2)]);
  });

  it('puts replayed frames back in front of the queue, in their order', () => {
    const { link, host, writer } = setup();
    host.keeps = true;
    writer.data(tell(1), 0);
    writer.other(answer(5));
    writer.data(ask(4, 2), 4);
    writer.flush();
    const replay = host.kept.splice(0);
    expect(replay.map(([, s]) => s)).toEqual([size(tell(1)), -size(answer(5)), size(ask(4, 2))]);
    // The link is lost; more is queued meanwhile; then the peer asks for everything again.
    host.link = null;
    writer.data(tell(3), 0);
    writer.other(answer(9));
    writer.requeue(
      replay.map(([t]) => t),
      replay.map(([, s]) => s),
    );
    writer.rebase(MIB, 0, 0);
    host.link = link;
    writer.flush();
    expect(link.sent[1]).toBe(batch(tell(1), answer(5), ask(4, 2), tell(3), answer(9)));
    expect(writer.heldData).toBe(size(tell(1)) + size(ask(4, 2)) + size(tell(3)));
  });

  it('drops a replayed ask that gave up meanwhile', () => {
    const { link, host, writer } = setup();
    host.keeps = true;
    writer.data(ask(12, 1), 12);
    writer.data(tell(2), 0);
    writer.flush();
    const replay = host.kept.splice(0);
    host.link = null;
    writer.requeue(
      replay.map(([t]) => t),
      replay.map(([, s]) => s),
    );
    host.gaveUp.add(12);
    host.link = link;
    writer.flush();
    expect(link.sent[1]).toBe(tell(2));
    expect(writer.heldData).toBe(size(tell(2)));
  });

  it('drops every queued frame on reset and returns the number of tells dropped (asks reject on their own)', () => {
    const { host, writer } = setup({ highWaterMark: 30 });
    host.link = null;
    writer.data(tell(1), 0);
    writer.data(ask(2, 2), 2);
    writer.other(answer(3));
    writer.data(tell(4), 0);
    expect(writer.needDrain).toBe(true);
    expect(writer.reset()).toBe(2);
    expect(writer.heldData).toBe(0);
    expect(writer.heldOther).toBe(0);
    expect(writer.needDrain).toBe(false);
    expect(host.drains).toBe(1);
    expect(writer.reset()).toBe(0);
  });

  it('never makes a batch larger than the peer maxPayload, counting 3 bytes per character', () => {
    const { link, host, writer } = setup();
    host.peerMaxPayload = 200;
    const frames = Array.from({ length: 10 }, (_, i) => `[1,"x","n","${String(i).repeat(10)}€€€€€€€€"]`);
    for (const frame of frames) writer.data(frame, 0);
    writer.flush();
    const perMessage = Math.floor((200 - 2) / ((frames[0] as string).length * 3 + 1));
    expect(perMessage).toBeGreaterThan(1);
    for (const message of link.sent) expect(Buffer.byteLength(message)).toBeLessThanOrEqual(200);
    expect(link.sent.map((m) => (JSON.parse(m) as unknown[]).length)).toEqual(
      Array.from({ length: Math.ceil(10 / perMessage) }, (_, i) => Math.min(perMessage, 10 - i * perMessage)),
    );
    expect(link.sent.flatMap((m) => JSON.parse(m) as unknown[])).toEqual(frames.map((f) => JSON.parse(f)));
  });

  it('writes a frame on its own when the estimate of it alone passes the peer maxPayload', () => {
    const { link, host, writer } = setup();
    // 32 ASCII characters: estimated at 97 bytes, 32 in fact.
    host.peerMaxPayload = 50;
    const frame = `[1,"x","n","${'y'.repeat(18)}"]`;
    writer.data(frame, 0);
    writer.data(frame, 0);
    writer.flush();
    expect(link.sent).toEqual([frame, frame]);
  });

  it('reports a transport that throws, and keeps the frames of that message for replay', () => {
    const { link, host, writer } = setup();
    host.keeps = true;
    link.send = () => {
      throw new Error('socket gone');
    };
    writer.data(tell(1), 0);
    writer.other(answer(2));
    writer.flush();
    expect(host.failures).toHaveLength(1);
    expect(host.kept).toEqual([
      [tell(1), size(tell(1))],
      [answer(2), -size(answer(2))],
    ]);
    expect(writer.heldData).toBe(size(tell(1)));
  });

  it('releases the frames of a message whose write threw when nothing keeps them', () => {
    const { link, host, writer } = setup();
    link.send = () => {
      throw new Error('socket gone');
    };
    writer.data(tell(1), 0);
    writer.other(answer(2));
    writer.flush();
    expect(host.failures).toHaveLength(1);
    expect(writer.heldData).toBe(0);
    expect(writer.heldOther).toBe(0);
  });
});
