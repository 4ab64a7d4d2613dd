#!/usr/bin/env node
// @ts-check
/**
 * Many nodes on a backplane: `node bench/cluster.mjs [--quick] [--reps=N] [--part=asks|fanout]
 *   [--backplanes=redis,nats] [--fanout-systems=a,b] [--budget=S] [--pin] [--prof=dir]
 *   [--redis-options=JSON] [--out=path]`
 *
 * Starts its own redis-server and nats-server (free ports of 127.0.0.1, each under a keeper in
 * its own process group, see lib/cluster-procs.mjs), then, in each repetition:
 *
 * 1. Cross-node ask vs single-node ask, per backplane (Redis, NATS). Node processes A and B
 *    (lib/cluster-node-proc.mjs: the built engine with the backplane), a tab process paired with
 *    B (lib/cluster-tab-proc.mjs: a Node client whose root actor offers `echo` to services) and an
 *    agent process (lib/cluster-agent-proc.mjs) with one service connected to A and one to B,
 *    each holding a gateway reference to the tab. The service on B asking the tab is the
 *    single-node baseline (service → B → tab); the service on A is the cross-node way
 *    (service → A → broker → B → tab, and back). Latency: sequential asks in rounds that
 *    alternate the two ways (p50/p99 of the pooled times); throughput: asks with 64 in flight,
 *    again alternating; CPU of every process (the broker's from /proc) per ask.
 * 2. Topic fan-out across three nodes: three node processes on one backplane, 1,000 subscribers
 *    spread evenly over them (one subscriber process per node, lib/fanout-client-proc.mjs, the
 *    same subscribers as the single-node fan-out section), one publisher (server code on node 0),
 *    windowed as in lib/fanout-run.mjs. Systems: ActorSpace on Redis, ActorSpace on NATS, and
 *    Socket.IO 4.8 with @socket.io/redis-adapter (three Socket.IO servers on one Redis,
 *    `io.to(room).emit`), measured in the same run.
 *
 * Repetitions interleave everything (the order rotates each rep); fresh processes (and a fresh
 * key prefix on the brokers) for each case and rep; every loop is bounded by count and time.
 * Results: bench/results/cluster.json (quick: cluster.quick.tmp.json); `node bench/report.mjs`
 * puts them in docs/benchmarks.md ("Many nodes"). `node bench/run.mjs --only-section=cluster`
 * runs this and regenerates the docs; a full `pnpm bench` runs it after the fan-out section.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { installedVersion } from './lib/bundle.mjs';
import { Child, installCleanup, runMain } from './lib/child.mjs';
import { killEverything, procCpuUs, startBroker } from './lib/cluster-procs.mjs';
import { checkPhases, histPercentile, machineBusyUs, mergeReports, phaseResult } from './lib/fanout-run.mjs';
import { errorMessage } from './lib/proto.mjs';
import { percentileSorted, summarize } from './lib/stats.mjs';

const benchDir = dirname(fileURLToPath(import.meta.url));
const NODE = join(benchDir, 'lib', 'cluster-node-proc.mjs');
const TAB = join(benchDir, 'lib', 'cluster-tab-proc.mjs');
const AGENT = join(benchDir, 'lib', 'cluster-agent-proc.mjs');
const PINGPONG = join(benchDir, 'lib', 'cluster-pingpong-proc.mjs');
const SUBSCRIBERS = join(benchDir, 'lib', 'fanout-client-proc.mjs');

// ───────────────────────────── options ─────────────────────────────

/** @param {string} name */
const flag = (name) => process.argv.includes(`--${name}`);
/** @param {string} name */
const opt = (name) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
/** @param {string | undefined} s */
const list = (s) =>
  s
    ?.split(',')
    .map((x) => x.trim())
    .filter(Boolean);

const QUICK = flag('quick') || process.env.QUICK === '1';
const REPS = Math.max(1, Number(opt('reps') ?? (QUICK ? 1 : 3)));
const PART = opt('part');
if (PART !== undefined && PART !== 'asks' && PART !== 'fanout') {
  console.error('[cluster] --part must be asks or fanout');
  process.exit(2);
}
const BACKPLANES = /** @type {('redis' | 'nats')[]} */ (list(opt('backplanes')) ?? ['redis', 'nats']);
const FANOUT_SYSTEMS = list(opt('fanout-systems')) ?? [
  ...BACKPLANES.map((b) => `actorspace-${b}`),
  'socketio-redis',
];
/** Do not start a repetition expected to end after this many seconds. */
const BUDGET_S = Number(opt('budget') ?? (QUICK ? 90 : 175));
/**
 * Extra ioredis options for the ActorSpace nodes' Redis backplane (an experiment, e.g.
 * '{"enableAutoPipelining":true}'): recorded in the results, and the report says so.
 */
