/**
 * One interval timer per distinct period for all channels of the process, instead of one
 * setInterval per channel: heartbeats of thousands of idle connections cost one timer.
 */
/** Something called every period: a function, or an object whose `tick()` is called. */
type Tick = (() => void) | { tick(): void };

const groups = new Map<number, { timer: ReturnType<typeof setInterval>; ticks: Set<Tick> }>();

/** Calls `tick` every `period` ms until the returned function is called. */
export function every(period: number, tick: Tick): () => void {
  let group = groups.get(period);
  if (!group) {
    const ticks = new Set<Tick>();
    const timer = setInterval(() => {
      for (const t of ticks) typeof t === 'function' ? t() : t.tick();
    }, period);
    // Heartbeats alone must not keep a Node process alive.
    (timer as { unref?: () => void }).unref?.();
    group = { timer, ticks };
    groups.set(period, group);
  }
  group.ticks.add(tick);
  return () => {
    const g = groups.get(period);
    if (!g) return;
    g.ticks.delete(tick);
    if (g.ticks.size === 0) {
      clearInterval(g.timer);
      groups.delete(period);
    }
  };
}
