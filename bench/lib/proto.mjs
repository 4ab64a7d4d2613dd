// @ts-check
/**
 * Line protocol between the orchestrator (run.mjs) and its child processes.
 * Parent -> child: one JSON object per line on the child's stdin: { id, cmd, ...args }.
 * Child -> parent: lines on stdout prefixed with MARK: replies { id, ok, ...result } or
 * unsolicited events { type, ... } (e.g. { type: 'listening', port }).
 * Anything else a child prints is passed through (prefixed) to the parent's stderr.
 */
import { createInterface } from 'node:readline';

export const MARK = '@@bench ';

/** @param {Record<string, unknown>} msg */
export function emit(msg) {
  process.stdout.write(MARK + JSON.stringify(msg) + '\n');
}

/**
 * Child side: dispatch commands from stdin to handlers; exit when the parent goes away.
 * @param {Record<string, (msg: any) => Promise<any> | any>} handlers
 */
export function serveCommands(handlers) {
  const rl = createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    if (!line.trim()) return;
    /** @type {any} */
    let msg;
    try {
      msg = JSON.parse(line);
    } catch {
      return;
    }
    const fn = handlers[msg.cmd];
    try {
      if (!fn) throw new Error(`unknown command ${msg.cmd}`);
      const result = await fn(msg);
      emit({ id: msg.id, ok: true, ...(result ?? {}) });
    } catch (err) {
      const e = /** @type {Error} */ (err);
      emit({ id: msg.id, ok: false, error: e?.message ?? String(err) });
    }
  });
  // The parent closed our stdin (it exited or killed the pair): never outlive it.
  rl.on('close', () => process.exit(0));
}

/** @param {unknown} err */
export function errorMessage(err) {
  return err instanceof Error ? err.message : String(err);
}

/**
 * What a child's set-up gives `runChild`: its command handlers, and the event that says it is
 * up (e.g. `{ type: 'ready', pid }`).
 * @typedef {{ commands: Record<string, (msg: any) => Promise<any> | any>, event: Record<string, unknown> }} ChildSetup
 */

/**
 * Child side, the whole life of a child: `start` sets it up; its commands are served, then its
 * event is sent. A failure on the way is sent as `{ type: 'fatal', error }` and the child exits.
 * @param {() => Promise<ChildSetup>} start
 */
export async function runChild(start) {
  try {
    const { commands, event } = await start();
    serveCommands(commands);
    emit(event);
  } catch (err) {
    emit({ type: 'fatal', error: errorMessage(err) });
    process.exit(1);
  }
}

/**
 * Child side of `close`: waits for `closing` (at most `capMs` when given), then exits once the
 * reply (the `{}` returned) is out.
 * @param {Promise<unknown>} closing
 * @param {number} [capMs]
 */
export async function closeAndExit(closing, capMs) {
  await (capMs === undefined ? closing : Promise.race([closing, new Promise((r) => setTimeout(r, capMs))]));
  setImmediate(() => process.exit(0));
  return {};
}

/**
 * Child side: logs the first three unhandled rejections, prefixed with `label`, rather than
 * dying of them.
 * @param {string} label
 */
export function logUnhandled(label) {
  let unhandled = 0;
  process.on('unhandledRejection', (err) => {
    if (unhandled++ < 3) console.error(`[${label}] unhandled rejection: ${errorMessage(err)}`);
  });
}
