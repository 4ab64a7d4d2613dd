// @ts-check
/**
 * Registry of benchmarked systems.
 *
 * A system is one file `bench/systems/<name>.mjs` exporting:
 *   - `meta`        {@link SystemMeta}: label, notes, browser-bundle entry
 *   - `startServer` ({ host, port, handlers }) => Promise<{ port, close() }>
 *   - `connect`     ({ host, port }) => Promise<{ ask(payload), tell(payload), close() }>
 *   - `fanout`      optional {@link FanoutSystem}: one server-side publisher, many subscribers (the
 *                   fan-out section of run.mjs runs the systems that export it)
 * Files are discovered automatically (names starting with `_` are ignored); ORDER only fixes the
 * display order. A file that fails to import (e.g. its package is not built yet) is skipped with a
 * warning, so the harness keeps working.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * @typedef {object} Handlers
 * @property {(payload: any) => any} onAsk   reply value for an ask (the harness echoes the payload)
 * @property {(payload: any) => void} onTell called once per one-way message received
 */
/** @typedef {{ port: number, close(): Promise<void> }} BenchServer */
/**
 * @typedef {object} BenchClient
 * @property {(payload: any) => PromiseLike<any>} ask  request/response; resolves with the reply
 * @property {(payload: any) => void} tell             fire-and-forget
 * @property {() => Promise<void>} close
 */
/**
 * @typedef {object} SystemMeta
 * @property {string} label                 display name in the report
 * @property {string} [notes]               one line on how the system is driven
 * @property {{ entry: string | null, note?: string }} [bundle]
 *   esbuild stdin for the browser-bundle measure (one named import), or null with a note
 */
/**
 * Fan-out (publish/subscribe) side of a system, for the fan-out section.
 * @typedef {object} FanoutServer
 * @property {number} port
 * @property {(data: any) => void} publish   one event to every subscriber of the topic, from server code
 * @property {() => number} subscribers      subscribers the server knows of (to check the set-up)
 * @property {() => Promise<void>} close
 */
/**
 * @typedef {object} FanoutSystem
 * @property {string} notes one line on how publish and subscribe are done
 * @property {string} [label] the row label, when it differs from the system's
 * @property {(o: { host: string, port: number, topic: string, topicOptions?: object }) => Promise<FanoutServer>} startServer
 * @property {(o: { host: string, port: number, topic: string, onEvent: (data: any) => void }) => Promise<{ close(): Promise<void> }>} subscribe
 *   one connection subscribed to `topic`; resolves once the server has the subscription.
 *   `onEvent` is called once per event received, with the published data.
 */
/**
 * @typedef {object} System
 * @property {string} name
 * @property {string} file
 * @property {SystemMeta} meta
 * @property {(o: { host: string, port: number, handlers: Handlers }) => Promise<BenchServer>} startServer
 * @property {(o: { host: string, port: number }) => Promise<BenchClient>} connect
 * @property {FanoutSystem} [fanout]
 */

/** The reference every ratio is computed against. Always run. */
export const FLOOR = 'ws-json';

/** Display order; files not listed are appended alphabetically. */
export const ORDER = [
  'ws-json',
  'ws-superjson',
  'socketio',
  'birpc',
  'capnweb',
  // ───────────────────────────── ActorSpace ─────────────────────────────
  // Provided by bench/systems/actorspace.mjs (added by the ActorSpace integration: server via
  // createActorServer + attach from @actorspace/server / @actorspace/server/node, client via
  // connect from @actorspace/node, bundle entry `export { connect } from '@actorspace/browser'`).
  // Until that file exists and the packages are built (`pnpm build`), it is skipped with a warning.
  // The report's "Targets" table is produced for this name.
  'actorspace',
  'actorspace-resumable',
  // ───────────────────────────────────────────────────────────────────────
];

/** Name of the ActorSpace system (the report's Targets table keys on it). */
export const ACTORSPACE = 'actorspace';

const dir = fileURLToPath(new URL('.', import.meta.url));

/** @returns {string[]} names of all system files present, in display order */
export function listSystemNames() {
  const present = readdirSync(dir)
    .filter((f) => f.endsWith('.mjs') && f !== 'index.mjs' && !f.startsWith('_'))
    .map((f) => f.slice(0, -4));
  const ordered = ORDER.filter((n) => present.includes(n));
  const rest = present.filter((n) => !ORDER.includes(n)).sort();
  return [...ordered, ...rest];
}

/**
 * Import one system. Returns null (after `warn`) if the file is missing, fails to import, or does
 * not export the expected shape.
 * @param {string} name
 * @param {(msg: string) => void} [warn]
 * @returns {Promise<System | null>}
 */
export async function loadSystem(name, warn = (m) => console.error(m)) {
  if (!/^[\w.-]+$/.test(name)) {
    warn(`[bench] system "${name}": invalid name, skipped`);
    return null;
  }
  const file = join(dir, `${name}.mjs`);
  if (!existsSync(file)) {
    warn(`[bench] system "${name}": bench/systems/${name}.mjs not found, skipped`);
    return null;
  }
  /** @type {any} */
  let mod;
  try {
    mod = await import(pathToFileURL(file).href);
  } catch (err) {
    const e = /** @type {any} */ (err);
    const first = String(e?.message ?? e).split('\n')[0];
    warn(`[bench] system "${name}": failed to import, skipped (${first})`);
    return null;
  }
  if (typeof mod.startServer !== 'function' || typeof mod.connect !== 'function' || !mod.meta?.label) {
    warn(`[bench] system "${name}": must export meta{label}, startServer() and connect(); skipped`);
    return null;
  }
  return {
    name,
    file,
    meta: mod.meta,
    startServer: mod.startServer,
    connect: mod.connect,
    ...(mod.fanout ? { fanout: mod.fanout } : {}),
  };
}

/**
 * Load every system (or the `only` subset; the floor is always included).
 * @param {{ only?: string[], warn?: (msg: string) => void }} [opts]
 * @returns {Promise<System[]>}
 */
export async function loadSystems(opts = {}) {
  const warn = opts.warn ?? ((m) => console.error(m));
  let names = listSystemNames();
  if (!names.includes(ACTORSPACE)) {
    warn(`[bench] system "${ACTORSPACE}": bench/systems/${ACTORSPACE}.mjs not found yet, skipped`);
  }
  if (opts.only?.length) {
    for (const n of opts.only) if (!names.includes(n)) warn(`[bench] --only: unknown system "${n}" ignored`);
    names = names.filter((n) => n === FLOOR || opts.only?.includes(n));
  }
  /** @type {System[]} */
  const out = [];
  for (const n of names) {
    const s = await loadSystem(n, warn);
    if (s) out.push(s);
  }
  return out;
}
