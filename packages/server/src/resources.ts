/**
 * The resources of a zero-build page: the HTML page that boots the client root actor and
 * pairs it with the route's server actor, the boot module, the client module and the files
 * next to it. A route's `ResourceProvider` customises any of them; the default provider makes
 * them from the route's `client` module.
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, normalize, resolve, sep } from 'node:path';

/** One resource: its bytes and MIME type, optionally its cache policy. */
export interface Resource {
  /** The bytes, or text sent as UTF-8. */
  content: string | Uint8Array;
  /** The `Content-Type` header, e.g. `text/css; charset=utf-8` (see {@link contentTypeOf}). */
  contentType: string;
  /** `Cache-Control` value. @default 'no-cache' (revalidated with an ETag) */
  cacheControl?: string;
}

/** The request a resource is served for. */
export interface ResourceRequest {
  /** `GET` or `HEAD`. */
  method: string;
  /** The request URL, path-only or absolute. */
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
}

/**
 * Supplies the resources of a route's page. `path` is relative to the route: `/` is the
 * page, `/client.js` the client module, `/style.css` a file next to it. Return null to let
 * the next provider (finally the default one) answer.
 */
export interface ResourceProvider {
  /**
   * The resource at `path` (relative to the route), or null to pass.
   * @param path `/` for the page, `/client.js`, `/boot.js`, or a file's path next to the client module.
   * @param request The HTTP request it is served for.
   */
  getResource(path: string, request: ResourceRequest): Resource | null | Promise<Resource | null>;
}

/**
 * Asks several providers in order; the first non-null answer wins.
 *
 * @example
 * resources: new CompositeResourceProvider({ getResource: (p) => (p === '/style.css' ? css : null) })
 */
export class CompositeResourceProvider implements ResourceProvider {
  readonly #providers: ResourceProvider[];

  /**
   * Chains providers, typically a route's own before a {@link DefaultResourceProvider}.
   * @param providers The providers to ask, in order; null and undefined are skipped.
   * @throws TypeError when a provider has no `getResource` method.
   */
  constructor(...providers: Array<ResourceProvider | null | undefined>) {
    this.#providers = providers.filter((p): p is ResourceProvider => !!p);
    for (const p of this.#providers) {
      if (typeof p.getResource !== 'function') {
        throw new TypeError('a ResourceProvider needs a getResource(path, request) method');
      }
    }
  }

  /** The first non-null answer of the providers, in order, or null when none has the resource. */
  async getResource(path: string, request: ResourceRequest): Promise<Resource | null> {
    for (const provider of this.#providers) {
      const found = await provider.getResource(path, request);
      if (found) return found;
    }
    return null;
  }
}

/** What the default provider of a route needs to know. */
export interface DefaultResourceOptions {
  /** Route name, e.g. `/tools`. */
  route: string;
  /** Absolute path of the client module. */
  client: string;
  /** Page title. */
  title: string;
  /** Mount path of the WebSocket endpoint, e.g. `/actorspace`. */
  mountPath: string;
  /** URL of the browser bundle the import map points `@actorspace/browser` to. */
  bundleUrl: string;
  /** More entries of the page's import map: bare specifier → URL. @default none */
  imports?: Record<string, string>;
}

/** The icon of a zero-build page without a favicon.svg of its own. */
const FAVICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><title>ActorSpace</title>' +
  '<circle cx="11" cy="16" r="7" fill="#3b5bdb"/><circle cx="21" cy="16" r="7" fill="none" stroke="#3b5bdb" stroke-width="3"/></svg>';

/** MIME types of the file extensions pages commonly use. */
export const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
  '.woff2': 'font/woff2',
};

