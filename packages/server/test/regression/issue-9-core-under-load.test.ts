/**
 * Issue 9: the core under load and abuse, over real sockets (ws on 127.0.0.1): bursts are
 * never lost, peers that stop reading or acknowledging cost at most their budget and are
 * closed, one hostile frame cannot take the host down, answers survive a dropped socket, and
 * shutdown strands no client.
 */
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  type ActorSpaceError,
  defineActor,
  Kind,
  PROTOCOL_VERSION,
  type RemoteActor,
} from '@actorspace/core';
import { connect, type Session } from '@actorspace/node';
import { type ActorServerOptions, createActorServer } from '@actorspace/server';
import { attach } from '@actorspace/server/node';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { closeServer, listen } from '../fixtures/node-host.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const MIB = 1024 * 1024;

/** An engine on node:http with one route; the route's root actor is made by `root`. */
async function start(options: Partial<ActorServerOptions>, root: ActorServerOptions['routes'][string]) {
  const actors = createActorServer({ ...options, routes: { '/r': root } });
  const server: Server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  attach(server, actors);
  const port = await listen(server);
  const errors: ActorSpaceError[] = [];
  actors.on('error', (e) => errors.push(e));
  const stop = async () => {
    await actors.close();
    await closeServer(server);
  };
  cleanups.push(stop);
  return { actors, url: `ws://127.0.0.1:${port}/actorspace`, sockets, errors, stop };
}

