// @ts-check
// Starts the playground: one node:http server that serves the index page, the shared
// stylesheet, the How it works panel's modules and the code view's source itself, with
// ActorSpace attached for the demos' pages and sockets. The CLI
// (server.mjs) and the e2e suite both call startPlayground(); cluster.mjs calls it in two
// processes with a Redis backplane, as two nodes of one server.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAccessToken, createActorServer } from '@actorspace/server';
import { attach } from '@actorspace/server/node';
import { createChatRoom } from './chat/room.mjs';
import { createChatActor } from './chat/server.mjs';
import { createCounterActor } from './counter/server.mjs';
import { createDesk } from './desk/desk.mjs';
import { createDeskActor } from './desk/server.mjs';
import { createPoll } from './poll/poll.mjs';
import { createPollActor } from './poll/server.mjs';
import { createStatusActor } from './status/server.mjs';
import { createTodosActor } from './todos/server.mjs';
import { createTodoStore } from './todos/store.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const MOUNT = '/actorspace';

/**
 * The demos: route, title, the one line the index shows, and the files the code view
 * shows, in the order their README says to read them (paths in the demo's folder).
 */
export const DEMOS = [
  {
    route: '/counter',
    title: 'Counter',
    blurb: 'The smallest pairing: asks in, a value pushed back.',
    files: ['server.mjs', 'client/client.js', 'client/ui.js'],
  },
  {
    route: '/todos',
    title: 'Todos',
    blurb: 'A list shared live by every tab, saved to a file in the background.',
    files: ['store.mjs', 'server.mjs', 'client/client.js', 'client/ui.js'],
  },
  {
    route: '/chat',
    title: 'Chat',
    blurb: 'Messages to everyone, and who is online as tabs come and go.',
    files: ['client/client.js', 'server.mjs', 'room.mjs', 'client/ui.js'],
  },
  {
    route: '/status',
    title: 'Connection status',
    blurb: 'Drop the connection and watch the session resume with no message lost.',
    files: ['client/client.js', 'server.mjs', 'client/ui.js'],
  },
  {
    route: '/poll',
    title: 'Poll',
    blurb: 'A Preact page with no build: packages imported by name from node_modules.',
    files: ['client/ui.js', 'server.mjs', 'poll.mjs', 'client/client.js'],
  },
  {
    route: '/desk',
    title: 'Help desk',
    blurb: 'Sign in with a token; pages open tickets, only a back-office service resolves them.',
    files: ['server.mjs', 'client/client.js', 'agent.mjs', 'desk.mjs', 'client/ui.js'],
  },
];

/**
 * The code view's allowlist: `/source/<demo>/<file>` → the file on disk, for exactly the
 * files DEMOS names. The URL is looked up as it is, never joined into a path, so nothing
 * else of the folder (`.data/`, `start.mjs`, `../`) can be reached through it.
 */
const SOURCES = new Map(
  DEMOS.flatMap((d) => d.files.map((file) => [`/source${d.route}/${file}`, join(HERE, d.route, file)])),
);

/** `GET /source/<demo>`: the code view's list of files, with where each one runs. */
const SOURCE_LISTS = new Map(
  DEMOS.map((d) => [
    `/source${d.route}`,
    JSON.stringify({
      files: d.files.map((file) => {
        const client = file.startsWith('client/');
        return {
          path: file,
          side: client ? 'client' : 'server',
          url: `/source${d.route}/${file}`,
          served: client ? `${d.route}/${file.slice('client/'.length)}` : null,
        };
      }),
    }),
  ]),
);

/**
 * @typedef {object} Playground
 * @property {string} url e.g. `http://127.0.0.1:8080`
 * @property {number} port
 * @property {string | null} node this node's label on a cluster, else null
 * @property {() => number} dropSockets destroys this node's ActorSpace sockets (a simulated network drop); returns how many
 * @property {() => Promise<void>} close graceful: sessions end, pending todo writes land, the port is freed
 */

/**
 * @typedef {object} PlaygroundOptions
 * @property {number} [port] 0 picks a free port
 * @property {string} [host]
 * @property {string} [dataDir] where the todos and the desk's secret are kept
 * @property {import('@actorspace/server').Backplane} [backplane] runs this playground as one node
 *   of a cluster (`pnpm playground:cluster`): the chat's topic, presence and the agent gateway
 *   span every node on the same backplane
 * @property {string} [node] this node's label on a cluster (`A`, `B`): chat guest names carry it
 * @property {boolean} [clock] publish the event-stream demo's tick each second (on a cluster, one
 *   node is enough: the topic spans them all) @default true
 */

/**
 * Starts the playground.
 * @param {PlaygroundOptions} [options]
 * @returns {Promise<Playground>}
 */
