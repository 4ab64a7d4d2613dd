// @ts-check
/**
 * Server child process: `node --expose-gc bench/lib/server-proc.mjs <system>`.
 * Starts the system's server on 127.0.0.1:0, prints its port, then obeys commands from the
 * orchestrator: begin/end of a measured window (CPU + tell counting), mem (forced-GC memory
 * sample), close.
 */
import { loadSystem } from '../systems/index.mjs';
import { closeAndExit, logUnhandled, runChild } from './proto.mjs';

const name = process.argv[2];
if (!name) {
  console.error('usage: server-proc.mjs <system>');
  process.exit(2);
}

logUnhandled(`server ${name}`);

// Tell counting. Kept as plain module variables so onTell stays as cheap as possible.
let tellCount = 0;
let tellFirst = 0;
let tellLast = 0;
let tellTarget = Number.POSITIVE_INFINITY;
/** @type {(() => void) | null} */
let tellReached = null;

/** @type {import('../systems/index.mjs').Handlers} */
const handlers = {
  onAsk: (payload) => payload,
  onTell: (_payload) => {
    const now = performance.now();
    if (tellCount === 0) tellFirst = now;
    tellLast = now;
    if (++tellCount >= tellTarget && tellReached) {
      const r = tellReached;
      tellReached = null;
      r();
    }
  },
};

/** @type {NodeJS.CpuUsage | null} */
let cpu0 = null;
let wall0 = 0;

async function forcedGcSample() {
  const gc = /** @type {undefined | (() => void)} */ (/** @type {any} */ (globalThis).gc);
  if (!gc) throw new Error('server must run with --expose-gc');
  for (let i = 0; i < 4; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 40));
  }
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

await runChild(async () => {
  const system = await loadSystem(name);
  if (!system) throw new Error(`system ${name} could not be loaded`);
  const server = await system.startServer({ host: '127.0.0.1', port: 0, handlers });
  const commands = {
    begin: () => {
      tellCount = 0;
      tellFirst = tellLast = 0;
      tellTarget = Number.POSITIVE_INFINITY;
      tellReached = null;
      wall0 = performance.now();
      cpu0 = process.cpuUsage();
      return {};
    },
    /** @param {{ waitTells?: number, timeoutMs?: number }} msg */
    end: async (msg) => {
      let timedOut = false;
      if (msg.waitTells && tellCount < msg.waitTells) {
        tellTarget = msg.waitTells;
        await new Promise((resolve) => {
          const timer = setTimeout(() => {
            timedOut = true;
            tellReached = null;
            resolve(undefined);
          }, msg.timeoutMs ?? 30_000);
          tellReached = () => {
            clearTimeout(timer);
            resolve(undefined);
          };
        });
      }
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      return {
        cpuUs: cpu.user + cpu.system,
        wallMs: performance.now() - wall0,
        tells: { count: tellCount, firstMs: tellFirst, lastMs: tellLast, timedOut },
      };
    },
    mem: () => forcedGcSample(),
    close: () => closeAndExit(server.close(), 2000),
  };
  return { commands, event: { type: 'listening', port: server.port, pid: process.pid } };
});
