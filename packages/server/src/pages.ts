/**
 * Zero-build pages: a route with a `client` module gets an HTML page that boots the client
 * root actor and pairs it with the route's server actor, the module itself and its sibling
 * files, and the browser bundle behind an import map. Resource providers customise any of it;
 * static folders (with an optional SPA fallback) serve apps that have a build.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { ActorSpaceError } from '@actorspace/core';

/** One resource: its bytes and MIME type, optionally its cache policy. */
export interface Resource {
  content: string | Uint8Array;
  contentType: string;
  /** `Cache-Control` value. @default 'no-cache' (revalidated with an ETag) */
  cacheControl?: string;
}

/** The request a resource is served for. */
export interface ResourceRequest {
  method: string;
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

  constructor(...providers: Array<ResourceProvider | null | undefined>) {
    this.#providers = providers.filter((p): p is ResourceProvider => !!p);
    for (const p of this.#providers) {
      if (typeof p.getResource !== 'function') {
        throw new ActorSpaceError(
          'INVALID_MESSAGE',
          'a ResourceProvider needs a getResource(path, request) method',
        );
      }
    }
  }

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
}

const MIME: Record<string, string> = {
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
async function readFileResource(file: string, cacheControl?: string): Promise<Resource | null> {
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

  constructor(options: DefaultResourceOptions) {
    this.#options = options;
    this.#dir = resolve(options.client, '..');
  }

  async getResource(path: string): Promise<Resource | null> {
    if (path === '/' || path === '') return { content: this.page(), contentType: MIME['.html'] as string };
    if (path === '/boot.js') return { content: this.boot(), contentType: MIME['.js'] as string };
    if (path === '/client.js') return readFileResource(this.#options.client);
    const file = safeJoin(this.#dir, path);
    return file ? readFileResource(file) : null;
  }

  /** The HTML page: a `<div id="app">`, the import map, and the boot module. */
  page(): string {
    const { title, route, bundleUrl } = this.#options;
    const base = route === '/' ? '' : route;
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<script type="importmap">${scriptJson({ imports: { '@actorspace/browser': bundleUrl } })}</script>
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
   * class constructed with no arguments, or a factory), pairs it, and keeps the session's
   * status on `<html data-actorspace>` for styles and tests.
   */
  boot(): string {
    const { route, mountPath } = this.#options;
    return `import { ActorSpace, connect } from '@actorspace/browser';
import Client from './client.js';

const root = document.documentElement;
const isClass = (f) => typeof f === 'function' && /^class[\\s{]/.test(Function.prototype.toString.call(f));
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function start() {
  if (typeof Client !== 'function') throw new TypeError('the client module must default-export an actor class or a factory');
  const actor = isClass(Client) ? new Client() : await Client();
  // One space for every attempt, so a failed first attempt does not stop the actor.
  const space = new ActorSpace();
  const ref = space.register(actor);
  for (let attempt = 0; ; attempt++) {
    try {
      return { actor, session: await connect(${scriptJson(mountPath)}, { route: ${scriptJson(route)}, actor: ref, space }) };
    } catch (error) {
      // The server cannot be reached (down, restarting): try again with backoff. A refusal is final.
      if (error?.code !== 'CHANNEL_CLOSED') throw error;
      root.dataset.actorspace = 'reconnecting';
      await sleep(Math.min(30000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2));
    }
  }
}

try {
  const { actor, session } = await start();
  root.dataset.actorspace = session.status;
  session.on('status', (status) => (root.dataset.actorspace = status));
  globalThis.actorspace = { session, actor };
} catch (error) {
  root.dataset.actorspace = 'error';
  console.error('ActorSpace could not start this page:', error);
}
`;
  }
}

/** A folder served as is, optionally as a single-page app. */
export interface StaticOptions {
  /** The folder. Relative paths are relative to the server's `root`. */
  dir: string;
  /** URL prefix it is served under. @default '/' */
  prefix?: string;
  /**
   * Serve `index.html` for any GET under `prefix` that asks for HTML and names no file
   * (client-side routing).
   * @default false
   */
  spa?: boolean;
  /** `Cache-Control` of its files. @default 'no-cache' */
  cacheControl?: string;
}

/** An answer of the page server. */
export interface PageResponse {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array;
}

interface Encoded {
  etag: string;
  raw: Uint8Array;
  br?: Uint8Array;
  gzip?: Uint8Array;
}

const COMPRESSIBLE = /^(text\/|application\/(json|javascript|wasm)|image\/svg\+xml)/;
const MIN_COMPRESS = 1024;

/** Where the prebuilt browser bundle is, and its content hash. */
interface Bundle {
  file: string;
  hash: string;
  content: Uint8Array;
}

let bundle: Promise<Bundle> | null = null;

/** Loads the browser bundle shipped by `@actorspace/browser` once per process. */
export function loadBrowserBundle(): Promise<Bundle> {
  bundle ??= (async () => {
    const file = createRequire(import.meta.url).resolve('@actorspace/browser/bundle');
    const content = await readFile(file);
    const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
    return { file, hash, content };
  })();
  return bundle;
}

/** A page route as the page server sees it. */
export interface PageRoute {
  route: string;
  client?: string;
  title?: string;
  resources?: ResourceProvider;
}

/** Serves pages, the bundle and static folders for the engine's `http()`. */
export class PageServer {
  readonly #routes: PageRoute[];
  readonly #root: string;
  readonly #static: StaticOptions[];
  readonly #providers = new Map<string, ResourceProvider>();
  readonly #encoded = new WeakMap<object, Encoded>();
  readonly #byText = new Map<string, Encoded>();

  constructor(routes: PageRoute[], root: string, statics: StaticOptions[]) {
    // Longer routes first, so `/a/b` wins over `/a`.
    this.#routes = routes
      .filter((r) => r.client || r.resources)
      .sort((a, b) => b.route.length - a.route.length);
    this.#root = root;
    this.#static = statics.map((s) => ({ ...s, dir: isAbsolute(s.dir) ? s.dir : join(root, s.dir) }));
  }

  /** True when some route serves a page or a static folder is configured. */
  get serves(): boolean {
    return this.#routes.length > 0 || this.#static.length > 0;
  }

  /** The page URL of each route that has one. */
  get pageRoutes(): string[] {
    return this.#routes.map((r) => r.route);
  }

  /** True when `pathname` is the bundle, under a page route, or under a static folder. */
  matches(pathname: string, mountPath: string): boolean {
    if (pathname.startsWith(`${mountPath}/browser.`)) return true;
    for (const route of this.#routes) if (relativeTo(route.route, pathname) !== null) return true;
    for (const dir of this.#static) if (relativeTo(dir.prefix ?? '/', pathname) !== null) return true;
    return false;
  }

  /** Answers a GET/HEAD under the engine's mount path (the bundle) or a page route or static folder. */
  async serve(request: ResourceRequest, pathname: string, mountPath: string): Promise<PageResponse | null> {
    if (pathname === `${mountPath}/browser.js` || pathname.startsWith(`${mountPath}/browser.`)) {
      const b = await loadBrowserBundle();
      if (pathname === `${mountPath}/browser.${b.hash}.js`) {
        return this.#reply(
          request,
          { content: b.content, contentType: MIME['.js'] as string, cacheControl: IMMUTABLE },
          b,
        );
      }
      if (pathname === `${mountPath}/browser.js`) {
        return this.#reply(request, { content: b.content, contentType: MIME['.js'] as string }, b);
      }
      return null;
    }
    for (const route of this.#routes) {
      const rel = relativeTo(route.route, pathname);
      if (rel === null) continue;
      const provider = await this.#provider(route, mountPath);
      const resource = await provider.getResource(rel, request);
      if (resource) return this.#reply(request, resource);
      return notFound();
    }
    for (const dir of this.#static) {
      const rel = relativeTo(dir.prefix ?? '/', pathname);
      if (rel === null) continue;
      const file = safeJoin(dir.dir, rel === '/' ? '/index.html' : rel);
      const resource = file ? await readFileResource(file, dir.cacheControl) : null;
      if (resource) return this.#reply(request, resource);
      if (dir.spa && !extname(rel) && (request.headers.accept ?? '').includes('text/html')) {
        const index = await readFileResource(join(dir.dir, 'index.html'), 'no-cache');
        if (index) return this.#reply(request, index);
      }
    }
    return null;
  }

  async #provider(route: PageRoute, mountPath: string): Promise<ResourceProvider> {
    const key = `${mountPath} ${route.route}`;
    let provider = this.#providers.get(key);
    if (!provider) {
      const b = await loadBrowserBundle();
      const fallback = route.client
        ? new DefaultResourceProvider({
            route: route.route,
            client: isAbsolute(route.client) ? route.client : join(this.#root, route.client),
            title: route.title ?? route.route,
            mountPath,
            bundleUrl: `${mountPath}/browser.${b.hash}.js`,
          })
        : null;
      provider = new CompositeResourceProvider(route.resources, fallback);
      this.#providers.set(key, provider);
    }
    return provider;
  }

  #reply(request: ResourceRequest, resource: Resource, cacheKey?: object): PageResponse {
    const encoded = this.#encode(resource, cacheKey);
    const headers: Record<string, string> = {
      'content-type': resource.contentType,
      'cache-control': resource.cacheControl ?? 'no-cache',
      etag: encoded.etag,
      vary: 'accept-encoding',
      'x-content-type-options': 'nosniff',
    };
    if (request.headers['if-none-match'] === encoded.etag) return { status: 304, headers, body: '' };
    let body = encoded.raw;
    const accept = request.headers['accept-encoding'] ?? '';
    if (encoded.raw.byteLength >= MIN_COMPRESS && COMPRESSIBLE.test(resource.contentType)) {
      if (/\bbr\b/.test(accept)) {
        encoded.br ??= brotliCompressSync(encoded.raw, {
          params: { [zlibConstants.BROTLI_PARAM_QUALITY]: 9 },
        });
        body = encoded.br;
        headers['content-encoding'] = 'br';
      } else if (/\bgzip\b/.test(accept)) {
        encoded.gzip ??= gzipSync(encoded.raw, { level: 9 });
        body = encoded.gzip;
        headers['content-encoding'] = 'gzip';
      }
    }
    headers['content-length'] = String(body.byteLength);
    return { status: 200, headers, body: request.method === 'HEAD' ? '' : body };
  }

  /** ETag and compressed forms, computed once per content. */
  #encode(resource: Resource, cacheKey?: object): Encoded {
    const key = cacheKey ?? (typeof resource.content === 'string' ? null : resource.content);
    const cached = key ? this.#encoded.get(key) : this.#byText.get(resource.content as string);
    if (cached) return cached;
    const raw =
      typeof resource.content === 'string' ? new TextEncoder().encode(resource.content) : resource.content;
    const etag = `"${createHash('sha1').update(raw).digest('base64url')}"`;
    const encoded: Encoded = { etag, raw };
    if (key) this.#encoded.set(key, encoded);
    else if (this.#byText.size < 256) this.#byText.set(resource.content as string, encoded);
    return encoded;
  }
}

const IMMUTABLE = 'public, max-age=31536000, immutable';

/** `pathname` relative to `prefix` (`/tools/a.js` → `/a.js`), or null when it is not under it. */
function relativeTo(prefix: string, pathname: string): string | null {
  if (prefix === '/' || prefix === '') return pathname;
  if (pathname === prefix) return '/';
  return pathname.startsWith(`${prefix}/`) ? pathname.slice(prefix.length) : null;
}

function notFound(): PageResponse {
  return { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' }, body: 'Not found' };
}
