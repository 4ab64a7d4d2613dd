import { afterEach, describe, expect, it, vi } from 'vitest';
import { ReceiveWindow } from '../../src/internal/credit.js';

const windows: ReceiveWindow[] = [];
afterEach(() => {
  for (const w of windows.splice(0)) w.stop();
  vi.useRealTimers();
});

/** A window of `size` bytes whose host records each CREDIT frame it is told is due. */
function setup(size = 100) {
  const due: boolean[] = [];
  const window = new ReceiveWindow({ creditDue: (now) => void due.push(now) }, size);
  windows.push(window);
  return { window, due };
}

/** The CREDIT frames `control` appends. */
function credits(window: ReceiveWindow, forced: boolean): string[] {
  const out: string[] = [];
  window.control(out, forced);
  return out;
}

describe('ReceiveWindow', () => {
  it('accepts messages up to the window and refuses the one that goes past it', () => {
    const { window } = setup(100);
    expect(window.accept(60)).toBe(true);
    expect(window.accept(40)).toBe(true);
    expect(window.accept(1)).toBe(false);
  });

  it('grows the window by what was announced, not by what was consumed', () => {
    const { window } = setup(100);
    expect(window.accept(100)).toBe(true);
    window.consume(50);
    // Consumed, but the peer has not been told: it may not send more yet.
    expect(window.accept(1)).toBe(false);

    const other = setup(100).window;
    expect(other.accept(100)).toBe(true);
    other.consume(50);
    expect(credits(other, true)).toEqual(['[11,50]']);
    expect(other.accept(50)).toBe(true);
    expect(other.accept(1)).toBe(false);
  });

  it('asks for a CREDIT frame at once when a quarter of the window is owed', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { window, due } = setup(100);
    window.accept(100);
    window.consume(24);
    expect(due).toEqual([]);
    window.consume(1);
    expect(due).toEqual([true]);
  });

  it('owes a small debt quietly until the peer asks for credit with a PING, then pays at once', () => {
    const { window, due } = setup(100);
    window.accept(10);
    window.consume(10);
    expect(due).toEqual([]);
    // A PING: the peer may be waiting for credit; what is owed is due now.
    window.wanted();
    expect(due).toEqual([true]);
    expect(credits(window, true)).toEqual(['[11,10]']);
    // Asked while nothing is owed: the next consumption pays at once, however small.
    window.wanted();
    expect(due).toEqual([true]);
    window.accept(1);
    window.consume(1);
    expect(due).toEqual([true, true]);
    expect(credits(window, true)).toEqual(['[11,11]']);
    // Paid: back to quarter-window announcements.
    window.accept(5);
    window.consume(5);
    expect(due).toEqual([true, true]);
  });

  it('writes cumulative CREDIT frames: forced, or once a quarter of the window is owed', () => {
    const { window } = setup(100);
    window.accept(100);
    expect(credits(window, true)).toEqual([]);
    window.consume(30);
    expect(credits(window, true)).toEqual(['[11,30]']);
    window.consume(10);
    expect(credits(window, false)).toEqual([]);
    expect(credits(window, true)).toEqual(['[11,40]']);
    window.consume(25);
    expect(credits(window, false)).toEqual(['[11,65]']);
    expect(credits(window, true)).toEqual([]);
  });

  it('counts the position it reports as announced', () => {
    const { window } = setup(100);
    window.accept(30);
    window.consume(20);
    expect(window.position()).toEqual({ received: 30, consumed: 20 });
    expect(credits(window, true)).toEqual([]);
    expect(window.accept(90)).toBe(true);
    expect(window.accept(1)).toBe(false);
  });

  it('starts afresh on reset', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { window, due } = setup(100);
    window.accept(100);
    window.consume(10);
    window.reset();
    expect(window.received).toBe(0);
    expect(window.consumed).toBe(0);
    expect(credits(window, true)).toEqual([]);
    expect(window.accept(100)).toBe(true);
    vi.advanceTimersByTime(1000);
    expect(due).toEqual([]);
  });
});
