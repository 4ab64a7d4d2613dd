// @ts-check
/**
 * TEMPLATE for a benchmark system. The registry ignores it because of the leading underscore.
 * Copy it to `bench/systems/<name>.mjs`. The file is then discovered on the next run; add the
 * name to ORDER in index.mjs only to fix where it is displayed.
 *
 * This copy is a SKETCH of the `actorspace` system. It was written against the API described in
 * the brief and the packages' .d.ts at the time. Check every call against the current
 * @actorspace/* exports before use (`pnpm build` first: the bench imports the built dist/).
 *
 * Contract (the harness relies on exactly this):
 *   startServer({ host, port, handlers }) -> { port, close() }
 *     - port 0 means "pick one"; return the bound port.
 *     - an ask must reply with handlers.onAsk(payload) (the harness echoes; clients check `id`).
 *     - every tell must call handlers.onTell(payload) once, when it is received and processed.
 *   connect({ host, port }) -> { ask(payload) => PromiseLike<reply>, tell(payload), close() }
 *     - ask must support 100 concurrent calls on one connection.
 *     - tell must not wait for anything (200,000 sent in bursts of 1,000 per event-loop turn).
 *     - no reconnection, no heartbeats that could fire inside a measurement.
 *   meta.bundle.entry: one import for the browser-bundle measure, or null plus a note.
 */

import { once } from 'node:events';
import { createServer } from 'node:http';
// import { createActorServer } from '@actorspace/server';
// import { attach } from '@actorspace/server/node';
// import { connect as asConnect, defineActor } from '@actorspace/node';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'ActorSpace',
  notes: 'createActorServer + attach (node:http), connect from @actorspace/node, route /bench',
  bundle: { entry: "export { connect } from '@actorspace/browser';" },
};

/** @param {{ host: string, port: number, handlers: import('./index.mjs').Handlers }} o */
export async function startServer({ host, port, handlers }) {
  void handlers;
  const http = createServer();
  // const actors = createActorServer({
  //   routes: { '/bench': () => defineActor({ ask: (p) => handlers.onAsk(p), tell: (p) => { handlers.onTell(p); } }) },
  //   heartbeat: false,          // no pings inside a measurement
  //   mailboxLimit: 300_000,     // tells arrive in bursts of 1,000 (default limit: 1,000)
  // });
  // attach(http, actors, { path: '/actorspace' });
  http.listen(port, host);
  await once(http, 'listening');
  const addr = /** @type {import('node:net').AddressInfo} */ (http.address());
  return {
    port: addr.port,
    close: async () => {
      // await actors.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(() => r(undefined)));
    },
  };
}

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  void host;
  void port;
  throw new Error('template: implement connect()');
  // const session = await asConnect(`ws://${host}:${port}/actorspace`, {
  //   route: '/bench',
  //   reconnect: false,
  //   heartbeat: false,
  // });
  // return {
  //   ask: (p) => session.server.ask('ask', p),
  //   tell: (p) => session.server.tell('tell', p),
  //   close: () => session.close(),
  // };
}