/** The MIME type of a file name. */
export function contentTypeOf(file: string): string {
  return MIME[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** JSON safe to inline in a `<script>`: no `</script>` can close it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

/**
 * Resolves `rel` (a URL path such as `/img/a.png`) inside `dir`, or null when it would leave
 * `dir` (`..`, encoded slashes, NUL) or is not a valid path.
 */
export function safeJoin(dir: string, rel: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(rel);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const root = resolve(dir);
  const full = resolve(root, `.${normalize(`/${decoded}`)}`);
  return full === root || full.startsWith(root + sep) ? full : null;
}

/** Reads a file, or null when it does not exist or is not a file. */
export async function readFileResource(file: string, cacheControl?: string): Promise<Resource | null> {
  try {
    if (!(await stat(file)).isFile()) return null;
    const resource: Resource = { content: await readFile(file), contentType: contentTypeOf(file) };
    if (cacheControl) resource.cacheControl = cacheControl;
    return resource;
  } catch {
    return null;
  }
}

/**
 * The resources every page route has: the page (`/`), its boot module (`/boot.js`), the
 * client module (`/client.js`) and the files next to the client module.
 */
export class DefaultResourceProvider implements ResourceProvider {
  readonly #options: DefaultResourceOptions;
  readonly #dir: string;

  /**
   * Makes the provider of one route's page; the engine makes one for every route with a `client`.
   * @param options The route, its client module, the page title and the URLs the page uses.
   */
  constructor(options: DefaultResourceOptions) {
    this.#options = options;
    this.#dir = resolve(options.client, '..');
  }

  /**
   * The page (`/`), the boot module (`/boot.js`), the client module (`/client.js`), a file next
   * to the client module, or ActorSpace's icon for a missing `/favicon.svg`; null otherwise.
   */
  async getResource(path: string): Promise<Resource | null> {
    if (path === '/' || path === '') return { content: this.page(), contentType: MIME['.html'] as string };
    if (path === '/boot.js') return { content: this.boot(), contentType: MIME['.js'] as string };
    if (path === '/client.js') return readFileResource(this.#options.client);
    const file = safeJoin(this.#dir, path);
    const found = file ? await readFileResource(file) : null;
    // A favicon.svg next to the client module wins; otherwise ActorSpace's own.
    if (!found && path === '/favicon.svg') return { content: FAVICON, contentType: MIME['.svg'] as string };
    return found;
  }

  /** The HTML page: a `<div id="app">`, the import map, and the boot module. */
  page(): string {
    const { title, route, bundleUrl, imports } = this.#options;
    const base = route === '/' ? '' : route;
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="${escapeHtml(`${base}/favicon.svg`)}">
<script type="importmap">${scriptJson({ imports: { ...imports, '@actorspace/browser': bundleUrl } })}</script>
<link rel="modulepreload" href="${escapeHtml(bundleUrl)}">
</head>
<body>
<div id="app"></div>
<script type="module" src="${escapeHtml(`${base}/boot.js`)}"></script>
</body>
</html>
`;
  }

  /**
   * The boot module: makes the client root actor from the client module's default export (a
   * class constructed with no arguments, or a factory), pairs it (with the module's exported
   * `token`, a string or a function called before every attempt, when it has one), calls the
   * module's exported `connected(session)` once paired, and keeps the session's
   * status on `<html data-actorspace>` for styles and tests. Before the client module runs it
   * sets `globalThis.actorspace.traffic`: `on(listener)` / `off(listener)` for every message
   * the page's socket sends (`'out'`) or receives (`'in'`), with its time, for tools that show
   * the traffic; with no listener it costs one check per message.
   */
  boot(): string {
    const { route, mountPath } = this.#options;
    return `import { ActorSpace, connect } from '@actorspace/browser';

const root = document.documentElement;
const isClass = (f) => typeof f === 'function' && /^class[\\s{]/.test(Function.prototype.toString.call(f));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// The traffic tap, published before the client module runs so that it can listen from the start.
const listeners = new Set();
const traffic = { on: (fn) => void listeners.add(fn), off: (fn) => void listeners.delete(fn) };
// The hello's access token is the page's credential: the tap shows it redacted.
const TOKEN = /"token"s*:s*"(?:[^"\\\\]|\\\\.)*"/g;
const redact = (text) => (text.includes('"token"') ? text.replace(TOKEN, '"token":"[redacted]"') : text);
const tell = (direction, data) => {
  for (const fn of listeners) fn({ direction, data: redact(String(data)), at: performance.now() });
};
globalThis.actorspace = { traffic };
const createSocket = (url) => {
  const ws = new WebSocket(url);
  const send = ws.send.bind(ws);
  ws.send = (data) => {
    if (listeners.size) tell('out', data);
    send(data);
  };
  ws.addEventListener('message', (event) => listeners.size && tell('in', event.data));
  return ws;
};


async function start() {
  const mod = await import('./client.js');
  const Client = mod.default;
  if (typeof Client !== 'function') throw new TypeError('the client module must default-export an actor class or a factory');
  const actor = isClass(Client) ? new Client() : await Client();
  // One space for every attempt, so a failed first attempt does not stop the actor.
  const space = new ActorSpace();
  const ref = space.register(actor);
  for (let attempt = 0; ; attempt++) {
    try {
      const options = { route: ${scriptJson(route)}, actor: ref, space, createSocket };
      // A client module may export its access token (a string, or a function called before every attempt).
      if (mod.token !== undefined) options.token = mod.token;
      // A client module may export webmcp = true: its service-callable types become WebMCP tools.
      if (mod.webmcp === true) options.webmcp = true;
      return { actor, client: mod, session: await connect(${scriptJson(mountPath)}, options) };
    } catch (error) {
      // The server cannot be reached (down, restarting): try again with backoff. A refusal is final.
      if (error?.code !== 'CHANNEL_CLOSED') throw error;
      root.dataset.actorspace = 'reconnecting';
      await sleep(Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
}

try {
  const { actor, session, client } = await start();
  root.dataset.actorspace = session.status;
  session.on('status', (status) => (root.dataset.actorspace = status));
  Object.assign(globalThis.actorspace, { session, actor });
  // A client module may export connected(session): what it does once paired (subscribe to topics...).
  if (typeof client.connected === 'function') await client.connected(session);
} catch (error) {
  root.dataset.actorspace = 'error';
  console.error('ActorSpace could not start this page:', error);
}
`;
  }
}
