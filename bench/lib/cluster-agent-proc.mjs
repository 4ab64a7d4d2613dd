// @ts-check
/**
 * The agent of the cross-node ask measure: `node bench/lib/cluster-agent-proc.mjs <portA> <portB>`.
 *
 * Connects two services (the gateway key as token, reconnection off): one to node A, one to
 * node B. The tab (lib/cluster-tab-proc.mjs) is paired with node B. Each service finds the tab in
 * its node's registry (`server.ask('sessions')`) and takes a reference to it
 * (`server.ask('client', id)`):
 *   - way `single`: the service on B asks the tab through B (no backplane hop);
 *   - way `cross`:  the service on A asks the tab through A, the backplane and B.
 * Commands:
 *   - `setup { capMs }`: the above; answers with the tab's id;
 *   - `latency { way, n, capMs }`: n sequential asks; answers with each one's time (µs);
 *   - `asks { way, n, inflight, capMs }`: n asks, `inflight` at a time; answers with the wall
 *     time and this process's CPU;
 *   - `close`.
 * Every reply must carry the id of its request (the plain payload's `id`).
 */
import { connect } from '@actorspace/node';
import { plainPayload } from './payloads.mjs';
import { closeAndExit, runChild } from './proto.mjs';

/** The gateway key of lib/cluster-node-proc.mjs. */
const KEY = 'bench-cluster-gateway-key-0123456789abcdef';
const [portA, portB] = process.argv.slice(2).map(Number);

/** @type {Record<string, import('@actorspace/node').ActorRef>} */
const refs = {};
/** @type {Array<{ close(): Promise<void> }>} */
const services = [];

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} way */
const refFor = (way) => {
  const ref = refs[way];
  if (!ref) throw new Error(`no way "${way}" (setup first)`);
  return ref;
};

await runChild(async () => {
  const commands = {
    /** @param {{ capMs: number }} m */
    setup: async (m) => {
      const deadline = performance.now() + m.capMs;
      /** @type {string | null} */
      let tabId = null;
      for (const [way, port] of /** @type {const} */ ([
        ['cross', portA],
        ['single', portB],
      ])) {
        const service = await connect(`ws://127.0.0.1:${port}/actorspace`, { token: KEY, reconnect: false });
        services.push(service);
        /** @type {string | undefined} */
        let id;
        // The tab reaches node A's registry through the backplane: wait for it.
        while (!id) {
          const list = /** @type {any[]} */ (await service.server.ask('sessions'));
          id = list.find((s) => s.capabilities?.some((/** @type {any} */ c) => c.type === 'echo'))?.id;
          if (id) break;
          if (performance.now() > deadline) throw new Error(`the tab is not listed on the ${way} node`);
          await sleep(20);
        }
        if (tabId !== null && tabId !== id) throw new Error(`two tabs: ${tabId} and ${id}`);
        tabId = id;
        refs[way] = /** @type {import('@actorspace/node').ActorRef} */ (
          await service.server.ask('client', id)
        );
        const echo = /** @type {any} */ (await refs[way].ask('echo', plainPayload(-1)));
        if (echo?.id !== -1) throw new Error(`the ${way} way does not echo: ${JSON.stringify(echo)}`);
      }
      return { tab: tabId };
    },

    /** @param {{ way: string, n: number, capMs: number }} m */
    latency: async (m) => {
      const ref = refFor(m.way);
      const times = new Array(m.n);
      const deadline = performance.now() + m.capMs;
      let bad = 0;
      for (let i = 0; i < m.n; i++) {
        const t = performance.now();
        const r = /** @type {any} */ (await ref.ask('echo', plainPayload(i)));
        const e = performance.now();
        times[i] = Math.round((e - t) * 10_000) / 10; // µs, 0.1 µs resolution
        if (r?.id !== i) bad++;
        if (e > deadline) throw new Error(`time cap ${m.capMs} ms exceeded after ${i + 1}/${m.n} asks`);
      }
      return { times, bad };
    },

    /** @param {{ way: string, n: number, inflight: number, capMs: number }} m */
    asks: async (m) => {
      const ref = refFor(m.way);
      let started = 0;
      let bad = 0;
      const deadline = performance.now() + m.capMs;
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      const worker = async () => {
        while (started < m.n) {
          const i = started++;
          const r = /** @type {any} */ (await ref.ask('echo', plainPayload(i)));
          if (r?.id !== i) bad++;
          if (performance.now() > deadline) throw new Error(`time cap ${m.capMs} ms exceeded`);
        }
      };
      await Promise.all(Array.from({ length: Math.min(m.inflight, m.n) }, worker));
      const wallMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      return { wallMs, cpuUs: cpu.user + cpu.system, bad };
    },

    close: () => closeAndExit(Promise.allSettled(services.map((s) => s.close())), 2000),
  };
  return { commands, event: { type: 'ready', pid: process.pid } };
});
