// @ts-check
/**
 * One node of a cluster: `node bench/lib/cluster-node-proc.mjs <system> <brokerUrl> <prefix> <name>`.
 *
 * <system> is one of
 *   - `actorspace-redis` / `actorspace-nats`: the built engine on node:http with
 *     `redisBackplane({ url, prefix })` or `natsBackplane({ servers, prefix })`; route `/bench`
 *     (server actor `echo`, `ping`), the agent gateway (one key, no rate limit), topics
 *     `room/:id` with every option at its default. Listens once `actors.ready()` resolved.
 *   - `socketio-redis`: Socket.IO 4.8 (websocket only, no per-message deflate) with
 *     `@socket.io/redis-adapter` on two ioredis connections (`key: <prefix>`); a client joins a
 *     room with `emit('join', room, ack)`. Listens once the adapter's subscriptions are in place.
 * Each node starts on 127.0.0.1:0 with the fan-out publisher of lib/fanout-publisher.mjs beside
 * it (the control server on which subscriber processes report their progress, and the commands
 * the orchestrator drives, as in lib/fanout-server-proc.mjs):
 *   - `count`: subscribers of the bench topic on this node;
 *   - `begin { profile? }` / `end`: CPU (user + system) between the two, RSS (and a V8 CPU profile
 *     of that stretch in <dir>/<name>.cpuprofile when `profile` was given);
 *   - `run { first, n, window?, burst?, intervalMs?, procs, capMs, profile? }`: publishes events
 *     first..first+n-1 from this node's own server code (window or paced mode), and starts the
 *     CPU count like `begin`;
 *   - `close`.
 * It prints `{ type: 'listening', port, controlPort, pid }` once up.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { fanoutPublisher, TOPIC } from './fanout-publisher.mjs';
import { errorMessage, logUnhandled, runChild } from './proto.mjs';

const [system, brokerUrl, prefix, name] = process.argv.slice(2);
if (!system || !brokerUrl || !prefix || !name) {
  console.error('usage: cluster-node-proc.mjs <system> <brokerUrl> <prefix> <name>');
  process.exit(2);
}
/** The gateway key services connect with (bench only; lib/cluster-agent-proc.mjs has the same). */
const GATEWAY_KEY = 'bench-cluster-gateway-key-0123456789abcdef';

logUnhandled(`node ${name}`);

/** @typedef {import('../systems/index.mjs').FanoutServer} NodeServer */

/** @returns {Promise<NodeServer>} */
async function startActorSpace() {
  const { defineActor } = await import('@actorspace/node');
  const { createActorServer } = await import('@actorspace/server');
  const { attach } = await import('@actorspace/server/node');
  // BENCH_REDIS_OPTIONS (cluster.mjs --redis-options): extra ioredis options, for experiments.
  const redis = process.env.BENCH_REDIS_OPTIONS ? JSON.parse(process.env.BENCH_REDIS_OPTIONS) : undefined;
  const backplane =
    system === 'actorspace-redis'
      ? (await import('@actorspace/redis')).redisBackplane({
          url: brokerUrl,
          prefix,
          ...(redis && { redis }),
        })
      : (await import('@actorspace/nats')).natsBackplane({ servers: brokerUrl, prefix });
  const http = createServer();
  const actors = createActorServer({
    routes: { '/bench': () => defineActor({ echo: (data) => data, ping: () => 'pong' }) },
    gateway: { keys: { bench: GATEWAY_KEY }, rateLimit: false },
    authenticate: ({ verified }) => verified ?? { id: 'tab', type: 'client' },
    topics: { 'room/:id': {} },
    backplane,
  });
  actors.on('error', (err) => console.error(`[node ${name}] ${errorMessage(err)}`));
  attach(http, actors);
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  await actors.ready();
  let failed = 0;
  return {
    port: /** @type {import('node:net').AddressInfo} */ (http.address()).port,
    publish: (data) => {
      actors.publish(TOPIC, 'msg', data).catch((err) => {
        if (failed++ < 3) console.error(`[node ${name}] publish failed: ${errorMessage(err)}`);
      });
    },
    subscribers: () => actors.topic(TOPIC)?.subscribers ?? 0,
    close: async () => {
      await actors.close();
      http.closeAllConnections();
      await new Promise((r) => http.close(() => r(undefined)));
    },
  };
}

/** @returns {Promise<NodeServer>} */
async function startSocketIo() {
  const { Server } = await import('socket.io');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const { Redis } = await import('ioredis');
  const pub = new Redis(brokerUrl, { lazyConnect: false });
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err) => console.error(`[node ${name}] redis: ${err.message}`));
  const http = createServer();
  const io = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
    adapter: createAdapter(pub, sub, { key: prefix }),
  });
  io.on('connection', (socket) => {
    socket.on('join', (room, ack) => {
      socket.join(room);
      if (typeof ack === 'function') ack(true);
    });
  });
  // The adapter (p)subscribes on `sub` when created; replies come in order, so once a PING on
  // the same connection is answered, its subscriptions are in place.
  await sub.ping();
  await pub.ping();
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  return {
    port: /** @type {import('node:net').AddressInfo} */ (http.address()).port,
    publish: (data) => {
      io.to(TOPIC).emit('msg', data);
    },
    subscribers: () => io.sockets.adapter.rooms.get(TOPIC)?.size ?? 0,
    close: async () => {
      io.disconnectSockets(true);
      await new Promise((r) => io.close(() => r(undefined)));
      pub.disconnect();
      sub.disconnect();
    },
  };
}

await runChild(async () => {
  const server = system.startsWith('actorspace-')
    ? await startActorSpace()
    : system === 'socketio-redis'
      ? await startSocketIo()
      : null;
  if (!server) throw new Error(`unknown system ${system}`);
  return fanoutPublisher(server, { profileSuffix: '', closeCapMs: 3000 });
});
