// @ts-check
/**
 * Browser bundle size: esbuild bundle + minify, format esm, platform browser (other options at
 * their defaults, so license comments count), then gzip level 9 via node:zlib.
 */

import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const benchDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * @param {string} entry ESM source, e.g. "export { io } from 'socket.io-client';"
 * @returns {Promise<{ minBytes: number, gzipBytes: number, modules: Array<{ module: string, minBytes: number }> }>}
 *   `modules`: the minified bytes each source module contributes, largest first.
 */
export async function measureBundle(entry) {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    stdin: { contents: entry, resolveDir: benchDir, loader: 'js', sourcefile: 'bench-entry.mjs' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = out.outputFiles[0].contents;
  const inputs = Object.values(out.metafile.outputs)[0]?.inputs ?? {};
  const modules = Object.entries(inputs)
    .map(([path, info]) => ({ module: moduleName(path), minBytes: info.bytesInOutput }))
    .filter((m) => m.minBytes > 0)
    .sort((a, b) => b.minBytes - a.minBytes);
  return { minBytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength, modules };
}

/**
 * A readable name for a bundled file: `core/src/channel.ts`, or `pkg/dist/x.js` for dependencies.
 * @param {string} path
 */
function moduleName(path) {
  const dep = path.lastIndexOf('node_modules/');
  if (dep >= 0) return path.slice(dep + 'node_modules/'.length);
  return path.replace(/^(\.\.\/)+/, '').replace(/^packages\//, '');
}

export async function stopEsbuild() {
  try {
    const esbuild = await import('esbuild');
    await esbuild.stop();
  } catch {}
}

/**
 * Version of a package as installed for bench/ (null if absent).
 * @param {string} pkg
 */
export async function installedVersion(pkg) {
  try {
    const { readFile } = await import('node:fs/promises');
    const { createRequire } = await import('node:module');
    const req = createRequire(new URL('../package.json', import.meta.url));
    // package.json is not always exported, so locate it from the package's directory.
    let path;
    try {
      path = req.resolve(`${pkg}/package.json`);
    } catch {
      path = new URL(`../node_modules/${pkg}/package.json`, import.meta.url);
    }
    return JSON.parse(await readFile(path, 'utf8')).version ?? null;
  } catch {
    return null;
  }
}
