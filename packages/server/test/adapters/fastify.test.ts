import { actorspaceFastify } from '@actorspace/server/fastify';
import Fastify from 'fastify';
import { runAdapterSuite } from '../adapter-suite.js';
import { started, suiteEngine } from '../fixtures/node-host.js';

runAdapterSuite('fastify', {
  async start(config) {
    const engine = suiteEngine(config);
    const app = Fastify();
    app.get('/host', async () => 'host ok');
    await app.register(actorspaceFastify, { actors: engine.actors, path: '/actorspace' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return started(port, engine, async () => {
      app.server.closeAllConnections();
      await app.close();
    });
  },
});
