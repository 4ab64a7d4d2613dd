/**
 * `serve()`: loads an `actorspace.config.{mjs,js}` and serves it on node:http. The engine of
 * the `actorspace serve` command, exported so tests and the playground can start a server
 * from a config file without spawning the CLI.
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ActorSpaceError } from '@actorspace/core';
import { type ActorServer, type ActorServerOptions, createActorServer } from '@actorspace/server';
import { attach } from '@actorspace/server/node';

/** The config files `serve` looks for, in order, when it is given none. */
export const DEFAULT_CONFIG_FILES = ['actorspace.config.mjs', 'actorspace.config.js'] as const;

const DEFAULT_PORT = 8080;
const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PATH = '/actorspace';
/** How long closed sockets get to flush their last frames before they are destroyed. */
const SOCKET_GRACE_MS = 1000;

/**
 * The default export of an `actorspace.config.js`: the options of `createActorServer` plus
 * where to listen.
 *
 * @example
 * // actorspace.config.mjs
 * export default {
 *   port: 3000,
 *   routes: { '/echo': () => ({ receive: (type, data) => data }) },
 * };
 */
export type ServeConfig = ActorServerOptions & {
  /** Port to listen on; 0 picks a free one. @default 8080 */
  port?: number;
  /** Interface to listen on. @default '127.0.0.1' */
  host?: string;
  /** Mount path of the WebSocket endpoint and the engine's HTTP endpoints. @default '/actorspace' */
  path?: string;
  /**
   * Folder that relative `client` paths of routes are resolved against; a relative `root` is
   * itself relative to the config file's folder.
   * @default the config file's folder
   */
  root?: string;
};

/** Options of {@link serve}. Each one overrides the config file's value of the same name. */
export interface ServeOptions {
  /**
   * The config file, or a folder to look for one in; relative to `cwd`.
   * @default the first of `actorspace.config.mjs`, `actorspace.config.js` in `cwd`
   */
  config?: string;
  /** Folder that `config` is resolved against. @default process.cwd() */
  cwd?: string;
  /** Port to listen on; 0 picks a free one. @default the config's `port`, else 8080 */
  port?: number;
  /** Interface to listen on. @default the config's `host`, else '127.0.0.1' */
  host?: string;
  /** Mount path. @default the config's `path`, else '/actorspace' */
  path?: string;
}

/** A page served for a route that has a `client`. */
export interface ServedPage {
  /** The route name, e.g. `'/tools'`. */
  readonly route: string;
  /** Where a browser opens it. */
  readonly url: string;
}

/** What {@link serve} resolves with: where it listens, and how to stop it. */
export interface ServeHandle {
  /** Absolute path of the config file that was loaded. */
  readonly config: string;
  /** Base URL of the HTTP server, e.g. `http://127.0.0.1:8080` (no trailing slash). */
  readonly url: string;
  /** The port actually listened on (the real one when 0 was asked for). */
  readonly port: number;
  /** The mount path, e.g. `'/actorspace'`; clients connect to `ws://<host>:<port><path>`. */
  readonly path: string;
  /** The zero-build page of each route with a `client`. */
  readonly pages: readonly ServedPage[];
  /** The engine, for listeners of its `connection`, `disconnect` and `error` events. */
  readonly actors: ActorServer;
  /**
   * Graceful shutdown: stops accepting connections, closes every session with 1001 and runs
   * every actor's `onStop` (`actors.close()`), then ends the remaining sockets. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * Loads an ActorSpace config file and serves it on node:http: `createActorServer(config)`
 * mounted with `attach(server, actors, { path })`. Relative `client` paths of routes are
 * resolved against the config file's folder.
 *
 * @throws ActorSpaceError `INVALID_MESSAGE` when the config file is missing, cannot be
 *   imported (syntax error, failing import, throwing top level), has no default export, its
 *   routes or options are malformed, or the port cannot be listened on (`details.code` is
 *   then the system code, e.g. `'EADDRINUSE'`). The message names the file and the problem.
 * @example
 * import { serve } from '@actorspace/node';
 *
 * const server = await serve({ config: 'actorspace.config.mjs', port: 0 });
 * console.log(`listening on ${server.url}`);
 * await server.close();
 */
export async function serve(options: ServeOptions = {}): Promise<ServeHandle> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const file = findConfig(options.config, cwd);
  const at: ConfigFile = { file, name: displayName(file, cwd) };
  const config = await loadConfig(at);

