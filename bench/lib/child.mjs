// @ts-check
/**
 * Parent side of proto.mjs, shared by bench/run.mjs and bench/cluster.mjs: a child process
 * driven with JSON lines (`Child`), the set of the live ones, and the clean-up that guarantees
 * none outlives the orchestrator.
 *
 * Children are spawned in the orchestrator's process group (Ctrl+C reaches them too) and exit on
 * their own when their stdin closes (serveCommands), so they cannot outlive it; `killChildren()`
 * (sync) SIGKILLs the ones still alive, from the handlers `installCleanup` sets up.
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MARK } from './proto.mjs';

const rootDir = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The children alive now. */
/** @type {Set<Child>} */
export const children = new Set();

/** Kills every live child at once (safe in an `exit` handler). */
export function killChildren() {
  for (const c of children) c.kill();
}

/**
 * Installs the handlers that call `killAll` when the orchestrator exits, is interrupted or
 * fails. `onSignal` runs first on a signal (e.g. to say what happened).
 * @param {string} tag log prefix, e.g. `[bench]`
 * @param {() => void} killAll
 * @param {(sig: string) => void} [onSignal]
 */
export function installCleanup(tag, killAll, onSignal) {
  process.on('exit', killAll);
  for (const sig of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(sig, () => {
      onSignal?.(sig);
      killAll();
      process.exit(130);
    });
  }
  process.on('uncaughtException', (err) => {
    console.error(`${tag} fatal:`, err);
    killAll();
    process.exit(1);
  });
  process.on('unhandledRejection', (err) => {
    console.error(`${tag} fatal (unhandled rejection):`, err);
    killAll();
    process.exit(1);
  });
}

/**
 * Runs the orchestrator's `main`, then kills what is left and exits (1 on an error).
 * @param {string} tag log prefix, e.g. `[bench]`
 * @param {() => Promise<void>} main
 * @param {() => void} killAll
 */
export function runMain(tag, main, killAll) {
  main()
    .then(() => {
      killAll();
      process.exit(0);
    })
    .catch((err) => {
      console.error(`${tag} error:`, err);
      killAll();
      process.exit(1);
    });
}

/** One child process, driven with JSON lines (proto.mjs). */
export class Child {
  /**
   * @param {string} label
   * @param {string[]} nodeArgs arguments after `node`
   * @param {object} [o]
   * @param {Record<string, string>} [o.env] added to the environment
   * @param {boolean} [o.pinned] run under `taskset -c 0`
   * @param {boolean} [o.bareErrors] a failed command's error is the child's message alone
   *   (default: prefixed with the label)
   */
  constructor(label, nodeArgs, { env, pinned = false, bareErrors = false } = {}) {
    this.label = label;
    this.bareErrors = bareErrors;
    this.exited = false;
    /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>} */
    this.pending = new Map();
    /** @type {Array<{ type: string, resolve: (v: any) => void, reject: (e: Error) => void, timer: NodeJS.Timeout }>} */
    this.waiters = [];
    /** @type {any[]} */
    this.events = [];
    this.nextId = 0;
    const [cmd, args] = pinned
      ? ['taskset', ['-c', '0', process.execPath, ...nodeArgs]]
      : [process.execPath, nodeArgs];
    this.proc = spawn(cmd, args, {
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
      else {
        const error = msg.error ?? 'command failed';
        p.reject(new Error(this.bareErrors ? error : `${this.label}: ${error}`));
      }
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

  /**
   * Resolves once the process has exited, or after `ms` (children exit on their own after
   * `close`; this lets them before they are killed).
   * @param {number} ms
   */
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
