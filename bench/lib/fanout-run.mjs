// @ts-check
/**
 * The fan-out section of bench/run.mjs: ONE publisher (server-side code) and many subscribers
 * over WebSocket, spread over several subscriber processes.
 *
 * For each system that exports `fanout` (see systems/index.mjs), each rep starts a fresh server
 * process (lib/fanout-server-proc.mjs) and `procs` subscriber processes
 * (lib/fanout-client-proc.mjs), opens `subscribers` subscriptions, checks that the server knows
 * all of them, then runs three phases on the same connections:
 *   1. warm-up: `warmup` events, window mode;
 *   2. throughput: `events` events, window mode (the publisher is never more than `window`
 *      events ahead of the slowest subscriber process). deliveries/s = deliveries received by
 *      all subscribers / (last delivery − first publish), on the wall clock. The latencies of
 *      this phase are "under load" (they include up to `window` events of queueing);
 *   3. paced: `pacedEvents` events at a fixed `pacedRate` events/s (open loop, the same offered
 *      load for every system, below what each sustains): publish-to-receive latency.
 * Every subscriber must get every event once and in order; anything else is counted.
 * Repetitions are interleaved across systems, the order rotating each rep.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { errorMessage } from './proto.mjs';
import { summarize } from './stats.mjs';

/**
 * @typedef {object} ChildLike
 * @property {(type: string, timeoutMs: number) => Promise<any>} waitEvent
 * @property {(cmd: string, args: Record<string, unknown>, timeoutMs: number) => Promise<any>} request
 * @property {() => void} kill
 * @property {(ms: number) => Promise<void>} exitWithin
 */

/**
 * @typedef {object} FanoutCounts
 * @property {number} subscribers  total subscriptions (one connection each)
 * @property {number} procs        subscriber processes
 * @property {number} connectConcurrency  connections opened at once per process
 * @property {number} warmup       warm-up events (window mode)
 * @property {number} events       measured events (window mode)
 * @property {number} window       most events published ahead of the slowest subscriber process
 * @property {number} burst        events published per event-loop turn in window mode (1: one per turn)
 * @property {number} pacedEvents  events of the paced latency phase
 * @property {number} pacedRate    events per second in the paced phase
 */

/**
 * CPU time the whole machine spent busy so far (µs; from /proc/stat, null elsewhere). Minus the
 * CPU of the bench's own processes over a phase, it is what other work took meanwhile.
 * @returns {number | null}
 */
export function machineBusyUs() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal (guest time is already in user)
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return (busy * 1e6) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