  const { port: configPort, host: configHost, path: configPath, root, ...engine } = config;
  const port = checkPort(options.port ?? configPort ?? DEFAULT_PORT, at);
  const host = checkString(options.host ?? configHost ?? DEFAULT_HOST, 'host', at);
  const path = checkString(options.path ?? configPath ?? DEFAULT_PATH, 'path', at);
  const folder = dirname(file);
  const rootDir = resolve(folder, checkString(root ?? folder, 'root', at));

  let actors: ActorServer;
  try {
    actors = createActorServer({ ...(engine as ActorServerOptions), root: rootDir });
  } catch (error) {
    throw configError(at, messageOf(error), error);
  }

  // The host's own answer for what the engine does not serve: an index of the pages at `/`.
  const server = createServer((req, res) => {
    if (req.method === 'GET' && new URL(req.url ?? '/', 'http://x').pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(indexPage(actors, displayName(file, cwd)));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found');
  });
  const sockets = new Set<Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const attachment = attach(server, actors, { path });

  try {
    await listen(server, port, host);
  } catch (error) {
    attachment.detach();
    await actors.close();
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${host}:${port}`;
    const problem =
      code === 'EADDRINUSE'
        ? `port ${port} is already in use on ${host} (EADDRINUSE); choose another port`
        : `cannot listen on ${where}: ${messageOf(error)}`;
    throw new ActorSpaceError('INVALID_MESSAGE', `${at.name}: ${problem}`, {
      cause: error,
      details: { file, code, host, port },
    });
  }

  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${urlHost(host)}:${actualPort}`;
  const pages = [...actors.routes]
    .filter(([, route]) => typeof route.client === 'string')
    .map(([route]) => ({ route, url: `${url}${route}` }));

  let closing: Promise<void> | null = null;
  return {
    config: file,
    url,
    port: actualPort,
    path: attachment.path,
    pages,
    actors,
    close() {
      closing ??= shutdown(server, sockets, actors, attachment.detach);
      return closing;
    },
  };
}

function findConfig(given: string | undefined, cwd: string): string {
  const target = given === undefined ? cwd : resolve(cwd, given);
  const kind = statKind(target);
  if (kind === 'file') return target;
  if (kind === 'missing') {
    throw new ActorSpaceError(
      'INVALID_MESSAGE',
      `${displayName(target, cwd)}: config file not found; check the path`,
      { details: { file: target } },
    );
  }
  for (const candidate of DEFAULT_CONFIG_FILES) {
    const file = join(target, candidate);
    if (statKind(file) === 'file') return file;
  }
  throw new ActorSpaceError(
    'INVALID_MESSAGE',
    `${target}: no ${DEFAULT_CONFIG_FILES.join(' or ')} in this folder; create one or name the config file`,
    { details: { file: null, folder: target } },
  );
}

function statKind(path: string): 'file' | 'folder' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

async function loadConfig(at: ConfigFile): Promise<ServeConfig> {
  let mod: { default?: unknown };
  try {
    mod = await import(/* @vite-ignore */ pathToFileURL(at.file).href);
  } catch (error) {
    throw configError(at, importProblem(error, at.file), error);
  }
  const config = mod.default;
  if (config === undefined) {
    throw configError(at, 'has no default export; add `export default { routes: { ... } }`');
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw configError(
      at,
      `the default export must be an object like { routes: { ... } }, got ${kindOf(config)}`,
    );
  }
  const routes = (config as { routes?: unknown }).routes;
  if (typeof routes !== 'object' || routes === null || Array.isArray(routes)) {
    throw configError(
      at,
      routes === undefined
        ? 'the default export has no routes; add routes: { "/name": (ctx) => actor }'
        : `routes must be an object of route → factory, got ${kindOf(routes)}`,
    );
  }
  return config as ServeConfig;
}

/** One line saying why `import()` of the config failed. */
function importProblem(error: unknown, file: string): string {
  if (error instanceof SyntaxError) {
    // V8 does not say where an ES module's syntax error is; `node --check` does, on its
    // first line of output (`file:///.../actorspace.config.mjs:3`). Only on this error path.
    const line = syntaxErrorLine(file);
    return `syntax error${line ? ` on line ${line}` : ''}: ${error.message}`;
  }
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ERR_MODULE_NOT_FOUND' || code === 'ERR_UNKNOWN_FILE_EXTENSION') {
    return `cannot be imported: ${messageOf(error)}`;
  }
  return `threw while loading: ${messageOf(error, true)}`;
}

function syntaxErrorLine(file: string): number | null {
  const check = spawnSync(process.execPath, ['--check', file], { encoding: 'utf8', timeout: 5000 });
  const match = /:(\d+)\s*$/m.exec(check.stderr?.split('\n')[0] ?? '');
  return match ? Number(match[1]) : null;
}

function checkPort(port: unknown, at: ConfigFile): number {
  if (typeof port === 'number' && Number.isInteger(port) && port >= 0 && port <= 65535) return port;
  throw configError(at, `port must be an integer from 0 to 65535, got ${kindOf(port)}`);
}

function checkString(value: unknown, option: string, at: ConfigFile): string {
  if (typeof value === 'string' && value !== '') return value;
  throw configError(at, `${option} must be a non-empty string, got ${kindOf(value)}`);
}

/** Where a config problem was found: the file's absolute path and its display name. */
interface ConfigFile {
  file: string;
  name: string;
}

function configError(at: ConfigFile, problem: string, cause?: unknown): ActorSpaceError {
  const code = cause instanceof ActorSpaceError ? cause.code : 'INVALID_MESSAGE';
  return new ActorSpaceError(code, `${at.name}: ${problem}`, {
    details: { file: at.file },
    ...(cause !== undefined && { cause }),
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const onError = (error: Error): void => reject(error);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolvePromise();
    });
  });
}