const REDIS_OPTIONS = opt('redis-options');
if (REDIS_OPTIONS !== undefined) JSON.parse(REDIS_OPTIONS);
/** @type {Record<string, string> | undefined} */
const NODE_ENV = REDIS_OPTIONS ? { BENCH_REDIS_OPTIONS: REDIS_OPTIONS } : undefined;
const PROF = opt('prof') ? resolve(process.cwd(), /** @type {string} */ (opt('prof'))) : undefined;
const OUT = resolve(
  process.cwd(),
  opt('out') ?? join(benchDir, 'results', QUICK ? 'cluster.quick.tmp.json' : 'cluster.json'),
);
for (const b of BACKPLANES) {
  if (b !== 'redis' && b !== 'nats') {
    console.error(`[cluster] unknown backplane ${b}`);
    process.exit(2);
  }
}

/** Cross-node asks. Quick: a quarter or less. */
const ASKS = {
  // Enough for V8 to optimise both paths: after 200, the cross-node path still ran partly
  // unoptimised code and its p50 came out ~30% higher than in steady state.
  latencyWarmup: QUICK ? 100 : 5_000,
  latencyN: QUICK ? 500 : 2_000,
  /** The latency asks of each way are taken in this many rounds, alternating the ways. */
  latencyRounds: 4,
  askWarmup: QUICK ? 500 : 2_000,
  askN: QUICK ? 4_000 : 20_000,
  askRounds: 2,
  inflight: 64,
};
/** Targets of the issue: cross-node p50 ≤ 2× single-node; throughput ≥ 0.5× single-node. */
const ASK_TARGETS = { p50Ratio: 2, throughputRatio: 0.5 };

/** Fan-out across three nodes. */
const FANOUT = {
  nodes: 3,
  subscribers: 1_000,
  /** One subscriber process per node. */
  procs: 3,
  connectConcurrency: 25,
  warmup: QUICK ? 30 : 60,
  events: QUICK ? 60 : 300,
  window: 16,
  burst: 1,
  pacedEvents: 10,
  pacedRate: 10,
};
const FANOUT_REFERENCE = 'socketio-redis';
/** Target: ActorSpace deliveries/s across nodes ≥ 1× Socket.IO with its Redis adapter. */
const FANOUT_TARGET = 1;

/** --pin: one more latency pass with every process of the case on CPU 0 (`taskset`, Linux). */
const PIN = flag('pin');
if (PIN && spawnSync('taskset', ['-c', '0', 'true'], { stdio: 'ignore' }).status !== 0) {
  console.error('[cluster] --pin needs taskset');
  process.exit(2);
}
const ALL_CPUS = `0-${os.cpus().length - 1}`;
/**
 * Moves every thread of these processes to `cpus` (taskset -a -p -c).
 * @param {number[]} pids @param {string} cpus
 */
function pinAll(pids, cpus) {
  for (const pid of pids) {
    const r = spawnSync('taskset', ['-a', '-p', '-c', cpus, String(pid)], { stdio: 'ignore' });
    if (r.status !== 0) throw new Error(`taskset -a -p -c ${cpus} ${pid} failed`);
  }
}

const CAPS = { spawn: 20_000, setup: 20_000, latency: 30_000, asks: 60_000, open: 60_000, phase: 60_000 };
const MARGIN = 10_000;

/** @type {Record<string, { label: string, notes: string }>} */
const FANOUT_META = {
  'actorspace-redis': {
    label: 'ActorSpace, Redis backplane',
    notes:
      "createActorServer({ topics: { 'room/:id': {} }, backplane: redisBackplane({ url }) }) on each node; node 0's code calls actors.publish(topic, 'msg', data): a Lua script numbers the event and keeps it in the topic's history (100 events), Redis PUBLISHes it once, every node (node 0 included) sends it to its subscribers; topic options at their defaults",
  },
  'actorspace-nats': {
    label: 'ActorSpace, NATS backplane',
    notes:
      'the same with natsBackplane({ servers }): each event is published to a JetStream stream (numbered and kept by the stream) and reaches every node through its ordered consumer',
  },
  'socketio-redis': {
    label: 'Socket.IO + Redis adapter',
    notes:
      "socket.io 4.8 with @socket.io/redis-adapter on ioredis (pub + sub connection per server): node 0's code calls io.to(room).emit('msg', data): sent to its own room members at once and PUBLISHed to Redis once, which the other servers send to theirs; no numbering, no history; websocket only both ends",
  },
};

const fmt = (/** @type {number} */ n, d = 0) =>
  n == null || !Number.isFinite(n)
    ? '—'
    : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
const t0 = Date.now();
const elapsedS = () => (Date.now() - t0) / 1000;
/** A unique bit for this run's key prefixes. */
const RUN = Date.now().toString(36);

installCleanup('[cluster]', killEverything, (sig) =>
  console.error(`\n[cluster] ${sig}: stopping every process of the run`),
);

// ───────────────────────────── results ─────────────────────────────

/** @typedef {{ values: (number | null)[], median?: number | null, min?: number | null, max?: number | null, n?: number }} MetricValues */
/** @typedef {{ label: string, notes: string, metrics: Record<string, MetricValues>, failures: { rep: number, case: string, error: string }[], checks: any[] }} CaseResult */

