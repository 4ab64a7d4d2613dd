// @ts-check
/**
 * ActorSpace as a page or a Node client uses it by default: the same server as
 * `actorspace.mjs`, and a client with reconnection left on, so the session is resumable. Both
 * sides then number their frames, keep them until the peer acknowledges them, and exchange
 * acknowledgements. The link never drops during the suite, so nothing actually reconnects;
 * this row shows what the replay buffer and the acknowledgements cost.
 *
 * One option differs from the defaults: the client's replay buffer holds 250,000 frames
 * instead of 10,000. The suite's tell run sends 200,000 tells as fast as the client can, which
 * gets more than 10,000 frames ahead of the server; with the default buffer the tells past
 * that are refused with MAILBOX_FULL (the session's backpressure) and the run measures nothing.
 */
import { connect as asConnect } from '@actorspace/node';

export { startServer } from './actorspace.mjs';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'ActorSpace (resumable)',
  notes:
    'as ActorSpace, with `reconnect` on as clients have it by default: a resumable session (replay buffer and acknowledgements on both sides; client buffer raised to 250,000 frames for the tell burst)',
  bundle: { entry: "export { connect, defineActor } from '@actorspace/browser';" },
};

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  const session = await asConnect(`ws://${host}:${port}/actorspace`, {
    route: '/bench',
    reconnect: { bufferLimit: 250_000 },
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
