/**
 * The route suite every adapter runs (test/adapters/<name>.test.ts): the same pairing,
 * messaging, host-coexistence, health, shutdown and close-code checks against a real server.
 * Quirks of an adapter are options of the harness, never copies of the suite.
 */
import { defineActor, Kind, PROTOCOL_VERSION } from '@actorspace/core';
import { connect, type Session } from '@actorspace/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openSse } from './fixtures/sse-client.js';
import { ALLOWED_ORIGIN, GATEWAY_KEY, SUITE_DEFAULTS, type SuiteConfig } from './fixtures/suite-server.js';

/** A running server under test. */
export interface StartedServer {
  /** ws:// URL of the ActorSpace endpoint. */
  wsUrl: string;
  /** http:// origin of the server. */
  httpUrl: string;
  /** `actors.close()` on the server side. */
  closeEngine(): Promise<void>;
  /** How many server root actors had `onStop` called. */
  stops(): Promise<number>;
  /** Stops the whole server (engine and host). */
  stop(): Promise<void>;
}

/** How the suite runs against one adapter. */
export interface AdapterHarness {
  /** Starts the suite engine (test/fixtures/suite-server.ts) mounted at `/actorspace`, with a host route `GET /host` → `host ok`. */
  start(config: SuiteConfig): Promise<StartedServer>;
  /** The host also runs its own WebSocket endpoint at `/host-ws` that echoes. */
  hostSocket?: boolean;
}

/** Opens a raw socket and resolves with the code it is closed with (or the HTTP status of a refused upgrade). */
export function rawClose(
  url: string,
  frames: Array<string | Buffer>,
  headers: Record<string, string> = {},
): Promise<{ code: number; reason: string; status?: number }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      res.resume();
      resolve({ code: 0, reason: '', status: res.statusCode ?? 0 });
      ws.terminate();
    });
    ws.on('open', () => {
      for (const frame of frames) ws.send(frame, { binary: typeof frame !== 'string' });
    });
    ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.on('error', (error) => {
      if (!/Unexpected server response|closed before the connection/.test(error.message)) reject(error);
    });
  });
}

/** A hello frame of the protocol this build speaks. */
export function hello(fields: Record<string, unknown>): string {
  return JSON.stringify([Kind.HELLO, { v: PROTOCOL_VERSION, ...fields }]);
}

/** A client root actor that records what the server tells it. */
function clientActor() {
  let onPaired: (data: unknown) => void = () => {};
  let onServerTell: (data: unknown) => void = () => {};
  let onHanging: (data: unknown) => void = () => {};
  const paired = new Promise((resolve) => (onPaired = resolve));
  const fromServer = new Promise((resolve) => (onServerTell = resolve));
  const hanging = new Promise((resolve) => (onHanging = resolve));
  const actor = defineActor({
    paired: (data: unknown) => onPaired(data),
    fromServer: (data: unknown) => onServerTell(data),
    hanging: (data: unknown) => onHanging(data),
  });
  return { actor, paired, fromServer, hanging };
}

