#!/usr/bin/env node
// @ts-check
/**
 * ActorSpace peer benchmark:
 *   node bench/run.mjs [--quick] [--only=a,b] [--reps=N] [--idle-reps=N] [--budget=S]
 *                      [--out=path] [--no-report] [--report] [--only-section=main|fanout|cluster]
 *
 *   --quick       smoke run: 1 rep, a tenth of the counts (also QUICK=1)
 *   --only=a,b    run a subset of bench/systems (the floor always runs)
 *   --reps=N      interleaved repetitions (default 3)
 *   --idle-reps=N repetitions that also measure idle memory (default 1: the first)
 *   --budget=S    do not start a repetition expected to end after S seconds (default 480)
 *   --out=path    results JSON (default bench/results/latest.json; quick: quick.tmp.json)
 *   --no-report / --report   skip / force regenerating docs/benchmarks.{md,svg}
 *   --only-section=main|fanout|cluster   run one section; the others keep their figures (main and
 *                 fan-out in --out's file, cluster in bench/results/cluster.json)
 *   --fanout-procs=N --fanout-subs=N --fanout-events=N --fanout-window=N --fanout-burst=N
 *   --fanout-rate=N --fanout-budget=S --fanout-prof=dir
 *                 fan-out set-up (defaults 4 subscriber processes, 1,000 subscribers, 300
 *                 events, window 16 events, 1 event per turn, paced phase 10 events/s, 180 s
 *                 budget); --fanout-prof writes V8 CPU profiles of the throughput phase (the
 *                 server process and subscriber process 0) into dir
 *
 * Every system runs its server and its client in two separate child processes talking over
 * 127.0.0.1 (server on port 0, prints its port). Repetitions are interleaved: rep 1 of every
 * system, then rep 2, ... (and the system order rotates each rep). Every loop is bounded by count
 * and by a time cap; a case that exceeds its cap is recorded as failed and its processes killed.
 * The fan-out section (lib/fanout-run.mjs) then measures one server-side publisher and 1,000
 * WebSocket subscribers in several processes, for the systems that export `fanout`; and the
 * cluster section (bench/cluster.mjs, a child process with its own brokers and results file)
 * measures many nodes on Redis and NATS.
 * Results go to bench/results/latest.json (quick: bench/results/quick.tmp.json); a full run
 * also regenerates docs/benchmarks.md + docs/benchmarks.svg via bench/report.mjs.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedVersion, measureBundle, stopEsbuild } from './lib/bundle.mjs';
import { Child, children, installCleanup, killChildren, runMain } from './lib/child.mjs';
import { errorMessage } from './lib/proto.mjs';
import { summarize } from './lib/stats.mjs';
import { ACTORSPACE, FLOOR, loadSystems } from './systems/index.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const rootDir = resolve(benchDir, '..');
const SERVER = join(benchDir, 'lib', 'server-proc.mjs');
const CLIENT = join(benchDir, 'lib', 'client-proc.mjs');

// ───────────────────────────── options ─────────────────────────────

/** @param {string} name */
const flag = (name) => process.argv.includes(`--${name}`);
/** @param {string} name */
const opt = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

const QUICK = flag('quick') || process.env.QUICK === '1';
const ONLY = opt('only')
  ?.split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const REPS = Math.max(1, Number(opt('reps') ?? (QUICK ? 1 : 3)));
/** Idle memory is near-deterministic (heapUsed varies ~1%) and slow to set up: first rep(s) only. */
const IDLE_REPS = Math.max(0, Number(opt('idle-reps') ?? 1));
/** Stop starting new repetitions once the next one would end past this (seconds). */
const BUDGET_S = Number(opt('budget') ?? 480);
const OUT = resolve(
  process.cwd(),
  opt('out') ?? join(benchDir, 'results', QUICK ? 'quick.tmp.json' : 'latest.json'),
);
const WRITE_REPORT = flag('report') || (!QUICK && !flag('no-report'));
/**
 * Sections: `main` (latency, asks, tells, rich, idle memory, bundles), `fanout`, and `cluster`
 * (bench/cluster.mjs: many nodes on Redis and NATS, its own results file). Default: all three.
 */