export async function startPlayground({
  port = 8080,
  host = '127.0.0.1',
  dataDir = join(HERE, '.data'),
  backplane,
  node,
  clock: ticking = true,
} = {}) {
  if (node !== undefined && !/^[A-Za-z0-9]{1,8}$/.test(node)) {
    throw new TypeError(`startPlayground: node must be 1 to 8 letters or digits, got "${node}"`);
  }
  // The todo list lives in each process's memory: on a cluster each node keeps its own file.
  const todos = await createTodoStore({ file: join(dataDir, node ? `todos-${node}.json` : 'todos.json') });
  const secret = await deskSecret(dataDir);
  /**
   * Publishes to a topic, for services made before the server they publish through.
   * @type {(topic: string, type: string, data: unknown) => Promise<number>}
   */
  const publish = (topic, type, data) => actors.publish(topic, type, data);

  const chat = createChatRoom({ publish }, { node });

  const actors = createActorServer({
    root: HERE, // the `client` paths below are relative to this folder
    services: { todos, chat, poll: createPoll(), desk: createDesk() },
    topics: {
      // Chat messages and who is online: pages subscribe; only the server publishes (the room).
      'chat/:room': { presence: true, history: { size: 100, ttl: 10 * 60_000 } },
      // The event-stream demo (stream/): a tick a second, read by a plain EventSource at
      // GET /actorspace/topics/clock; five minutes of history to replay after a drop.
      clock: { history: { size: 300, ttl: 5 * 60_000 } },
    },
    // The agent gateway: services with a token signed by the playground's secret (agent/agent.mjs)
    // list the open tabs and call what each offers them, over HTTP and MCP at /actorspace/mcp.
    gateway: { mcp: true },
    // Access tokens signed with the playground's secret are verified on every connection...
    tokens: { secret },
    // ...and the desk requires one; the other demos take anonymous pages too, named after the
    // page's root actor, which stays the same across reconnects (so their sessions resume).
    authenticate: ({ route, verified, actor }) =>
      route === '/desk' ? verified : (verified ?? { id: `guest-${actor ?? randomUUID()}`, type: 'client' }),
    routes: {
      '/counter': { server: createCounterActor, client: './counter/client/client.js', title: 'Counter' },
      // Valibot, served by name: the page's agent-facing handlers validate their input with it.
      '/todos': {
        server: createTodosActor,
        client: './todos/client/client.js',
        title: 'Todos',
        imports: { valibot: true, '@valibot/to-json-schema': true },
      },
      '/chat': { server: createChatActor, client: './chat/client/client.js', title: 'Chat' },
      '/status': {
        server: createStatusActor,
        client: './status/client/client.js',
        title: 'Connection status',
      },
      // Preact and htm, served by name from node_modules: the page imports them with no build.
      '/poll': {
        server: createPollActor,
        client: './poll/client/client.js',
        title: 'Poll',
        imports: { preact: true, 'preact/hooks': true, htm: true },
      },
      '/desk': { server: createDeskActor, client: './desk/client/client.js', title: 'Help desk' },
    },
    // On a cluster: the nodes share the topics (events, presence, history), the registry of
    // sessions and the gateway over this backplane (Redis in `pnpm playground:cluster`).
    backplane,
  });
  // Once the backplane is up (at once without one), so a page never meets a node cut off from the others.
  await actors.ready();
  // The chat room keeps the recent messages for newcomers from its topic (every node's messages).
  const unfollow = await chat.follow(actors);

  const css = await readFile(join(HERE, 'style.css'));
  // The modules of the panel every demo page shows (`shared/*.js`), served at `/shared/<file>`.
  const shared = new Set(
    (await readdir(join(HERE, 'shared'))).filter((f) => f.endsWith('.js')).map((f) => `/shared/${f}`),
  );
  const icon = await readFile(join(HERE, 'favicon.svg'));
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(indexPage());
    } else if (req.method === 'GET' && path === '/playground.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(css);
    } else if (req.method === 'GET' && path === '/favicon.ico') {
      // Browsers ask every origin for one; the zero-build pages have no <link rel="icon">.
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=3600' });
      res.end(icon);
    } else if (req.method === 'GET' && shared.has(path)) {
      // The teaching panel's modules, imported by every demo's client/ui.js.
      sendFile(res, join(HERE, path), 'text/javascript; charset=utf-8');
    } else if (req.method === 'GET' && (path === '/stream' || path === '/stream/stream.js')) {
      // The event-stream demo (stream/): a static page and its script, no ActorSpace client.
      const script = path.endsWith('.js');
      sendFile(
        res,
        join(HERE, 'stream', script ? 'stream.js' : 'index.html'),
        script ? 'text/javascript; charset=utf-8' : 'text/html; charset=utf-8',
      );
    } else if (req.method === 'GET' && SOURCE_LISTS.has(path)) {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' });
      res.end(SOURCE_LISTS.get(path));
    } else if (req.method === 'GET' && SOURCES.has(path)) {
      // Source for reading, never for running: plain text, and the browser may not sniff it into a script.
      sendFile(res, /** @type {string} */ (SOURCES.get(path)), 'text/plain; charset=utf-8');
    } else if (req.method === 'POST' && path === '/desk/login') {
      // The host app's login route: here any name signs in; a real app checks a password or
      // its single sign-on, then issues the token the page connects with.
      login(req, secret).then(
        (token) => {
          res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
          res.end(JSON.stringify({ token }));
        },
        (error) => {
          res.writeHead(400, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ error: String(error.message) }));
        },
      );
    } else if (req.method === 'POST' && path === '/status/drop') {
      // The status demo's "drop connection" button.
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ dropped: dropSockets() }));
    } else {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found');
    }
  });

  // Keep the upgraded sockets, to cut them on demand. Registered before attach(), so
  // ActorSpace's upgrade listener is no longer the only one: refuse other paths here.
  /** @type {Set<import('node:stream').Duplex>} */
  const sockets = new Set();
  server.on('upgrade', (req, socket) => {
    if (new URL(req.url ?? '/', 'http://x').pathname !== MOUNT) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  // Host listeners are registered first: attach() serves its own URLs and passes the rest on.
  attach(server, actors, { path: MOUNT });

  /** Destroys the TCP sockets with no close handshake, as a lost network would. */
  function dropSockets() {
    const count = sockets.size;
    for (const socket of sockets) socket.destroy();
    sockets.clear();
    return count;
  }

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(undefined));
  }).catch(async (error) => {
    // The port is taken: nothing of this playground may keep running (nor hold the backplane).
    unfollow();
    await actors.close();
    throw error;
  });
  const address = /** @type {import('node:net').AddressInfo} */ (server.address());
  const url = `http://${host}:${address.port}`;
  // The event-stream demo (stream/): the server publishes a tick on topic `clock` every second.
  const clock = ticking ? setInterval(() => actors.publish('clock', 'tick', { at: new Date() }), 1000) : null;

  /** @type {Promise<void> | null} */
  let closing = null;
  return {
    url,
    port: address.port,
    node: node ?? null,
    dropSockets,
    close() {
      closing ??= (async () => {
        if (clock) clearInterval(clock); // the event-stream demo's ticks
        unfollow(); // the chat room stops following its topic
        await actors.close(); // every session ends with 1001; actors get onStop
        await todos.flush();
        await new Promise((resolve) => {
          server.close(() => resolve(undefined));
          server.closeAllConnections();
          for (const socket of sockets) socket.destroy();
        });
      })();
      return closing;
    },
  };
}