const cpus = os.cpus();
const res = {
  date: new Date().toISOString(),
  node: process.version,
  quick: QUICK,
  /** Non-default options the run was made with (figures not comparable with a default run). */
  experiment: REDIS_OPTIONS ? { redisOptions: JSON.parse(REDIS_OPTIONS) } : null,
  repsPlanned: REPS,
  reps: 0,
  wallSeconds: 0,
  machine: {
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    loadAvgAtStart: os.loadavg(),
    /** @type {number[] | null} */
    loadAvgAtEnd: null,
  },
  /** @type {Record<string, string | null>} */
  versions: {},
  asks: {
    counts: ASKS,
    /** --pin: a pinned latency pass too (metrics `*PinnedP50Us`, `pinnedP50Ratio`). */
    pinned: PIN,
    targets: ASK_TARGETS,
    /** @type {Record<string, CaseResult>} */
    backplanes: {},
  },
  fanout: {
    counts: {
      ...FANOUT,
      perProc: Array.from(
        { length: FANOUT.procs },
        (_, i) =>
          Math.floor(FANOUT.subscribers / FANOUT.procs) + (i < FANOUT.subscribers % FANOUT.procs ? 1 : 0),
      ),
    },
    reference: FANOUT_REFERENCE,
    target: FANOUT_TARGET,
    /** @type {Record<string, CaseResult>} */
    systems: {},
  },
};
const runAsks = PART !== 'fanout';
const runFanout = PART !== 'asks';
if (runAsks)
  for (const b of BACKPLANES)
    res.asks.backplanes[b] = {
      label: b === 'redis' ? 'Redis' : 'NATS',
      notes: '',
      metrics: {},
      failures: [],
      checks: [],
    };
if (runFanout)
  for (const s of FANOUT_SYSTEMS) {
    const meta = FANOUT_META[s];
    if (!meta) {
      console.error(`[cluster] unknown fan-out system ${s} (one of ${Object.keys(FANOUT_META).join(', ')})`);
      process.exit(2);
    }
    res.fanout.systems[s] = { ...meta, metrics: {}, failures: [], checks: [] };
  }

/** @param {CaseResult} target @param {string} metric @param {number} rep @param {number | null} value */
const record = (target, metric, rep, value) => {
  target.metrics[metric] ??= { values: Array(REPS).fill(null) };
  target.metrics[metric].values[rep] = value;
};

// ───────────────────────────── part 1: asks ─────────────────────────────

/**
 * @param {'redis' | 'nats'} bp
 * @param {{ url: string, pid: number }} broker
 * @param {number} rep
 */