const SECTIONS = ['main', 'fanout', 'cluster'];
const ONLY_SECTION = opt('only-section');
if (ONLY_SECTION !== undefined && !SECTIONS.includes(ONLY_SECTION)) {
  console.error(`[bench] --only-section must be one of ${SECTIONS.join(', ')}, not "${ONLY_SECTION}"`);
  process.exit(2);
}
const RUN_MAIN = !ONLY_SECTION || ONLY_SECTION === 'main';
const RUN_FANOUT = !ONLY_SECTION || ONLY_SECTION === 'fanout';
const RUN_CLUSTER = !ONLY_SECTION || ONLY_SECTION === 'cluster';
/** The fan-out section does not start a rep expected to end after this many seconds of its own. */
const FANOUT_BUDGET_S = Number(opt('fanout-budget') ?? (QUICK ? 60 : 180));
/** Directory for V8 CPU profiles of the fan-out throughput phase: server and subscriber process 0. */
const FANOUT_PROF = opt('fanout-prof');

const scale = QUICK ? 0.1 : 1;
/** @param {number} n */
const sc = (n) => Math.max(1, Math.round(n * scale));

/** Counts per measure (quick: a tenth). In-flight and burst sizes are not scaled. */
const COUNTS = {
  latencyN: sc(5_000),
  latencyWarmup: sc(1_000),
  /** Pinned latency: fresh process pairs per rep, interleaved across systems; the rep keeps their median. */
  pinnedRounds: QUICK ? 1 : 5,
  askN: sc(100_000),
  askWarmup: sc(10_000),
  inflight: 100,
  tellN: sc(200_000),
  tellWarmup: sc(20_000),
  tellBurst: 1_000,
  richN: sc(100_000),
  richWarmup: sc(10_000),
  idleConns: sc(2_000),
  idleConcurrency: 50,
  /** false: connections are opened and left alone (as in PEERS.md); true: one ask on each first. */
  idleAskOnce: false,
};

/**
 * Fan-out section (lib/fanout-run.mjs): one server-side publisher, `subscribers` WebSocket
 * subscribers spread over `procs` processes. On 2 CPUs, 4 × 250 spreads the reading over both
 * CPUs without piling many more runnable processes on them (bench/README.md says what 1, 2 and 8
 * did). Quick: fewer events, the same subscribers.
 */
const FANOUT = {
  subscribers: Number(opt('fanout-subs') ?? 1_000),
  procs: Math.max(1, Number(opt('fanout-procs') ?? 4)),
  connectConcurrency: 25,
  warmup: QUICK ? 30 : 60,
  /** Measured events: each goes to every subscriber (300 × 1,000 = 300,000 deliveries). */
  events: Number(opt('fanout-events') ?? (QUICK ? 60 : 300)),
  /** Events the publisher may be ahead of the slowest subscriber process. */
  window: Number(opt('fanout-window') ?? 16),
  /** Events published per event-loop turn (1: each publish is its own turn, as if each had its own input). */
  burst: Math.max(1, Number(opt('fanout-burst') ?? 1)),
  pacedEvents: QUICK ? 10 : 20,
  /**
   * Events/s of the paced latency phase: the same offered load for every system, a quarter or
   * less of what the slowest one sustains here (10 × 1,000 = 10,000 deliveries/s).
   */
  pacedRate: Number(opt('fanout-rate') ?? 10),
};
/** The fan-out reference system and the goal (ActorSpace deliveries/s ≥ target × reference). */
const FANOUT_REFERENCE = 'socketio';
const FANOUT_TARGET = 1.5;

/** Time caps per case (ms). The parent adds a margin on top before killing the pair. */
const CAPS = {
  latency: 30_000,
  asks: 60_000,
  tells: 60_000,
  idle: 90_000,
  spawn: 20_000,
};
const MARGIN = 10_000;

// ───────────────────────────── child processes ─────────────────────────────

/** The cluster section's process (bench/cluster.mjs), while it runs: it cleans up after itself on SIGTERM. */
/** @type {import('node:child_process').ChildProcess | null} */
let clusterProc = null;

function killAll() {
  killChildren();
  if (clusterProc && clusterProc.exitCode === null && clusterProc.signalCode === null)
    clusterProc.kill('SIGTERM');
}
installCleanup('[bench]', killAll, (sig) =>
  console.error(`\n[bench] ${sig}: killing ${children.size} child process(es)`),
);

