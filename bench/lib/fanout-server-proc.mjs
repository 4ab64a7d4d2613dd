// @ts-check
/**
 * Fan-out server child: `node bench/lib/fanout-server-proc.mjs <system>`.
 *
 * Starts the system's fan-out server on 127.0.0.1:0 and a small control server (plain TCP, also
 * on 127.0.0.1:0) on which the subscriber processes report their progress: one line
 * `<proc> <id>` meaning "every subscriber of process <proc> has received event <id>". It prints
 * both ports, then obeys the orchestrator:
 *   - `count`: subscribers the system's server knows of;
 *   - `run { first, n, window?, burst?, intervalMs?, capMs }`: publishes events
 *     first..first+n-1, ONE per event-loop turn by default (as if each were triggered by its own
 *     input; `burst` publishes up to that many in the same turn), either
 *       window mode: never more than `window` events ahead of the slowest subscriber process
 *                    (closed loop on the progress reports: no queue grows without bound), or
 *       paced mode:  event k at t0 + k × intervalMs (open loop, a fixed offered load);
 *     answers when the last one is published, with the wall-clock time of the first and last;
 *   - `end`: CPU (user + system) since the last `run` began (and, when that `run` asked for a
 *     `profile`, the V8 CPU profile of the phase written to <dir>/<name>-server.cpuprofile);
 *   - `close`.
 * The payload is the suite's plain payload plus `sentAt`, the publish time as wall-clock ms with
 * sub-ms resolution (`performance.timeOrigin + performance.now()`), which the subscriber
 * processes subtract from their own clock of the same kind.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { loadSystem } from '../systems/index.mjs';
import { emit, errorMessage, serveCommands } from './proto.mjs';

const name = process.argv[2];
if (!name) {
  console.error('usage: fanout-server-proc.mjs <system>');
  process.exit(2);
}
const TOPIC = 'room/bench';
const origin = performance.timeOrigin;
const wallNow = () => origin + performance.now();

let unhandled = 0;
process.on('unhandledRejection', (err) => {
  if (unhandled++ < 3) console.error(`[fanout server ${name}] unhandled rejection: ${errorMessage(err)}`);
});

/** Progress per subscriber process: the last event id all its subscribers have. */
/** @type {Map<number, number>} */
const acked = new Map();
/** Called when a progress report arrives (the window publisher waits on it). */
let onAck = () => {};
const minAcked = () => {
  let min = Number.POSITIVE_INFINITY;
  for (const v of acked.values()) if (v < min) min = v;
  return min === Number.POSITIVE_INFINITY ? 0 : min;
};

/** @type {NodeJS.CpuUsage | null} */
let cpu0 = null;
/** V8 CPU profile of one phase (`run { profile }` … `end`), written as <dir>/<name>-server.cpuprofile. */
/** @type {{ session: Session, file: string } | null} */
let profiling = null;

try {
  const system = await loadSystem(name);
  if (!system) throw new Error(`system ${name} could not be loaded (is its package built?)`);
  if (!system.fanout) throw new Error(`system ${name} has no fan-out side`);
  const server = await system.fanout.startServer({ host: '127.0.0.1', port: 0, topic: TOPIC });

  const control = createTcpServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    createInterface({ input: sock }).on('line', (line) => {
      const sp = line.indexOf(' ');
      if (sp < 0) return;
      const proc = Number(line.slice(0, sp));
      const id = Number(line.slice(sp + 1));
      if (id > (acked.get(proc) ?? 0)) acked.set(proc, id);
      onAck();
    });
  });
  await new Promise((resolve) => control.listen(0, '127.0.0.1', () => resolve(undefined)));
  const controlPort = /** @type {import('node:net').AddressInfo} */ (control.address()).port;

  serveCommands({
    count: () => ({ subscribers: server.subscribers() }),

    /** @param {{ first: number, n: number, window?: number, burst?: number, intervalMs?: number, procs: number, capMs: number, profile?: { dir: string, name: string } }} m */
    run: async (m) => {
      if (m.profile) {
        const session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        profiling = { session, file: join(m.profile.dir, `${m.profile.name}-server.cpuprofile`) };
      }
      cpu0 = process.cpuUsage();
      const last = m.first + m.n - 1;
      // Progress of every process starts just below this phase's first event.
      for (let p = 0; p < m.procs; p++) acked.set(p, Math.max(acked.get(p) ?? 0, m.first - 1));
      let next = m.first;
      let firstAt = 0;
      let lastAt = 0;
      let waits = 0;
      const publishOne = () => {
        const sentAt = wallNow();
        if (next === m.first) firstAt = sentAt;
        server.publish({ id: next, text: 'hello world', tags: ['a', 'b'], at: Date.now(), sentAt });
        lastAt = sentAt;
        next++;
      };
      const deadline = performance.now() + m.capMs;
      await new Promise((resolve, reject) => {
        /** @type {NodeJS.Timeout} */
        const cap = setTimeout(() => {
          onAck = () => {};
          reject(new Error(`time cap ${m.capMs} ms exceeded: published ${next - m.first}/${m.n}`));
        }, m.capMs);
        const done = () => {
          clearTimeout(cap);
          onAck = () => {};
          resolve(undefined);
        };
        if (m.intervalMs) {
          // Paced: event k at t0 + k × interval, whatever the subscribers do.
          const t0 = performance.now();
          const tick = () => {
            if (performance.now() > deadline) return;
            publishOne();
            if (next > last) return done();
            const due = t0 + (next - m.first) * /** @type {number} */ (m.intervalMs);
            setTimeout(tick, Math.max(0, due - performance.now()));
          };
          tick();
          return;
        }
        // Window: one publish per turn while fewer than `window` events are unconfirmed.
        const window = m.window ?? 16;
        const burst = Math.max(1, m.burst ?? 1);
        let scheduled = false;
        const pump = () => {
          scheduled = false;
          if (next > last || performance.now() > deadline) return;
          if (next - 1 - minAcked() >= window) {
            waits++;
            return; // the next progress report calls schedule()
          }
          publishOne();
          // `burst` > 1: more events in the same turn (a burst of inputs handled at once).
          for (let b = 1; b < burst && next <= last && next - 1 - minAcked() < window; b++) publishOne();
          if (next > last) done();
          else schedule();
        };
        const schedule = () => {
          if (scheduled) return;
          scheduled = true;
          setImmediate(pump);
        };
        onAck = schedule;
        schedule();
      });
      return { firstAt, lastAt, published: next - m.first, windowWaits: waits };
    },

    end: async () => {
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      const mem = process.memoryUsage();
      if (profiling) {
        const { session, file } = profiling;
        profiling = null;
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        writeFileSync(file, JSON.stringify(profile));
      }
      return { cpuUs: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed };
    },

    close: async () => {
      control.close();
      await Promise.race([server.close(), new Promise((r) => setTimeout(r, 2000))]);
      setImmediate(() => process.exit(0));
      return {};
    },
  });
  emit({ type: 'listening', port: server.port, controlPort, pid: process.pid });
} catch (err) {
  emit({ type: 'fatal', error: errorMessage(err) });
  process.exit(1);
}
