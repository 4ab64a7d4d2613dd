// @ts-check
/**
 * Agent-to-tab ask latency: `node bench/gateway.mjs [--asks=N] [--reps=N]`.
 *
 * A server process (lib/gateway-server-proc.mjs) holds one paired "tab" (a Node client over a
 * real loopback WebSocket). From this process, one agent asks the tab's `echo` with the plain
 * payload, one ask at a time, four ways:
 *   - direct WebSocket: a client asks its own server actor (one hop: the baseline round trip);
 *   - gateway over WebSocket: a service holds a reference to the tab and asks it (two hops);
 *   - HTTP: POST <path>/sessions/:id/ask with a gateway key (keep-alive fetch), two hops;
 *   - MCP: the official SDK client's callTool over Streamable HTTP, two hops.
 * Writes bench/results/gateway.json; `node bench/run.mjs --report` puts it in docs/benchmarks.md.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { connect } from '@actorspace/node';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { plainPayload } from './lib/payloads.mjs';
import { percentileSorted, summarize } from './lib/stats.mjs';

const arg = (/** @type {string} */ name, /** @type {number} */ fallback) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback);
const ASKS = arg('asks', 2000);
const REPS = arg('reps', 3);
const WARMUP = 200;
const payload = plainPayload(1);

const child = spawn(
  process.execPath,
  [fileURLToPath(new URL('./lib/gateway-server-proc.mjs', import.meta.url))],
  {
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const info = await new Promise((resolve, reject) => {
  createInterface({ input: /** @type {import('node:stream').Readable} */ (child.stdout) }).once(
    'line',
    (line) => resolve(JSON.parse(line)),
  );
  child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
});
const { port, session, key } = /** @type {{ port: number, session: string, key: string }} */ (info);
const ws = `ws://127.0.0.1:${port}/actorspace`;
const http = `http://127.0.0.1:${port}/actorspace`;

const direct = await connect(ws, { route: '/bench', reconnect: false });
const service = await connect(ws, { token: key, reconnect: false });
const tabRef = /** @type {import('@actorspace/node').ActorRef} */ (
  await service.server.ask('client', session)
);
const mcp = new Client({ name: 'bench-agent', version: '1' });
await mcp.connect(
  new StreamableHTTPClientTransport(new URL(`${http}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${key}` } },
  }),
);
const body = JSON.stringify({ type: 'echo', data: payload });

/** @type {Record<string, { label: string, ask: () => Promise<unknown> }>} */
const ways = {
  direct: {
    label: 'direct WebSocket ask (client → its server actor, one hop)',
    ask: () => direct.server.ask('echo', payload),
  },
  ws: { label: 'gateway over WebSocket (service → server → tab)', ask: () => tabRef.ask('echo', payload) },
  http: {
    label: 'HTTP POST <path>/sessions/:id/ask (agent → server → tab)',
    ask: async () => {
      const r = await fetch(`${http}/sessions/${session}/ask`, {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body,
      });
      if (r.status !== 200) throw new Error(`HTTP ${r.status}`);
      return r.json();
    },
  },
  mcp: {
    label: 'MCP tools/call (agent → server → tab)',
    ask: async () => {
      const r = await mcp.callTool({ name: 'bench_echo', arguments: { data: payload } });
      if (r.isError) throw new Error(JSON.stringify(r.content));
      return r;
    },
  },
};

/** @type {Record<string, { p50: number[], p99: number[], perSec: number[] }>} */
const samples = {};
for (let rep = 0; rep < REPS; rep++) {
  for (const [name, way] of Object.entries(ways)) {
    for (let i = 0; i < WARMUP; i++) await way.ask();
    const times = new Array(ASKS);
    const t0 = performance.now();
    for (let i = 0; i < ASKS; i++) {
      const t = performance.now();
      await way.ask();
      times[i] = performance.now() - t;
    }
    const elapsed = performance.now() - t0;
    times.sort((a, b) => a - b);
    const s = (samples[name] ??= { p50: [], p99: [], perSec: [] });
    s.p50.push(percentileSorted(times, 0.5));
    s.p99.push(percentileSorted(times, 0.99));
    s.perSec.push((ASKS / elapsed) * 1000);
    console.log(
      `[gateway] rep ${rep + 1} ${name.padEnd(6)} p50 ${percentileSorted(times, 0.5).toFixed(3)} ms  p99 ${percentileSorted(times, 0.99).toFixed(3)} ms  ${Math.round((ASKS / elapsed) * 1000)} asks/s`,
    );
  }
}

await mcp.close();
await service.close();
await direct.close();
child.stdin?.end();
await new Promise((r) => child.once('exit', r));

const results = {
  date: new Date().toISOString(),
  node: process.version,
  asks: ASKS,
  reps: REPS,
  payload: 'plain',
  ways: Object.fromEntries(
    Object.entries(ways).map(([name, way]) => {
      const s = samples[name];
      return [
        name,
        {
          label: way.label,
          p50Ms: summarize(s?.p50 ?? []),
          p99Ms: summarize(s?.p99 ?? []),
          asksPerSec: summarize(s?.perSec ?? []),
        },
      ];
    }),
  ),
};
writeFileSync(new URL('./results/gateway.json', import.meta.url), `${JSON.stringify(results, null, 2)}\n`);
console.log('[gateway] wrote bench/results/gateway.json');
