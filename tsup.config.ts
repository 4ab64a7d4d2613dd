// One build config for every package: each package's `build` script runs tsup with this
// file from its own folder, and the entry list below is keyed by the package's name.
import { readFileSync } from 'node:fs';
import { defineConfig } from 'tsup';

const ENTRIES: Record<string, Record<string, string>> = {
  '@actorspace/core': { index: 'src/index.ts' },
  '@actorspace/browser': { index: 'src/index.ts' },
  '@actorspace/node': { index: 'src/index.ts' },
  '@actorspace/server': {
    index: 'src/index.ts',
    'adapters/node': 'src/adapters/node.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/bun': 'src/adapters/bun.ts',
    'adapters/hono': 'src/adapters/hono.ts',
  },
};

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string };
const entry = ENTRIES[pkg.name];
if (!entry) throw new Error(`tsup.config.ts has no entries for ${pkg.name}`);

export default defineConfig({
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  platform: 'neutral',
  splitting: false,
  treeshake: true,
  // superjson ships ESM only; bundling it keeps the CJS build loadable without require(esm).
  noExternal: pkg.name === '@actorspace/core' ? ['superjson'] : [],
});
