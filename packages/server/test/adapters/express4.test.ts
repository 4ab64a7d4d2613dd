// The Express adapter against Express 4 (installed as the `express4` alias), which many apps still run.
import { createServer } from 'node:http';
import { mountExpress } from '@actorspace/server/express';
import express from 'express4';
import { runAdapterSuite } from '../adapter-suite.js';
import { closeServer, hostSocketEndpoint, listen, started, suiteEngine } from '../fixtures/node-host.js';

runAdapterSuite('express 4', {
  hostSocket: true,
  async start(config) {
    const engine = suiteEngine(config);
    const app = express();
    const server = createServer(app);
    const host = hostSocketEndpoint(server);
    const attachment = mountExpress(app as never, server, engine.actors, { path: '/actorspace' });
    app.get('/host', (_req, res) => {
      res.send('host ok');
    });
    const port = await listen(server);
    return started(port, engine, async () => {
      attachment.detach();
      host.close();
      await closeServer(server);
    });
  },
});