async function asksCase(bp, broker, rep) {
  const out = res.asks.backplanes[bp];
  /** @type {Child[]} */
  const procs = [];
  let stage = 'start';
  try {
    const prefix = `bench_a${rep}_${RUN}`;
    const A = new Child(`${bp} node A`, [NODE, `actorspace-${bp}`, broker.url, prefix, 'A'], {
      env: NODE_ENV,
    });
    const B = new Child(`${bp} node B`, [NODE, `actorspace-${bp}`, broker.url, prefix, 'B'], {
      env: NODE_ENV,
    });
    procs.push(A, B);
    const [a, b] = await Promise.all([
      A.waitEvent('listening', CAPS.spawn),
      B.waitEvent('listening', CAPS.spawn),
    ]);
    const tab = new Child(`${bp} tab`, [TAB, String(b.port)]);
    procs.push(tab);
    await tab.waitEvent('ready', CAPS.spawn);
    const agent = new Child(`${bp} agent`, [AGENT, String(a.port), String(b.port)]);
    procs.push(agent);
    await agent.waitEvent('ready', CAPS.spawn);
    // The broker's own round trip, between two more processes (lib/cluster-pingpong-proc.mjs).
    const pong = new Child(`${bp} pong`, [PINGPONG, bp, broker.url, 'pong', prefix]);
    procs.push(pong);
    await pong.waitEvent('ready', CAPS.spawn);
    const ping = new Child(`${bp} ping`, [PINGPONG, bp, broker.url, 'ping', prefix]);
    procs.push(ping);
    await ping.waitEvent('ready', CAPS.spawn);
    stage = 'setup';
    await agent.request('setup', { capMs: CAPS.setup }, CAPS.setup + MARGIN);

    /** @type {('single' | 'cross')[]} */
    const order = rep % 2 ? ['cross', 'single'] : ['single', 'cross'];
    stage = 'latency';
    /** The latency rounds also take the broker's own round trip, between the two ways. */
    const latOrder = [order[0], 'broker', order[1]];
    /** @param {string} way @param {number} n */
    const latencyOf = (way, n) =>
      (way === 'broker' ? ping : agent).request(
        'latency',
        { way, n, capMs: CAPS.latency },
        CAPS.latency + MARGIN,
      );
    /**
     * One latency pass: sequential asks in rounds alternating the ways. `pinned` (with --pin,
     * after the throughput rounds so that it does not change where the scheduler puts the
     * processes for them): every process of the case and the broker on CPU 0, where a round trip
     * costs the CPU work along its path plus the switches between processes.
     * @param {'free' | 'pinned'} mode
     * @returns {Promise<Record<string, { p50: number, p99: number }>>}
     */
    const latencyPass = async (mode) => {
      const pids = [A.pid, B.pid, tab.pid, agent.pid, ping.pid, pong.pid, broker.pid];
      if (mode === 'pinned') pinAll(pids, '0');
      try {
        for (const way of latOrder) await latencyOf(way, ASKS.latencyWarmup);
        /** @type {Record<string, number[]>} */
        const times = { single: [], cross: [], broker: [] };
        const perRound = Math.ceil(ASKS.latencyN / ASKS.latencyRounds);
        for (let r = 0; r < ASKS.latencyRounds; r++) {
          for (const way of latOrder) {
            const x = await latencyOf(way, perRound);
            if (x.bad) throw new Error(`${x.bad} ${way} replies did not match their request`);
            times[way].push(...x.times);
          }
        }
        /** @type {Record<string, { p50: number, p99: number }>} */
        const result = {};
        for (const way of latOrder) {
          const s = times[way].sort((x, y) => x - y);
          result[way] = { p50: percentileSorted(s, 0.5), p99: percentileSorted(s, 0.99) };
        }
        return result;
      } finally {
        if (mode === 'pinned') pinAll(pids, ALL_CPUS);
      }
    };
    const latency = await latencyPass('free');

    stage = 'throughput';
    const cap = { capMs: CAPS.asks, inflight: ASKS.inflight };
    for (const way of order)
      await agent.request('asks', { way, n: ASKS.askWarmup, ...cap }, CAPS.asks + MARGIN);
    /** @type {Record<string, { n: number, wallMs: number, cpu: Record<string, number> }>} */
    const thr = {
      single: { n: 0, wallMs: 0, cpu: { agent: 0, A: 0, B: 0, tab: 0, broker: 0 } },
      cross: { n: 0, wallMs: 0, cpu: { agent: 0, A: 0, B: 0, tab: 0, broker: 0 } },
    };
    const n = Math.ceil(ASKS.askN / ASKS.askRounds);
    /** The most CPUs other work took during a measured round (from /proc/stat). */
    let otherCpus = 0;
    for (let r = 0; r < ASKS.askRounds; r++) {
      for (const way of order) {
        const profile = (/** @type {string} */ who) =>
          PROF && r === 0 ? { dir: PROF, name: `asks-${bp}-${way}-rep${rep + 1}-${who}` } : undefined;
        await Promise.all([
          A.request('begin', { profile: profile('nodeA') }, 5_000),
          B.request('begin', { profile: profile('nodeB') }, 5_000),
          tab.request('begin', { profile: profile('tab') }, 5_000),
        ]);
        const broker0 = procCpuUs(broker.pid);
        const busy0 = machineBusyUs();
        const self0 = process.cpuUsage();
        const x = await agent.request('asks', { way, n, ...cap }, CAPS.asks + MARGIN);
        const busy1 = machineBusyUs();
        const self = process.cpuUsage(self0);
        const broker1 = procCpuUs(broker.pid);
        const [ea, eb, et] = await Promise.all([
          A.request('end', {}, 15_000),
          B.request('end', {}, 15_000),
          tab.request('end', {}, 15_000),
        ]);
        if (x.bad) throw new Error(`${x.bad} ${way} replies did not match their request`);
        const t = thr[way];
        t.n += n;
        t.wallMs += x.wallMs;
        t.cpu.agent += x.cpuUs;
        t.cpu.A += ea.cpuUs;
        t.cpu.B += eb.cpuUs;
        t.cpu.tab += et.cpuUs;
        const brokerUs = broker0 === null || broker1 === null ? Number.NaN : broker1 - broker0;
        t.cpu.broker += brokerUs;
        // CPU the machine spent on other work meanwhile (the idle ping/pong processes count as other).
        if (busy0 !== null && busy1 !== null) {
          const ours = x.cpuUs + ea.cpuUs + eb.cpuUs + et.cpuUs + (brokerUs || 0) + self.user + self.system;
          otherCpus = Math.max(otherCpus, Math.max(0, busy1 - busy0 - ours) / (x.wallMs * 1000));
        }
      }
    }
    const pinned = PIN ? await latencyPass('pinned') : null;
    const perSec = (/** @type {string} */ w) => thr[w].n / (thr[w].wallMs / 1000);
    for (const way of ['single', 'cross', 'broker']) {
      record(out, `${way}P50Us`, rep, latency[way].p50);
      record(out, `${way}P99Us`, rep, latency[way].p99);
      if (pinned) record(out, `${way}PinnedP50Us`, rep, pinned[way].p50);
    }
    for (const way of ['single', 'cross']) {
      record(out, `${way}AsksPerSec`, rep, perSec(way));
      for (const [who, us] of Object.entries(thr[way].cpu))
        record(out, `${way}Cpu_${who}`, rep, us / thr[way].n);
    }
    record(out, 'otherCpus', rep, otherCpus);
    /** What a cross-node ask adds to a single-node one, beyond the broker's own round trip. */
    record(out, 'overheadP50Us', rep, latency.cross.p50 - latency.single.p50 - latency.broker.p50);
    /** The best ratio a cross-node ask could reach: the single-node hops plus one broker round trip. */
    record(out, 'boundRatio', rep, (latency.single.p50 + latency.broker.p50) / latency.single.p50);
    const p50Ratio = latency.cross.p50 / latency.single.p50;
    const p99Ratio = latency.cross.p99 / latency.single.p99;
    if (pinned) record(out, 'pinnedP50Ratio', rep, pinned.cross.p50 / pinned.single.p50);
    const thrRatio = perSec('cross') / perSec('single');
    record(out, 'p50Ratio', rep, p50Ratio);
    record(out, 'p99Ratio', rep, p99Ratio);
    record(out, 'throughputRatio', rep, thrRatio);
    const cpuLine = (/** @type {string} */ w) =>
      Object.entries(thr[w].cpu)
        .map(([k, v]) => `${k} ${fmt(v / thr[w].n, 1)}`)
        .join(' ');
    console.log(
      `  asks ${bp.padEnd(5)} single p50/p99 ${fmt(latency.single.p50)}/${fmt(latency.single.p99)} µs, ${fmt(perSec('single'))} asks/s | cross p50/p99 ${fmt(latency.cross.p50)}/${fmt(latency.cross.p99)} µs, ${fmt(perSec('cross'))} asks/s | p50 ×${p50Ratio.toFixed(2)} (target ≤ ${ASK_TARGETS.p50Ratio}), throughput ×${thrRatio.toFixed(2)} (target ≥ ${ASK_TARGETS.throughputRatio})${pinned ? ` | pinned p50 single/cross/broker ${fmt(pinned.single.p50)}/${fmt(pinned.cross.p50)}/${fmt(pinned.broker.p50)} µs` : ''}`,
    );
    console.log(
      `         broker round trip alone p50/p99 ${fmt(latency.broker.p50)}/${fmt(latency.broker.p99)} µs | CPU µs/ask single: ${cpuLine('single')} | cross: ${cpuLine('cross')} | other work ${fmt(otherCpus, 2)} CPUs`,
    );
    stage = 'close';
    await Promise.allSettled([agent.request('close', {}, 5_000), ping.request('close', {}, 5_000)]);
    await Promise.allSettled([pong.request('close', {}, 5_000)]);
    await Promise.allSettled([tab.request('close', {}, 5_000)]);
    await Promise.allSettled([A.request('close', {}, 5_000), B.request('close', {}, 5_000)]);
    await Promise.all(procs.map((p) => p.exitWithin(3_000)));
    return true;
  } catch (err) {
    const error = `${stage}: ${errorMessage(err)}`;
    out.failures.push({ rep: rep + 1, case: 'cross-node asks', error });
    console.error(`  ✗ asks ${bp} (rep ${rep + 1}) FAILED: ${error}`);
    return false;
  } finally {
    for (const p of procs) p.kill();
  }
}

