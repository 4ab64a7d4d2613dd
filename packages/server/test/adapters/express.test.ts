// The Express adapter against Express 5 and Express 4 (installed as the `express4` alias).
import { createServer } from 'node:http';
import { mountExpress } from '@actorspace/server/express';
import express from 'express';
import express4 from 'express4';
import { runAdapterSuite } from '../adapter-suite.js';
import { closeServer, hostSocketEndpoint, listen, started, suiteEngine } from '../fixtures/node-host.js';

for (const [name, makeApp] of [
  ['express', () => express()],
  ['express 4', () => express4()],
] as const) {
  runAdapterSuite(name, {
    hostSocket: true,
    async start(config) {
      const engine = suiteEngine(config);
      const app = makeApp();
      const server = createServer(app);
      const host = hostSocketEndpoint(server);
      // The app parses JSON bodies before the engine's middleware: the gateway and MCP take
      // the parsed body (the stream is spent by then).
      app.use((makeApp === express ? express : express4).json());
      const attachment = mountExpress(app, server, engine.actors, { path: '/actorspace' });
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
}
