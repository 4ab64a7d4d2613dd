import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ActorSpaceError, defineActor, Kind, PROTOCOL_VERSION } from '@actorspace/core';
import { type ActorServer, createActorServer } from '@actorspace/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryPeer, until } from './fixtures/memory-peer.js';

/** The global gc() (from --expose-gc, or enabled at run time), or undefined where V8 refuses. */
function exposeGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}

const servers: ActorServer<any>[] = [];
function server(options: Partial<Parameters<typeof createActorServer>[0]> = {}): ActorServer<any> {
  const actors = createActorServer({
    routes: { '/echo': () => defineActor({ echo: (x: unknown) => x }) },
    ...options,
  });
  servers.push(actors);
  return actors;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
  vi.restoreAllMocks();
});

describe('createActorServer', () => {
  it('refuses malformed routes and options as programming errors (TypeError, RangeError)', () => {
    expect(() => createActorServer({ routes: { todos: () => defineActor({}) } })).toThrow(TypeError);
    expect(() => createActorServer({ routes: { '/x': 42 as never } })).toThrow(TypeError);
    expect(() => createActorServer({ routes: {}, maxPayload: -1 })).toThrow(RangeError);
    expect(() => createActorServer({ routes: {}, resume: { ttl: 0 } })).toThrow(RangeError);
    expect(() => createActorServer({ routes: {}, rateLimit: { messages: -1 } })).toThrow(RangeError);
    expect(() => createActorServer(null as never)).toThrow(TypeError);
  });

  it('accepts route definitions with client, title and resources', () => {
    const actors = server({
      routes: { '/tools': { server: () => defineActor({}), client: './client.js', title: 'Tools' } },
    });
    expect(actors.routes.get('/tools')).toMatchObject({ client: './client.js', title: 'Tools' });
  });
});

