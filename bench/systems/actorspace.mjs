// @ts-check
/**
 * ActorSpace: the engine mounted with the node adapter on node:http, a Node client from
 * @actorspace/node, one route whose root actor answers asks and counts tells. Defaults
 * everywhere (codec fast path, batching of one turn's frames) except `reconnect: false`, which
 * the suite asks of every client; the session is therefore not resumable and the server keeps
 * no replay buffer for it.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect as asConnect, defineActor } from '@actorspace/node';
import { createActorServer } from '@actorspace/server';
import { attach } from '@actorspace/server/node';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'ActorSpace',
  notes: 'createActorServer + attach (node:http), connect() from @actorspace/node, default options',
  bundle: { entry: "export { connect, defineActor } from '@actorspace/browser';" },
};

/** @param {{ host: string, port: number, handlers: import('./index.mjs').Handlers }} o */
export async function startServer({ host, port, handlers }) {
  const http = createServer();
  const actors = createActorServer({
    routes: {
      '/bench': () =>
        defineActor({
          ask: (p) => handlers.onAsk(p),
          tell: (p) => {
            handlers.onTell(p);
          },
        }),
    },
  });
  attach(http, actors);
  http.listen(port, host);
  await once(http, 'listening');
  const addr = /** @type {import('node:net').AddressInfo} */ (http.address());
  return {
    port: addr.port,
    close: async () => {
      await actors.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(() => r(undefined)));
    },
  };
}

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  const session = await asConnect(`ws://${host}:${port}/actorspace`, { route: '/bench', reconnect: false });
  const server = session.server;
  return {
    /** @param {any} p */
    ask: (p) => server.ask('ask', p),
    /** @param {any} p */
    tell: (p) => server.tell('tell', p),
    close: () => session.close(),
  };
}
