// @ts-check
/**
 * Fan-out subscriber child: `node bench/lib/fanout-client-proc.mjs <system> <port> <controlPort> <proc>`.
 *
 * Holds many subscriber connections in one process and checks what each receives:
 *   - `open { n, concurrency, capMs }`: opens n subscriptions (each its own connection);
 *   - `arm { first, n, profile? }`: expects events first..first+n-1 next; resets the counters
 *     (with `profile`, records a V8 CPU profile until `report`: <dir>/<name>-client<proc>.cpuprofile);
 *   - `report { capMs }`: waits until every subscriber has event first+n-1 (or the cap), then
 *     answers with the deliveries, the order check, the latency histogram and CPU;
 *   - `close`.
 * Every delivery is checked against the subscriber's own expectation: the next id, once, in
 * order. A delivery with another id is counted as `bad` (duplicate, reordered or after a gap).
 * Each time every subscriber of this process has event k, the process reports `<proc> <k>` on
 * the control connection to the publisher's process (coalesced to one line per turn), which
 * the publisher's window mode waits on.
 *
 * Latency = (performance.timeOrigin + performance.now()) here − `sentAt` (the same clock in the
 * publisher's process): wall-clock ms with sub-ms resolution, comparable across processes on
 * one machine (hrtime is not). Kept as a histogram of 10 µs buckets up to 1 s.
 */
import { connect as tcpConnect } from 'node:net';
import { join } from 'node:path';
import { loadSystem } from '../systems/index.mjs';
import { TOPIC } from './fanout-publisher.mjs';
import { PhaseCpu } from './phase.mjs';
import { closeAndExit, logUnhandled, runChild } from './proto.mjs';

const [name, portArg, controlArg, procArg] = process.argv.slice(2);
const port = Number(portArg);
const proc = Number(procArg);
const host = '127.0.0.1';
const origin = performance.timeOrigin;

logUnhandled(`fanout client ${name}`);

/** Histogram: 10 µs buckets, the last one holds everything from 1 s up. */
const BUCKET_MS = 0.01;
const BUCKETS = 100_000;

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @template T
 * @param {Promise<T>} p
 * @param {number} ms
 * @param {() => string} what
 * @returns {Promise<T>}
 */
function withCap(p, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`time cap ${ms} ms exceeded: ${what()}`)), ms);
    }),
  ]);
}

