// @ts-check
/**
 * The publishing side of the topic fan-out, shared by lib/fanout-server-proc.mjs (one server of
 * the fan-out section) and lib/cluster-node-proc.mjs (one node of the cluster's fan-out).
 *
 * Beside the system's server it runs a small control server (plain TCP on 127.0.0.1:0) on which
 * the subscriber processes (lib/fanout-client-proc.mjs) report their progress: one line
 * `<proc> <id>` meaning "every subscriber of process <proc> has received event <id>". Commands:
 *   - `count`: subscribers the system's server knows of;
 *   - `begin { profile? }`: starts the CPU count (and a V8 CPU profile) as `run` does, for a
 *     process that does not publish in the phase;
 *   - `run { first, n, window?, burst?, intervalMs?, procs, capMs, profile? }`: publishes events
 *     first..first+n-1, ONE per event-loop turn by default (as if each were triggered by its own
 *     input; `burst` publishes up to that many in the same turn), either
 *       window mode: never more than `window` events ahead of the slowest subscriber process
 *                    (closed loop on the progress reports: no queue grows without bound), or
 *       paced mode:  event k at t0 + k × intervalMs (open loop, a fixed offered load);
 *     answers when the last one is published, with the wall-clock time of the first and last;
 *   - `end`: CPU (user + system) since the last `run`/`begin` began, RSS and heap (and, when
 *     that asked for a `profile`, the V8 CPU profile of the phase in <dir>/<name><suffix>.cpuprofile);
 *   - `close`.
 * The payload is the suite's plain payload plus `sentAt`, the publish time as wall-clock ms with
 * sub-ms resolution (`performance.timeOrigin + performance.now()`), which the subscriber
 * processes subtract from their own clock of the same kind.
 */
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { PhaseCpu } from './phase.mjs';
import { closeAndExit } from './proto.mjs';

/** The topic every fan-out subscriber is on. */
export const TOPIC = 'room/bench';
const origin = performance.timeOrigin;
const wallNow = () => origin + performance.now();

/**
 * Starts the control server and returns the publisher's commands and its `listening`
 * event (for proto.mjs `runChild`).
 * @param {import('../systems/index.mjs').FanoutServer} server
 * @param {object} o
 * @param {string} o.profileSuffix  added to the profile's name (e.g. `-server`)
 * @param {number} o.closeCapMs     how long `close` waits for the server to close
 */
export async function fanoutPublisher(server, o) {
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
  const phase = new PhaseCpu();
  /** @param {{ dir: string, name: string } | undefined} profile */
  const startCount = async (profile) => {
    if (profile) await phase.startProfile(join(profile.dir, `${profile.name}${o.profileSuffix}.cpuprofile`));
    phase.startCount();
  };

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

  const commands = {
    count: () => ({ subscribers: server.subscribers() }),

    /** @param {{ profile?: { dir: string, name: string } }} m */
    begin: async (m) => {
      await startCount(m.profile);
      return {};
    },

    /** @param {{ first: number, n: number, window?: number, burst?: number, intervalMs?: number, procs: number, capMs: number, profile?: { dir: string, name: string } }} m */
    run: async (m) => {
      await startCount(m.profile);
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
      const cpuUs = phase.cpuUs();
      const mem = process.memoryUsage();
      await phase.stopProfile();
      return { cpuUs, rss: mem.rss, heapUsed: mem.heapUsed };
    },

    close: () => {
      control.close();
      return closeAndExit(server.close(), o.closeCapMs);
    },
  };
  return { commands, event: { type: 'listening', port: server.port, controlPort, pid: process.pid } };
}
