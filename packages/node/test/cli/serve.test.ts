import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActorSpaceError, connect, type ServeHandle, serve } from '@actorspace/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

declare global {
  // Written by the configs below, which run in this process: onStop reasons, by route.
  var __serveTestStops: string[] | undefined;
}

let dir: string;
let seq = 0;
const handles: ServeHandle[] = [];

/** Writes a config under a fresh name (ES modules are cached by URL) and returns its path. */
function config(text: string, folder = dir): string {
  const file = join(folder, `config-${++seq}.mjs`);
  writeFileSync(file, text);
  return file;
}

async function start(options: Parameters<typeof serve>[0]): Promise<ServeHandle> {
  const handle = await serve(options);
  handles.push(handle);
  return handle;
}

async function failure(options: Parameters<typeof serve>[0]): Promise<ActorSpaceError> {
  const error = await serve(options).then(
    (handle) => {
      handles.push(handle);
      throw new Error('serve resolved');
    },
    (e: ActorSpaceError) => e,
  );
  return error;
}

const ECHO = `export default {
  routes: {
    '/echo': () => ({
      receive: (type, data) => data,
      onStop: (reason) => (globalThis.__serveTestStops ??= []).push(String(reason)),
    }),
  },
};
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'actorspace-serve-'));
});

afterEach(async () => {
  await Promise.all(handles.splice(0).map((h) => h.close()));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('serve', () => {
  it('answers / with an index of the routes, linking those with a page', async () => {
    const folder = mkdtempSync(join(dir, 'index-'));
    mkdirSync(join(folder, 'client'));
    writeFileSync(join(folder, 'client', 'tools.js'), 'export default class Tools { receive() {} }\n');
    const file = config(
      `export default { routes: { '/tools': { server: () => ({ receive() {} }), client: './client/tools.js', title: 'Tools' }, '/api': () => ({ receive() {} }) } };\n`,
      folder,
    );
    const handle = await start({ config: file, port: 0 });
    const res = await fetch(`${handle.url}/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('<a href="/tools">Tools</a>');
    expect(html).toContain('<code>/api</code> (no page');
    expect((await fetch(`${handle.url}/nothing-here`)).status).toBe(404);
  });

  it('serves a config file on a free port, and a Node client pairs with its route', async () => {
    const server = await start({ config: config(ECHO), port: 0 });
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.path).toBe('/actorspace');
    expect(server.pages).toEqual([]);
    const session = await connect(`ws://127.0.0.1:${server.port}/actorspace`, {
      route: '/echo',
      reconnect: false,
    });
    expect(await session.server.ask('echo', [1, 2])).toEqual([1, 2]);
    await session.close();
  });

  it('looks for actorspace.config.mjs in a folder', async () => {
    const folder = join(dir, 'app');
    mkdirSync(folder);
    writeFileSync(join(folder, 'actorspace.config.mjs'), ECHO);
    const server = await start({ config: 'app', cwd: dir, port: 0 });
    expect(server.config).toBe(join(folder, 'actorspace.config.mjs'));
  });

  it('takes port, host and path from the config, and lets options override them', async () => {
    const file = config(
      `export default { port: 0, host: '127.0.0.1', path: '/from-config', routes: { '/a': () => ({ receive: () => 1 }) } };`,
    );
    const fromConfig = await start({ config: file });
    expect(fromConfig.path).toBe('/from-config');
    expect((await fetch(`${fromConfig.url}/from-config/health`)).status).toBe(200);

    const overridden = await start({ config: file, port: 0, path: '/over' });
    expect(overridden.path).toBe('/over');
    expect((await fetch(`${overridden.url}/over/health`)).status).toBe(200);
    expect((await fetch(`${overridden.url}/from-config/health`)).status).toBe(404);
  });

  it("resolves a route's client against the config file's folder, not the working folder", async () => {
    const folder = join(dir, 'pages');
    mkdirSync(folder);
    writeFileSync(join(folder, 'tools-client.js'), 'export default class ToolsClient { /* marker-7d1 */ }\n');
    const file = config(
      `export default { routes: { '/tools': { server: () => ({ receive: () => 1 }), client: './tools-client.js' } } };`,
      folder,
    );
    const server = await start({ config: file, cwd: tmpdir(), port: 0 });
    expect(server.pages).toEqual([{ route: '/tools', url: `${server.url}/tools` }]);
    const client = await fetch(`${server.url}/tools/client.js`);
    expect(client.status).toBe(200);
    expect(await client.text()).toContain('marker-7d1');
  });

  it('closes gracefully: live sessions stop their actors, open sockets end, the port is freed', async () => {
    const server = await start({ config: config(ECHO), port: 0 });
    const session = await connect(`${server.url.replace('http', 'ws')}/actorspace`, {
      route: '/echo',
      reconnect: false,
    });
    await session.server.ask('echo', 1);
    // A keep-alive HTTP connection stays open after its response unless the server ends it.
    const agent = new Agent({ keepAlive: true });
    await new Promise<void>((resolve, reject) =>
      request(`${server.url}/actorspace/health`, { agent }, (res) => res.resume().on('end', resolve))
        .on('error', reject)
        .end(),
    );
    const stopsBefore = globalThis.__serveTestStops?.length ?? 0;
    const sessionClosed = new Promise<void>((resolve) =>
      session.on('status', (status) => status === 'closed' && resolve()),
    );

    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    expect(globalThis.__serveTestStops?.length).toBe(stopsBefore + 1);
    await sessionClosed;
    agent.destroy();

    const probe = createServer();
    await new Promise<void>((resolve, reject) => {
      probe.once('error', reject);
      probe.listen(server.port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => probe.close(() => resolve()));
  });

  it.each([
    ['a missing file', () => ({ config: join(dir, 'nope.mjs') }), 'not found'],
    ['no default export', () => ({ config: config('export const routes = {};') }), 'no default export'],
    ['a default export that is not an object', () => ({ config: config('export default 3;') }), 'got 3'],
    ['no routes', () => ({ config: config('export default {};') }), 'no routes'],
    ['a malformed route', () => ({ config: config('export default { routes: { "/a": 1 } };') }), '"/a"'],
    [
      'a bad port',
      () => ({ config: config('export default { port: "eighty", routes: {} };'), port: undefined }),
      'port must be an integer',
    ],
    ['a throwing config', () => ({ config: config('throw new RangeError("nope");') }), 'RangeError: nope'],
  ])('rejects %s with INVALID_MESSAGE naming the file', async (_, options, problem) => {
    const opts = options();
    const error = await failure({ port: 0, ...opts });
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.message).toContain(problem);
    expect(error.message).toContain(opts.config.slice(dir.length + 1));
    expect(error.details).toMatchObject({ file: opts.config });
  });

  it('rejects with INVALID_MESSAGE and details.code EADDRINUSE when the port is taken', async () => {
    const first = await start({ config: config(ECHO), port: 0 });
    const error = await failure({ config: config(ECHO), port: first.port });
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.details).toMatchObject({ code: 'EADDRINUSE', port: first.port });
    expect(error.message).toContain('already in use');
  });

  it('names the folder when it holds no config file', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const error = await failure({ cwd: empty, port: 0 });
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.message).toContain(empty);
    expect(error.message).toContain('actorspace.config.mjs');
  });
});
