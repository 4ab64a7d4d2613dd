// @ts-check
/**
 * ActorSpace as a page or a Node client uses it by default: the same server as
 * `actorspace.mjs`, and a client with reconnection left on, so the session is resumable. Both
 * sides then number their frames, keep them until the peer acknowledges them, and exchange
 * acknowledgements. The link never drops during the suite, so nothing actually reconnects;
 * this row shows what the replay buffer and the acknowledgements cost. Every option is at its
 * default: the tell run's 200,000 tells fit the default 16 MiB send buffer, and flow control
 * paces them to the server.
 */
import { connect as asConnect } from '@actorspace/node';

export { startServer } from './actorspace.mjs';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'ActorSpace (resumable)',
  notes:
    'as ActorSpace, with `reconnect` on as clients have it by default: a resumable session (replay buffer and acknowledgements on both sides), every option at its default',
  bundle: { entry: "export { connect, defineActor } from '@actorspace/browser';" },
};

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  const session = await asConnect(`ws://${host}:${port}/actorspace`, {
    route: '/bench',
    reconnect: {},
  });
  const server = session.server;
  return {
    /** @param {any} p */
    ask: (p) => server.ask('ask', p),
    /** @param {any} p */
    tell: (p) => server.tell('tell', p),
    close: () => session.close(),
  };
}
