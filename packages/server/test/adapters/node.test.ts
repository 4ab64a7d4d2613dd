import { createServer } from 'node:http';
import { attach } from '@actorspace/server/node';
import { runAdapterSuite } from '../adapter-suite.js';
import { closeServer, hostSocketEndpoint, listen, started, suiteEngine } from '../fixtures/node-host.js';

runAdapterSuite('node:http', {
  hostSocket: true,
  async start(config) {
    const engine = suiteEngine(config);
    const server = createServer((req, res) => {
      if (req.url === '/host') res.end('host ok');
      else {
        res.statusCode = 404;
        res.end();
      }
    });
    const host = hostSocketEndpoint(server);
    const attachment = attach(server, engine.actors, { path: '/actorspace' });
    const port = await listen(server);
    return started(port, engine, async () => {
      attachment.detach();
      host.close();
      await closeServer(server);
    });
  },
});
