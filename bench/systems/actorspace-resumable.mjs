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
import { fanout as plainFanout } from './actorspace.mjs';

export { startServer } from './actorspace.mjs';

/**
 * Fan-out with the topic option `batch: 0`: every event written to every subscriber the moment
 * it is published (no gathering, even while the topic is busy); and the subscribers are this
 * row's default, resumable clients.
 * @type {import('./index.mjs').FanoutSystem}
 */
export const fanout = {
  label: 'ActorSpace, topic batch: 0 (resumable)',
  notes:
    "as ActorSpace's fan-out, with the topic option `batch: 0` (each event written at once, never gathered) and resumable clients (`reconnect` on, the default)",
  startServer: (o) => plainFanout.startServer({ ...o, topicOptions: { batch: 0 } }),
  async subscribe({ host, port, topic, onEvent }) {
    const session = await asConnect(`ws://${host}:${port}/actorspace`, { route: '/bench', reconnect: {} });
    await session.subscribe(topic, (_type, data) => onEvent(data));
    return { close: () => session.close() };
  },
};

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
