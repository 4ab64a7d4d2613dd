import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { ActorSpaceError as CoreError } from '@actorspace/core';
import { type ActorSpaceError, connect, defineActor, type SessionStatus } from '@actorspace/node';
import { type ActorServer, createActorServer } from '@actorspace/server';
import { attach } from '@actorspace/server/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

describe('connect (Node)', () => {
  let server: Server;
  let actors: ActorServer;
  let url: string;
  let connections = 0;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    actors = createActorServer({
      routes: {
        '/echo': () => defineActor({ echo: (x: unknown) => x, whoami: (_: unknown, ctx) => ctx.caller }),
      },
      authenticate: ({ token, headers }) => {
        if (token === 'forbidden') throw new CoreError('FORBIDDEN', 'not this one');
        if (token === 'bad') return null;
        return { id: headers['x-user'] ?? 'anonymous', type: 'client' };
      },
    });
    actors.on('connection', () => connections++);
    server = createServer();
    server.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    attach(server, actors);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    url = `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/actorspace`;
  });

  afterAll(async () => {
    await actors.close();
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });

  it('pairs and sends headers with the upgrade request', async () => {
    const session = await connect(url, { route: '/echo', headers: { 'x-user': 'ada' }, reconnect: false });
    expect(await session.server.ask('whoami')).toEqual({ id: 'ada', type: 'client', claims: {} });
    await session.close();
    expect(session.status).toBe('closed');
  });

  it.each([
    ['bad', '/echo', 'UNAUTHORIZED', 4401],
    ['forbidden', '/echo', 'FORBIDDEN', 4403],
    ['ok', '/missing', 'NO_SUCH_ACTOR', 4404],
  ])(
    'rejects a refused handshake (token %s, route %s) with %s and does not retry',
    async (token, route, code, closeCode) => {
      const before = connections;
      const reconnect = { initialDelay: 1, jitter: false };
      const error = (await connect(url, { route, token, reconnect }).catch((e) => e)) as ActorSpaceError;
      expect(error.code).toBe(code);
      expect(error.details).toMatchObject({ code: closeCode });
      // A retry would have opened a second connection before this full round trip ends.
      const probe = await connect(url, { route: '/echo', reconnect: false });
      await probe.server.ask('echo', 1);
      await probe.close();
      expect(connections - before).toBe(2);
    },
  );

  it('rejects with CHANNEL_CLOSED when the server is unreachable', async () => {
    const error = await connect('ws://127.0.0.1:1/actorspace', { route: '/echo', reconnect: false }).catch(
      (e) => e,
    );
    expect(error).toMatchObject({ code: 'CHANNEL_CLOSED' });
  });

  it('reconnects with backoff after the server drops the socket: open → reconnecting → open', async () => {
    const session = await connect(url, {
      route: '/echo',
      reconnect: { initialDelay: 10, maxDelay: 50, jitter: false },
    });
    const statuses: SessionStatus[] = [session.status];
    const reopened = new Promise<void>((resolve) =>
      session.on('status', (status) => {
        statuses.push(status);
        if (status === 'open') resolve();
      }),
    );
    const firstId = session.id;
    const firstServer = session.server;
    for (const socket of sockets) socket.destroy();
    // Sent while the link is down: delivered once the session resumes.
    const during = firstServer.ask('echo', 'while away');
    await reopened;
    expect(statuses).toEqual(['open', 'reconnecting', 'open']);
    expect(session.id).toBe(firstId);
    expect(session.server).toBe(firstServer);
    expect(await during).toBe('while away');
    expect(await session.server.ask('echo', 'back')).toBe('back');
    await session.close();
  });
});
