import { EventEmitter } from '@actorspace/core';
import { describe, expect, it } from 'vitest';

describe('EventEmitter', () => {
  it('calls listeners in order, once-listeners once, and removes them by the original function', () => {
    const e = new EventEmitter<{ tick: [n: number]; error: [Error] }>();
    const seen: string[] = [];
    const a = (n: number) => seen.push(`a${n}`);
    const b = (n: number) => seen.push(`b${n}`);
    e.on('tick', a).once('tick', b);
    expect(e.listenerCount('tick')).toBe(2);
    e.emit('tick', 1);
    e.emit('tick', 2);
    expect(seen).toEqual(['a1', 'b1', 'a2']);
    e.once('tick', b).off('tick', b).off('tick', a);
    expect(e.emit('tick', 3)).toBe(false);
    expect(e.emit('error', new Error('nobody listens'))).toBe(false);
  });

  it('lets a listener remove another during emit without skipping anyone', () => {
    const e = new EventEmitter<{ x: [] }>();
    const seen: number[] = [];
    const second = () => seen.push(2);
    e.on('x', () => {
      seen.push(1);
      e.off('x', second);
    });
    e.on('x', second);
    e.emit('x');
    e.emit('x');
    expect(seen).toEqual([1, 2, 1]);
    e.removeAllListeners();
    expect(e.listenerCount('x')).toBe(0);
  });
});
