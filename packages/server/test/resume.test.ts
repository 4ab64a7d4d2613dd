/**
 * Session resumption over real sockets: the TCP connection is destroyed at random moments
 * while both sides stream messages; every message arrives exactly once, in order.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { defineActor, type RemoteActor } from '@actorspace/core';
import { connect, type Session } from '@actorspace/node';
import { type ActorServer, createActorServer } from '@actorspace/server';
import { attach } from '@actorspace/server/node';
import { afterEach, describe, expect, it } from 'vitest';
import { closeServer, listen } from './fixtures/node-host.js';

interface Started {
  actors: ActorServer;
  url: string;
  sockets: Set<Socket>;
  serverGot: number[];
  clientRoots: RemoteActor[];
  pairings: number;
  stop(): Promise<void>;
}

async function start(options: { ttl?: number; authenticate?: boolean } = {}): Promise<Started> {
  const serverGot: number[] = [];
  const clientRoots: RemoteActor[] = [];
  const state = { pairings: 0 };
  const actors = createActorServer({
    resume: { ttl: options.ttl ?? 60_000 },
    heartbeat: false,
    ...(options.authenticate && {
      authenticate: ({ token }) => (token ? { id: token, type: 'client' as const } : null),
    }),
    routes: {
      '/stream': () =>
        defineActor(
          {
            n: (n: number) => {
              serverGot.push(n);
              return n + 1;
            },
          },
          {
            setRemoteActor: (r) => {
              state.pairings++;
              clientRoots.push(r);
            },
          },
        ),
    },
  });
  const server: Server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  attach(server, actors);
  const port = await listen(server);
  return {
    actors,
    url: `ws://127.0.0.1:${port}/actorspace`,
    sockets,
    serverGot,
    clientRoots,
    get pairings() {
      return state.pairings;
    },
    stop: async () => {
      await actors.close();
      await closeServer(server);
    },
  };
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function streamClient(got: number[]) {
  return defineActor({ n: (n: number) => void got.push(n) });
}

describe('session resumption over ws', () => {
  it('delivers thousands of messages both ways exactly once while TCP is cut at random moments', async () => {
    const srv = await start();
    cleanups.push(srv.stop);
    const clientGot: number[] = [];
    const session: Session = await connect(srv.url, {
      route: '/stream',
      actor: streamClient(clientGot),
      reconnect: { initialDelay: 1, maxDelay: 20 },
    });
    cleanups.push(() => session.close());
    const toServer = session.server;
    const toClient = srv.clientRoots[0]!;
    const total = 5000;
    const answers: Promise<number>[] = [];
    let cuts = 0;
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let i = 0; i < total; i++) {
      if (i % 4 === 0) answers.push(toServer.ask<number>('n', i, { timeout: 0 }));
      else toServer.tell('n', i);
      toClient.tell('n', i);
      if (i % 25 === 0) await new Promise((r) => setImmediate(r));
      if (random() < 0.005) {
        for (const s of srv.sockets) s.destroy();
        cuts++;
      }
    }
    const results = await Promise.all(answers);
    await toServer.ask('n', total, { timeout: 0 });
    await toClient.ask('n', total, { timeout: 0 });
    expect(cuts).toBeGreaterThanOrEqual(10);
    expect(srv.serverGot).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(clientGot).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(results).toEqual(answers.map((_, k) => k * 4 + 1));
    expect(srv.pairings).toBe(1);
    expect(srv.actors.sessions().length).toBe(1);
  });

  it('starts a fresh session and pairs again after the resume TTL', async () => {
    const srv = await start({ ttl: 30 });
    cleanups.push(srv.stop);
    const session = await connect(srv.url, {
      route: '/stream',
      actor: streamClient([]),
      reconnect: { initialDelay: 100, maxDelay: 100, jitter: false },
    });
    cleanups.push(() => session.close());
    const firstId = session.id;
    const expired = new Promise<void>((resolve) => srv.actors.once('disconnect', () => resolve()));
    for (const s of srv.sockets) s.destroy();
    await expired;
    await new Promise<void>((resolve) => session.on('status', (s) => s === 'open' && resolve()));
    expect(session.id).not.toBe(firstId);
    expect(srv.pairings).toBe(2);
    expect(await session.server.ask('n', 1)).toBe(2);
  });

  it('does not let another caller resume a session', async () => {
    const srv = await start({ authenticate: true });
    cleanups.push(srv.stop);
    let token = 'alice';
    const session = await connect(srv.url, {
      route: '/stream',
      actor: streamClient([]),
      token: () => token,
      reconnect: { initialDelay: 5, maxDelay: 5 },
    });
    cleanups.push(() => session.close());
    const firstId = session.id;
    token = 'mallory';
    for (const s of srv.sockets) s.destroy();
    await new Promise<void>((resolve) => session.on('status', (s) => s === 'open' && resolve()));
    expect(session.id).not.toBe(firstId);
    expect(srv.pairings).toBe(2);
  });

  it('closes the session at once with reconnect: false, rejecting pending asks with CHANNEL_CLOSED', async () => {
    const srv = await start();
    cleanups.push(srv.stop);
    const session = await connect(srv.url, { route: '/stream', reconnect: false });
    const closed = new Promise<void>((resolve) => session.on('status', (s) => s === 'closed' && resolve()));
    for (const s of srv.sockets) s.destroy();
    const pending = session.server.ask('n', 1);
    await closed;
    await expect(pending).rejects.toMatchObject({ code: 'CHANNEL_CLOSED' });
  });
});