// ───────────────────────────── part 2: fan-out ─────────────────────────────

/**
 * One phase of the fan-out on running processes (node 0 publishes; see lib/fanout-run.mjs).
 * @param {Child[]} nodes @param {Child[]} clients @param {number} brokerPid
 * @param {{ first: number, n: number, window?: number, intervalMs?: number, capMs: number, profile?: string }} p
 */
async function fanoutPhase(nodes, clients, brokerPid, p) {
  const prof = (/** @type {string} */ who) =>
    p.profile && PROF ? { dir: PROF, name: `${p.profile}-${who}` } : undefined;
  await Promise.all(
    clients.map((cl, i) =>
      cl.request(
        'arm',
        {
          first: p.first,
          n: p.n,
          profile: i === 0 && p.profile && PROF ? { dir: PROF, name: p.profile } : undefined,
        },
        5_000,
      ),
    ),
  );
  await Promise.all(
    nodes.slice(1).map((nd, i) => nd.request('begin', { profile: prof(`node${i + 1}`) }, 5_000)),
  );
  const busy0 = machineBusyUs();
  const self0 = process.cpuUsage();
  const broker0 = procCpuUs(brokerPid);
  const wall0 = performance.now();
  const reports = Promise.all(
    clients.map((cl) => cl.request('report', { capMs: p.capMs }, p.capMs + MARGIN)),
  );
  reports.catch(() => {});
  const run = await nodes[0].request(
    'run',
    {
      first: p.first,
      n: p.n,
      window: p.window,
      burst: FANOUT.burst,
      intervalMs: p.intervalMs,
      procs: clients.length,
      capMs: p.capMs,
      profile: prof('node0'),
    },
    p.capMs + MARGIN,
  );
  const rs = await reports;
  const broker1 = procCpuUs(brokerPid);
  const ends = await Promise.all(nodes.map((nd) => nd.request('end', {}, 15_000)));
  const busy1 = machineBusyUs();
  const self = process.cpuUsage(self0);
  const wallUs = (performance.now() - wall0) * 1000;
  /** @type {Map<number, number>} */
  const histLocal = new Map();
  /** @type {Map<number, number>} */
  const histRemote = new Map();
  // Subscriber process i reads from node i: node 0's are local to the publisher.
  const merged = mergeReports(rs, (i) => (i % FANOUT.nodes === 0 ? histLocal : histRemote));
  const { bucketMs, clientCpuUs } = merged;
  const nodeCpu = ends.map((e) => e.cpuUs);
  const brokerCpuUs = broker0 === null || broker1 === null ? Number.NaN : broker1 - broker0;
  const oursUs =
    nodeCpu.reduce((x, y) => x + y, 0) + clientCpuUs + self.user + self.system + (brokerCpuUs || 0);
  return {
    ...phaseResult(merged, run, p.n, { busy0, busy1, oursUs, wallUs }),
    localP50Ms: histPercentile(histLocal, bucketMs, 0.5),
    remoteP50Ms: histPercentile(histRemote, bucketMs, 0.5),
    nodeCpu,
    clientCpuUs,
    brokerCpuUs,
    rss: ends.map((e) => e.rss),
  };
}

