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