describe('ActorServer', () => {
  it('pairs a peer, gives the factory its context and emits connection and disconnect', async () => {
    let seen: Record<string, unknown> | null = null;
    const stopped = vi.fn();
    const actors = server({
      services: { db: 'the-db' },
      routes: {
        '/echo': (ctx) => {
          seen = { ...ctx };
          return defineActor({}, { onStop: stopped });
        },
      },
    });
    const events: string[] = [];
    actors.on('connection', (c) => events.push(`connection ${c.id}`));
    actors.on('disconnect', (c, code) => events.push(`disconnect ${c.id} ${code} ${c.route}`));
    const peer = memoryPeer(actors, {
      url: '/actorspace?x=1',
      headers: { Origin: 'http://a.test', 'X-Y': 'z' },
    });
    const welcome = await peer.pair();
    expect(welcome.session).toEqual(expect.any(String));
    expect(seen).toMatchObject({
      services: { db: 'the-db' },
      caller: { id: peer.conn.id, type: 'client' },
      request: {
        url: '/actorspace?x=1',
        origin: 'http://a.test',
        headers: { 'x-y': 'z', origin: 'http://a.test' },
      },
      session: { id: welcome.session, route: '/echo' },
    });
    expect({ connections: actors.connections, sessions: actors.sessions().length }).toEqual({
      connections: 1,
      sessions: 1,
    });
    peer.conn.closed(1000, 'bye');
    await until(actors, 'disconnect', () => actors.connections === 0);
    expect(actors.sessions().length).toBe(0);
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(events).toEqual([`connection ${peer.conn.id}`, `disconnect ${peer.conn.id} 1000 /echo`]);
  });

  it('maps authenticate: null to 4401, a FORBIDDEN throw to 4403, and passes the token', async () => {
    const tokens: unknown[] = [];
    const actors = server({
      authenticate: async ({ token }) => {
        tokens.push(token);
        if (token === 'forbidden') throw new ActorSpaceError('FORBIDDEN', 'not for you');
        return token === 'ok' ? { id: 'u1', type: 'client' } : null;
      },
    });
    const refused = memoryPeer(actors);
    refused.conn.message(
      JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, route: '/echo', token: 'nope' }]),
    );
    expect((await refused.closed).code).toBe(4401);
    const forbidden = memoryPeer(actors);
    forbidden.conn.message(
      JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, route: '/echo', token: 'forbidden' }]),
    );
    expect((await forbidden.closed).code).toBe(4403);
    await memoryPeer(actors).pair({ route: '/echo', token: 'ok' });
    expect(tokens).toEqual(['nope', 'forbidden', 'ok']);
  });

  it('closes 1011 and emits error when a factory throws', async () => {
    const actors = server({
      routes: {
        '/boom': () => {
          throw new Error('factory broke');
        },
      },
    });
    const errors: ActorSpaceError[] = [];
    actors.on('error', (e) => errors.push(e));
    const peer = memoryPeer(actors);
    peer.conn.message(JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, route: '/boom' }]));
    expect((await peer.closed).code).toBe(1011);
    expect(errors.map((e) => e.code)).toEqual(['REMOTE_ERROR']);
  });

  it('stops a root actor whose client left while its factory ran', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stopped = vi.fn();
    const actors = server({
      routes: {
        '/slow': async () => {
          await gate;
          return defineActor({}, { onStop: stopped });
        },
      },
    });
    const peer = memoryPeer(actors);
    peer.conn.message(JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, route: '/slow' }]));
    await Promise.resolve();
    peer.conn.closed(1006, '');
    await until(actors, 'disconnect', () => actors.connections === 0);
    release();
    await vi.waitFor(() => expect(stopped).toHaveBeenCalledTimes(1));
  });

  it('answers 1001 and stops the actor when shutdown begins while a factory runs', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const stopped = vi.fn();
    const actors = server({
      routes: {
        '/slow': async () => {
          await gate;
          return defineActor({}, { onStop: stopped });
        },
      },
    });
    const peer = memoryPeer(actors);
    peer.conn.message(JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, route: '/slow' }]));
    await Promise.resolve();
    const closing = actors.close();
    release();
    expect((await peer.closed).code).toBe(1001);
    await closing;
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(actors.sessions().length).toBe(0);
  });

  it('closes 4408 when the peer stops answering heartbeats', async () => {
    const actors = server({ heartbeat: { interval: 10, timeout: 30 } });
    const peer = memoryPeer(actors);
    await peer.pair();
    expect((await peer.closed).code).toBe(4408);
    expect(peer.sent.some((f) => f === `[${Kind.PING}]`)).toBe(true);
  });

  it('checks origins from a list or a function; no Origin is always allowed', () => {
    const list = server({ origins: ['https://app.test'] });
    expect(list.checkOrigin('https://app.test', {})).toBe(true);
    expect(list.checkOrigin('https://evil.test', {})).toBe(false);
    expect(list.checkOrigin(undefined, {})).toBe(true);
    const fn = server({ origins: (o) => o.endsWith('.app.test') });
    expect(fn.checkOrigin('https://a.app.test', {})).toBe(true);
    expect(fn.checkOrigin('https://app.evil', {})).toBe(false);
  });

  it('allows only the same origin by default: the Origin host is the Host (or X-Forwarded-Host)', () => {
    const actors = server();
    expect(actors.checkOrigin('http://app.test:8080', { host: 'app.test:8080' })).toBe(true);
    expect(actors.checkOrigin('https://APP.test', { host: 'app.test' })).toBe(true);
    // Another site, another port of the same host, or a page with no host to compare to.
    expect(actors.checkOrigin('https://evil.test', { host: 'app.test' })).toBe(false);
    expect(actors.checkOrigin('http://app.test:3000', { host: 'app.test:8080' })).toBe(false);
    expect(actors.checkOrigin('https://app.test', {})).toBe(false);
    // An origin with no host is nobody's own, whatever the headers say.
    for (const o of ['file://', 'data:text/html,x', 'about:blank']) {
      expect(actors.checkOrigin(o, { host: '', 'x-forwarded-host': '' })).toBe(false);
    }
    expect(actors.checkOrigin('null', { host: 'app.test' })).toBe(false);
    // Behind a proxy that rewrites Host: the host the browser used is in X-Forwarded-Host.
    expect(
      actors.checkOrigin(
        'https://app.test',
        new Headers({ host: 'backend:3000', 'x-forwarded-host': 'app.test' }),
      ),
    ).toBe(true);
    // Not a browser: no Origin header.
    expect(actors.checkOrigin(undefined, { host: 'app.test' })).toBe(true);
  });

  it('answers health under the mount path and nothing else', async () => {
    const actors = server();
    const reply = await actors.http({ method: 'GET', url: 'http://h/custom/health' }, '/custom');
    expect(reply?.status).toBe(200);
    expect(JSON.parse(String(reply?.body))).toMatchObject({ status: 'ok', connections: 0, sessions: 0 });
    expect(await actors.http({ method: 'GET', url: '/actorspace/other' })).toBeNull();
    expect(await actors.http({ method: 'POST', url: '/actorspace/health' })).toBeNull();
  });

  it('is quiet by default and traces frames with dev: true', async () => {
    const debug = vi.spyOn(console, 'debug').mockImplementation(() => {});
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const quiet = server();
    const bad = memoryPeer(quiet);
    bad.conn.message('garbage');
    expect((await bad.closed).code).toBe(4400);
    expect(debug).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
    const dev = server({ dev: true });
    await memoryPeer(dev).pair();
    expect(debug.mock.calls.some(([m]) => /<- \[16,/.test(String(m)))).toBe(true);
  });

  it('closes new peers with 1001 once closing', async () => {
    const actors = server();
    await actors.close();
    const peer = memoryPeer(actors);
    expect((await peer.closed).code).toBe(1001);
    expect(actors.connections).toBe(0);
  });

  it('does not grow over 10,000 connect/disconnect cycles', async () => {
    let stops = 0;
    const actors = server({
      routes: { '/echo': () => defineActor({ echo: (x: unknown) => x }, { onStop: () => stops++ }) },
    });
    const gc = exposeGc();
    const cycle = async (): Promise<void> => {
      const peer = memoryPeer(actors);
      await peer.pair();
      peer.conn.closed(1000, '');
    };
    for (let i = 0; i < 1000; i++) await cycle();
    await until(actors, 'disconnect', () => actors.connections === 0);
    gc?.();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 9000; i++) await cycle();
    await until(actors, 'disconnect', () => actors.connections === 0);
    expect({ connections: actors.connections, sessions: actors.sessions().length, stops }).toEqual({
      connections: 0,
      sessions: 0,
      stops: 10_000,
    });
    expect(gc).toBeTypeOf('function');
    if (gc) {
      gc();
      // Generous: a leak of even 1 KiB per connection would add ~9 MB.
      expect(process.memoryUsage().heapUsed - before).toBeLessThan(8 * 1024 * 1024);
    }
  });
});