/**
 * @param {string} sys
 * @param {{ url: string, pid: number }} broker
 * @param {number} rep
 */
async function fanoutCase(sys, broker, rep) {
  const out = res.fanout.systems[sys];
  const c = res.fanout.counts;
  /** @type {Child[]} */
  const procs = [];
  let stage = 'start';
  try {
    const prefix = `bench_f${rep}_${RUN}`;
    const nodes = Array.from(
      { length: FANOUT.nodes },
      (_, i) => new Child(`${sys} node ${i}`, [NODE, sys, broker.url, prefix, String(i)], { env: NODE_ENV }),
    );
    procs.push(...nodes);
    const infos = await Promise.all(nodes.map((nd) => nd.waitEvent('listening', CAPS.spawn)));
    const clientSystem = sys.startsWith('actorspace') ? 'actorspace' : 'socketio';
    const clients = c.perProc.map(
      (_, i) =>
        new Child(`${sys} subscribers ${i}`, [
          SUBSCRIBERS,
          clientSystem,
          String(infos[i % FANOUT.nodes].port),
          String(infos[0].controlPort),
          String(i),
        ]),
    );
    procs.push(...clients);
    await Promise.all(clients.map((cl) => cl.waitEvent('ready', CAPS.spawn)));
    stage = 'open';
    const o0 = performance.now();
    const opened = await Promise.all(
      clients.map((cl, i) =>
        cl.request(
          'open',
          { n: c.perProc[i], concurrency: c.connectConcurrency, capMs: CAPS.open },
          CAPS.open + MARGIN,
        ),
      ),
    );
    const openMs = performance.now() - o0;
    const counts = await Promise.all(nodes.map((nd) => nd.request('count', {}, 5_000)));
    const total = opened.reduce((x, r) => x + r.opened, 0);
    const perNode = counts.map((x) => x.subscribers);
    const expectedPerNode = nodes.map((_, i) =>
      c.perProc.filter((_, j) => j % FANOUT.nodes === i).reduce((x, y) => x + y, 0),
    );
    if (total !== c.subscribers || perNode.some((x, i) => x !== expectedPerNode[i]))
      throw new Error(
        `${total}/${c.subscribers} subscriptions opened; the nodes count ${perNode.join(' + ')}, expected ${expectedPerNode.join(' + ')}`,
      );
    let first = 1;
    stage = 'warm-up';
    const w = await fanoutPhase(nodes, clients, broker.pid, {
      first,
      n: c.warmup,
      window: c.window,
      capMs: CAPS.phase,
    });
    first += c.warmup;
    stage = 'throughput';
    const t = await fanoutPhase(nodes, clients, broker.pid, {
      first,
      n: c.events,
      window: c.window,
      capMs: CAPS.phase,
      profile: PROF ? `fanout-${sys}-rep${rep + 1}` : undefined,
    });
    first += c.events;
    stage = 'paced';
    const p = await fanoutPhase(nodes, clients, broker.pid, {
      first,
      n: c.pacedEvents,
      intervalMs: 1000 / c.pacedRate,
      capMs: CAPS.phase,
    });
    const { problems, recorded, failed } = checkPhases({ warmup: w, throughput: t, paced: p });
    out.checks.push({ rep: rep + 1, ...recorded });
    const d = t.deliveries;
    const nodesCpu = t.nodeCpu.reduce((x, y) => x + y, 0);
    record(out, 'deliveriesPerSec', rep, t.deliveriesPerSec);
    record(out, 'nodesCpuUsPerDelivery', rep, nodesCpu / d);
    record(out, 'publisherNodeCpuUsPerDelivery', rep, t.nodeCpu[0] / d);
    record(out, 'otherNodesCpuUsPerDelivery', rep, (nodesCpu - t.nodeCpu[0]) / d);
    record(out, 'clientCpuUsPerDelivery', rep, t.clientCpuUs / d);
    record(out, 'brokerCpuUsPerEvent', rep, t.brokerCpuUs / c.events);
    record(out, 'loadedP50Ms', rep, t.p50Ms);
    record(out, 'loadedP99Ms', rep, t.p99Ms);
    record(out, 'pacedP50Ms', rep, p.p50Ms);
    record(out, 'pacedP99Ms', rep, p.p99Ms);
    record(out, 'pacedLocalP50Ms', rep, p.localP50Ms);
    record(out, 'pacedRemoteP50Ms', rep, p.remoteP50Ms);
    record(out, 'openMs', rep, openMs);
    record(out, 'nodeRssBytes', rep, Math.max(...t.rss));
    if (t.otherCpus !== null) record(out, 'otherCpus', rep, t.otherCpus);
    record(out, 'failedDeliveries', rep, failed);
    if (problems.length) {
      const error = `exactly-once, in-order check failed: ${problems.join('; ')}`;
      out.failures.push({ rep: rep + 1, case: 'fan-out delivery check', error });
      console.error(`  ✗ ${sys} fan-out (rep ${rep + 1}): ${error}`);
    }
    console.log(
      `  fan-out ${sys.padEnd(17)} ${fmt(t.deliveriesPerSec)} deliveries/s (CPU µs/delivery: nodes ${fmt(nodesCpu / d, 2)} [${t.nodeCpu.map((x) => fmt(x / d, 2)).join(' + ')}], subscribers ${fmt(t.clientCpuUs / d, 2)}, broker ${fmt(t.brokerCpuUs / d, 2)}) | loaded p50/p99 ${fmt(t.p50Ms, 2)}/${fmt(t.p99Ms, 2)} ms | paced p50/p99 ${fmt(p.p50Ms, 2)}/${fmt(p.p99Ms, 2)} ms (node 0's ${fmt(p.localP50Ms, 2)}, others' ${fmt(p.remoteP50Ms, 2)}) | open ${fmt(openMs)} ms | other work ${fmt(t.otherCpus ?? Number.NaN, 2)} CPUs${problems.length ? ' | CHECK FAILED' : ''}`,
    );
    stage = 'close';
    await Promise.allSettled(clients.map((cl) => cl.request('close', {}, 5_000)));
    await Promise.allSettled(nodes.map((nd) => nd.request('close', {}, 5_000)));
    await Promise.all(procs.map((pr) => pr.exitWithin(3_000)));
    return true;
  } catch (err) {
    const error = `${stage}: ${errorMessage(err)}`;
    out.failures.push({ rep: rep + 1, case: 'fan-out', error });
    console.error(`  ✗ ${sys} fan-out (rep ${rep + 1}) FAILED: ${error}`);
    return false;
  } finally {
    for (const pr of procs) pr.kill();
  }
}

