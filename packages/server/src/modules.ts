/**
 * Packages served to zero-build pages by name. A route's (or the server's) `imports` maps
 * bare specifiers for the page's import map: to a URL, or (`true`) to an installed package that
 * ships browser ESM, which the engine then serves from `node_modules` under
 * `<path>/modules/<name>@<version>/`. Only the packages listed are reachable; nothing else under
 * `node_modules` is.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { type Resource, readFileResource, safeJoin } from './resources.js';

/**
 * Bare specifiers a zero-build page may import, for its import map: a URL (`'/vendor/x.js'`,
 * `'https://...'`), or `true` for the installed package of that name, served by the engine.
 * `@actorspace/browser` is always mapped.
 *
 * @example
 * imports: { preact: true, 'preact/hooks': true, '@app/ui': '/ui/index.js' }
 */
export type Imports = Record<string, string | true>;

/** Conditions of a package's `exports` a browser module loader can use, in order of preference. */
const CONDITIONS = ['browser', 'import', 'module', 'default'];
const PACKAGE_NAME = /^(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*$/i;

/** An installed package the engine serves: its folder, version and entry points. */
interface Served {
  name: string;
  dir: string;
  version: string;
  /** Subpath (`.`, `./hooks`) → file relative to the package folder. */
  entries: Map<string, string>;
}

/**
 * Checks an `imports` option.
 * @throws TypeError for an empty specifier, a value that is neither a string nor `true`, or
 *   `true` for something that is not a package name.
 */
export function checkImports(imports: unknown, where: string): Imports {
  if (imports === undefined) return {};
  if (typeof imports !== 'object' || imports === null) {
    throw new TypeError(`${where}: imports must be an object of specifier → URL or true`);
  }
  for (const [specifier, value] of Object.entries(imports)) {
    if (!specifier) throw new TypeError(`${where}: imports has an empty specifier`);
    if (value === true) {
      if (!PACKAGE_NAME.test(packageOf(specifier))) {
        throw new TypeError(
          `${where}: imports "${specifier}" is not a package name (true serves an installed package)`,
        );
      }
    } else if (typeof value !== 'string' || value === '') {
      throw new TypeError(`${where}: imports "${specifier}" must be a URL or true`);
    }
  }
  return imports as Imports;
}

/** The package a specifier names: `preact/hooks` → `preact`, `@scope/x/y` → `@scope/x`. */
function packageOf(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string);
}

/** Serves the packages that `imports` lists with `true`, and builds import maps. */
export class ModuleServer {
  readonly #root: string;
  readonly #names: Set<string>;
  readonly #served = new Map<string, Promise<Served | null>>();

  /** `imports` of the server and of every route: the packages to serve are theirs. */
  constructor(root: string, imports: Imports[]) {
    this.#root = root;
    this.#names = new Set(
      imports.flatMap((map) => Object.keys(map).filter((k) => map[k] === true)).map(packageOf),
    );
  }

  /** True when `pathname` is under the modules folder of the mount path. */
  matches(pathname: string, mountPath: string): boolean {
    return this.#names.size > 0 && pathname.startsWith(`${mountPath}/modules/`);
  }

  /**
   * The import map entries for `imports` under `mountPath`.
   * @throws TypeError when a listed package is not installed or ships no browser entry.
   */
  async importMap(imports: Imports, mountPath: string): Promise<Record<string, string>> {
    const map: Record<string, string> = {};
    for (const [specifier, value] of Object.entries(imports)) {
      if (value !== true) {
        map[specifier] = value;
        continue;
      }
      const pkg = await this.#package(packageOf(specifier));
      const base = `${mountPath}/modules/${pkg.name}@${pkg.version}`;
      const sub = specifier === pkg.name ? '.' : `.${specifier.slice(pkg.name.length)}`;
      const file = pkg.entries.get(sub);
      if (!file) {
        throw new TypeError(
          `imports "${specifier}": package ${pkg.name} exports no browser module at "${sub}"`,
        );
      }
      map[specifier] = `${base}/${file}`;
    }
    return map;
  }

  /** A file of a listed package, or null. Versioned URLs never change: they are cached for good. */
  async serve(pathname: string, mountPath: string): Promise<Resource | null> {
    const rest = pathname.slice(`${mountPath}/modules/`.length);
    const at = rest.indexOf('@', rest.startsWith('@') ? 1 : 0);
    const slash = rest.indexOf('/', at);
    if (at < 0 || slash < 0) return null;
    const name = rest.slice(0, at);
    if (!this.#names.has(name)) return null;
    const pkg = await this.#package(name).catch(() => null);
    if (!pkg || rest.slice(at + 1, slash) !== pkg.version) return null;
    const file = safeJoin(pkg.dir, rest.slice(slash));
    return file ? readFileResource(file, 'public, max-age=31536000, immutable') : null;
  }

  #package(name: string): Promise<Served> {
    let found = this.#served.get(name);
    if (!found) {
      found = locate(this.#root, name);
      this.#served.set(name, found);
    }
    return found.then((pkg) => {
      if (!pkg) throw new TypeError(`imports: package "${name}" is not installed under ${this.#root}`);
      return pkg;
    });
  }
}

/** Finds an installed package the way Node does (node_modules of the folder and its parents). */
async function locate(root: string, name: string): Promise<Served | null> {
  for (let dir = root; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    const isDir = await stat(candidate).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (isDir) {
      const manifest = JSON.parse(await readFile(join(candidate, 'package.json'), 'utf8')) as Manifest;
      return { name, dir: candidate, version: String(manifest.version ?? '0'), entries: entriesOf(manifest) };
    }
    if (dirname(dir) === dir) return null;
  }
}

interface Manifest {
  version?: string;
  type?: string;
  exports?: unknown;
  module?: string;
  browser?: unknown;
  main?: string;
}

/** The browser ESM file of each subpath a package exports (`.` and named subpaths, not patterns). */
function entriesOf(manifest: Manifest): Map<string, string> {
  const entries = new Map<string, string>();
  const exports = manifest.exports;
  if (exports !== undefined) {
    const bySubpath =
      typeof exports === 'string' ||
      (typeof exports === 'object' &&
        exports !== null &&
        !Object.keys(exports).some((k) => k.startsWith('.')))
        ? { '.': exports }
        : (exports as Record<string, unknown>);
    for (const [subpath, target] of Object.entries(bySubpath)) {
      if (subpath.includes('*')) continue;
      const file = pick(target);
      if (file) entries.set(subpath, file.replace(/^\.\//, ''));
    }
  } else {
    const file =
      manifest.module ??
      (typeof manifest.browser === 'string' ? manifest.browser : undefined) ??
      (manifest.type === 'module' ? manifest.main : undefined);
    if (file) entries.set('.', file.replace(/^\.\//, ''));
  }
  return entries;
}

/** The target of an `exports` entry for a browser ES module loader. */
function pick(target: unknown): string | null {
  if (typeof target === 'string') return target;
  if (Array.isArray(target)) {
    for (const t of target) {
      const found = pick(t);
      if (found) return found;
    }
    return null;
  }
  if (typeof target !== 'object' || target === null) return null;
  for (const condition of CONDITIONS) {
    if (condition in target) {
      const found = pick((target as Record<string, unknown>)[condition]);
      if (found) return found;
    }
  }
  return null;
}
