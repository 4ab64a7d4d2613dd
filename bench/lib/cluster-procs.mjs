// @ts-check
/**
 * Process handling for bench/cluster.mjs beyond lib/child.mjs (its node children): the brokers
 * (lib/cluster-broker-proc.mjs), the clean-up that guarantees nothing outlives a run, and the
 * CPU time of another process (the broker).
 *
 * - Each broker runs under a keeper process that leads its own process group; stopping it kills
 *   the group, and the keeper kills the group itself if the orchestrator dies.
 * - `killEverything()` (sync: the children and the broker groups) is what cluster.mjs's
 *   clean-up handlers (lib/child.mjs `installCleanup`) call on exit, on SIGINT/SIGTERM/SIGHUP and
 *   on a fatal error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../scripts/lib/brokers.mjs';
import { killChildren } from './child.mjs';
import { MARK } from './proto.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** @type {Set<Broker>} */
const brokers = new Set();

/** Kills every child and every broker group, at once (safe in an `exit` handler). */
export function killEverything() {
  killChildren();
  for (const b of brokers) b.killNow();
}

/**
 * A broker (redis-server or nats-server) under its keeper, in its own process group.
 * @typedef {object} BrokerInfo
 * @property {'redis' | 'nats'} kind
 * @property {number} port
 * @property {string} url   `redis://127.0.0.1:<port>` or `nats://127.0.0.1:<port>`
 * @property {number} pid   the broker's own pid (for its CPU time)
 */
class Broker {
  /** @param {'redis' | 'nats'} kind @param {number} port */
  constructor(kind, port) {
    this.kind = kind;
    this.port = port;
    this.url = `${kind}://127.0.0.1:${port}`;
    this.pid = 0;
    this.dir = mkdtempSync(join(tmpdir(), `actorspace-bench-${kind}-`));
    this.exited = false;
    this.keeper = spawn(
      process.execPath,
      [join(here, 'cluster-broker-proc.mjs'), kind, String(port), this.dir],
      { detached: true, stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.keeper.stdin.on('error', () => {});
    brokers.add(this);
    this.keeper.on('exit', () => {
      this.exited = true;
    });
  }

  /** @returns {Promise<void>} */
  ready() {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.kind} broker: not ready in 15 s`)), 15_000);
      /** @param {string} line */
      const onLine = (line) => {
        if (!line.startsWith(MARK)) {
          if (line.trim()) console.error(`  [${this.kind}] ${line}`);
          return;
        }
        const msg = JSON.parse(line.slice(MARK.length));
        clearTimeout(timer);
        if (msg.type === 'ready') {
          this.pid = msg.pid;
          resolve();
        } else reject(new Error(msg.error));
      };
      createInterface({ input: /** @type {import('node:stream').Readable} */ (this.keeper.stdout) }).on(
        'line',
        onLine,
      );
      createInterface({ input: /** @type {import('node:stream').Readable} */ (this.keeper.stderr) }).on(
        'line',
        (l) => l.trim() && console.error(`  [${this.kind}] ${l}`),
      );
      this.keeper.once('exit', (code) => reject(new Error(`${this.kind} broker keeper exited (${code})`)));
    });
  }

  /** Kills the group (keeper and broker) now, and removes the broker's files. */
  killNow() {
    if (!this.exited && this.keeper.pid) {
      try {
        process.kill(-this.keeper.pid, 'SIGKILL');
      } catch {}
    }
    rmSync(this.dir, { recursive: true, force: true });
    brokers.delete(this);
  }

  /** Kills the group and waits until the keeper is gone. */
  async stop() {
    const gone = this.exited ? Promise.resolve() : new Promise((r) => this.keeper.once('exit', r));
    this.killNow();
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3_000))]);
    // Once more, now that nothing writes there any more.
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts a broker on a free port of 127.0.0.1.
 * @param {'redis' | 'nats'} kind
 * @returns {Promise<BrokerInfo & { stop(): Promise<void> }>}
 */
export async function startBroker(kind) {
  const broker = new Broker(kind, await freePort());
  try {
    await broker.ready();
  } catch (err) {
    broker.killNow();
    throw err;
  }
  return broker;
}

/**
 * CPU time (user + system, µs) a process has used so far, from /proc/<pid>/stat (Linux; null
 * elsewhere or when it is gone). Clock ticks are 10 ms: use it over seconds, not milliseconds.
 * @param {number} pid
 * @returns {number | null}
 */
export function procCpuUs(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // After the name: state(0) ppid(1) ... utime(11) stime(12), in USER_HZ (100) ticks.
    return (Number(f[11]) + Number(f[12])) * 10_000;
  } catch {
    return null;
  }
}
