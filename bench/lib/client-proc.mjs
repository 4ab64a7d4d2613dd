// @ts-check
/**
 * Client child process: `node bench/lib/client-proc.mjs <system> <port>`.
 * Runs the load loops the orchestrator asks for. Every loop is bounded by a count AND a time cap
 * (`capMs`); exceeding the cap rejects the command (the orchestrator then records the case as
 * failed and kills the pair).
 */
import { loadSystem } from '../systems/index.mjs';
import { deepEqualExact, describeLoss, plainPayload, richPayload } from './payloads.mjs';
import { closeAndExit, errorMessage, logUnhandled, runChild } from './proto.mjs';
import { percentileSorted } from './stats.mjs';

const [name, portArg] = process.argv.slice(2);
logUnhandled(`client ${name}`);
const port = Number(portArg);
const host = '127.0.0.1';

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const turn = () => new Promise((r) => setImmediate(r));

/**
 * @template T
 * @param {PromiseLike<T>} p
 * @param {number} ms
 * @param {() => string} what
 * @returns {Promise<T>}
 */
function withCap(p, ms, what) {
  /** @type {NodeJS.Timeout | undefined} */
  let timer;
  return Promise.race([
    Promise.resolve(p).finally(() => clearTimeout(timer)),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`time cap ${ms} ms exceeded: ${what()}`)), ms);
    }),
  ]);
}

await runChild(async () => {
  const system = await loadSystem(name);
  if (!system) throw new Error(`system ${name} could not be loaded`);

  /** @type {import('../systems/index.mjs').BenchClient | null} */
  let client = null;
  /** @type {import('../systems/index.mjs').BenchClient[]} */
  let idle = [];
  const need = () => {
    if (!client) throw new Error('not connected');
    return client;
  };

  const commands = {
    connect: async (/** @type {{ capMs?: number }} */ m) => {
      client = await withCap(system.connect({ host, port }), m.capMs ?? 15_000, () => 'connect');
      return {};
    },

    /** Sequential asks, 1 in flight. */
    latency: async (/** @type {{ n: number, capMs: number }} */ m) => {
      const c = need();
      const samples = new Float64Array(m.n);
      const deadline = performance.now() + m.capMs;
      let done = 0;
      let bad = 0;
      const loop = async () => {
        for (let i = 0; i < m.n; i++) {
          if (performance.now() > deadline)
            throw new Error(`time cap ${m.capMs} ms exceeded: ${done}/${m.n} asks`);
          const p = plainPayload(i + 1);
          const t0 = performance.now();
          const r = await c.ask(p);
          samples[i] = performance.now() - t0;
          if (!r || r.id !== i + 1) bad++;
          done++;
        }
      };
      await withCap(loop(), m.capMs + 1000, () => `${done}/${m.n} asks`);
      const sorted = Array.from(samples).sort((a, b) => a - b);
      const us = (/** @type {number} */ ms) => ms * 1000;
      return {
        n: m.n,
        bad,
        p50Us: us(percentileSorted(sorted, 0.5)),
        p99Us: us(percentileSorted(sorted, 0.99)),
        meanUs: us(sorted.reduce((a, b) => a + b, 0) / sorted.length),
        minUs: us(sorted[0]),
        maxUs: us(sorted[sorted.length - 1]),
      };
    },

    /** n asks with `inflight` outstanding at all times. */
    asks: async (/** @type {{ n: number, inflight: number, kind: 'plain' | 'rich', capMs: number }} */ m) => {
      const c = need();
      const make = m.kind === 'rich' ? richPayload : plainPayload;
      let issued = 0;
      let completed = 0;
      let bad = 0;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const all = new Promise((resolve, reject) => {
        const launch = () => {
          const id = ++issued;
          /** @type {PromiseLike<any>} */
          let pending;
          try {
            pending = c.ask(make(id));
          } catch (err) {
            reject(err);
            return;
          }
          pending.then(
            (r) => {
              if (!r || r.id !== id) bad++;
              if (++completed === m.n) resolve(undefined);
              else if (issued < m.n) launch();
            },
            (err) => reject(err),
          );
        };
        for (let i = 0; i < Math.min(m.inflight, m.n); i++) launch();
      });
      await withCap(all, m.capMs, () => `${completed}/${m.n} asks completed`);
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { n: m.n, bad, wallMs, clientCpuUs: cpu.user + cpu.system };
    },

    /** n one-way messages, `burst` per event-loop turn. */
    tells: async (/** @type {{ n: number, burst: number, capMs: number }} */ m) => {
      const c = need();
      const deadline = performance.now() + m.capMs;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      let sent = 0;
      while (sent < m.n) {
        if (performance.now() > deadline)
          throw new Error(`time cap ${m.capMs} ms exceeded: ${sent}/${m.n} sent`);
        const end = Math.min(m.n, sent + m.burst);
        while (sent < end) c.tell(plainPayload(++sent));
        await turn();
      }
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { n: m.n, wallMs, clientCpuUs: cpu.user + cpu.system };
    },

    /** One rich ask; is the echo exactly equal to what was sent? */
    richCheck: async () => {
      const c = need();
      const sent = richPayload(1);
      try {
        const got = await withCap(c.ask(sent), 5000, () => 'rich echo');
        if (deepEqualExact(sent, got)) return { exact: true };
        return { exact: false, reason: describeLoss(sent, got) };
      } catch (err) {
        return { exact: false, reason: `throws: ${errorMessage(err)}`, broken: true };
      }
    },

    /** Open n extra connections (optionally one ask on each first) and keep them open, idle. */
    idleConnect: async (
      /** @type {{ n: number, concurrency: number, capMs: number, askOnce?: boolean }} */ m,
    ) => {
      const t0 = performance.now();
      let opened = 0;
      const deadline = t0 + m.capMs;
      const worker = async () => {
        while (opened < m.n) {
          if (performance.now() > deadline)
            throw new Error(`time cap ${m.capMs} ms exceeded: ${idle.length}/${m.n} connections`);
          opened++;
          const cl = await system.connect({ host, port });
          idle.push(cl);
          if (m.askOnce) {
            const r = await cl.ask(plainPayload(idle.length));
            if (!r) throw new Error('empty echo on idle connection');
          }
        }
      };
      const workers = Array.from({ length: Math.min(m.concurrency, m.n) }, worker);
      await withCap(Promise.all(workers), m.capMs + 1000, () => `${idle.length}/${m.n} connections`);
      await sleep(100);
      return { opened: idle.length, ms: performance.now() - t0 };
    },

    idleClose: async () => {
      const list = idle;
      idle = [];
      await withCap(Promise.allSettled(list.map((c) => c.close())), 10_000, () => 'closing idle connections');
      return {};
    },

    close: () => {
      const list = client ? [client, ...idle] : idle;
      return closeAndExit(Promise.allSettled(list.map((c) => c.close())), 2000);
    },
  };
  return { commands, event: { type: 'ready', pid: process.pid } };
});