/**
 * A child of the main suite (lib/child.mjs), under `taskset -c 0` when pinned; a failed
 * command's error is the child's own message (as the results have always recorded it).
 * @param {string} label @param {string[]} nodeArgs @param {boolean} pinned
 */
const child = (label, nodeArgs, pinned) => new Child(label, nodeArgs, { pinned, bareErrors: true });

/**
 * @typedef {{ server: Child, client: Child, close(): Promise<void>, kill(): void }} Pair
 */

/**
 * @param {import('./systems/index.mjs').System} sys
 * @param {{ pinned: boolean, connect?: boolean }} o
 * @returns {Promise<Pair>}
 */
async function startPair(sys, { pinned, connect = true }) {
  const server = child(`${sys.name} server`, ['--expose-gc', SERVER, sys.name], pinned);
  /** @type {Child | null} */
  let client = null;
  const kill = () => {
    server.kill();
    client?.kill();
  };
  try {
    const { port } = await server.waitEvent('listening', CAPS.spawn);
    client = child(`${sys.name} client`, [CLIENT, sys.name, String(port)], pinned);
    await client.waitEvent('ready', CAPS.spawn);
    if (connect) await client.request('connect', { capMs: 15_000 }, 15_000 + MARGIN);
    const c = client;
    return {
      server,
      client: c,
      kill,
      async close() {
        await Promise.allSettled([c.request('close', {}, 3_000)]);
        await Promise.allSettled([server.request('close', {}, 3_000)]);
        kill();
      },
    };
  } catch (err) {
    kill();
    throw err;
  }
}

// ───────────────────────────── results ─────────────────────────────

/**
 * @typedef {object} SystemResult
 * @property {string} label
 * @property {string} [notes]
 * @property {Record<string, { values: (number | null)[], median?: number, min?: number, max?: number, n?: number }>} metrics
 * @property {{ rep: number, case: string, error: string }[]} failures
 * @property {{ exact: boolean, reason?: string } | null} rich
 */

function detectPinning() {
  if (os.platform() !== 'linux') return { available: false, used: false, note: 'not linux' };
  const r = spawnSync('taskset', ['-c', '0', process.execPath, '-e', '0'], { stdio: 'ignore' });
  const ok = r.status === 0;
  return {
    available: ok,
    used: ok,
    note: ok ? 'taskset -c 0 on both processes' : 'taskset unavailable: "pinned" latency ran unpinned',
  };
}

const t0 = Date.now();
const elapsedS = () => (Date.now() - t0) / 1000;
/** @param {number} n @param {number} [d] */
const fmt = (n, d = 0) =>
  n == null || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

