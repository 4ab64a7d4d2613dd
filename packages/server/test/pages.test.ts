import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineActor } from '@actorspace/core';
import {
  type ActorServer,
  CompositeResourceProvider,
  createActorServer,
  type ResourceProvider,
} from '@actorspace/server';
import { attach } from '@actorspace/server/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from './fixtures/node-host.js';

describe('zero-build pages and static folders', () => {
  let server: Server;
  let actors: ActorServer;
  let base: string;

  beforeAll(async () => {
    const root = mkdtempSync(join(tmpdir(), 'actorspace-pages-'));
    mkdirSync(join(root, 'tools'));
    writeFileSync(join(root, 'tools', 'client.js'), 'export default class Tools { receive() {} }\n');
    writeFileSync(join(root, 'tools', 'ui.js'), `export const big = ${JSON.stringify('x'.repeat(5000))};\n`);
    writeFileSync(join(root, 'secret.txt'), 'do not serve');
    mkdirSync(join(root, 'app', 'assets'), { recursive: true });
    writeFileSync(join(root, 'app', 'index.html'), '<!doctype html><title>spa</title>');
    writeFileSync(join(root, 'app', 'assets', 'app.css'), 'body{}');
    const custom: ResourceProvider = {
      getResource: (path) =>
        path === '/style.css'
          ? { content: 'h1{color:red}', contentType: 'text/css; charset=utf-8' }
          : path === '/favicon.ico'
            ? {
                content: new Uint8Array([0, 0, 1, 0]),
                contentType: 'image/x-icon',
                cacheControl: 'max-age=60',
              }
            : null,
    };
    actors = createActorServer({
      root,
      routes: {
        '/tools': {
          server: () => defineActor({}),
          client: 'tools/client.js',
          title: 'Tools <&>',
          resources: custom,
        },
        '/plain': () => defineActor({}),
      },
      static: { dir: 'app', prefix: '/app', spa: true },
    });
    server = createServer((_req, res) => {
      res.statusCode = 418;
      res.end('host');
    });
    attach(server, actors);
    base = `http://127.0.0.1:${await listen(server)}`;
  });

  afterAll(async () => {
    await actors.close();
    await closeServer(server);
  });

  it('serves the page with an escaped title, an import map and the boot module', async () => {
    const res = await fetch(`${base}/tools`);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    const html = await res.text();
    expect(html).toContain('<title>Tools &#60;&#38;&#62;</title>');
    expect(html).toContain('<script type="importmap">');
    expect(html).toContain('src="/tools/boot.js"');
    const boot = await (await fetch(`${base}/tools/boot.js`)).text();
    expect(boot).toContain("await import('./client.js')");
    expect(boot).toContain('globalThis.actorspace = { traffic }');
    expect(boot).toContain('"/actorspace"');
    expect(boot).toContain('route: "/tools"');
  });

  it('links a favicon and serves ActorSpace\u2019s own unless the client folder has one', async () => {
    const html = await (await fetch(`${base}/tools`)).text();
    expect(html).toContain('<link rel="icon" href="/tools/favicon.svg">');
    const icon = await fetch(`${base}/tools/favicon.svg`);
    expect(icon.status).toBe(200);
    expect(icon.headers.get('content-type')).toBe('image/svg+xml');
    expect(await icon.text()).toContain('<title>ActorSpace</title>');
  });

  it('lets the route\u2019s provider add and override resources and delegates the rest', async () => {
    const css = await fetch(`${base}/tools/style.css`);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toBe('h1{color:red}');
    const icon = await fetch(`${base}/tools/favicon.ico`);
    expect(icon.headers.get('cache-control')).toBe('max-age=60');
    expect(new Uint8Array(await icon.arrayBuffer())).toEqual(new Uint8Array([0, 0, 1, 0]));
    expect((await fetch(`${base}/tools/ui.js`)).status).toBe(200);
  });

  it('composes providers in order', async () => {
    const composite = new CompositeResourceProvider(
      { getResource: (p) => (p === '/a' ? { content: 'first', contentType: 'text/plain' } : null) },
      { getResource: () => ({ content: 'second', contentType: 'text/plain' }) },
    );
    const request = { method: 'GET', url: '/', headers: {} };
    expect((await composite.getResource('/a', request))?.content).toBe('first');
    expect((await composite.getResource('/b', request))?.content).toBe('second');
    expect(() => new CompositeResourceProvider({} as never)).toThrow(TypeError);
  });

  it('answers 304 to a matching ETag and compresses with brotli or gzip', async () => {
    const first = await fetch(`${base}/tools/ui.js`, { headers: { 'accept-encoding': 'br' } });
    expect(first.headers.get('content-encoding')).toBe('br');
    expect(await first.text()).toContain('xxxx');
    const etag = first.headers.get('etag')!;
    const again = await fetch(`${base}/tools/ui.js`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const gz = await fetch(`${base}/tools/ui.js`, { headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers.get('content-encoding')).toBe('gzip');
    const none = await fetch(`${base}/tools/ui.js`, { headers: { 'accept-encoding': 'identity' } });
    expect(none.headers.get('content-encoding')).toBeNull();
  });

  it('never serves files outside the client folder', async () => {
    for (const path of [
      '/tools/../secret.txt',
      '/tools/%2e%2e/secret.txt',
      '/tools/..%2fsecret.txt',
      '/tools/%00',
    ]) {
      const res = await fetch(`${base}${path}`);
      expect(await res.text()).not.toContain('do not serve');
    }
  });

  it('serves the browser bundle under the mount path, unhashed with no-cache', async () => {
    const res = await fetch(`${base}/actorspace/browser.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect((await fetch(`${base}/actorspace/browser.000000000000.js`)).status).toBe(418);
  });

  it('tells adapters which requests are its own, so the host gets the rest directly', () => {
    expect(actors.wants('GET', '/actorspace/health')).toBe(true);
    expect(actors.wants('HEAD', '/actorspace/browser.js')).toBe(true);
    expect(actors.wants('GET', '/tools/ui.js?x=1')).toBe(true);
    expect(actors.wants('GET', '/app/deep/link')).toBe(true);
    expect(actors.wants('GET', '/plain')).toBe(false);
    expect(actors.wants('GET', '/elsewhere')).toBe(false);
    expect(actors.wants('POST', '/tools')).toBe(false);
  });

  it('serves static files, falls back to index.html for HTML navigations, and leaves the rest to the host', async () => {
    expect(await (await fetch(`${base}/app/assets/app.css`)).text()).toBe('body{}');
    const nav = await fetch(`${base}/app/settings/profile`, { headers: { accept: 'text/html' } });
    expect(await nav.text()).toContain('<title>spa</title>');
    expect((await fetch(`${base}/app/missing.js`)).status).toBe(418);
    expect((await fetch(`${base}/app/api`, { headers: { accept: 'application/json' } })).status).toBe(418);
    expect((await fetch(`${base}/plain`)).status).toBe(418);
    expect((await fetch(`${base}/elsewhere`)).status).toBe(418);
  });
});

describe('imports of zero-build pages', () => {
  let root: string;
  const stops: Array<() => Promise<void>> = [];

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'actorspace-imports-'));
    mkdirSync(join(root, 'page'));
    writeFileSync(join(root, 'page', 'client.js'), 'export default class Page { receive() {} }\n');
    const lib = join(root, 'node_modules', 'tinylib');
    mkdirSync(join(lib, 'dist'), { recursive: true });
    writeFileSync(
      join(lib, 'package.json'),
      JSON.stringify({
        name: 'tinylib',
        version: '1.2.3',
        exports: {
          '.': { browser: './dist/browser.js', require: './index.cjs', default: './index.js' },
          './extra': './extra.js',
          './package.json': './package.json',
        },
      }),
    );
    writeFileSync(join(lib, 'dist', 'browser.js'), 'export const tiny = 1;\n');
    writeFileSync(join(lib, 'extra.js'), 'export const extra = 2;\n');
    mkdirSync(join(root, 'node_modules', 'private'), { recursive: true });
    writeFileSync(join(root, 'node_modules', 'private', 'secret.js'), 'export const secret = 1;\n');
  });

  afterAll(async () => {
    for (const stop of stops.splice(0)) await stop();
  });

  async function start(options: Partial<Parameters<typeof createActorServer>[0]>) {
    const actors = createActorServer({
      root,
      routes: { '/page': { server: () => defineActor({}), client: 'page/client.js' } },
      ...options,
    });
    const server = createServer((_req, res) => {
      res.statusCode = 418;
      res.end('host');
    });
    attach(server, actors);
    const url = `http://127.0.0.1:${await listen(server)}`;
    stops.push(async () => {
      await actors.close();
      await closeServer(server);
    });
    return url;
  }

  it('maps listed packages and URLs in the import map, and serves the packages by name with immutable caching', async () => {
    const url = await start({
      imports: { tinylib: true, '@app/ui': '/ui/index.js' },
      routes: {
        '/page': {
          server: () => defineActor({}),
          client: 'page/client.js',
          imports: { 'tinylib/extra': true },
        },
      },
    });
    const html = await (await fetch(`${url}/page`)).text();
    const map = JSON.parse(/<script type="importmap">(.*?)<\/script>/.exec(html)?.[1] ?? '{}').imports;
    expect(map).toMatchObject({
      tinylib: '/actorspace/modules/tinylib@1.2.3/dist/browser.js',
      'tinylib/extra': '/actorspace/modules/tinylib@1.2.3/extra.js',
      '@app/ui': '/ui/index.js',
      '@actorspace/browser': expect.stringMatching(/^\/actorspace\/browser\.\w+\.js$/),
    });
    const mod = await fetch(`${url}/actorspace/modules/tinylib@1.2.3/dist/browser.js`);
    expect(mod.status).toBe(200);
    expect(mod.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(mod.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(await mod.text()).toContain('tiny = 1');
  });

  it('reaches nothing else under node_modules: unlisted packages, other versions, paths out of the package', async () => {
    const url = await start({ imports: { tinylib: true } });
    for (const path of [
      '/actorspace/modules/private@1.0.0/secret.js',
      '/actorspace/modules/tinylib@9.9.9/dist/browser.js',
      '/actorspace/modules/tinylib@1.2.3/..%2Fprivate%2Fsecret.js',
      '/actorspace/modules/tinylib@1.2.3/missing.js',
    ]) {
      expect((await fetch(`${url}${path}`)).status, path).toBe(404);
    }
  });

  it('refuses malformed imports when the server is created', () => {
    expect(() => createActorServer({ routes: {}, imports: { '': '/x.js' } })).toThrow(TypeError);
    expect(() => createActorServer({ routes: {}, imports: { x: 5 as never } })).toThrow(TypeError);
    expect(() => createActorServer({ routes: {}, imports: { '../x': true } })).toThrow(TypeError);
  });

  it('answers a page whose listed package is not installed with an error, and the host keeps working', async () => {
    const url = await start({ imports: { 'not-installed': true } });
    expect((await fetch(`${url}/page`)).status).toBe(500);
    expect((await fetch(`${url}/other`)).status).toBe(418);
  });
});