// ───────────────────────────── main ─────────────────────────────

async function main() {
  for (const p of [
    '@actorspace/server',
    '@actorspace/redis',
    '@actorspace/nats',
    'socket.io',
    'socket.io-client',
    '@socket.io/redis-adapter',
    'ioredis',
  ])
    res.versions[p] = await installedVersion(p);
  if (PROF) mkdirSync(PROF, { recursive: true });

  const needRedis =
    (runAsks && BACKPLANES.includes('redis')) ||
    (runFanout && FANOUT_SYSTEMS.some((s) => s.endsWith('-redis')));
  const needNats =
    (runAsks && BACKPLANES.includes('nats')) || (runFanout && FANOUT_SYSTEMS.includes('actorspace-nats'));
  const [redis, nats] = await Promise.all([
    needRedis ? startBroker('redis') : null,
    needNats ? startBroker('nats') : null,
  ]);
  res.versions['redis-server'] = redis ? brokerVersion('redis') : null;
  res.versions['nats-server'] = nats ? brokerVersion('nats') : null;
  /** @param {string} name */
  const brokerOf = (name) =>
    /** @type {{ url: string, pid: number }} */ (name.endsWith('nats') ? nats : redis);
  console.log(
    `[cluster] ${QUICK ? 'QUICK smoke run' : 'full run'}: ${REPS} rep(s); node ${process.version}, ${cpus.length} CPU(s); brokers: ${[redis && `redis-server ${res.versions['redis-server']} on ${redis.port}`, nats && `nats-server ${res.versions['nats-server']} on ${nats.port}`].filter(Boolean).join(', ')}`,
  );
  if (runAsks)
    console.log(
      `[cluster] asks: ${BACKPLANES.join(', ')}; latency ${ASKS.latencyN} sequential asks after ${ASKS.latencyWarmup} (${ASKS.latencyRounds} alternating rounds), throughput ${ASKS.askN} asks with ${ASKS.inflight} in flight after ${ASKS.askWarmup}`,
    );
  if (runFanout)
    console.log(
      `[cluster] fan-out: ${FANOUT_SYSTEMS.join(', ')}; ${FANOUT.nodes} nodes, ${FANOUT.subscribers} subscribers (${res.fanout.counts.perProc.join(' + ')}), ${FANOUT.events} events (window ${FANOUT.window}) after ${FANOUT.warmup}, + ${FANOUT.pacedEvents} paced at ${FANOUT.pacedRate}/s`,
    );

  /** @type {Set<string>} */
  const broken = new Set();
  /** @type {number[]} */
  const repSeconds = [];
  for (let rep = 0; rep < REPS; rep++) {
    const est = repSeconds.length ? Math.max(...repSeconds) : 0;
    if (rep > 0 && elapsedS() + est > BUDGET_S) {
      console.error(
        `[cluster] time budget ${BUDGET_S}s: stopping after ${rep} rep(s) (next rep would take ~${Math.round(est)}s)`,
      );
      break;
    }
    const repStart = elapsedS();
    console.log(`[cluster] rep ${rep + 1}/${REPS}  (t=${Math.round(repStart)}s)`);
    /** @type {Array<[string, () => Promise<boolean>, CaseResult]>} */
    const cases = [];
    if (runAsks)
      for (const bp of BACKPLANES)
        cases.push([`asks ${bp}`, () => asksCase(bp, brokerOf(bp), rep), res.asks.backplanes[bp]]);
    if (runFanout)
      for (const s of FANOUT_SYSTEMS)
        cases.push([`fan-out ${s}`, () => fanoutCase(s, brokerOf(s), rep), res.fanout.systems[s]]);
    const order = cases.map((_, i) => cases[(i + rep) % cases.length]);
    for (const [key, run, out] of order) {
      if (broken.has(key)) {
        out.failures.push({ rep: rep + 1, case: key, error: 'skipped: failed in an earlier rep' });
        continue;
      }
      if (!(await run())) broken.add(key);
    }
    res.reps = rep + 1;
    repSeconds.push(elapsedS() - repStart);
  }

  await Promise.all([redis?.stop(), nats?.stop()]);
  for (const group of [res.asks.backplanes, res.fanout.systems]) {
    for (const s of Object.values(group)) {
      for (const m of Object.values(s.metrics)) {
        m.values = m.values.slice(0, res.reps);
        Object.assign(m, summarize(m.values) ?? { median: null, min: null, max: null, n: 0 });
      }
    }
  }
  res.wallSeconds = Math.round(elapsedS());
  res.machine.loadAvgAtEnd = os.loadavg();
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, `${JSON.stringify(res, null, 2)}\n`);
  console.log(`[cluster] wrote ${relative(process.cwd(), OUT)} (${res.reps} rep(s), ${res.wallSeconds} s)`);
  summary();
  const failures = [...Object.entries(res.asks.backplanes), ...Object.entries(res.fanout.systems)].flatMap(
    ([n, s]) => s.failures.map((f) => `${n}: ${f.case}`),
  );
  if (failures.length) console.error(`[cluster] ${failures.length} failed case(s): ${failures.join('; ')}`);
  if (!QUICK && !opt('out'))
    console.log('[cluster] `node bench/report.mjs` puts these figures in docs/benchmarks.md');
}

