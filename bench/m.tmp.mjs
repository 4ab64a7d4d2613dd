const { build } = await import('esbuild');
const { gzipSync } = await import('node:zlib');
const src = process.argv[2] === 'src';
const r = await build({
  stdin: {
    contents: "export { connect, defineActor } from '@actorspace/browser';",
    resolveDir: process.cwd(),
    loader: 'js',
  },
  bundle: true,
  minify: true,
  format: 'esm',
  write: false,
  metafile: true,
  platform: 'browser',
  ...(src
    ? {
        alias: {
          '@actorspace/core': '../packages/core/src/index.ts',
          '@actorspace/browser': '../packages/browser/src/index.ts',
        },
      }
    : {}),
});
const out = r.outputFiles[0].contents;
console.log('total min', out.length, 'gzip', gzipSync(out, { level: 9 }).length);
const o = Object.values(r.metafile.outputs)[0];
const rows = Object.entries(o.inputs)
  .map(([k, v]) => [k, v.bytesInOutput])
  .sort((a, b) => b[1] - a[1]);
for (const [k, v] of rows.slice(0, 40)) console.log(String(v).padStart(7), k);
if (process.argv[3]) (await import('node:fs')).writeFileSync(process.argv[3], out);
