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
 * Each node starts on 127.0.0.1:0, plus a plain TCP control server on 127.0.0.1:0 on which
 * subscriber processes report their progress (`<proc> <id>` lines, see fanout-client-proc.mjs);
 * it prints `{ type: 'listening', port, controlPort, pid }` and obeys the orchestrator:
 *   - `count`: subscribers of the bench topic on this node;
 *   - `begin { profile? }` / `end`: CPU (user + system) between the two, RSS (and a V8 CPU profile
 *     of that stretch in <dir>/<name>.cpuprofile when `profile` was given);
 *   - `run { first, n, window?, burst?, intervalMs?, procs, capMs, profile? }`: publishes events
 *     first..first+n-1 from this node's own server code, as lib/fanout-server-proc.mjs does
 *     (window mode: never more than `window` events ahead of the slowest subscriber process;
 *     paced mode: event k at t0 + k × intervalMs), and starts the CPU count like `begin`;
 *   - `close`.
 */
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { Session } from 'node:inspector/promises';
import { createServer as createTcpServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { emit, errorMessage, serveCommands } from './proto.mjs';

const [system, brokerUrl, prefix, name] = process.argv.slice(2);
if (!system || !brokerUrl || !prefix || !name) {
  console.error('usage: cluster-node-proc.mjs <system> <brokerUrl> <prefix> <name>');
  process.exit(2);
}
/** The gateway key services connect with (bench only; lib/cluster-agent-proc.mjs has the same). */
const GATEWAY_KEY = 'bench-cluster-gateway-key-0123456789abcdef';
const TOPIC = 'room/bench';
const origin = performance.timeOrigin;
const wallNow = () => origin + performance.now();

let unhandled = 0;
process.on('unhandledRejection', (err) => {
  if (unhandled++ < 3) console.error(`[node ${name}] unhandled rejection: ${errorMessage(err)}`);
});

/**
 * @typedef {object} NodeServer
 * @property {number} port
 * @property {(data: any) => void} publish
 * @property {() => number} subscribers
 * @property {() => Promise<void>} close
 */

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

/** Progress per subscriber process: the last event id all its subscribers have. */
/** @type {Map<number, number>} */
const acked = new Map();
let onAck = () => {};
const minAcked = () => {
  let min = Number.POSITIVE_INFINITY;
  for (const v of acked.values()) if (v < min) min = v;
  return min === Number.POSITIVE_INFINITY ? 0 : min;
};

/** @type {NodeJS.CpuUsage | null} */
let cpu0 = null;
/** @type {{ session: Session, file: string } | null} */
let profiling = null;

/** @param {{ dir: string, name: string } | undefined} profile */
async function startCount(profile) {
  if (profile && !profiling) {
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    profiling = { session, file: join(profile.dir, `${profile.name}.cpuprofile`) };
  }
  cpu0 = process.cpuUsage();
}

try {
  const server = system.startsWith('actorspace-')
    ? await startActorSpace()
    : system === 'socketio-redis'
      ? await startSocketIo()
      : null;
  if (!server) throw new Error(`unknown system ${system}`);

  const control = createTcpServer((sock) => {
    sock.setNoDelay(true);
    sock.on('error', () => {});
    createInterface({ input: sock }).on('line', (line) => {
      const sp = line.indexOf(' ');
      if (sp < 0) return;
      const proc = Number(line.slice(0, sp));
      const id = Number(line.slice(sp + 1));
      if (id > (acked.get(proc) ?? 0)) acked.set(proc, id);
      onAck();
    });
  });
  await new Promise((resolve) => control.listen(0, '127.0.0.1', () => resolve(undefined)));
  const controlPort = /** @type {import('node:net').AddressInfo} */ (control.address()).port;

  serveCommands({
    count: () => ({ subscribers: server.subscribers() }),

    /** @param {{ profile?: { dir: string, name: string } }} m */
    begin: async (m) => {
      await startCount(m.profile);
      return {};
    },

    /** @param {{ first: number, n: number, window?: number, burst?: number, intervalMs?: number, procs: number, capMs: number, profile?: { dir: string, name: string } }} m */
    run: async (m) => {
      await startCount(m.profile);
      const last = m.first + m.n - 1;
      for (let p = 0; p < m.procs; p++) acked.set(p, Math.max(acked.get(p) ?? 0, m.first - 1));
      let next = m.first;
      let firstAt = 0;
      let lastAt = 0;
      let waits = 0;
      const publishOne = () => {
        const sentAt = wallNow();
        if (next === m.first) firstAt = sentAt;
        server.publish({ id: next, text: 'hello world', tags: ['a', 'b'], at: Date.now(), sentAt });
        lastAt = sentAt;
        next++;
      };
      const deadline = performance.now() + m.capMs;
      await new Promise((resolve, reject) => {
        const cap = setTimeout(() => {
          onAck = () => {};
          reject(new Error(`time cap ${m.capMs} ms exceeded: published ${next - m.first}/${m.n}`));
        }, m.capMs);
        const done = () => {
          clearTimeout(cap);
          onAck = () => {};
          resolve(undefined);
        };
        if (m.intervalMs) {
          const t0 = performance.now();
          const tick = () => {
            if (performance.now() > deadline) return;
            publishOne();
            if (next > last) return done();
            const due = t0 + (next - m.first) * /** @type {number} */ (m.intervalMs);
            setTimeout(tick, Math.max(0, due - performance.now()));
          };
          tick();
          return;
        }
        const window = m.window ?? 16;
        const burst = Math.max(1, m.burst ?? 1);
        let scheduled = false;
        const pump = () => {
          scheduled = false;
          if (next > last || performance.now() > deadline) return;
          if (next - 1 - minAcked() >= window) {
            waits++;
            return; // the next progress report calls schedule()
          }
          publishOne();
          for (let b = 1; b < burst && next <= last && next - 1 - minAcked() < window; b++) publishOne();
          if (next > last) done();
          else schedule();
        };
        const schedule = () => {
          if (scheduled) return;
          scheduled = true;
          setImmediate(pump);
        };
        onAck = schedule;
        schedule();
      });
      return { firstAt, lastAt, published: next - m.first, windowWaits: waits };
    },

    end: async () => {
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      const mem = process.memoryUsage();
      if (profiling) {
        const { session, file } = profiling;
        profiling = null;
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        writeFileSync(file, JSON.stringify(profile));
      }
      return { cpuUs: cpu.user + cpu.system, rss: mem.rss, heapUsed: mem.heapUsed };
    },

    close: async () => {
      control.close();
      await Promise.race([server.close(), new Promise((r) => setTimeout(r, 3000))]);
      setImmediate(() => process.exit(0));
      return {};
    },
  });
  emit({ type: 'listening', port: server.port, controlPort, pid: process.pid });
} catch (err) {
  emit({ type: 'fatal', error: errorMessage(err) });
  process.exit(1);
}