/** Runs the adapter route suite. */
export function runAdapterSuite(name: string, harness: AdapterHarness): void {
  describe(`${name} adapter`, () => {
    let server: StartedServer;
    const sessions: Session[] = [];
    const open = async (token?: string): Promise<Session> => {
      const client = clientActor();
      const session = await connect(server.wsUrl, {
        route: '/echo',
        actor: client.actor,
        reconnect: false,
        ...(token !== undefined && { token }),
      });
      sessions.push(session);
      return session;
    };

    beforeAll(async () => {
      server = await harness.start({});
    });
    afterAll(async () => {
      await Promise.all(sessions.map((s) => s.close()));
      await server?.stop();
    });

    it('pairs a client and answers asks with rich data', async () => {
      const session = await open();
      const data = { at: new Date(0), tags: new Set(['a']), n: 10n };
      expect(await session.server.ask('echo', data)).toEqual(data);
      expect(session.status).toBe('open');
    });

    it('delivers tells both ways, in order', async () => {
      const client = clientActor();
      const session = await connect(server.wsUrl, { route: '/echo', actor: client.actor, reconnect: false });
      sessions.push(session);
      session.server.tell('note', 1);
      session.server.tell('note', 2);
      expect(await session.server.ask('notes')).toEqual([1, 2]);
      await session.server.ask('tellClient', { hi: 'client' });
      expect(await client.fromServer).toEqual({ hi: 'client' });
    });

    it('lets the server tell the client as soon as pairing completes', async () => {
      const client = clientActor();
      const session = await connect(server.wsUrl, { route: '/echo', actor: client.actor, reconnect: false });
      sessions.push(session);
      expect(await client.paired).toEqual({ route: '/echo' });
    });

    it('injects services and the session into the factory', async () => {
      const session = await open();
      expect(await session.server.ask('service')).toBe('hello from services');
      const info = (await session.server.ask('session')) as { id: string; route: string };
      expect(info).toEqual({ id: session.id, route: '/echo' });
    });

    it('passes the caller returned by authenticate to handlers', async () => {
      const session = await open('alice');
      expect(await session.server.ask('whoami')).toEqual({ id: 'alice', type: 'client', claims: {} });
    });

    it('keeps two sessions isolated', async () => {
      const [a, b] = await Promise.all([open(), open()]);
      await a.server.ask('set', 'A');
      await b.server.ask('set', 'B');
      expect(await a.server.ask('get')).toBe('A');
      expect(await b.server.ask('get')).toBe('B');
      expect(a.id).not.toBe(b.id);
    });

    it('leaves the host routes untouched', async () => {
      const res = await fetch(`${server.httpUrl}/host`);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe('host ok');
      if (harness.hostSocket) {
        const ws = new WebSocket(`${server.httpUrl.replace('http', 'ws')}/host-ws`);
        const echoed = new Promise<string>((resolve, reject) => {
          ws.on('message', (data) => resolve(data.toString()));
          ws.on('error', reject);
        });
        ws.on('open', () => ws.send('ping'));
        expect(await echoed).toBe('echo:ping');
        ws.close();
      }
    });

    it("serves a route's zero-build page, its client module and the hashed browser bundle", async () => {
      const page = await fetch(`${server.httpUrl}/page`);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await page.text();
      expect(html).toContain('<div id="app"></div>');
      const bundleUrl = /"@actorspace\/browser":"([^"]+)"/.exec(html)?.[1];
      expect(bundleUrl).toMatch(/^\/actorspace\/browser\.[0-9a-f]{12}\.js$/);
      const client = await fetch(`${server.httpUrl}/page/client.js`);
      expect(client.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await client.text()).toContain("from '@actorspace/browser'");
      const bundle = await fetch(`${server.httpUrl}${bundleUrl}`, { headers: { 'accept-encoding': 'gzip' } });
      expect(bundle.status).toBe(200);
      expect(bundle.headers.get('cache-control')).toContain('immutable');
      expect(bundle.headers.get('content-encoding')).toBe('gzip');
      expect((await bundle.text()).length).toBeGreaterThan(1000);
    });

    it('answers GET <path>/health with JSON counts', async () => {
      await open();
      const res = await fetch(`${server.httpUrl}/actorspace/health`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/application\/json/);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: 'ok' });
      expect(body.connections).toBeGreaterThanOrEqual(1);
      expect(body.sessions).toBeGreaterThanOrEqual(1);
      expect(typeof body.uptime).toBe('number');
    });

    it('serves the gateway: a service asks a tab over HTTP and MCP (request bodies through the host)', async () => {
      const tab = await connect(server.wsUrl, {
        route: '/echo',
        actor: defineActor({
          shout: { callers: ['service'], handler: (text: string) => text.toUpperCase() },
        }),
        token: 'gateway-tab',
        reconnect: false,
      });
      sessions.push(tab);
      const headers = { authorization: `Bearer ${GATEWAY_KEY}`, 'content-type': 'application/json' };
      const deadline = Date.now() + 5000;
      // The tab's capabilities arrive just after it pairs.
      let listed: { id: string; caller: { id: string }; capabilities: unknown[] }[] = [];
      const mine = () => listed.find((s) => s.caller.id === 'gateway-tab' && s.capabilities.length > 0);
      while (!mine() && Date.now() < deadline) {
        const res = await fetch(`${server.httpUrl}/actorspace/sessions`, { headers });
        expect(res.status).toBe(200);
        listed = ((await res.json()) as { sessions: typeof listed }).sessions;
      }
      const id = mine()?.id;
      const ask = await fetch(`${server.httpUrl}/actorspace/sessions/${id}/ask`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ type: 'shout', data: 'hello' }),
      });
      expect(await ask.json()).toEqual({ result: 'HELLO' });
      const refused = await fetch(`${server.httpUrl}/actorspace/sessions`, {
        headers: { authorization: 'Bearer alice' },
      });
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
      // MCP: initialize, then the tab's tool.
      const mcpHeaders = { ...headers, accept: 'application/json, text/event-stream' };
      const init = await fetch(`${server.httpUrl}/actorspace/mcp`, {
        method: 'POST',
        headers: mcpHeaders,
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 'suite', version: '1' },
          },
        }),
      });
      expect(init.status).toBe(200);
      const mcpSession = init.headers.get('mcp-session-id') as string;
      expect(mcpSession).toBeTruthy();
      const call = await fetch(`${server.httpUrl}/actorspace/mcp`, {
        method: 'POST',
        headers: { ...mcpHeaders, 'mcp-session-id': mcpSession, 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 2,
          method: 'tools/call',
          params: { name: 'echo_shout', arguments: { session: id, data: 'mcp' } },
        }),
      });
      expect(call.status).toBe(200);
      const result = (await call.json()) as { result: { content: { text: string }[] } };
      expect(result.result.content[0]?.text).toBe('"MCP"');
    });

    describe('event streams: GET <path>/topics/<topic>', () => {
      const streamUrl = (topic: string, query = '') =>
        `${server.httpUrl}/actorspace/topics/${encodeURIComponent(topic)}${query}`;
      const publish = (session: Session, topic: string, type: string, data: unknown) =>
        session.server.ask('publish', { topic, type, data }) as Promise<number>;
      const subscribers = async (session: Session, topic: string) =>
        ((await session.server.ask('topic', topic)) as { subscribers: number } | null)?.subscribers ?? 0;
      const until = async (check: () => Promise<boolean>, what: string) => {
        const end = Date.now() + 10_000;
        while (!(await check())) {
          if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };

      it('streams events as they are published: headers, id <epoch>:<seq>, event, data, heartbeats', async () => {
        const session = await open();
        const { response, stream } = await openSse(streamUrl('news/world'), {
          'accept-encoding': 'gzip, br',
        });
        try {
          expect(response.status).toBe(200);
          expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
          expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
          expect(response.headers.get('x-accel-buffering')).toBe('no');
          expect(response.headers.get('content-encoding')).toBeNull();
          // First the retry field, then a bare id: where the stream starts (no event yet).
          await stream.until((b) => b.length >= 2, 'the preamble');
          expect(stream.blocks[0]).toEqual({ retry: '500', comments: [] });
          const start = stream.blocks[1]?.id ?? '';
          expect(start).toMatch(/^[0-9a-f-]{36}:0$/);
          const epoch = start.split(':')[0];
          expect(await subscribers(session, 'news/world')).toBe(1);

          expect(await publish(session, 'news/world', 'story', { title: 'a' })).toBe(1);
          expect(await publish(session, 'news/world', 'story', { title: 'b', at: new Date(0) })).toBe(2);
          await stream.until(() => stream.events().length === 2, 'two events');
          expect(stream.events()).toEqual([
            { id: `${epoch}:1`, event: 'story', data: { data: { title: 'a' } } },
            {
              id: `${epoch}:2`,
              event: 'story',
              data: {
                data: { title: 'b', at: '1970-01-01T00:00:00.000Z' },
                meta: { values: { at: ['Date'] }, v: 1 },
              },
            },
          ]);
          // Comment heartbeats while nothing is published (the suite beats every 100 ms).
          await stream.until((b) => b.some((x) => x.comments.includes('ping')), 'a heartbeat');
        } finally {
          stream.close();
        }
      });

      it('replays what a client missed from Last-Event-ID (header or ?lastEventId=), once and in order', async () => {
        const session = await open();
        const first = await openSse(streamUrl('news/replay'));
        await publish(session, 'news/replay', 'n', 1);
        await first.stream.until(() => first.stream.events().length === 1, 'the first event');
        const last = first.stream.events()[0]?.id as string;
        first.stream.close();
        await until(async () => (await subscribers(session, 'news/replay')) === 0, 'the stream to leave');
        for (const n of [2, 3, 4]) await publish(session, 'news/replay', 'n', n);

        const again = await openSse(streamUrl('news/replay'), { 'last-event-id': last });
        const viaQuery = await openSse(streamUrl('news/replay', `?lastEventId=${encodeURIComponent(last)}`));
        try {
          for (const { stream } of [again, viaQuery]) {
            await stream.until(() => stream.events().length === 3, 'the replay');
          }
          await publish(session, 'news/replay', 'n', 5);
          for (const { stream } of [again, viaQuery]) {
            await stream.until(() => stream.events().length === 4, 'the next event');
            expect(stream.events().map((e) => e.data.data)).toEqual([2, 3, 4, 5]);
            expect(stream.events().map((e) => e.id?.split(':')[1])).toEqual(['2', '3', '4', '5']);
          }
        } finally {
          again.stream.close();
          viaQuery.stream.close();
        }
      });

      it('refuses with JSON errors: 403 for an unmatched topic or a refused rule, 401 for a refused token', async () => {
        for (const [url, status, code] of [
          [streamUrl('nowhere'), 403, 'FORBIDDEN'],
          [streamUrl('private/1'), 403, 'FORBIDDEN'],
          [streamUrl('news/x', '?token=bad'), 401, 'UNAUTHORIZED'],
        ] as const) {
          const res = await fetch(url);
          expect(res.status).toBe(status);
          expect(res.headers.get('content-type')).toMatch(/^application\/json/);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe(code);
        }
        // The rule lets alice in: the caller comes from the query's token, through authenticate.
        const alice = await openSse(streamUrl('private/1', '?token=alice'));
        expect(alice.response.status).toBe(200);
        alice.stream.close();
        // A browser origin `origins` refuses gets 403 too; an allowed one may read the stream.
        expect((await fetch(streamUrl('news/x'), { headers: { origin: 'http://evil.test' } })).status).toBe(
          403,
        );
        const allowed = await openSse(streamUrl('news/x'), { origin: ALLOWED_ORIGIN });
        expect(allowed.response.headers.get('access-control-allow-origin')).toBe(ALLOWED_ORIGIN);
        allowed.stream.close();
      });

      it('removes the subscriber as soon as the client goes away', async () => {
        const session = await open();
        const a = await openSse(streamUrl('news/leave'));
        const b = await openSse(streamUrl('news/leave'));
        await a.stream.until((blocks) => blocks.length >= 2, 'the preamble');
        expect(await subscribers(session, 'news/leave')).toBe(2);
        a.stream.close();
        await until(async () => (await subscribers(session, 'news/leave')) === 1, 'one stream to leave');
        await publish(session, 'news/leave', 'n', 1);
        await b.stream.until(() => b.stream.events().length === 1, 'the event at the one still there');
        b.stream.close();
        await until(async () => (await subscribers(session, 'news/leave')) === 0, 'the other to leave');
      });

      it('ends every stream on actors.close() and answers 503 afterwards', async () => {
        const own = await harness.start({});
        try {
          const { stream } = await openSse(`${own.httpUrl}/actorspace/topics/news%2Fend`);
          await stream.until((blocks) => blocks.length >= 2, 'the preamble');
          await own.closeEngine();
          expect(await stream.ended).toBe('end');
          const res = await fetch(`${own.httpUrl}/actorspace/topics/news%2Fend`);
          expect(res.status).toBe(503);
          expect(((await res.json()) as { error: { code: string } }).error.code).toBe('CHANNEL_CLOSED');
        } finally {
          await own.stop();
        }
      });
    });

    describe('close codes', () => {
      it('closes 4400 on a wrong protocol version', async () => {
        const closed = await rawClose(server.wsUrl, [
          JSON.stringify([Kind.HELLO, { v: 99, route: '/echo' }]),
        ]);
        expect(closed.code).toBe(4400);
      });

      it('closes 4400 on a garbage frame', async () => {
        expect((await rawClose(server.wsUrl, ['{not json'])).code).toBe(4400);
      });

      it('closes 4401 when authenticate refuses the token', async () => {
        expect((await rawClose(server.wsUrl, [hello({ route: '/echo', token: 'bad' })])).code).toBe(4401);
      });

      it('refuses a disallowed Origin with HTTP 403 at the upgrade', async () => {
        const closed = await rawClose(server.wsUrl, [], { origin: 'http://evil.test' });
        expect(closed.status).toBe(403);
      });

      it('accepts an allowed Origin and a client without one', async () => {
        const allowed = await rawClose(server.wsUrl, [hello({ route: '/nope' })], { origin: ALLOWED_ORIGIN });
        expect(allowed.code).toBe(4404);
      });

      it('closes 4404 on an unknown route', async () => {
        expect((await rawClose(server.wsUrl, [hello({ route: '/nope' })])).code).toBe(4404);
      });

      it('closes 4408 when no hello arrives in time', async () => {
        expect((await rawClose(server.wsUrl, [])).code).toBe(4408);
      });

      it('closes 4413 on a frame above maxPayload', async () => {
        const big = 'x'.repeat(SUITE_DEFAULTS.maxPayload + 1024);
        expect((await rawClose(server.wsUrl, [hello({ route: '/echo' }), big])).code).toBe(4413);
      });
    });

    it('allows only the same origin without origins: the Origin host must be the Host', async () => {
      const own = await harness.start({ sameOrigin: true });
      try {
        expect((await rawClose(own.wsUrl, [], { origin: 'http://evil.test' })).status).toBe(403);
        // The ws client sends Host: 127.0.0.1:<port>, the page's own origin.
        const same = await rawClose(own.wsUrl, [hello({ route: '/nope' })], { origin: own.httpUrl });
        expect(same.code).toBe(4404);
        // Not a browser: no Origin at all.
        expect((await rawClose(own.wsUrl, [hello({ route: '/nope' })])).code).toBe(4404);
      } finally {
        await own.stop();
      }
    });

    it('closes gracefully: 1001, pending asks rejected, onStop called', async () => {
      const own = await harness.start({});
      try {
        const client = clientActor();
        const session = await connect(own.wsUrl, { route: '/echo', actor: client.actor, reconnect: false });
        const channel = session.channel!;
        const closed = new Promise<number>((resolve) => channel.once('close', (code) => resolve(code)));
        const pending = session.server.ask('hang').catch((error: unknown) => error);
        await client.hanging;
        await own.closeEngine();
        expect(await closed).toBe(1001);
        expect(await pending).toMatchObject({ code: 'CHANNEL_CLOSED' });
        expect(await own.stops()).toBe(1);
        const health = (await (await fetch(`${own.httpUrl}/actorspace/health`)).json()) as Record<
          string,
          unknown
        >;
        expect(health).toMatchObject({ status: 'closing', connections: 0, sessions: 0 });
        expect((await rawClose(own.wsUrl, [hello({ route: '/echo' })])).code).toBe(1001);
        await session.close();
      } finally {
        await own.stop();
      }
    });
  });
}
