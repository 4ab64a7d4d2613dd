/**
 * A session outlives its sockets: it waits for a resume for the TTL, continues over a new
 * connection with the same root actor, and ends (its actors stopped) when the TTL passes.
 */
import { defineActor, Kind, PROTOCOL_VERSION } from '@actorspace/core';
import { type ActorServer, createActorServer } from '@actorspace/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { memoryPeer, until } from './fixtures/memory-peer.js';

const servers: ActorServer<any>[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function server(ttl: number, onStop: () => void) {
  let made = 0;
  const actors = createActorServer({
    heartbeat: false,
    resume: { ttl },
    routes: { '/r': () => defineActor({ n: () => ++made }, { onStop }) },
  });
  servers.push(actors);
  return actors;
}

describe('Session', () => {
  it('waits for its client, resumes over a new connection with the same root actor, and ends after the TTL', async () => {
    const stopped = vi.fn();
    const actors = server(60, stopped);
    const first = memoryPeer(actors);
    const welcome = await first.pair({ route: '/r', resumable: true });
    first.conn.closed(1006, '');
    expect(actors.health()).toMatchObject({ sessions: 1, suspended: 1, connections: 0 });
    const second = memoryPeer(actors);
    second.conn.message(
      JSON.stringify([
        Kind.HELLO,
        { v: PROTOCOL_VERSION, route: '/r', resumable: true, resume: welcome.session, ack: 0 },
      ]),
    );
    const resumed = JSON.parse(await second.frame((f) => f.startsWith(`[${Kind.WELCOME},`)))[1];
    expect(resumed).toMatchObject({ resumed: true, session: welcome.session });
    expect(actors.health()).toMatchObject({ sessions: 1, suspended: 0, connections: 1 });
    second.conn.closed(1006, '');
    await until(actors, 'disconnect', () => actors.sessions().length === 0);
    expect(stopped).toHaveBeenCalledTimes(1);
  });

  it('lets a client that comes back before its old socket failed take its session over', async () => {
    const actors = server(60_000, () => {});
    const first = memoryPeer(actors);
    const welcome = await first.pair({ route: '/r', resumable: true });
    // The server has not seen the first socket fail (a half-open TCP connection).
    const second = memoryPeer(actors);
    second.conn.message(
      JSON.stringify([
        Kind.HELLO,
        { v: PROTOCOL_VERSION, route: '/r', resumable: true, resume: welcome.session, ack: 0 },
      ]),
    );
    const resumed = JSON.parse(await second.frame((f) => f.startsWith(`[${Kind.WELCOME},`)))[1];
    expect(resumed).toMatchObject({ resumed: true, session: welcome.session });
    expect(await first.closed).toMatchObject({ code: 4408, reason: 'replaced by a new connection' });
    expect(actors.health()).toMatchObject({ sessions: 1, suspended: 0 });
  });

  it('ends at once when a client that cannot resume loses its socket', async () => {
    const stopped = vi.fn();
    const actors = server(60_000, stopped);
    const peer = memoryPeer(actors);
    await peer.pair({ route: '/r' });
    peer.conn.closed(1006, '');
    await until(actors, 'disconnect', () => actors.sessions().length === 0);
    expect(stopped).toHaveBeenCalledTimes(1);
    expect(actors.health().suspended).toBe(0);
  });

  it('gives a hello that names an unknown or expired session a fresh session', async () => {
    const actors = server(60_000, () => {});
    const peer = memoryPeer(actors);
    const welcome = await peer.pair({ route: '/r', resumable: true, resume: 'no-such-session', ack: 3 });
    expect(welcome).not.toHaveProperty('resumed');
    expect(welcome.session).not.toBe('no-such-session');
  });
});
