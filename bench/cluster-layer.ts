// The cluster layer alone: CPU per ask across two nodes' Cluster objects in one process, their
// direct link a real TCP socket on 127.0.0.1, the broker an in-memory stand-in, the session an
// echo. No WebSocket, gateway or tab: what the layer itself costs, to weigh changes to it.
// Run: npx tsx bench/cluster-layer.ts (prints three rounds of 50,000 asks, 64 in flight).
import type { Backplane, BackplaneHost } from '../packages/server/src/backplane.js';
import { Cluster } from '../packages/server/src/cluster.js';

const members: BackplaneHost[] = [];
function fake(): Backplane {
  let self: BackplaneHost;
  return {
    name: 'fake',
    async start(host) {
      self = host;
      members.push(host);
      host.up();
    },
    send(to, payload) {
      for (const m of members)
        if (m !== self && (to === null || m.node === to)) queueMicrotask(() => m.message(payload));
    },
    publish: async () => ({ epoch: 'e', seq: 1 }),
    history: async () => null,
    close: async () => {},
  };
}
const info = {
  id: 'tab',
  route: '/tab',
  caller: { id: 'u', type: 'client', claims: {} },
  state: 'open',
  capabilities: [{ type: 'echo' }],
  lastSeen: 0,
};
const session = {
  publicId: 'tab',
  route: '/tab',
  capabilities: info.capabilities,
  info: () => info,
  call: (_c: unknown, _t: string, data: unknown) => Promise.resolve(data),
  send() {},
};
const topics = { localMembers: () => [], catchUp: async () => {}, deliver() {}, remotePresence() {} };
const host = (sessions: unknown[]) => ({
  localSessions: () => sessions,
  localSession: (id: string) => (sessions as { publicId: string }[]).find((s) => s.publicId === id),
  remoteChanged() {},
  tellRoute: () => 0,
  topics,
  log() {},
});
const A = new Cluster(fake(), host([]) as never, { link: { host: '127.0.0.1' } });
const B = new Cluster(fake(), host([session]) as never, { link: { host: '127.0.0.1' } });
await A.start();
await B.start();
while (A.links < 1) await new Promise((r) => setTimeout(r, 20));
const caller = { id: 'bench', type: 'service' as const, claims: {} };
async function run(n: number, inflight: number) {
  let sent = 0;
  let done = 0;
  await new Promise<void>((resolve) => {
    const one = () => {
      const i = sent++;
      const ac = new AbortController();
      A.ask(
        B.node,
        { s: 'tab' },
        caller,
        'echo',
        { id: i, text: 'hello world', tags: ['a', 'b'], at: Date.now() },
        { timeout: 30_000, signal: ac.signal },
      ).then(() => {
        if (++done === n) resolve();
        else if (sent < n) one();
      });
    };
    for (let k = 0; k < inflight; k++) one();
  });
}
await run(20_000, 64);
for (let r = 0; r < 3; r++) {
  const n = 50_000;
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await run(n, 64);
  const c = process.cpuUsage(c0);
  const ms = performance.now() - t0;
  console.log(
    `cpu µs/ask ${((c.user + c.system) / n).toFixed(2)} (user ${(c.user / n).toFixed(2)} sys ${(c.system / n).toFixed(2)}), ${Math.round(n / (ms / 1000))} asks/s`,
  );
}
await A.close();
await B.close();
