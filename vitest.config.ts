// Unit and integration tests of every package run against their sources, so a failing
// test points at a line of src/; the e2e suite (Playwright) runs against the built bundles.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      {
        find: /^@actorspace\/server\/(node|express|fastify|bun|hono)$/,
        replacement: src('server/src/adapters/$1.ts'),
      },
      { find: /^@actorspace\/(core|browser|node|server|redis|nats)$/, replacement: src('$1/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    typecheck: { enabled: true, include: ['packages/*/test/**/*.test-d.ts'] },
  },
});
