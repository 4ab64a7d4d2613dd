import type { AddressInfo } from 'node:net';
import {
  ActorSpace,
  ActorSpaceError,
  backoffDelay,
  type Channel,
  connect,
  defineActor,
  type SessionStatus,
  webSocketTransport,
} from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { once, serveHello } from './helpers.js';

/** A tiny pairing server made of core parts only: one space per connection. */
async function startServer(refuse?: (token?: string) => ActorSpaceError | null) {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const channels: Channel[] = [];
  wss.on('connection', (ws) => {
    const space = new ActorSpace();
    void serveHello(space, webSocketTransport(ws as never), (hello) => {
      const refusal = refuse?.(hello.token);
      if (refusal) return refusal;
      return {
        actor: space.register(
          defineActor({ hi: (n: string) => `hi ${n}`, token: () => hello.token ?? null }),
        ),
        session: 's',
      };
    }).then((channel) => {
      if (!channel) return void space.destroy();
      channels.push(channel);
      channel.on('close', () => void space.destroy());
    });
  });
  const url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return {
    url,
    channels,
    dropAll: () => {
      for (const c of wss.clients) c.terminate();
    },
    stop: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
}

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
});

const createSocket = (url: string) => new WebSocket(url) as never;

describe('connect', () => {
  it('pairs with the server root and talks to it', async () => {
    const server = await startServer();
    stops.push(server.stop);
    const session = await connect(server.url, { route: '/x', createSocket, token: async () => 'tok' });
    stops.push(() => session.close());
    expect(session.status).toBe('open');
    expect(session.id).toBe('s');
    expect(await session.server.ask('hi', 'ada')).toBe('hi ada');
    expect(await session.server.ask('token')).toBe('tok');
  });

  it('rejects a refused handshake with the mapped code and close code, without retrying', async () => {
    let attempts = 0;
    const server = await startServer(() => {
      attempts++;
      return new ActorSpaceError('UNAUTHORIZED', 'bad token');
    });
    stops.push(server.stop);
    const error = await connect(server.url, { route: '/x', createSocket }).catch((e) => e);
    expect(error.code).toBe('UNAUTHORIZED');
    expect(error.details).toMatchObject({ code: 4401, reason: 'bad token' });
    expect(attempts).toBe(1);
  });

  it('rejects with CHANNEL_CLOSED when nothing listens', async () => {
    const server = await startServer();
    await server.stop();
    const error = await connect(server.url, { route: '/x', createSocket }).catch((e) => e);
    expect(error.code).toBe('CHANNEL_CLOSED');
  });

  it('validates its arguments', async () => {
    await expect(connect('http://x', { route: '/x' })).rejects.toBeInstanceOf(TypeError);
    await expect(connect('ws://x', {} as never)).rejects.toBeInstanceOf(TypeError);
  });

  it('reconnects after a lost connection and pairs the client root again', async () => {
    const server = await startServer();
    stops.push(server.stop);
    const remotes: string[] = [];
    const root = defineActor({ ping: () => 'pong' }, { setRemoteActor: (r) => void remotes.push(r.guid) });
    const session = await connect(server.url, {
      route: '/x',
      createSocket,
      actor: root,
      reconnect: { initialDelay: 10, maxDelay: 50 },
    });
    stops.push(() => session.close());
    const statuses: SessionStatus[] = [];
    session.on('status', (s) => statuses.push(s));
    const reopened = new Promise<void>((resolve) => session.on('status', (s) => s === 'open' && resolve()));
    server.dropAll();
    await reopened;
    expect(statuses).toEqual(['reconnecting', 'open']);
    expect(remotes).toHaveLength(2);
    expect(await session.server.ask('hi', 'again')).toBe('hi again');
  });

  it('closes for good with reconnect: false, rejecting pending asks with CHANNEL_CLOSED', async () => {
    const server = await startServer();
    stops.push(server.stop);
    const session = await connect(server.url, { route: '/x', createSocket, reconnect: false });
    const hang = session.server.ask('hi', 'x');
    await hang;
    const closed = once(session, 'status');
    server.dropAll();
    expect(await closed).toEqual(['closed']);
    await expect(session.server.ask('hi', 'y')).rejects.toMatchObject({ code: 'CHANNEL_CLOSED' });
  });
});

describe('backoffDelay', () => {
  it('grows by the factor up to the cap, with jitter inside [delay/2, delay]', () => {
    const plain = [0, 1, 2, 3, 10].map((n) => backoffDelay(n, { jitter: false }));
    expect(plain).toEqual([1000, 2000, 4000, 8000, 60000]);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(2, {});
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });
});
