/**
 * One socket as the engine sees it: the hello is the first message, within the handshake
 * timeout; nothing else may come before the welcome; the rate limit closes an abuser; a socket
 * that never pairs ends with a `disconnect`.
 */
import { defineActor, Kind, PROTOCOL_VERSION } from '@actorspace/core';
import { type ActorServer, createActorServer } from '@actorspace/server';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryPeer, until } from './fixtures/memory-peer.js';

const servers: ActorServer<any>[] = [];
function server(options: Partial<Parameters<typeof createActorServer>[0]> = {}): ActorServer<any> {
  const actors = createActorServer({
    routes: {
      '/echo': () => defineActor({ echo: (x: unknown) => x }),
      '/slow': () => new Promise((r) => setTimeout(() => r(defineActor({})), 50)),
    },
    ...options,
  });
  servers.push(actors);
  return actors;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const hello = (fields: Record<string, unknown>) =>
  JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, ...fields }]);

describe('Connection', () => {
  it('closes 4408 when no hello arrives within the handshake timeout', async () => {
    const actors = server({ handshakeTimeout: 20 });
    const peer = memoryPeer(actors);
    expect(await peer.closed).toMatchObject({ code: 4408, reason: 'no hello within 20 ms' });
  });

  it('closes 4400 when the first message is not one hello frame', async () => {
    const actors = server();
    for (const first of [`[[${Kind.PING}],[${Kind.PING}]]`, `[${Kind.TELL},"a","b",1]`, '{}']) {
      const peer = memoryPeer(actors);
      peer.conn.message(first);
      expect((await peer.closed).code).toBe(4400);
    }
  });

  it('closes 4400 when the client sends anything before the welcome', async () => {
    const actors = server();
    const peer = memoryPeer(actors);
    peer.conn.message(hello({ route: '/slow' }));
    peer.conn.message(`[${Kind.PING}]`);
    expect(await peer.closed).toMatchObject({ code: 4400, reason: 'nothing may be sent before the welcome' });
    expect(peer.sent).toEqual([]);
  });

  it('closes 4429 when the peer goes over its rate limit', async () => {
    const actors = server({ rateLimit: { messages: 10, burst: 1 } });
    const peer = memoryPeer(actors);
    await peer.pair({ route: '/echo' });
    for (let i = 0; i < 12; i++) peer.conn.message(`[${Kind.PING}]`);
    expect(await peer.closed).toMatchObject({ code: 4429, reason: expect.stringMatching(/rate limit/) });
  });

  it('reports a socket that never paired with one disconnect, and counts it no more', async () => {
    const actors = server();
    const ended: number[] = [];
    actors.on('disconnect', (_c, code) => ended.push(code));
    const peer = memoryPeer(actors);
    expect(actors.connections).toBe(1);
    peer.conn.closed(1006, '');
    await until(actors, 'disconnect', () => actors.connections === 0);
    expect(ended).toEqual([1006]);
  });
});