await runChild(async () => {
  const system = await loadSystem(name);
  if (!system) throw new Error(`system ${name} could not be loaded (is its package built?)`);
  if (!system.fanout) throw new Error(`system ${name} has no fan-out side`);
  const fan = system.fanout;

  const control = tcpConnect(Number(controlArg), host);
  control.setNoDelay(true);
  await new Promise((resolve, reject) => {
    control.once('connect', () => resolve(undefined));
    control.once('error', reject);
  });
  control.on('error', () => {});

  // ── per-phase state (reset by `arm`) ──
  let first = 1;
  let n = 0;
  /** Subscribers that have each event of the phase (index: id - first), counting through gaps. */
  let have = new Uint32Array(0);
  /** Last id all subscribers of this process have. */
  let allHave = 0;
  let reported = 0;
  let reportScheduled = false;
  let deliveries = 0;
  let bad = 0;
  let firstRecvAt = 0;
  let lastRecvAt = 0;
  let negative = 0;
  const hist = new Uint32Array(BUCKETS);
  /** @type {(() => void) | null} */
  let complete = null;
  const phase = new PhaseCpu();

  /** @type {{ expect: number, got: number, close(): Promise<void> }[]} */
  const subs = [];

  const sendReport = () => {
    reportScheduled = false;
    if (allHave > reported) {
      reported = allHave;
      control.write(`${proc} ${allHave}\n`);
    }
  };

  /** @param {{ expect: number, got: number }} sub @param {any} data */
  const receive = (sub, data) => {
    const now = origin + performance.now();
    const id = data?.id;
    deliveries++;
    if (firstRecvAt === 0) firstRecvAt = now;
    lastRecvAt = now;
    const lat = now - data?.sentAt;
    if (lat < 0) {
      negative++;
      hist[0]++;
    } else hist[Math.min(BUCKETS - 1, Math.floor(lat / BUCKET_MS))]++;
    if (id !== sub.expect) {
      bad++;
      if (!(id > sub.expect)) return; // duplicate or reordered: it changes nothing below
    }
    // This subscriber now has every id up to `id` (a gap is counted as bad, not waited for).
    const from = sub.expect;
    sub.expect = id + 1;
    sub.got++;
    const last = first + n - 1;
    for (let k = from; k <= id && k <= last; k++) {
      if (k < first) continue;
      if (++have[k - first] === subs.length && k === allHave + 1) {
        allHave = k;
        while (allHave < last && have[allHave + 1 - first] === subs.length) allHave++;
        if (!reportScheduled) {
          reportScheduled = true;
          setImmediate(sendReport);
        }
        if (allHave === last && complete) complete();
      }
    }
  };

  const commands = {
    /** @param {{ n: number, concurrency: number, capMs: number }} m */
    open: async (m) => {
      const t0 = performance.now();
      let started = 0;
      const worker = async () => {
        while (started < m.n) {
          started++;
          const sub = { expect: 1, got: 0, close: async () => {} };
          const handle = await fan.subscribe({ host, port, topic: TOPIC, onEvent: (d) => receive(sub, d) });
          sub.close = () => handle.close();
          subs.push(sub);
        }
      };
      const workers = Array.from({ length: Math.min(m.concurrency, m.n) }, worker);
      await withCap(Promise.all(workers), m.capMs, () => `${subs.length}/${m.n} subscriptions`);
      return { opened: subs.length, ms: performance.now() - t0 };
    },

    /** @param {{ first: number, n: number, profile?: { dir: string, name: string } }} m */
    arm: async (m) => {
      if (m.profile)
        await phase.startProfile(join(m.profile.dir, `${m.profile.name}-client${proc}.cpuprofile`));
      first = m.first;
      n = m.n;
      have = new Uint32Array(n);
      allHave = first - 1;
      reported = first - 1;
      deliveries = 0;
      bad = 0;
      firstRecvAt = lastRecvAt = 0;
      negative = 0;
      hist.fill(0);
      complete = null;
      for (const s of subs) {
        s.expect = first;
        s.got = 0;
      }
      phase.startCount();
      return {};
    },

    /** @param {{ capMs: number }} m */
    report: async (m) => {
      const last = first + n - 1;
      let timedOut = false;
      if (allHave < last) {
        await new Promise((resolve) => {
          const timer = setTimeout(() => {
            timedOut = true;
            complete = null;
            resolve(undefined);
          }, m.capMs);
          complete = () => {
            clearTimeout(timer);
            complete = null;
            resolve(undefined);
          };
        });
      }
      // Anything still in flight (duplicates, stragglers) lands before the books close.
      await sleep(20);
      const cpuUs = phase.cpuUs();
      await phase.stopProfile();
      /** @type {[number, number][]} */
      const buckets = [];
      for (let i = 0; i < BUCKETS; i++) if (hist[i]) buckets.push([i, hist[i]]);
      let incomplete = 0;
      let missing = 0;
      for (const s of subs) {
        const miss = n - s.got;
        if (miss > 0 || s.expect !== last + 1) incomplete++;
        if (miss > 0) missing += miss;
      }
      return {
        subs: subs.length,
        deliveries,
        bad,
        missing,
        incomplete,
        timedOut,
        allHave,
        firstRecvAt,
        lastRecvAt,
        negative,
        bucketMs: BUCKET_MS,
        buckets,
        cpuUs,
      };
    },

    close: () => {
      control.end();
      return closeAndExit(Promise.allSettled(subs.map((s) => s.close())), 3000);
    },
  };
  return { commands, event: { type: 'ready', pid: process.pid } };
});