async function main() {
  const systems = await loadSystems({ only: ONLY, warn: (m) => console.error(m) });
  if (!systems.some((s) => s.name === FLOOR))
    throw new Error(`the floor system "${FLOOR}" could not be loaded`);
  const pinning = detectPinning();

  const pkgs = [
    'ws',
    'superjson',
    'socket.io',
    'socket.io-client',
    'birpc',
    'capnweb',
    'esbuild',
    '@actorspace/core',
    '@actorspace/server',
    '@actorspace/node',
    '@actorspace/browser',
  ];
  /** @type {Record<string, string | null>} */
  const versions = {};
  for (const p of pkgs) versions[p] = await installedVersion(p);

  const cpus = os.cpus();
  const results = {
    schema: 1,
    date: new Date().toISOString(),
    quick: QUICK,
    machine: {
      node: process.version,
      v8: process.versions.v8,
      platform: `${os.platform()} ${os.release()} ${os.arch()}`,
      cpuModel: cpus[0]?.model ?? 'unknown',
      cpus: cpus.length,
      availableParallelism: os.availableParallelism?.() ?? cpus.length,
      totalMemBytes: os.totalmem(),
      loadAvgAtStart: os.loadavg(),
      /** @type {number[] | null} */
      loadAvgAtEnd: null,
    },
    pinning,
    repsPlanned: REPS,
    idleReps: IDLE_REPS,
    reps: 0,
    wallSeconds: 0,
    /** @type {Record<string, number>} */
    groupSeconds: {},
    counts: COUNTS,
    caps: CAPS,
    versions,
    floor: FLOOR,
    systems: /** @type {Record<string, SystemResult>} */ ({}),
    bundles:
      /** @type {Record<string, { entry: string | null, minBytes: number | null, gzipBytes: number | null, note?: string, error?: string }>} */ ({}),
  };
  for (const s of systems) {
    results.systems[s.name] = {
      label: s.meta.label,
      notes: s.meta.notes,
      metrics: {},
      failures: [],
      rich: null,
    };
  }

  console.log(
    `[bench] ${QUICK ? 'QUICK smoke run' : 'full run'}${ONLY_SECTION ? ` (section ${ONLY_SECTION} only)` : ''}: ${systems.map((s) => s.name).join(', ')}; ` +
      `${REPS} rep(s); node ${process.version}, ${cpus.length} CPU(s); pinning: ${pinning.note}`,
  );

  /**
   * @param {string} sys @param {string} metric @param {number} rep @param {number} value
   */
  const record = (sys, metric, rep, value) => {
    const m = results.systems[sys].metrics;
    m[metric] ??= { values: Array(REPS).fill(null) };
    m[metric].values[rep] = value;
  };
  /** @param {string} sys @param {number} rep @param {string} kase @param {unknown} err */
  const fail = (sys, rep, kase, err) => {
    const error = errorMessage(err);
    results.systems[sys].failures.push({ rep: rep + 1, case: kase, error });
    console.error(`  ✗ ${sys} ${kase} (rep ${rep + 1}) FAILED: ${error}`);
  };

  /** "system\0case" -> rep index of its first failure */
  /** @type {Map<string, number>} */
  const failedBefore = new Map();

  /**
   * Run cases in sequence on one lazily started pair; a failed case kills the pair and the next
   * case gets a fresh one.
   * @param {import('./systems/index.mjs').System} sys
   * @param {number} rep
   * @param {{ pinned: boolean, connect?: boolean }} pairOpts
   * @param {Array<[string, (p: Pair) => Promise<void>]>} cases
   */
  const runCases = async (sys, rep, pairOpts, cases) => {
    /** @type {Pair | null} */
    let pair = null;
    for (const [name, fn] of cases) {
      const key = `${sys.name}\u0000${name}`;
      const earlier = failedBefore.get(key);
      if (earlier !== undefined) {
        // A case that failed (often: hit its time cap) is not retried in later reps, which keeps
        // a broken system from eating the time budget.
        results.systems[sys.name].failures.push({
          rep: rep + 1,
          case: name,
          error: `skipped: failed in rep ${earlier + 1}`,
        });
        continue;
      }
      try {
        pair ??= await startPair(sys, pairOpts);
        await fn(pair);
      } catch (err) {
        fail(sys.name, rep, name, err);
        failedBefore.set(key, rep);
        pair?.kill();
        pair = null;
      }
    }
    if (pair) await pair.close();
  };

  /** @param {Pair} p @param {'plain' | 'rich'} kind @param {number} warm @param {number} n */
  const askThroughput = async (p, kind, warm, n) => {
    await p.client.request(
      'asks',
      { n: warm, inflight: COUNTS.inflight, kind, capMs: CAPS.asks },
      CAPS.asks + MARGIN,
    );
    await p.server.request('begin', {}, 5_000);
    const c = await p.client.request(
      'asks',
      { n, inflight: COUNTS.inflight, kind, capMs: CAPS.asks },
      CAPS.asks + MARGIN,
    );
    const s = await p.server.request('end', {}, 5_000);
    if (c.bad) throw new Error(`${c.bad} replies did not match their request`);
    return { reqPerSec: n / (c.wallMs / 1000), serverCpuUs: s.cpuUs / n, clientCpuUs: c.clientCpuUs / n };
  };

  /** @param {Pair} p @param {number} n */
  const tellRun = async (p, n) => {
    await p.server.request('begin', {}, 5_000);
    const c = await p.client.request(
      'tells',
      { n, burst: COUNTS.tellBurst, capMs: CAPS.tells },
      CAPS.tells + MARGIN,
    );
    const s = await p.server.request('end', { waitTells: n, timeoutMs: CAPS.tells }, CAPS.tells + MARGIN);
    if (s.tells.count < n) throw new Error(`server received ${s.tells.count}/${n} tells before the time cap`);
    const spanS = (s.tells.lastMs - s.tells.firstMs) / 1000;
    return {
      msgsPerSec: spanS > 0 ? (s.tells.count - 1) / spanS : Number.NaN,
      serverCpuUs: s.cpuUs / n,
      clientCpuUs: c.clientCpuUs / n,
    };
  };

  /** Pinned p50 and p99 of each round of the current rep, per system. */
  /** @type {Map<string, { p50: number[], p99: number[] }>} */
  const pinnedRounds = new Map();

  /**
   * Case group 1: latency with both processes pinned to one CPU. Each rep runs several rounds
   * (a fresh pair each), interleaved across systems, and records the median of the rounds: a
   * single pinned pair can land on a slow or a fast mode of the machine for its whole run.
   */
  /** @param {import('./systems/index.mjs').System} sys @param {number} rep */
  const groupPinned = (sys, rep) =>
    runCases(sys, rep, { pinned: pinning.used }, [
      [
        'latency (pinned)',
        async (p) => {
          const cap = { capMs: CAPS.latency };
          await p.client.request('latency', { n: COUNTS.latencyWarmup, ...cap }, CAPS.latency + MARGIN);
          const r = await p.client.request('latency', { n: COUNTS.latencyN, ...cap }, CAPS.latency + MARGIN);
          if (r.bad) throw new Error(`${r.bad} replies did not match their request`);
          const rounds = pinnedRounds.get(sys.name) ?? { p50: [], p99: [] };
          pinnedRounds.set(sys.name, rounds);
          rounds.p50.push(r.p50Us);
          rounds.p99.push(r.p99Us);
          record(sys.name, 'latencyPinnedP50Us', rep, summarize(rounds.p50)?.median ?? Number.NaN);
          record(sys.name, 'latencyPinnedP99Us', rep, summarize(rounds.p99)?.median ?? Number.NaN);
          console.log(`  ${sys.name.padEnd(20)} pinned   p50 ${fmt(r.p50Us)} µs  p99 ${fmt(r.p99Us)} µs`);
        },
      ],
    ]);

  /** Case group 2 (unpinned): free latency, ask throughput + CPU, tell throughput, rich. */
  /** @param {import('./systems/index.mjs').System} sys @param {number} rep */
  const groupMain = (sys, rep) => {
    const res = results.systems[sys.name];
    /** @type {string[]} */
    const line = [];
    return runCases(sys, rep, { pinned: false }, [
      [
        'latency (free)',
        async (p) => {
          const cap = { capMs: CAPS.latency };
          await p.client.request('latency', { n: COUNTS.latencyWarmup, ...cap }, CAPS.latency + MARGIN);
          const r = await p.client.request('latency', { n: COUNTS.latencyN, ...cap }, CAPS.latency + MARGIN);
          if (r.bad) throw new Error(`${r.bad} replies did not match their request`);
          record(sys.name, 'latencyFreeP50Us', rep, r.p50Us);
          record(sys.name, 'latencyFreeP99Us', rep, r.p99Us);
          line.push(`free p50/p99 ${fmt(r.p50Us)}/${fmt(r.p99Us)} µs`);
        },
      ],
      [
        'ask throughput',
        async (p) => {
          const r = await askThroughput(p, 'plain', COUNTS.askWarmup, COUNTS.askN);
          record(sys.name, 'askReqPerSec', rep, r.reqPerSec);
          record(sys.name, 'askServerCpuUsPerReq', rep, r.serverCpuUs);
          record(sys.name, 'askClientCpuUsPerReq', rep, r.clientCpuUs);
          line.push(`ask ${fmt(r.reqPerSec)} req/s (srv ${fmt(r.serverCpuUs, 1)} µs/req)`);
        },
      ],
      [
        'tell throughput',
        async (p) => {
          await tellRun(p, COUNTS.tellWarmup);
          const r = await tellRun(p, COUNTS.tellN);
          record(sys.name, 'tellMsgsPerSec', rep, r.msgsPerSec);
          record(sys.name, 'tellServerCpuUsPerMsg', rep, r.serverCpuUs);
          record(sys.name, 'tellClientCpuUsPerMsg', rep, r.clientCpuUs);
          line.push(`tell ${fmt(r.msgsPerSec)} msg/s`);
        },
      ],
      [
        'rich ask throughput',
        async (p) => {
          if (!res.rich) {
            const chk = await p.client.request('richCheck', {}, 15_000);
            res.rich = chk.exact ? { exact: true } : { exact: false, reason: chk.reason };
          }
          if (!res.rich.exact) {
            line.push('rich n/a (lossy)');
            return;
          }
          const r = await askThroughput(p, 'rich', COUNTS.richWarmup, COUNTS.richN);
          record(sys.name, 'richReqPerSec', rep, r.reqPerSec);
          record(sys.name, 'richServerCpuUsPerReq', rep, r.serverCpuUs);
          record(sys.name, 'richClientCpuUsPerReq', rep, r.clientCpuUs);
          line.push(`rich ${fmt(r.reqPerSec)} req/s`);
        },
      ],
    ]).finally(() => console.log(`  ${sys.name.padEnd(20)} free     ${line.join(' | ')}`));
  };

  /** Case group 3: server memory per idle connection (fresh server, forced GC). */
  /** @param {import('./systems/index.mjs').System} sys @param {number} rep */
  const groupIdle = (sys, rep) =>
    runCases(sys, rep, { pinned: false, connect: false }, [
      [
        'idle memory',
        async (p) => {
          const n = COUNTS.idleConns;
          const before = await p.server.request('mem', {}, 10_000);
          const r = await p.client.request(
            'idleConnect',
            { n, concurrency: COUNTS.idleConcurrency, askOnce: COUNTS.idleAskOnce, capMs: CAPS.idle },
            CAPS.idle + MARGIN,
          );
          const after = await p.server.request('mem', {}, 10_000);
          await p.client.request('idleClose', {}, 15_000).catch(() => {});
          if (r.opened !== n) throw new Error(`only ${r.opened}/${n} connections opened`);
          const rss = (after.rss - before.rss) / n;
          const heap = (after.heapUsed - before.heapUsed) / n;
          record(sys.name, 'idleRssBytesPerConn', rep, rss);
          record(sys.name, 'idleHeapBytesPerConn', rep, heap);
          console.log(
            `  ${sys.name.padEnd(20)} idle     ${fmt(rss)} B RSS, ${fmt(heap)} B heap per connection (${n} in ${fmt(r.ms)} ms)`,
          );
        },
      ],
    ]);

  const partialOut = OUT.replace(/\.json$/, '') + '.partial.tmp.json';
  mkdirSync(dirname(OUT), { recursive: true });
  const finalize = () => {
    for (const s of Object.values(results.systems)) {
      for (const m of Object.values(s.metrics)) {
        m.values = m.values.slice(0, results.reps);
        Object.assign(m, summarize(m.values) ?? { median: null, min: null, max: null, n: 0 });
      }
    }
    results.wallSeconds = Math.round(elapsedS());
    results.machine.loadAvgAtEnd = os.loadavg();
  };

  /** The main suite: timed reps of every system, then the browser bundles. */
  const runMainSection = async () => {
    /** @type {number[]} */
    const repSeconds = [];
    /** Seconds spent per system and case group, summed over reps (printed at the end). */
    /** @type {Record<string, number>} */
    const groupSeconds = {};
    /** Longest idle-memory phase of one rep (seconds), for the budget estimate. */
    let idleSeconds = 0;
    const idleTotal = () =>
      Object.entries(groupSeconds)
        .filter(([k]) => k.endsWith(' idle'))
        .reduce((a, [, v]) => a + v, 0);
    for (let rep = 0; rep < REPS; rep++) {
      // Estimate the next rep from the last one: a slow first rep (cold caches, or other work on
      // the machine) should not cancel a rep that would fit.
      const est = repSeconds.length
        ? repSeconds[repSeconds.length - 1] + (rep < IDLE_REPS ? idleSeconds : 0)
        : 0;
      if (rep > 0 && elapsedS() + est > BUDGET_S) {
        console.error(
          `[bench] time budget ${BUDGET_S}s: stopping after ${rep} rep(s) (next rep would take ~${Math.round(est)}s)`,
        );
        break;
      }
      const repStart = elapsedS();
      const idleBefore = idleTotal();
      // Rotate the order each rep so no system always runs first or last.
      const order = systems.map((_, i) => systems[(i + rep) % systems.length]);
      console.log(`[bench] rep ${rep + 1}/${REPS}  (t=${Math.round(repStart)}s)`);
      /** @param {string} what @param {() => Promise<void>} fn */
      const timed = async (what, fn) => {
        const s0 = elapsedS();
        await fn();
        groupSeconds[what] = (groupSeconds[what] ?? 0) + (elapsedS() - s0);
      };
      pinnedRounds.clear();
      for (let round = 0; round < COUNTS.pinnedRounds; round++) {
        for (const sys of order) await timed(`${sys.name} pinned`, () => groupPinned(sys, rep));
      }
      for (const sys of order) await timed(`${sys.name} main`, () => groupMain(sys, rep));
      if (rep < IDLE_REPS)
        for (const sys of order) await timed(`${sys.name} idle`, () => groupIdle(sys, rep));
      results.reps = rep + 1;
      const idleThisRep = idleTotal() - idleBefore;
      idleSeconds = Math.max(idleSeconds, idleThisRep);
      repSeconds.push(elapsedS() - repStart - idleThisRep);
      writeFileSync(partialOut, JSON.stringify(results, null, 2));
    }

    if (results.reps < Math.min(3, REPS)) {
      console.error(
        `[bench] WARNING: only ${results.reps} rep(s) fit in the ${BUDGET_S}s budget (3 is the minimum for a full run). Was the machine busy? Load average: ${os
          .loadavg()
          .map((l) => l.toFixed(2))
          .join(' ')}`,
      );
    }
    console.log(
      `[bench] seconds per group: ${Object.entries(groupSeconds)
        .map(([k, v]) => `${k} ${v.toFixed(1)}`)
        .join(', ')}`,
    );
    results.groupSeconds = Object.fromEntries(
      Object.entries(groupSeconds).map(([k, v]) => [k, Math.round(v * 10) / 10]),
    );

    // Browser bundles (deterministic: measured once, after the timed runs).
    console.log('[bench] browser bundles');
    /** @type {Array<[string, string | null, string | undefined]>} */
    const targets = systems.map((s) => [s.name, s.meta.bundle?.entry ?? null, s.meta.bundle?.note]);
    if (!systems.some((s) => s.name === ACTORSPACE)) {
      targets.push([ACTORSPACE, "export { connect } from '@actorspace/browser';", undefined]);
    }
    for (const [name, entry, note] of targets) {
      if (!entry) {
        results.bundles[name] = { entry: null, minBytes: 0, gzipBytes: 0, note: note ?? 'no client library' };
        continue;
      }
      try {
        const { modules, ...b } = await measureBundle(entry);
        // Only ActorSpace's breakdown goes into the results (the report shows where its bytes go).
        results.bundles[name] = {
          entry,
          ...b,
          ...(note ? { note } : {}),
          ...(name === ACTORSPACE ? { modules } : {}),
        };
        console.log(`  ${name.padEnd(20)} ${fmt(b.minBytes)} B min, ${fmt(b.gzipBytes)} B gzip-9`);
      } catch (err) {
        const e = /** @type {any} */ (err);
        const error = e?.errors?.[0]?.text ?? errorMessage(err).split('\n')[0];
        results.bundles[name] = { entry, minBytes: null, gzipBytes: null, error };
        console.error(`  ${name.padEnd(20)} bundle failed: ${error}`);
      }
    }
    await stopEsbuild();
    finalize();
  };

  // A section that does not run keeps its figures from the results file being replaced, so
  // `--only-section=fanout` leaves the main suite's numbers (and the docs made from them) as
  // they were, and the other way round.
  /** @type {any} */
  let previous = null;
  if (!RUN_MAIN || !RUN_FANOUT) {
    try {
      previous = JSON.parse(readFileSync(OUT, 'utf8'));
    } catch {
      previous = null;
    }
  }
  /** @type {any} */
  let out = results;
  if (RUN_MAIN) await runMainSection();
  else if (previous?.systems && Object.keys(previous.systems).length > 0) {
    out = previous;
    console.log(
      `[bench] main suite not run: its figures stay those of ${relative(process.cwd(), OUT)} (${previous.date})`,
    );
  } else {
    results.reps = 0;
    results.wallSeconds = 0;
    results.systems = {};
    /** @type {any} */ (results).mainSkipped = true;
    console.log(
      `[bench] main suite not run, and no earlier results to keep: the file holds ${RUN_FANOUT ? 'the fan-out section only' : 'no section'}`,
    );
  }
  if (RUN_FANOUT) {
    const withFanout = systems.filter((s) => s.fanout);
    const missing = [FANOUT_REFERENCE, ACTORSPACE].filter((n) => !withFanout.some((s) => s.name === n));
    if (missing.length) console.error(`[bench] fan-out: ${missing.join(', ')} not loaded (see --only)`);
    console.log(
      `[bench] fan-out: ${withFanout.map((s) => s.name).join(', ')}; ${REPS} rep(s); ${FANOUT.subscribers} subscribers in ${FANOUT.procs} processes; ${FANOUT.events} events (window ${FANOUT.window}, ${FANOUT.burst} per turn) + ${FANOUT.pacedEvents} paced at ${FANOUT.pacedRate}/s`,
    );
    const { runFanout } = await import('./lib/fanout-run.mjs');
    const profDir = FANOUT_PROF ? resolve(process.cwd(), FANOUT_PROF) : undefined;
    if (profDir) mkdirSync(profDir, { recursive: true });
    out.fanout = await runFanout({
      systems: withFanout,
      spawn: (label, args) => child(label, args, false),
      prof: profDir,
      reps: REPS,
      budgetS: FANOUT_BUDGET_S,
      counts: FANOUT,
      quick: QUICK,
      reference: FANOUT_REFERENCE,
      target: FANOUT_TARGET,
    });
    out.fanout.versions = results.versions;
    out.fanout.machine = {
      node: process.version,
      cpus: results.machine.cpus,
      cpuModel: results.machine.cpuModel,
    };
  } else if (previous?.fanout) out.fanout = previous.fanout;

  // The cluster section (bench/cluster.mjs) runs as a child of its own, with its own brokers,
  // and writes bench/results/cluster.json (quick: cluster.quick.tmp.json), which the report reads.
  let clusterFailed = false;
  if (RUN_CLUSTER) {
    console.log('[bench] cluster: node bench/cluster.mjs (many nodes on Redis and NATS)');
    const args = [join(benchDir, 'cluster.mjs'), `--reps=${REPS}`, ...(QUICK ? ['--quick'] : [])];
    const proc = spawn(process.execPath, args, { cwd: rootDir, stdio: 'inherit' });
    clusterProc = proc;
    const code = await new Promise((done) => {
      proc.once('exit', (c, sig) => done(c ?? sig));
      proc.once('error', (err) => done(err.message));
    });
    clusterProc = null;
    if (code !== 0) {
      clusterFailed = true;
      console.error(`[bench] cluster section failed (${code}): bench/results/cluster.json was not rewritten`);
    }
  }

  writeFileSync(OUT, JSON.stringify(out, null, 2) + '\n');
  rmSync(partialOut, { force: true });
  console.log(
    `[bench] wrote ${relative(process.cwd(), OUT)} (${RUN_MAIN ? `${results.reps} rep(s), ${results.wallSeconds}s` : out.mainSkipped ? 'no main suite' : 'main suite kept'}${RUN_FANOUT ? `; fan-out ${out.fanout.reps} rep(s), ${out.fanout.wallSeconds}s` : ''})`,
  );

  if (WRITE_REPORT) {
    const { writeReport } = await import('./report.mjs');
    const files = await writeReport(
      /** @type {import("./report.mjs").Results} */ (/** @type {unknown} */ (out)),
      rootDir,
    );
    console.log(`[bench] wrote ${files.map((f) => relative(process.cwd(), f)).join(', ')}`);
  }
  const failures = [
    ...(RUN_MAIN ? Object.entries(results.systems) : []),
    ...(RUN_FANOUT ? Object.entries(out.fanout?.systems ?? {}) : []),
  ].flatMap(([n, s]) => /** @type {any} */ (s).failures.map((/** @type {any} */ f) => `${n}: ${f.case}`));
  if (clusterFailed) failures.push('cluster section');
  if (failures.length) console.error(`[bench] ${failures.length} failed case(s): ${failures.join('; ')}`);
}

runMain('[bench]', main, killAll);
