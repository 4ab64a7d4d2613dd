import { afterEach, describe, expect, it, vi } from 'vitest';
import { Resumption, type ResumptionHost } from '../../src/internal/resumption.js';

/** The channel as resumption sees it, recording every call. */
function setup() {
  const released: number[] = [];
  const acksDue: boolean[] = [];
  const host: ResumptionHost = {
    release: (size) => void released.push(size),
    ackDue: (now) => void acksDue.push(now),
  };
  const resumption = new Resumption(host);
  return { resumption, released, acksDue };
}

/** The ACK frames `control` appends. */
function acks(resumption: Resumption, forced: boolean): string[] {
  const out: string[] = [];
  resumption.control(out, forced);
  return out;
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
  vi.useRealTimers();
});

function stopAfter(resumption: Resumption): Resumption {
  cleanups.push(() => resumption.stop());
  return resumption;
}

describe('Resumption', () => {
  it('counts the frames it keeps and releases the acknowledged ones through the host', () => {
    const { resumption, released } = setup();
    resumption.keep('[1,"a","t",1]', 14);
    resumption.keep('[3,1,2]', -8);
    resumption.keep('[1,"a","t",3]', 14);
    expect(resumption.seq).toBe(3);
    expect(resumption.ack(2)).toBe(true);
    expect(released).toEqual([14, -8]);
    // An acknowledgement of what was already acknowledged releases nothing more.
    expect(resumption.ack(1)).toBe(true);
    expect(resumption.ack(2)).toBe(true);
    expect(released).toEqual([14, -8]);
    expect(resumption.ack(3)).toBe(true);
    expect(released).toEqual([14, -8, 14]);
    expect(resumption.seq).toBe(3);
  });

  it('refuses an acknowledgement of frames never written', () => {
    const { resumption, released } = setup();
    expect(resumption.ack(1)).toBe(false);
    resumption.keep('a', 2);
    expect(resumption.ack(2)).toBe(false);
    expect(resumption.ack(-1)).toBe(false);
    expect(released).toEqual([]);
    expect(resumption.ack(1)).toBe(true);
  });

  it('rewinds to exactly the frames the peer has not acknowledged, and numbers them afresh', () => {
    const { resumption, released } = setup();
    for (const [text, size] of [
      ['f1', 3],
      ['f2', -3],
      ['f3', 3],
      ['f4', 3],
    ] as const) {
      resumption.keep(text, size);
    }
    expect(resumption.ack(1)).toBe(true);
    const replay = resumption.rewind(2);
    expect(replay).toEqual({ texts: ['f3', 'f4'], sizes: [3, 3] });
    // Only the frame the peer acknowledged by resuming is released; the replay stays held.
    expect(released).toEqual([3, -3]);
    expect(resumption.seq).toBe(2);
    resumption.keep('f3', 3);
    resumption.keep('f4', 3);
    expect(resumption.seq).toBe(4);
    expect(resumption.rewind(4)).toEqual({ texts: [], sizes: [] });
  });

  it('refuses to rewind to a position beyond what was written', () => {
    const { resumption, released } = setup();
    resumption.keep('f1', 3);
    expect(resumption.rewind(2)).toBeNull();
    expect(released).toEqual([]);
    expect(resumption.rewind(0)).toEqual({ texts: ['f1'], sizes: [3] });
  });

  it('asks for an ACK at once after 128 unacknowledged frames, and lets one ride along from 32', () => {
    const { resumption, acksDue } = setup();
    stopAfter(resumption);
    for (let i = 0; i < 31; i++) resumption.count(10);
    expect(resumption.received).toBe(31);
    expect(acks(resumption, false)).toEqual([]);
    resumption.count(10);
    expect(acks(resumption, false)).toEqual(['[10,32]']);
    expect(acks(resumption, false)).toEqual([]);
    for (let i = 0; i < 127; i++) resumption.count(10);
    expect(acksDue).toEqual([]);
    resumption.count(10);
    expect(acksDue).toEqual([true]);
    expect(acks(resumption, true)).toEqual(['[10,160]']);
  });

  it('asks for an ACK at once after 256 KiB unacknowledged, however few the frames', () => {
    const { resumption, acksDue } = setup();
    stopAfter(resumption);
    resumption.count(200 * 1024);
    expect(acksDue).toEqual([]);
    resumption.count(100 * 1024);
    expect(acksDue).toEqual([true]);
    expect(acks(resumption, true)).toEqual(['[10,2]']);
    // The count starts again after an ACK.
    resumption.count(200 * 1024);
    expect(acksDue).toEqual([true]);
  });

  it('writes a forced ACK only when something is unacknowledged', () => {
    const { resumption } = setup();
    stopAfter(resumption);
    expect(acks(resumption, true)).toEqual([]);
    resumption.count(10);
    expect(acks(resumption, true)).toEqual(['[10,1]']);
    expect(acks(resumption, true)).toEqual([]);
  });

  it('asks for an ACK a while after the first unacknowledged frame, unless one went out meanwhile', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { resumption, acksDue } = setup();
    stopAfter(resumption);
    resumption.count(10);
    resumption.count(10);
    vi.advanceTimersByTime(199);
    expect(acksDue).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(acksDue).toEqual([true]);
    expect(acks(resumption, true)).toEqual(['[10,2]']);
    resumption.count(10);
    expect(acks(resumption, true)).toEqual(['[10,3]']);
    vi.advanceTimersByTime(1000);
    expect(acksDue).toEqual([true]);
  });

  it('takes the position sent in a handshake as acknowledged', () => {
    const { resumption } = setup();
    stopAfter(resumption);
    for (let i = 0; i < 40; i++) resumption.count(10);
    resumption.acknowledged();
    expect(acks(resumption, true)).toEqual([]);
  });

  it('is stalled once a frame has waited longer than the given time for its acknowledgement', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const { resumption } = setup();
    expect(resumption.stalled(0)).toBe(false);
    resumption.keep('f1', 3);
    vi.advanceTimersByTime(100);
    expect(resumption.stalled(50)).toBe(true);
    expect(resumption.stalled(100)).toBe(false);
    // An acknowledgement restarts the clock for the frames still waiting.
    resumption.keep('f2', 3);
    resumption.ack(1);
    expect(resumption.stalled(50)).toBe(false);
    vi.advanceTimersByTime(60);
    expect(resumption.stalled(50)).toBe(true);
    resumption.ack(2);
    vi.advanceTimersByTime(1000);
    expect(resumption.stalled(50)).toBe(false);
  });

  it('forgets everything on reset', () => {
    const { resumption, released } = setup();
    resumption.keep('f1', 3);
    resumption.count(10);
    resumption.reset();
    expect(resumption.seq).toBe(0);
    expect(resumption.received).toBe(0);
    expect(acks(resumption, true)).toEqual([]);
    expect(resumption.ack(1)).toBe(false);
    expect(released).toEqual([]);
  });
});
