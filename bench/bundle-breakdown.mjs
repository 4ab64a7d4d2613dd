// @ts-check
/**
 * Where the browser bundle's bytes go: bundles the same entry as the suite's bundle row
 * (`export { connect, defineActor } from '@actorspace/browser'`, esbuild, minified, esm,
 * browser) and prints the minified bytes each source module contributes, with the total
 * gzip size. `node bench/bundle-breakdown.mjs` after `pnpm build`.
 */

import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { meta } from './systems/actorspace.mjs';

const benchDir = fileURLToPath(new URL('.', import.meta.url));
const esbuild = await import('esbuild');
const entry = meta.bundle?.entry ?? "export { connect, defineActor } from '@actorspace/browser';";
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
const rows = Object.entries(inputs)
  .map(([path, info]) => ({ module: path.replace(/^(\.\.\/)+/, ''), minBytes: info.bytesInOutput }))
  .filter((r) => r.minBytes > 0)
  .sort((a, b) => b.minBytes - a.minBytes);
console.log(`entry: ${entry}`);
console.log(`total: ${code.byteLength} B minified, ${gzipSync(code, { level: 9 }).byteLength} B gzip -9`);
console.table(rows);
await esbuild.stop();