/** A hand-driven client: sends a hello, records every frame, answers pings unless told not to. */
function rawClient(url: string, hello: Record<string, unknown>, options: { pong?: boolean } = {}) {
  const ws = new WebSocket(url);
  const frames: unknown[][] = [];
  let welcome: (fields: Record<string, unknown>) => void = () => {};
  const welcomed = new Promise<Record<string, unknown>>((resolve) => (welcome = resolve));
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on('error', () => {});
  ws.on('open', () => ws.send(JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, actor: 'c', ...hello }])));
  ws.on('message', (data) => {
    const parsed = JSON.parse(String(data)) as unknown[];
    const list = (Array.isArray(parsed[0]) ? parsed : [parsed]) as unknown[][];
    for (const f of list) {
      if (f[0] === Kind.WELCOME) welcome(f[1] as Record<string, unknown>);
      else if (f[0] === Kind.PING && options.pong !== false) ws.send(`[${Kind.PONG}]`);
      frames.push(f);
    }
  });
  cleanups.push(() => ws.terminate());
  return { ws, frames, welcomed, closed };
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('issue 9: the core under load and abuse', () => {
  it('keeps the host process alive and serving after a hello with a 300-character actor', async () => {
    const fixture = fileURLToPath(new URL('../fixtures/hostile-hello-server.mjs', import.meta.url));
    const child = spawn(process.execPath, [fixture], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    cleanups.push(async () => {
      child.kill();
      await exited;
    });
    const port = await new Promise<number>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        const m = /PORT=(\d+)/.exec(String(d));
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    });
    const url = `ws://127.0.0.1:${port}/actorspace`;
    const hostile = rawClient(url, { route: '/echo', actor: 'x'.repeat(300) });
    expect((await hostile.closed).code).toBe(4400);
    expect(hostile.frames).toEqual([]);
    // The process lives on and still pairs others.
    const session = await connect(url, { route: '/echo', reconnect: false });
    cleanups.push(() => session.close());
    expect(await session.server.ask('echo', 'still here')).toBe('still here');
    expect(await (await fetch(`http://127.0.0.1:${port}/alive`)).text()).toBe('yes');
  });

  it('delivers 200,000 tells each way to async actors, in order, with no error', async () => {
    const n = 200_000;
    const serverGot: number[] = [];
    let toClient: RemoteActor | null = null;
    const srv = await start({}, () =>
      defineActor(
        {
          n: async (i: number) => {
            if (i % 100 === 0) await new Promise((r) => setImmediate(r));
            serverGot.push(i);
          },
        },
        { setRemoteActor: (r) => (toClient = r) },
      ),
    );
    const clientGot: number[] = [];
    const session = await connect(srv.url, {
      route: '/r',
      actor: defineActor({
        n: async (i: number) => {
          if (i % 100 === 0) await new Promise((r) => setImmediate(r));
          clientGot.push(i);
        },
      }),
    });
    cleanups.push(() => session.close());
    const clientErrors: unknown[] = [];
    session.on('error', (e) => clientErrors.push(e));
    const server = session.server;
    // Bursts of 1,000 a turn, as fast as the sender can: no await on readiness.
    for (let i = 0; i < n; i += 1000) {
      for (let k = i; k < i + 1000; k++) {
        server.tell('n', k);
        toClient!.tell('n', k);
      }
      await new Promise((r) => setImmediate(r));
    }
    await server.ask('n', n, { timeout: 0 });
    await toClient!.ask('n', n, { timeout: 0 });
    expect(serverGot).toEqual(range(n + 1));
    expect(clientGot).toEqual(range(n + 1));
    expect(clientErrors).toEqual([]);
    expect(srv.errors).toEqual([]);
    expect(session.bufferedAmount).toBe(0);
  }, 60_000);

  it('delivers every push to a client whose handler takes 10 ms', async () => {
    let toClient: RemoteActor | null = null;
    const srv = await start({}, () => defineActor({}, { setRemoteActor: (r) => (toClient = r) }));
    const got: number[] = [];
    const session = await connect(srv.url, {
      route: '/r',
      reconnect: false,
      actor: defineActor({
        n: async (i: number) => {
          await new Promise((r) => setTimeout(r, 10));
          got.push(i);
        },
      }),
    });
    cleanups.push(() => session.close());
    for (let i = 0; i < 200; i++) toClient!.tell('n', i);
    await toClient!.ask('n', 200, { timeout: 0 });
    expect(got).toEqual(range(201));
  });

  it('holds at most its send buffer for a client that stops reading, refuses pushes at the call, and closes it (4408)', async () => {
    let toClient: RemoteActor | null = null;
    const sendBuffer = 2 * MIB;
    const srv = await start(
      { flow: { sendBuffer }, heartbeat: { interval: 200, timeout: 1000 }, resume: false },
      () => defineActor({}, { setRemoteActor: (r) => (toClient = r) }),
    );
    const stopped = rawClient(srv.url, { route: '/r' });
    await stopped.welcomed;
    await new Promise((r) => setTimeout(r, 50));
    (stopped.ws as unknown as { _socket: Socket })._socket.pause();
    let refused = 0;
    let peak = 0;
    const payload = 'x'.repeat(1000);
    const pushing = setInterval(() => {
      for (let i = 0; i < 500; i++) {
        try {
          toClient!.tell('n', payload);
        } catch (error) {
          expect((error as ActorSpaceError).code).toBe('MAILBOX_FULL');
          refused++;
        }
      }
      peak = Math.max(peak, toClient!.channel.bufferedAmount);
    }, 5);
    cleanups.push(() => clearInterval(pushing));
    const disconnected = new Promise<number>((resolve) =>
      srv.actors.once('disconnect', (_c, code) => resolve(code)),
    );
    expect(await disconnected).toBe(4408);
    clearInterval(pushing);
    expect(refused).toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(sendBuffer);
    expect(srv.actors.sessions().length).toBe(0);
  });

  it('closes a resumable client that never acknowledges its answers with 4429 and ends its session', async () => {
    const srv = await start({ flow: { answerBuffer: 256 * 1024 } }, () =>
      defineActor({ big: () => 'y'.repeat(1024) }),
    );
    const greedy = rawClient(srv.url, { route: '/r', resumable: true });
    const welcome = await greedy.welcomed;
    // Asks within the credit window, never an ACK: every answer stays in the replay buffer.
    let id = 0;
    const flood = setInterval(() => {
      const batch = range(50).map(() => [Kind.ASK, ++id, welcome.actor, 'big', null]);
      if (greedy.ws.readyState === WebSocket.OPEN) greedy.ws.send(JSON.stringify(batch));
      // Credit comes back as the asks are handled; the client keeps within it.
    }, 2);
    cleanups.push(() => clearInterval(flood));
    const { code, reason } = await greedy.closed;
    clearInterval(flood);
    expect(code).toBe(4429);
    expect(reason).toMatch(/not read or acknowledged/);
    await new Promise<void>((resolve) =>
      srv.actors.sessions().length === 0 ? resolve() : srv.actors.once('disconnect', () => resolve()),
    );
    expect(srv.actors.sessions().length).toBe(0);
  });

  it('closes a resumable client that reads but never acknowledges with 4429 once the heartbeat timeout passes', async () => {
    let toClient: RemoteActor | null = null;
    const srv = await start({ heartbeat: { interval: 100, timeout: 500 } }, () =>
      defineActor({}, { setRemoteActor: (r) => (toClient = r) }),
    );
    const silent = rawClient(srv.url, { route: '/r', resumable: true });
    await silent.welcomed;
    await new Promise((r) => setTimeout(r, 20));
    for (let i = 0; i < 100; i++) toClient!.tell('n', i);
    const { code, reason } = await silent.closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/acknowledged nothing/);
    // The session ended (4429 ends it; no resume window), and its buffers went with it.
    await new Promise<void>((resolve) =>
      srv.actors.sessions().length === 0 ? resolve() : srv.actors.once('disconnect', () => resolve()),
    );
    expect(srv.actors.health().suspended).toBe(0);
  });

  it('closes a client that sends past its credit window with 4429', async () => {
    const srv = await start({ flow: { window: 64 * 1024 }, maxPayload: 64 * 1024 }, () =>
      defineActor({ slow: () => new Promise((r) => setTimeout(r, 1000)) }),
    );
    const pushy = rawClient(srv.url, { route: '/r' });
    const welcome = await pushy.welcomed;
    const tell = JSON.stringify([Kind.TELL, welcome.actor, 'slow', 'z'.repeat(1000)]);
    for (let i = 0; i < 200; i++) pushy.ws.send(tell);
    expect((await pushy.closed).code).toBe(4429);
  });

  it('closes a client over its rate limit with 4429', async () => {
    const srv = await start({ rateLimit: { messages: 100, burst: 1 } }, () =>
      defineActor({ ping: () => 'pong' }),
    );
    const chatty = rawClient(srv.url, { route: '/r' });
    await chatty.welcomed;
    for (let i = 0; i < 300; i++) chatty.ws.send(`[${Kind.PING}]`);
    const { code, reason } = await chatty.closed;
    expect(code).toBe(4429);
    expect(reason).toMatch(/rate limit/);
  });

  it('delivers answers produced while the socket was down once the session resumes', async () => {
    // One message at a time (turn-based): 300 asks take a few hundred ms, many answered while suspended.
    const srv = await start({ heartbeat: false }, () =>
      defineActor({ later: async (i: number) => new Promise((r) => setTimeout(() => r(i * 2), 1)) }),
    );
    const session: Session = await connect(srv.url, {
      route: '/r',
      reconnect: { initialDelay: 60, maxDelay: 60, jitter: false },
    });
    cleanups.push(() => session.close());
    for (let round = 0; round < 3; round++) {
      const asks = range(300).map((i) => session.server.ask<number>('later', i, { timeout: 10_000 }));
      // Drop the socket while every handler is still running: their answers come while suspended.
      await new Promise((r) => setTimeout(r, 5));
      for (const s of srv.sockets) s.destroy();
      expect(await Promise.all(asks)).toEqual(range(300).map((i) => i * 2));
    }
    expect(srv.actors.sessions().length).toBe(1);
  });

  it('on shutdown rejects the asks it was handling, and the client rejects its pending asks at once', async () => {
    const srv = await start({}, () => defineActor({ hang: () => new Promise(() => {}) }));
    const session = await connect(srv.url, { route: '/r', reconnect: { initialDelay: 50, maxDelay: 50 } });
    cleanups.push(() => session.close());
    const statuses: string[] = [];
    session.on('status', (s) => statuses.push(s));
    const started = Date.now();
    const pending = range(10).map((i) =>
      session.server.ask('hang', i, { timeout: 30_000 }).then(
        () => 'resolved',
        (e: ActorSpaceError) => e.code,
      ),
    );
    await new Promise((r) => setTimeout(r, 50));
    const reconnecting = new Promise<void>((resolve) => session.once('status', () => resolve()));
    await srv.actors.close();
    expect(await Promise.all(pending)).toEqual(range(10).map(() => 'CHANNEL_CLOSED'));
    expect(Date.now() - started).toBeLessThan(10_000);
    // The client does not resume an ended session: it waits to pair again, fresh.
    await reconnecting;
    expect(statuses).toEqual(['reconnecting']);
    expect(session.channel?.session).toBeNull();
  });
});