/** Nearest-rank percentile of a histogram given as sorted [bucket, count] pairs (bucket midpoint). */
/** @param {Map<number, number>} hist @param {number} bucketMs @param {number} p */
export function histPercentile(hist, bucketMs, p) {
  const keys = [...hist.keys()].sort((a, b) => a - b);
  let total = 0;
  for (const k of keys) total += /** @type {number} */ (hist.get(k));
  if (total === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (const k of keys) {
    seen += /** @type {number} */ (hist.get(k));
    if (seen >= rank) return (k + 0.5) * bucketMs;
  }
  return Number.NaN;
}

/**
 * Sums the subscriber processes' reports of one phase (`report` of lib/fanout-client-proc.mjs).
 * The latency buckets go into `hist`, and also into `side(i)` of process i when that is a map.
 * @param {any[]} rs
 * @param {(i: number) => Map<number, number> | null} [side]
 */
export function mergeReports(rs, side) {
  /** @type {Map<number, number>} */
  const hist = new Map();
  let deliveries = 0;
  let bad = 0;
  let missing = 0;
  let incomplete = 0;
  let negative = 0;
  let lastRecvAt = 0;
  let clientCpuUs = 0;
  let timedOut = false;
  let subs = 0;
  rs.forEach((r, i) => {
    deliveries += r.deliveries;
    bad += r.bad;
    missing += r.missing;
    incomplete += r.incomplete;
    negative += r.negative;
    clientCpuUs += r.cpuUs;
    subs += r.subs;
    timedOut ||= r.timedOut;
    lastRecvAt = Math.max(lastRecvAt, r.lastRecvAt);
    const also = side?.(i) ?? null;
    for (const [k, v] of r.buckets) {
      hist.set(k, (hist.get(k) ?? 0) + v);
      also?.set(k, (also.get(k) ?? 0) + v);
    }
  });
  const bucketMs = rs[0]?.bucketMs ?? 0.01;
  const counts = { deliveries, bad, missing, incomplete, negative, timedOut };
  return { hist, bucketMs, lastRecvAt, clientCpuUs, subs, counts };
}

/**
 * What every fan-out phase reports, from its merged subscriber reports (`merged`), the
 * publisher's run, its window, and the CPU the bench's own processes took (`oursUs`) against
 * the machine's (`busy0`/`busy1`, from {@link machineBusyUs}) over `wallUs`.
 * @param {ReturnType<typeof mergeReports>} merged
 * @param {{ firstAt: number, lastAt: number, windowWaits: number }} run
 * @param {number} n events published
 * @param {{ busy0: number | null, busy1: number | null, oursUs: number, wallUs: number }} cpu
 */
export function phaseResult(merged, run, n, cpu) {
  const { hist, bucketMs, lastRecvAt, subs, counts } = merged;
  const spanMs = lastRecvAt - run.firstAt;
  const { busy0, busy1, oursUs, wallUs } = cpu;
  return {
    /** Average CPUs busy with work other than the bench's processes during the phase. */
    otherCpus: busy0 === null || busy1 === null ? null : Math.max(0, busy1 - busy0 - oursUs) / wallUs,
    expected: subs * n,
    ...counts,
    spanMs,
    publishMs: run.lastAt - run.firstAt,
    windowWaits: run.windowWaits,
    deliveriesPerSec: counts.deliveries / (spanMs / 1000),
    p50Ms: histPercentile(hist, bucketMs, 0.5),
    p99Ms: histPercentile(hist, bucketMs, 0.99),
    maxMs: histPercentile(hist, bucketMs, 1),
  };
}

/**
 * The exactly-once, in-order check of a rep's phases: what went wrong (one line a phase), and
 * what each phase is recorded with in the results' `checks`.
 * @param {Record<string, { expected: number, deliveries: number, bad: number, missing: number, incomplete: number, negative: number, timedOut: boolean, spanMs: number, publishMs: number, windowWaits: number, maxMs: number, otherCpus: number | null }>} checks
 */
export function checkPhases(checks) {
  const problems = Object.entries(checks)
    .filter(([, r]) => r.bad || r.missing || r.incomplete || r.timedOut || r.deliveries !== r.expected)
    .map(
      ([k, r]) =>
        `${k}: ${r.deliveries}/${r.expected} deliveries, ${r.bad} out of order or duplicated, ${r.missing} missing, ${r.incomplete} subscribers incomplete${r.timedOut ? ', timed out' : ''}`,
    );
  const recorded = Object.fromEntries(
    Object.entries(checks).map(([k, r]) => [
      k,
      {
        expected: r.expected,
        deliveries: r.deliveries,
        bad: r.bad,
        missing: r.missing,
        incomplete: r.incomplete,
        negativeLatencies: r.negative,
        spanMs: Math.round(r.spanMs),
        publishMs: Math.round(r.publishMs),
        windowWaits: r.windowWaits,
        maxMs: r.maxMs,
        otherCpus: r.otherCpus,
      },
    ]),
  );
  const failed = Object.values(checks).reduce((a, r) => a + r.bad + r.missing, 0);
  return { problems, recorded, failed };
}

/**
 * @param {object} o
 * @param {import('../systems/index.mjs').System[]} o.systems   systems with a `fanout` export
 * @param {(label: string, nodeArgs: string[]) => ChildLike} o.spawn
 * @param {number} o.reps
 * @param {number} o.budgetS     do not start a rep expected to end after this many seconds (section time)
 * @param {FanoutCounts} o.counts
 * @param {boolean} o.quick
 * @param {string} o.reference   the system every ratio is taken against (Socket.IO)
 * @param {number} o.target      the goal: ActorSpace deliveries/s ≥ target × reference
 * @param {string} [o.prof]      directory for V8 CPU profiles of the throughput phase (server and subscriber process 0)
 * @param {(line: string) => void} [o.log]
 * @param {(line: string) => void} [o.warn]
 */
export async function runFanout(o) {
  const log = o.log ?? ((l) => console.log(l));
  const warn = o.warn ?? ((l) => console.error(l));
  const here = new URL('.', import.meta.url).pathname;
  const SERVER = join(here, 'fanout-server-proc.mjs');
  const CLIENT = join(here, 'fanout-client-proc.mjs');
  const c = o.counts;
  const perProc = Array.from(
    { length: c.procs },
    (_, i) => Math.floor(c.subscribers / c.procs) + (i < c.subscribers % c.procs ? 1 : 0),
  );
  /** Caps (ms). A phase that goes over is a failed case: its processes are killed. */
  const caps = { spawn: 20_000, open: 60_000, warmup: 30_000, throughput: 60_000, paced: 30_000 };
  const MARGIN = 10_000;
  const t0 = Date.now();
  const elapsedS = () => (Date.now() - t0) / 1000;
  const fmt = (/** @type {number} */ n, d = 0) =>
    n == null || !Number.isFinite(n)
      ? '—'
      : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

  const res = {
    date: new Date().toISOString(),
    quick: o.quick,
    repsPlanned: o.reps,
    reps: 0,
    wallSeconds: 0,
    loadAvgAtStart: os.loadavg(),
    /** @type {number[] | null} */
    loadAvgAtEnd: null,
    counts: { ...c, perProc },
    caps,
    reference: o.reference,
    target: o.target,
    clock:
      'latency = receiver (performance.timeOrigin + performance.now()) − publisher (same), in different processes on one machine: wall-clock ms with sub-ms resolution',
    /** @type {Record<string, { label: string, notes: string, metrics: Record<string, any>, failures: { rep: number, case: string, error: string }[], checks: any[] }>} */
    systems: {},
  };
  for (const s of o.systems) {
    res.systems[s.name] = {
      label: s.fanout?.label ?? s.meta.label,
      notes: s.fanout?.notes ?? '',
      metrics: {},
      failures: [],
      checks: [],
    };
  }
  /** @param {string} sys @param {string} metric @param {number} rep @param {number} value */
  const record = (sys, metric, rep, value) => {
    const m = res.systems[sys].metrics;
    m[metric] ??= { values: Array(o.reps).fill(null) };
    m[metric].values[rep] = value;
  };

  /**
   * One phase on running processes.
   * @param {ChildLike} server @param {ChildLike[]} clients
   * @param {{ first: number, n: number, window?: number, intervalMs?: number, capMs: number, profile?: { dir: string, name: string } }} p
   */
  const phase = async (server, clients, p) => {
    await Promise.all(
      clients.map((cl, i) =>
        cl.request('arm', { first: p.first, n: p.n, profile: i === 0 ? p.profile : undefined }, 5_000),
      ),
    );
    const busy0 = machineBusyUs();
    const self0 = process.cpuUsage();
    const wall0 = performance.now();
    const reports = Promise.all(
      clients.map((cl) => cl.request('report', { capMs: p.capMs }, p.capMs + MARGIN)),
    );
    // Unhandled-rejection guard while the publisher runs; awaited below.
    reports.catch(() => {});
    const run = await server.request(
      'run',
      {
        first: p.first,
        n: p.n,
        window: p.window,
        burst: c.burst,
        intervalMs: p.intervalMs,
        procs: clients.length,
        capMs: p.capMs,
        profile: p.profile,
      },
      p.capMs + MARGIN,
    );
    const rs = await reports;
    const end = await server.request('end', {}, 5_000);
    const busy1 = machineBusyUs();
    const self = process.cpuUsage(self0);
    const wallUs = (performance.now() - wall0) * 1000;
    const merged = mergeReports(rs);
    const { clientCpuUs } = merged;
    const oursUs = end.cpuUs + clientCpuUs + self.user + self.system;
    return {
      ...phaseResult(merged, run, p.n, { busy0, busy1, oursUs, wallUs }),
      serverCpuUs: end.cpuUs,
      clientCpuUs,
      serverRss: end.rss,
    };
  };

  /**
   * @param {import('../systems/index.mjs').System} sys
   * @param {number} rep
   */
  const runOne = async (sys, rep) => {
    /** @type {ChildLike[]} */
    const procs = [];
    const killAll = () => {
      for (const p of procs) p.kill();
    };
    const name = sys.name;
    /** @type {string} */
    let stage = 'start';
    try {
      const server = o.spawn(`${name} fanout server`, [SERVER, name]);
      procs.push(server);
      const { port, controlPort } = await server.waitEvent('listening', caps.spawn);
      const clients = perProc.map((_, i) =>
        o.spawn(`${name} fanout subscribers ${i}`, [
          CLIENT,
          name,
          String(port),
          String(controlPort),
          String(i),
        ]),
      );
      procs.push(...clients);
      await Promise.all(clients.map((cl) => cl.waitEvent('ready', caps.spawn)));
      stage = 'open';
      const t1 = performance.now();
      const opened = await Promise.all(
        clients.map((cl, i) =>
          cl.request(
            'open',
            { n: perProc[i], concurrency: c.connectConcurrency, capMs: caps.open },
            caps.open + MARGIN,
          ),
        ),
      );
      const openMs = performance.now() - t1;
      const total = opened.reduce((a, r) => a + r.opened, 0);
      const { subscribers } = await server.request('count', {}, 5_000);
      if (total !== c.subscribers || subscribers !== c.subscribers)
        throw new Error(`${total}/${c.subscribers} subscriptions opened, the server counts ${subscribers}`);
      record(name, 'openMs', rep, openMs);
      let first = 1;
      stage = 'warm-up';
      const w = await phase(server, clients, {
        first,
        n: c.warmup,
        window: c.window,
        capMs: caps.warmup,
      });
      first += c.warmup;
      stage = 'throughput';
      const t = await phase(server, clients, {
        first,
        n: c.events,
        window: c.window,
        capMs: caps.throughput,
        profile: o.prof ? { dir: o.prof, name: `fanout-${name}-rep${rep + 1}` } : undefined,
      });
      first += c.events;
      stage = 'paced';
      const p = await phase(server, clients, {
        first,
        n: c.pacedEvents,
        intervalMs: 1000 / c.pacedRate,
        capMs: caps.paced,
      });
      const { problems, recorded, failed } = checkPhases({ warmup: w, throughput: t, paced: p });
      res.systems[name].checks.push({ rep: rep + 1, ...recorded });
      record(name, 'deliveriesPerSec', rep, t.deliveriesPerSec);
      record(name, 'loadedP50Ms', rep, t.p50Ms);
      record(name, 'loadedP99Ms', rep, t.p99Ms);
      record(name, 'serverCpuUsPerDelivery', rep, t.serverCpuUs / t.deliveries);
      record(name, 'clientCpuUsPerDelivery', rep, t.clientCpuUs / t.deliveries);
      record(name, 'pacedP50Ms', rep, p.p50Ms);
      record(name, 'pacedP99Ms', rep, p.p99Ms);
      record(name, 'serverRssBytes', rep, t.serverRss);
      if (t.otherCpus !== null) record(name, 'otherCpus', rep, t.otherCpus);
      record(name, 'failedDeliveries', rep, failed);
      if (problems.length) {
        const error = `exactly-once, in-order check failed: ${problems.join('; ')}`;
        res.systems[name].failures.push({ rep: rep + 1, case: 'fan-out delivery check', error });
        warn(`  ✗ ${name} fan-out (rep ${rep + 1}): ${error}`);
      }
      log(
        `  ${name.padEnd(20)} fan-out  ${fmt(t.deliveriesPerSec)} deliveries/s (srv ${fmt(t.serverCpuUs / t.deliveries, 2)} + cli ${fmt(t.clientCpuUs / t.deliveries, 2)} µs CPU/delivery) | loaded p50/p99 ${fmt(t.p50Ms, 2)}/${fmt(t.p99Ms, 2)} ms | paced ${c.pacedRate}/s p50/p99 ${fmt(p.p50Ms, 2)}/${fmt(p.p99Ms, 2)} ms | open ${fmt(openMs)} ms | other work ${fmt(t.otherCpus ?? Number.NaN, 2)} CPUs${problems.length ? ' | CHECK FAILED' : ''}`,
      );
      stage = 'close';
      await Promise.allSettled(clients.map((cl) => cl.request('close', {}, 5_000)));
      await Promise.allSettled([server.request('close', {}, 3_000)]);
      // They exit on their own after `close`.
      await Promise.all(procs.map((p) => p.exitWithin(2_000)));
    } catch (err) {
      const error = `${stage}: ${errorMessage(err)}`;
      res.systems[name].failures.push({ rep: rep + 1, case: 'fan-out', error });
      warn(`  ✗ ${name} fan-out (rep ${rep + 1}) FAILED: ${error}`);
      return false;
    } finally {
      killAll();
    }
    return true;
  };

  /** @type {Set<string>} */
  const broken = new Set();
  /** @type {number[]} */
  const repSeconds = [];
  for (let rep = 0; rep < o.reps; rep++) {
    const est = repSeconds.length ? Math.max(...repSeconds) : 0;
    if (rep > 0 && elapsedS() + est > o.budgetS) {
      warn(
        `[bench] fan-out time budget ${o.budgetS}s: stopping after ${rep} rep(s) (next rep would take ~${Math.round(est)}s)`,
      );
      break;
    }
    const repStart = elapsedS();
    const order = o.systems.map((_, i) => o.systems[(i + rep) % o.systems.length]);
    log(`[bench] fan-out rep ${rep + 1}/${o.reps}  (t=${Math.round(repStart)}s)`);
    for (const sys of order) {
      if (broken.has(sys.name)) {
        res.systems[sys.name].failures.push({
          rep: rep + 1,
          case: 'fan-out',
          error: 'skipped: failed in an earlier rep',
        });
        continue;
      }
      if (!(await runOne(sys, rep))) broken.add(sys.name);
    }
    res.reps = rep + 1;
    repSeconds.push(elapsedS() - repStart);
  }
  for (const s of Object.values(res.systems)) {
    for (const m of Object.values(s.metrics)) {
      m.values = m.values.slice(0, res.reps);
      Object.assign(m, summarize(m.values) ?? { median: null, min: null, max: null, n: 0 });
    }
  }
  res.wallSeconds = Math.round(elapsedS());
  res.loadAvgAtEnd = os.loadavg();
  return res;
}
