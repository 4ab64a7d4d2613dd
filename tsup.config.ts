// One build config for every package: each package's `build` script runs tsup with this
// file from its own folder, and the entry list below is keyed by the package's name.
import { readFileSync } from 'node:fs';
import { defineConfig, type Options } from 'tsup';

const ENTRIES: Record<string, Record<string, string>> = {
  '@actorspace/core': { index: 'src/index.ts' },
  '@actorspace/browser': { index: 'src/index.ts' },
  // tsup keeps the entry's `#!/usr/bin/env node` and makes the built file executable.
  '@actorspace/node': { index: 'src/index.ts', 'cli/main': 'src/cli/main.ts' },
  '@actorspace/server': {
    index: 'src/index.ts',
    'adapters/node': 'src/adapters/node.ts',
    'adapters/express': 'src/adapters/express.ts',
    'adapters/fastify': 'src/adapters/fastify.ts',
    'adapters/bun': 'src/adapters/bun.ts',
    'adapters/hono': 'src/adapters/hono.ts',
  },
  '@actorspace/redis': { index: 'src/index.ts' },
  '@actorspace/nats': { index: 'src/index.ts' },
};

const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { name: string };
const entry = ENTRIES[pkg.name];
if (!entry) throw new Error(`tsup.config.ts has no entries for ${pkg.name}`);

// `npm run playground -- --watch` rebuilds in place: cleaning dist would take the packages away
// from the running server (and from anything else using the build) at every save.
const watching = process.env.ACTORSPACE_WATCH === '1';

const library = {
  entry,
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: pkg.name !== '@actorspace/browser' && !watching,
  target: 'es2022',
  platform: 'neutral',
  splitting: false,
  treeshake: true,
} satisfies Options;

// The browser package also ships one self-contained, minified ESM file: the bundle a
// server serves at `<path>/browser.js` so pages can import ActorSpace without a build step.
const browserBundle = {
  entry: { 'actorspace.bundle': 'src/index.ts' },
  format: ['esm'],
  dts: false,
  sourcemap: true,
  clean: false,
  minify: true,
  target: 'es2022',
  platform: 'browser',
  splitting: false,
  treeshake: true,
  noExternal: [/.*/],
} satisfies Options;

export default defineConfig(pkg.name === '@actorspace/browser' ? [library, browserBundle] : library);
