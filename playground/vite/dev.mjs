#!/usr/bin/env node
// @ts-check
// `pnpm dev`: the Express server (ActorSpace only) on API_PORT, and Vite's dev server, whose
// proxy (vite.config.ts) forwards /actorspace, WebSocket upgrades included, to it.
import { createServer } from 'vite';
import { startServer } from './server/app.mjs';

const apiPort = Number(process.env.API_PORT ?? 3001);
process.env.API_PORT = String(apiPort); // read by vite.config.ts for the proxy target
const api = await startServer({ port: apiPort });
const vite = await createServer({ root: import.meta.dirname });
await vite.listen();
console.log(`Express (ActorSpace at /actorspace) on ${api.url}`);
vite.printUrls();

for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) {
  process.once(signal, async () => {
    await vite.close();
    await api.close();
    process.exit(0);
  });
}
