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

/**
 * Fan-out: topics. The server declares `topics: { 'room/:id': {} }` (every topic option at its
 * default: history of 100 events / 120 s, slow subscribers skipped past 1 MiB queued, a busy
 * topic's events gathered for at most 1 ms) and its
 * own code publishes with `actors.publish(topic, 'msg', data)`. Each subscriber is one session
 * (`reconnect: false`) with `session.subscribe(topic, handler)`.
 * @type {import('./index.mjs').FanoutSystem}
 */
export const fanout = {
  notes:
    "createActorServer({ topics: { 'room/:id': {} } }) + actors.publish(topic, 'msg', data); each subscriber a connect() session (reconnect: false) with session.subscribe(topic, handler); topic options at their defaults (batch: 1 ms while busy)",
  /** @param {{ host: string, port: number, topic: string, topicOptions?: import('@actorspace/server').TopicOptions }} o */
  async startServer({ host, port, topic, topicOptions = {} }) {
    const http = createServer();
    const actors = createActorServer({
      routes: { '/bench': () => defineActor({ ping: () => 'pong' }) },
      topics: { 'room/:id': topicOptions },
    });
    attach(http, actors);
    http.listen(port, host);
    await once(http, 'listening');
    const addr = /** @type {import('node:net').AddressInfo} */ (http.address());
    return {
      port: addr.port,
      publish: (data) => {
        actors.publish(topic, 'msg', data);
      },
      subscribers: () => actors.topic(topic)?.subscribers ?? 0,
      close: async () => {
        await actors.close();
        http.closeAllConnections();
        await new Promise((r) => http.close(() => r(undefined)));
      },
    };
  },
  async subscribe({ host, port, topic, onEvent }) {
    const session = await asConnect(`ws://${host}:${port}/actorspace`, { route: '/bench', reconnect: false });
    await session.subscribe(topic, (_type, data) => onEvent(data));
    return { close: () => session.close() };
  },
};
