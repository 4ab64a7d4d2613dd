/**
 * HTTP file serving for the engine's `http()`: zero-build pages (from each route's resource
 * providers), the browser bundle, and static folders (with an optional SPA fallback), with
 * ETags, 304s and brotli or gzip.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { extname, isAbsolute, join } from 'node:path';
import { brotliCompressSync, gzipSync, constants as zlibConstants } from 'node:zlib';
import { type Imports, ModuleServer } from './modules.js';
import {
  CompositeResourceProvider,
  DefaultResourceProvider,
  MIME,
  type Resource,
  type ResourceProvider,
  type ResourceRequest,
  readFileResource,
  safeJoin,
} from './resources.js';

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
  imports?: Imports;
}

/** Serves pages, the bundle and static folders for the engine's `http()`. */
export class PageServer {
  readonly #routes: PageRoute[];
  readonly #root: string;
  readonly #static: StaticOptions[];
  readonly #providers = new Map<string, Promise<ResourceProvider>>();
  readonly #encoded = new WeakMap<object, Encoded>();
  readonly #byText = new Map<string, Encoded>();
  readonly #imports: Imports;
  readonly #modules: ModuleServer;

  constructor(routes: PageRoute[], root: string, statics: StaticOptions[], imports: Imports = {}) {
    // Longer routes first, so `/a/b` wins over `/a`.
    this.#routes = routes
      .filter((r) => r.client || r.resources)
      .sort((a, b) => b.route.length - a.route.length);
    this.#root = root;
    this.#static = statics.map((s) => ({ ...s, dir: isAbsolute(s.dir) ? s.dir : join(root, s.dir) }));
    this.#imports = imports;
    this.#modules = new ModuleServer(root, [imports, ...this.#routes.map((r) => r.imports ?? {})]);
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
    if (this.#modules.matches(pathname, mountPath)) return true;
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
    if (this.#modules.matches(pathname, mountPath)) {
      const resource = await this.#modules.serve(pathname, mountPath);
      return resource ? this.#reply(request, resource) : notFound();
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

  #provider(route: PageRoute, mountPath: string): Promise<ResourceProvider> {
    const key = `${mountPath} ${route.route}`;
    let provider = this.#providers.get(key);
    if (!provider) {
      provider = this.#makeProvider(route, mountPath);
      this.#providers.set(key, provider);
      // A failed import map (a package not installed) is tried again on the next request.
      provider.catch(() => this.#providers.delete(key));
    }
    return provider;
  }

  async #makeProvider(route: PageRoute, mountPath: string): Promise<ResourceProvider> {
    const b = await loadBrowserBundle();
    const imports = await this.#modules.importMap({ ...this.#imports, ...route.imports }, mountPath);
    const fallback = route.client
      ? new DefaultResourceProvider({
          route: route.route,
          client: isAbsolute(route.client) ? route.client : join(this.#root, route.client),
          title: route.title ?? route.route,
          mountPath,
          bundleUrl: `${mountPath}/browser.${b.hash}.js`,
          imports,
        })
      : null;
    return new CompositeResourceProvider(route.resources, fallback);
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
