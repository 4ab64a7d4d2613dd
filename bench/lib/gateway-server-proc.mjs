// @ts-check
/**
 * Gateway bench server child: `node bench/lib/gateway-server-proc.mjs`. Starts an ActorSpace
 * server on 127.0.0.1:0 with the gateway (a key, MCP on, no rate limit) and route `/bench`
 * (server actor `echo`), then pairs one "tab" with it: a Node client in this same process,
 * over a real loopback WebSocket, whose root actor offers `echo` to services. Prints one JSON
 * line `{ port, session, key }` (`session`: the tab's public id) and runs until stdin closes.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import { connect, defineActor } from '@actorspace/node';
import { createActorServer } from '@actorspace/server';
import { attach } from '@actorspace/server/node';

const key = 'bench-gateway-key-0123456789abcdefghijkl';
const http = createServer();
const actors = createActorServer({
  routes: { '/bench': () => defineActor({ echo: (data) => data }) },
  gateway: { keys: { bench: key }, mcp: true, rateLimit: false },
  authenticate: ({ verified }) => verified ?? { id: 'tab', type: 'client' },
});
attach(http, actors);
http.listen(0, '127.0.0.1');
await once(http, 'listening');
const port = /** @type {import('node:net').AddressInfo} */ (http.address()).port;
const tab = await connect(`ws://127.0.0.1:${port}/actorspace`, {
  route: '/bench',
  actor: defineActor({
    echo: { callers: ['service'], description: 'Echoes its input', handler: (data) => data },
  }),
});
while (!actors.sessions().some((s) => s.capabilities.length > 0)) await new Promise((r) => setTimeout(r, 5));
// The tab's public id: what services name it by.
const session = actors.sessions()[0]?.id;
process.stdout.write(`${JSON.stringify({ port, session, key })}\n`);
process.stdin.resume();
process.stdin.on('end', async () => {
  await tab.close();
  await actors.close();
  http.closeAllConnections();
  http.close();
  process.exit(0);
});
