#!/usr/bin/env node
// @ts-check
// `npm run playground` / `pnpm playground` (from the repo root) or `pnpm dev` (here).
// Usage: node playground/server.mjs [--port 8080]   (or PORT=8080)
import { parseArgs } from 'node:util';
import { startPlayground } from './start.mjs';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = Number(values.port ?? process.env.PORT ?? 8080);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`playground: --port must be a port number, got "${values.port ?? process.env.PORT}"`);
  process.exit(1);
}

const playground = await startPlayground({ port }).catch((error) => {
  console.error(
    error.code === 'EADDRINUSE'
      ? `playground: port ${port} is in use; pick another with --port`
      : `playground: ${error.message}`,
  );
  process.exit(1);
});
console.log(`ActorSpace playground on ${playground.url}`);

// Graceful stop: sessions close with 1001, pending todo writes land, then the process exits.
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    console.log(`\n${signal}: closing…`);
    await playground.close();
    process.exit(0);
  });
}
