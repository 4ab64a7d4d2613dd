// @ts-check
/**
 * The broker's own round trip: `node bench/lib/cluster-pingpong-proc.mjs <redis|nats> <url> <ping|pong> <prefix>`.
 *
 * Two processes and the broker, with the client libraries the backplanes use (ioredis;
 * @nats-io/transport-node, resolved from @actorspace/nats): `pong` subscribes to `<prefix>.ping`
 * and publishes what it gets to `<prefix>.pong`; `ping` publishes to `<prefix>.ping` and waits for
 * the echo on `<prefix>.pong`. One ping-pong is what a cross-node ask adds at the least (the
 * ask goes to the other node through the broker, its answer comes back the same way), without
 * any of ActorSpace's work. Both print `{ type: 'ready' }` once subscribed; `ping` obeys
 * `latency { n, capMs }` (answers with each round trip's time, µs) and `close`; `pong` obeys
 * `close`.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { closeAndExit, runChild } from './proto.mjs';

const [kind, url, role, prefix] = process.argv.slice(2);

/**
 * @typedef {object} Link
 * @property {(subject: string, payload: string) => void} publish
 * @property {(subject: string, onMessage: (payload: string) => void) => Promise<void>} subscribe
 * @property {() => Promise<void>} close
 */

/** @returns {Promise<Link>} */
async function redisLink() {
  const { Redis } = await import('ioredis');
  const pub = new Redis(url);
  const sub = new Redis(url);
  /** @type {Map<string, (payload: string) => void>} */
  const handlers = new Map();
  sub.on('message', (channel, message) => handlers.get(channel)?.(message));
  return {
    publish: (subject, payload) => {
      pub.publish(subject, payload).catch(() => {});
    },
    subscribe: async (subject, onMessage) => {
      handlers.set(subject, onMessage);
      await sub.subscribe(subject);
    },
    close: async () => {
      pub.disconnect();
      sub.disconnect();
    },
  };
}

/** @returns {Promise<Link>} */
async function natsLink() {
  // The NATS client @actorspace/nats depends on (not a dependency of the bench itself).
  const req = createRequire(createRequire(import.meta.url).resolve('@actorspace/nats'));
  const mod = await import(pathToFileURL(req.resolve('@nats-io/transport-node')).href);
  const nc = await mod.connect({ servers: url });
  return {
    publish: (subject, payload) => nc.publish(subject, payload),
    subscribe: async (subject, onMessage) => {
      nc.subscribe(subject, {
        callback: (/** @type {unknown} */ err, /** @type {{ string(): string }} */ msg) => {
          if (!err) onMessage(msg.string());
        },
      });
      await nc.flush();
    },
    close: () => nc.close(),
  };
}

await runChild(
  /** @returns {Promise<import('./proto.mjs').ChildSetup>} */
  async () => {
    if (kind !== 'redis' && kind !== 'nats') throw new Error(`unknown broker ${kind}`);
    const link = kind === 'redis' ? await redisLink() : await natsLink();
    const ping = `${prefix}.ping`;
    const pong = `${prefix}.pong`;
    const close = () => closeAndExit(link.close());
    const event = { type: 'ready', pid: process.pid };
    if (role === 'pong') {
      await link.subscribe(ping, (payload) => link.publish(pong, payload));
      return { commands: { close }, event };
    }
    /** @type {(payload: string) => void} */
    let onPong = () => {};
    await link.subscribe(pong, (payload) => onPong(payload));
    return {
      event,
      commands: {
        /** @param {{ n: number, capMs: number }} m */
        latency: async (m) => {
          const times = new Array(m.n);
          const deadline = performance.now() + m.capMs;
          let bad = 0;
          for (let i = 0; i < m.n; i++) {
            const t = performance.now();
            const got = await new Promise((resolve) => {
              onPong = resolve;
              link.publish(ping, String(i));
            });
            const e = performance.now();
            times[i] = Math.round((e - t) * 10_000) / 10;
            if (got !== String(i)) bad++;
            if (e > deadline)
              throw new Error(`time cap ${m.capMs} ms exceeded after ${i + 1}/${m.n} round trips`);
          }
          return { times, bad };
        },
        close,
      },
    };
  },
);
