// Identity over real sockets: a server with `tokens` makes each hello's verified token the
// caller of every message, refuses forged, stale and misdirected tokens with 4401/4403,
// admits services only to what their definitions list, refreshes tokens on reconnect and
// resumes a session only for the same caller.
import { type ActorSpaceError, connect, defineActor } from '@actorspace/node';
import { createAccessToken } from '@actorspace/server';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { z } from 'zod';
import { type Running, startServer } from './fixtures/real-server.js';

const SECRET = 'identity-test-secret-0123456789abcdef';
const token = (caller: { id: string; type: 'client' | 'service' }, more: object = {}) =>
  createAccessToken({ secret: SECRET, caller, expiresIn: '5m', audience: 'todo-app', ...more });

describe('identity over real sockets', () => {
  let running: Running;
  let url: string;
  const sessionsStarted: string[] = [];

  beforeAll(async () => {
    running = await startServer({
      tokens: { secret: SECRET, audience: 'todo-app' },
      routes: {
        '/todos': (ctx) => {
          sessionsStarted.push(ctx.caller.id);
          return defineActor({
            whoami: (_: unknown, c) => c.caller,
            add: {
              input: z.object({ text: z.string().min(1) }),
              callers: ['client', 'service'],
              handler: ({ text }) => text.toUpperCase(),
            },
            purge: { callers: ['service'], description: 'Back office only', handler: () => 'purged' },
            // A handler that tries to change who the session is.
            promote: (_: unknown, c) => {
              (c.caller as { type: string }).type = 'service';
              return 'promoted';
            },
          });
        },
        '/other': () => defineActor({ ping: () => 'pong' }),
      },
    });
    url = running.url;
  });

  afterAll(async () => {
    await running.stop();
  });

  /** The refusal a connect gets: its code and close code. */
  const refusal = async (options: Parameters<typeof connect>[1]) => {
    const error = (await connect(url, { reconnect: false, ...options }).then(
      async (s) => {
        await s.close();
        return null;
      },
      (e: unknown) => e,
    )) as ActorSpaceError | null;
    return error && { code: error.code, close: (error.details as { code: number }).code };
  };

  it("makes the token's caller ctx.caller, with its claims", async () => {
    const session = await connect(url, {
      route: '/todos',
      token: await token({ id: 'alice', type: 'client' }, { claims: { plan: 'pro' } }),
      reconnect: false,
    });
    expect(await session.server.ask('whoami')).toEqual({
      id: 'alice',
      type: 'client',
      claims: { plan: 'pro' },
    });
    expect(await session.server.ask('add', { text: 'milk' })).toBe('MILK');
    await session.close();
  });

  it('refuses forged, stale and missing tokens with 4401 (UNAUTHORIZED)', async () => {
    const key = new TextEncoder().encode(SECRET);
    const claim = { actorspace: { type: 'service' } };
    const forged = [
      // no token at all
      undefined,
      // signed with another key
      await createAccessToken({
        secret: 'not-the-server-secret-0123456789abcdef',
        caller: { id: 'mallory', type: 'service' },
        expiresIn: 60,
        audience: 'todo-app',
      }),
      // alg none
      new UnsecuredJWT(claim).setSubject('mallory').setAudience('todo-app').setExpirationTime('1h').encode(),
      // expired
      await new SignJWT(claim)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('mallory')
        .setAudience('todo-app')
        .setExpirationTime(Math.floor(Date.now() / 1000) - 5)
        .sign(key),
      // for another audience
      await createAccessToken({
        secret: SECRET,
        caller: { id: 'm', type: 'service' },
        expiresIn: 60,
        audience: 'x',
      }),
      // garbage
      'x'.repeat(100),
    ];
    for (const t of forged) {
      expect(await refusal({ route: '/todos', ...(t === undefined ? {} : { token: t }) })).toEqual({
        code: 'UNAUTHORIZED',
        close: 4401,
      });
    }
  });

  it('refuses a token bound to another route or actor with 4403 (FORBIDDEN)', async () => {
    const forTodos = await token({ id: 'alice', type: 'client' }, { route: '/todos' });
    expect(await refusal({ route: '/other', token: forTodos })).toEqual({ code: 'FORBIDDEN', close: 4403 });
    const page = defineActor({});
    const forPage = await token({ id: 'alice', type: 'client' }, { actor: 'page-7' });
    expect(await refusal({ route: '/todos', token: forPage, actor: page })).toEqual({
      code: 'FORBIDDEN',
      close: 4403,
    });
    // The right route is accepted.
    const ok = await connect(url, { route: '/todos', token: forTodos, reconnect: false });
    await ok.close();
  });

  it('lets a service call what lists it, and refuses a client the service-only handler', async () => {
    const service = await connect(url, {
      route: '/todos',
      token: await token({ id: 'billing', type: 'service' }),
      reconnect: false,
    });
    expect(await service.server.ask('purge')).toBe('purged');
    expect(await service.server.ask('add', { text: 'x' })).toBe('X');
    const page = await connect(url, {
      route: '/todos',
      token: await token({ id: 'alice', type: 'client' }),
      reconnect: false,
    });
    await expect(page.server.ask('purge')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(page.server.ask('add', { text: '' })).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      details: { issues: [{ path: ['text'] }] },
    });
    // The session survives refusals; and no handler can change who it is.
    expect(await page.server.ask('whoami')).toMatchObject({ id: 'alice' });
    await expect(page.server.ask('promote')).rejects.toMatchObject({ code: 'REMOTE_ERROR' });
    await expect(page.server.ask('purge')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await page.server.ask('whoami')).toMatchObject({ type: 'client' });
    await service.close();
    await page.close();
  });

  it('asks for a fresh token on every reconnect and resumes the same session', async () => {
    let issued = 0;
    const session = await connect(url, {
      route: '/todos',
      token: async () => {
        issued++;
        return token({ id: 'carol', type: 'client' });
      },
      reconnect: { initialDelay: 10, jitter: false },
    });
    const id = session.id;
    const before = sessionsStarted.length;
    const reopened = new Promise<void>((resolve) => session.on('status', (s) => s === 'open' && resolve()));
    running.drop();
    await reopened;
    expect(issued).toBe(2);
    expect(session.id).toBe(id);
    expect(sessionsStarted.length).toBe(before);
    expect(await session.server.ask('whoami')).toMatchObject({ id: 'carol' });
    await session.close();
  });

  it('does not resume a session for another caller: it starts a fresh one', async () => {
    let who = 'dave';
    const session = await connect(url, {
      route: '/todos',
      token: () => token({ id: who, type: 'client' }),
      reconnect: { initialDelay: 10, jitter: false },
    });
    const id = session.id;
    who = 'eve';
    const reopened = new Promise<void>((resolve) => session.on('status', (s) => s === 'open' && resolve()));
    running.drop();
    await reopened;
    expect(session.id).not.toBe(id);
    expect(await session.server.ask('whoami')).toMatchObject({ id: 'eve' });
    await session.close();
  });

  it('never logs a token, dev traces included', async () => {
    const logged: string[] = [];
    const record = (message: string, details?: unknown) => {
      logged.push(message, JSON.stringify(details) ?? '');
    };
    const traced = await startServer({
      dev: true,
      logger: { debug: record, warn: record, error: record },
      tokens: { secret: SECRET, audience: 'todo-app' },
      routes: { '/todos': () => defineActor({ ping: () => 'pong' }) },
    });
    const good = await token({ id: 'alice', type: 'client' });
    const session = await connect(traced.url, {
      route: '/todos',
      token: good,
      reconnect: false,
    });
    expect(await session.server.ask('ping')).toBe('pong');
    await session.close();
    const bad = `${good.slice(0, -4)}AAAA`;
    await connect(traced.url, {
      route: '/todos',
      token: bad,
      reconnect: false,
    }).catch(() => {});
    await traced.stop();
    const everything = logged.join('\n');
    expect(everything).toContain('[redacted]'); // the hello was traced
    for (const secret of [good, bad, good.split('.')[1] as string]) expect(everything).not.toContain(secret);
  });

  it('ignores a client that claims to relay for someone else (via) or to be a service', async () => {
    const t = await token({ id: 'mallory', type: 'client' });
    const ws = new WebSocket(url);
    const frames: unknown[] = [];
    ws.on('message', (data) => {
      const parsed = JSON.parse(String(data));
      for (const f of Array.isArray(parsed[0]) ? parsed : [parsed]) frames.push(f);
    });
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(JSON.stringify([16, { v: 2, route: '/todos', token: t }]));
    await new Promise((r) => setTimeout(r, 50));
    const welcome = frames.find((f) => (f as unknown[])[0] === 17) as [number, { actor: string }];
    // An ask to the root that says it relays a service's message, then the service-only handler.
    ws.send(JSON.stringify([2, 1, welcome[1].actor, 'whoami', null, null, null, ['root', 'service']]));
    ws.send(JSON.stringify([2, 2, welcome[1].actor, 'purge', null, null, null, ['root', 'service']]));
    await new Promise((r) => setTimeout(r, 50));
    const answer = frames.find((f) => (f as unknown[])[0] === 3 && (f as unknown[])[1] === 1) as unknown[];
    expect(answer[2]).toEqual({ id: 'mallory', type: 'client', claims: {} });
    const refused = frames.find((f) => (f as unknown[])[0] === 4 && (f as unknown[])[1] === 2) as unknown[];
    expect(refused[2]).toMatchObject({ code: 'FORBIDDEN' });
    ws.close();
  });
});