/**
 * Sends a file of the playground (read at each request, so edits show on reload).
 * @param {import('node:http').ServerResponse} res
 * @param {string} file
 * @param {string} type
 */
function sendFile(res, file, type) {
  readFile(file).then(
    (content) => {
      res.writeHead(200, {
        'content-type': type,
        'cache-control': 'no-cache',
        'x-content-type-options': 'nosniff',
      });
      res.end(content);
    },
    () => {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('Not found');
    },
  );
}

function indexPage() {
  const items = DEMOS.map(
    (d) => `<li><a href="${d.route}">${d.title}</a> <span class="muted">— ${d.blurb}</span></li>`,
  ).join('\n      ');
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>ActorSpace playground</title>
  <link rel="stylesheet" href="/playground.css">
  <link rel="icon" href="/favicon.ico" type="image/svg+xml">
</head>
<body>
  <main>
    <h1>ActorSpace playground</h1>
    <p class="lead">Each demo pairs the page's client actor with its own server actor over one WebSocket.
      Every page is served with zero build: an import map points <code>@actorspace/browser</code> at the bundle.</p>
    <ul class="plain demos card">
      ${items}
    </ul>
    <p class="small">Every demo page has a <strong>How it works</strong> panel beside the app:
      <strong>Traffic</strong> lists the frames on the page's WebSocket as they go by (asks, tells,
      answers and errors, with the time each ask waited for its answer), and <strong>Code</strong>
      shows the demo's own server and client source (open a demo with <code>#code</code> to start there).</p>
    <p class="small muted">Source: <code>playground/&lt;demo&gt;/</code> — start with each demo's README.
      Health: <a href="${MOUNT}/health">${MOUNT}/health</a></p>
  </main>
</body>
</html>
`;
}

/**
 * The secret the desk's tokens are signed with: `ACTORSPACE_SECRET`, or a random one kept in
 * the data folder, where the back-office agent (desk/agent.mjs) reads it too.
 * @param {string} dataDir
 */
async function deskSecret(dataDir) {
  if (process.env.ACTORSPACE_SECRET) return process.env.ACTORSPACE_SECRET;
  const file = join(dataDir, 'desk-secret');
  const existing = await readFile(file, 'utf8').catch(() => null);
  if (existing) return existing.trim();
  const secret = randomBytes(32).toString('hex');
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, secret, { mode: 0o600 });
  return secret;
}

/**
 * `POST /desk/login` with `{ name }`: a client token bound to the desk, for one hour.
 * @param {import('node:http').IncomingMessage} req
 * @param {string} secret
 */
async function login(req, secret) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 1024) throw new Error('request too large');
  }
  const name = String(JSON.parse(body || '{}').name ?? '').trim();
  if (!/^[\p{L}\p{N} ._-]{1,32}$/u.test(name))
    throw new Error('a name of 1 to 32 letters, digits, spaces, . _ -');
  return createAccessToken({ secret, caller: { id: name, type: 'client' }, route: '/desk', expiresIn: '1h' });
}
