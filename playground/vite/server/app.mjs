// @ts-check
// The Express app: ActorSpace mounted with mountExpress at /actorspace (with the zero-build
// page of /todos) and, in production, the Vite build (`dist/`) served by the same server, so
// the pages and their WebSocket share one origin. Called by server.mjs (`pnpm start`), dev.mjs
// (`pnpm dev`) and the e2e suite.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { createActorServer } from '@actorspace/server';
import { mountExpress } from '@actorspace/server/express';
import express from 'express';
import { createTodoList, createTodosActor } from './todos.mjs';

const ROOT = join(import.meta.dirname, '..');

/**
 * @typedef {object} StartedServer
 * @property {string} url e.g. `http://127.0.0.1:3000`
 * @property {number} port
 * @property {() => Promise<void>} close graceful: sessions end with 1001, then the port is freed
 */

/**
 * Starts the Express server.
 * @param {{ port?: number, host?: string, dist?: string }} [options] `port: 0` picks a free
 *   port; `dist`: the Vite build to serve (leave it out in development, where Vite serves the pages)
 * @returns {Promise<StartedServer>}
 */
export async function startServer({ port = 3000, host = '127.0.0.1', dist } = {}) {
  const app = express();
  const server = createServer(app);
  const actors = createActorServer({
    root: ROOT, // the `client` path below is relative to it
    services: { todos: createTodoList() },
    routes: {
      // The Vite pages pair with this route through connect(). `client` also gives it a
      // zero-build page at GET /todos (client/todos.js): the other client model, same route.
      '/todos': { server: createTodosActor, client: './client/todos.js', title: 'Todos (zero-build)' },
    },
  });
  mountExpress(app, server, actors, { path: '/actorspace' });
  // Production: the built pages. Vite names assets by content hash, so they can be cached for good.
  if (dist) {
    app.use('/assets', express.static(`${dist}/assets`, { immutable: true, maxAge: '1y' }));
    app.use(express.static(dist));
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  });
  const address = server.address();
  const bound = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${bound}`,
    port: bound,
    async close() {
      await actors.close();
      server.closeAllConnections(); // keep-alive connections would hold close() open
      await new Promise((resolve) => server.close(() => resolve(undefined)));
    },
  };
}
