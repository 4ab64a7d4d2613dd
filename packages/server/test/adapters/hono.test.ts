import type { Server } from 'node:http';
import { honoRoutes } from '@actorspace/server/hono';
import { serve } from '@hono/node-server';
import { createNodeWebSocket } from '@hono/node-ws';
import { Hono } from 'hono';
import { runAdapterSuite } from '../adapter-suite.js';
import { closeServer, started, suiteEngine } from '../fixtures/node-host.js';

runAdapterSuite('hono', {
  async start(config) {
    const engine = suiteEngine(config);
    const app = new Hono();
    const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app });
    app.get('/host', (c) => c.text('host ok'));
    app.route('/', honoRoutes(engine.actors, { upgradeWebSocket, path: '/actorspace' }));
    let server: Server | undefined;
    const port = await new Promise<number>((resolve) => {
      server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) =>
        resolve(info.port),
      ) as Server;
      injectWebSocket(server);
    });
    return started(port, engine, () => closeServer(server as Server));
  },
});
