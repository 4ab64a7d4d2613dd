#!/usr/bin/env node
// @ts-check
// `pnpm start`: serves the Vite build (run `pnpm build` first) and ActorSpace on one port.
// Usage: node server.mjs [--port 3000]   (or PORT=3000)
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startServer } from './server/app.mjs';

const { values } = parseArgs({ options: { port: { type: 'string' } } });
const port = Number(values.port ?? process.env.PORT ?? 3000);
const dist = join(import.meta.dirname, 'dist');
if (!existsSync(join(dist, 'index.html'))) {
  console.error('vite example: no build in dist/; run `pnpm build` first (or `pnpm dev` to develop)');
  process.exit(1);
}

const server = await startServer({ port, dist });
console.log(`ActorSpace + Vite build on ${server.url} (React page: ${server.url}/react/)`);
for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    await server.close();
    process.exit(0);
  });
}