async function shutdown(
  server: Server,
  sockets: Set<Socket>,
  actors: ActorServer,
  detach: () => void,
): Promise<void> {
  const closed = new Promise<void>((done) => server.close(() => done()));
  await actors.close();
  detach();
  // The sessions are closed; end what is left (keep-alive HTTP, sockets whose close
  // handshake is still in flight) so their last frames flush, then cut off stragglers.
  for (const socket of sockets) socket.end();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const grace = new Promise<void>((done) => (timer = setTimeout(done, SOCKET_GRACE_MS)));
  await Promise.race([closed, grace]);
  clearTimeout(timer);
  for (const socket of sockets) socket.destroy();
  server.closeAllConnections();
  await closed;
}

/** The file as the user wrote it: relative to `cwd` when it is inside it. */
function displayName(file: string, cwd: string): string {
  const rel = relative(cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function messageOf(error: unknown, withName = false): string {
  if (error instanceof Error) {
    const message = error.message.replace(/\s*\n\s*/g, ' ').trim();
    return withName && !(error instanceof ActorSpaceError) ? `${error.name}: ${message}` : message;
  }
  return String(error);
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return `a ${typeof value}`;
}

/** The page `actorspace serve` answers `/` with: the config's routes, linked where they have a page. */
function indexPage(actors: ActorServer, config: string): string {
  const html = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = [...actors.routes]
    .map(([route, def]) => {
      const name = html(def.title ?? route);
      return def.client
        ? `<li><a href="${html(route)}">${name}</a> <code>${html(route)}</code></li>`
        : `<li>${name} <code>${html(route)}</code> (no page: pair with <code>connect()</code>)</li>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ActorSpace: ${html(config)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem}code{color:#555}</style>
</head>
<body>
<h1>Routes of ${html(config)}</h1>
<ul>
${rows}
</ul>
</body>
</html>
`;
}