/** Prints the ratios against the targets. */
function summary() {
  for (const [bp, s] of Object.entries(res.asks.backplanes)) {
    const m = s.metrics;
    if (!m.p50Ratio) continue;
    console.log(
      `[cluster] ${bp}: cross/single p50 ${fmt(m.crossP50Us?.median ?? Number.NaN)}/${fmt(m.singleP50Us?.median ?? Number.NaN)} µs = ×${fmt(m.p50Ratio.median ?? Number.NaN, 2)} (target ≤ ${ASK_TARGETS.p50Ratio}); throughput ${fmt(m.crossAsksPerSec?.median ?? Number.NaN)}/${fmt(m.singleAsksPerSec?.median ?? Number.NaN)} asks/s = ×${fmt(m.throughputRatio?.median ?? Number.NaN, 2)} (target ≥ ${ASK_TARGETS.throughputRatio})`,
    );
  }
  const ref = res.fanout.systems[FANOUT_REFERENCE]?.metrics.deliveriesPerSec?.median;
  for (const [sys, s] of Object.entries(res.fanout.systems)) {
    const d = s.metrics.deliveriesPerSec?.median;
    if (d == null) continue;
    console.log(
      `[cluster] fan-out ${sys}: ${fmt(d)} deliveries/s${ref && sys !== FANOUT_REFERENCE ? ` = ×${fmt(d / ref, 2)} Socket.IO + Redis adapter (target ≥ ${FANOUT_TARGET})` : ''}`,
    );
  }
}

/** @param {'redis' | 'nats'} kind */
function brokerVersion(kind) {
  try {
    const text = execFileSync(kind === 'redis' ? 'redis-server' : '/usr/sbin/nats-server', ['--version'], {
      encoding: 'utf8',
    });
    return (kind === 'redis' ? /v=([\d.]+)/ : /v([\d.]+)/).exec(text)?.[1] ?? text.trim();
  } catch {
    return null;
  }
}

runMain('[cluster]', main, killEverything);
