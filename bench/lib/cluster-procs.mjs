// @ts-check
/**
 * Process handling for bench/cluster.mjs: child processes driven over the line protocol of
 * proto.mjs, the brokers (lib/cluster-broker-proc.mjs), and the clean-up that guarantees nothing
 * outlives a run.
 *
 * - Node children are spawned in the orchestrator's process group (Ctrl+C reaches them too) and
 *   exit on their own when their stdin closes (serveCommands), so they cannot outlive it.
 * - Each broker runs under a keeper process that leads its own process group; stopping it kills
 *   the group, and the keeper kills the group itself if the orchestrator dies.
 * - `killEverything()` (sync) is called on exit, on SIGINT/SIGTERM/SIGHUP and on a fatal error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MARK } from './proto.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const rootDir = resolve(here, '..', '..');

/** @type {Set<Child>} */
const children = new Set();
/** @type {Set<Broker>} */
const brokers = new Set();

/** Kills every child and every broker group, at once (safe in an `exit` handler). */
export function killEverything() {
  for (const c of children) c.kill();
  for (const b of brokers) b.killNow();
}

/**
 * Installs the handlers that kill everything when the orchestrator exits, is interrupted or
 * fails. `onSignal` runs first (e.g. to say what happened).
 * @param {(what: string) => void} [onSignal]
 */
export function installCleanup(onSignal) {
  process.on('exit', killEverything);
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(sig, () => {
      onSignal?.(sig);
      killEverything();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error('[cluster] fatal:', err);
    killEverything();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error('[cluster] fatal (unhandled rejection):', err);
    killEverything();
    process.exit(1);
  });
}

/** One child process, driven with JSON lines (proto.mjs). */
export class Child {
  /**
   * @param {string} label
   * @param {string[]} nodeArgs arguments after `node`
   * @param {Record<string, string>} [env] added to the environment
   */
  constructor(label, nodeArgs, env) {
    this.label = label;
    this.exited = false;
    /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>} */
    this.pending = new Map();
    /** @type {Array<{ type: string, resolve: (v: any) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>} */
    this.waiters = [];
    /** @type {any[]} */
    this.events = [];
    this.nextId = 0;
    this.proc = spawn(process.execPath, nodeArgs, {
      cwd: rootDir,
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(env && { env: { ...process.env, ...env } }),
    });
    this.pid = this.proc.pid ?? 0;
    children.add(this);
    this.proc.stdin.on('error', () => {});
    createInterface({ input: this.proc.stdout }).on('line', (line) => this.#onLine(line));
    createInterface({ input: this.proc.stderr }).on('line', (line) => {
      if (line.trim()) console.error(`  [${this.label}] ${line}`);
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = true;
      children.delete(this);
      const err = new Error(`${this.label} exited (code ${code}, signal ${signal})`);
      for (const p of this.pending.values()) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.pending.clear();
      for (const w of this.waiters) {
        clearTimeout(w.timer);
        w.reject(err);
      }
      this.waiters = [];
    });
    this.proc.on('error', (err) => console.error(`  [${this.label}] spawn error: ${err.message}`));
  }

  /** @param {string} line */
  #onLine(line) {
    if (!line.startsWith(MARK)) {
      if (line.trim()) console.error(`  [${this.label}] ${line}`);
      return;
    }
    /** @type {any} */
    let msg;
    try {
      msg = JSON.parse(line.slice(MARK.length));
    } catch {
      return;
    }
    if (msg.id !== undefined) {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      clearTimeout(p.timer);
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(`${this.label}: ${msg.error ?? 'command failed'}`));
      return;
    }
    const w = this.waiters.find((x) => x.type === msg.type || msg.type === 'fatal');
    if (w) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      clearTimeout(w.timer);
      if (msg.type === 'fatal') w.reject(new Error(`${this.label}: ${msg.error}`));
      else w.resolve(msg);
    } else this.events.push(msg);
  }

  /**
   * @param {string} type
   * @param {number} timeoutMs
   * @returns {Promise<any>}
   */
  waitEvent(type, timeoutMs) {
    const i = this.events.findIndex((e) => e.type === type || e.type === 'fatal');
    if (i >= 0) {
      const [e] = this.events.splice(i, 1);
      return e.type === 'fatal' ? Promise.reject(new Error(`${this.label}: ${e.error}`)) : Promise.resolve(e);
    }
    if (this.exited) return Promise.reject(new Error(`${this.label} already exited`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.timer !== timer);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.push({ type, resolve, reject, timer });
    });
  }

  /**
   * @param {string} cmd
   * @param {Record<string, unknown>} args
   * @param {number} timeoutMs
   * @returns {Promise<any>}
   */
  request(cmd, args, timeoutMs) {
    if (this.exited) return Promise.reject(new Error(`${this.label} already exited`));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`${this.label}: "${cmd}" gave no answer within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.proc.stdin.write(`${JSON.stringify({ id, cmd, ...args })}\n`);
    });
  }

  /** Resolves once the process exited, or after `ms`. @param {number} ms */
  exitWithin(ms) {
    if (this.exited) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.proc.once('exit', () => {
        clearTimeout(timer);
        resolve(undefined);
      });
    });
  }

  kill() {
    if (!this.exited) {
      try {
        this.proc.kill('SIGKILL');
      } catch {}
    }
  }
}

/** A TCP port of 127.0.0.1 nobody listens on now (never a broker's default port). */
export async function freePort() {
  for (;;) {
    const server = createServer();
    await new Promise((r) => server.listen(0, '127.0.0.1', () => r(undefined)));
    const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;
    await new Promise((r) => server.close(() => r(undefined)));
    if (port !== 6379 && port !== 4222) return port;
  }
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

/**
 * CPU time the whole machine spent busy so far (µs; from /proc/stat, null elsewhere).
 * @returns {number | null}
 */
export function machineBusyUs() {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0];
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    const busy = f[0] + f[1] + f[2] + f[5] + f[6] + f[7];
    return (busy * 1e6) / 100;
  } catch {
    return null;
  }
}
