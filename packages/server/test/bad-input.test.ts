/**
 * Bad input against a live node-adapter server: every malformed or hostile client is answered
 * as documented, no rejection goes unhandled, nothing leaks, and other clients keep working.
 */
import { createServer, type Server } from 'node:http';
import { defineActor, Kind } from '@actorspace/core';
import { connect } from '@actorspace/node';
import { attach } from '@actorspace/server/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { hello, rawClose } from './adapter-suite.js';
import { until } from './fixtures/memory-peer.js';
import { closeServer, listen, suiteEngine } from './fixtures/node-host.js';
import { SUITE_DEFAULTS } from './fixtures/suite-server.js';

describe('node adapter under bad input', () => {
  let server: Server;
  let engine: ReturnType<typeof suiteEngine>;
  let url: string;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    engine = suiteEngine({});
    server = createServer((_req, res) => res.end('host ok'));
    attach(server, engine.actors);
    url = `ws://127.0.0.1:${await listen(server)}/actorspace`;
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await engine.actors.close();
    await closeServer(server);
  });

  const paired = async () => {
    const session = await connect(url, {
      route: '/echo',
      actor: defineActor({ paired: () => {} }),
      reconnect: false,
    });
    return session;
  };

  it('closes 4400 on garbage text before and after pairing', async () => {
    expect((await rawClose(url, ['hello?'])).code).toBe(4400);
    expect((await rawClose(url, ['[]'])).code).toBe(4400);
    expect((await rawClose(url, [hello({ route: '/echo' }), '{"__proto__":{"x":1}}'])).code).toBe(4400);
    expect((await rawClose(url, [hello({ route: '/echo' }), '[99]'])).code).toBe(4400);
  });

  it('closes 4400 on binary frames', async () => {
    expect((await rawClose(url, [Buffer.from([0, 1, 2, 255])])).code).toBe(4400);
    expect((await rawClose(url, [hello({ route: '/echo' }), Buffer.from('[1,"a","b",null]')])).code).toBe(
      4400,
    );
  });

  it('answers a wrong version, unknown route and bad token with their close codes', async () => {
    expect((await rawClose(url, [JSON.stringify([Kind.HELLO, { v: 99, route: '/echo' }])])).code).toBe(4400);
    expect((await rawClose(url, [hello({ route: '/missing' })])).code).toBe(4404);
    expect((await rawClose(url, [hello({ route: '/echo', token: 'bad' })])).code).toBe(4401);
  });

  it('refuses a disallowed Origin with HTTP 403, and connect() with FORBIDDEN', async () => {
    expect((await rawClose(url, [], { origin: 'https://evil.test' })).status).toBe(403);
    const refused = await connect(url, { route: '/echo', headers: { origin: 'https://evil.test' } }).catch(
      (e) => e,
    );
    expect(refused).toMatchObject({ code: 'FORBIDDEN', details: { code: 4403 } });
  });

  it('closes 4413 on an oversize frame and keeps the payload limit for asks', async () => {
    expect(
      (await rawClose(url, [hello({ route: '/echo' }), 'x'.repeat(SUITE_DEFAULTS.maxPayload + 1)])).code,
    ).toBe(4413);
    const session = await paired();
    // The welcome announced the limit, so the client refuses locally before sending.
    const tooBig = await session.server.ask('echo', 'y'.repeat(SUITE_DEFAULTS.maxPayload)).catch((e) => e);
    expect(tooBig).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(await session.server.ask('echo', 'fine')).toBe('fine');
    await session.close();
  });

  it('closes a slowloris client that never sends its hello with 4408', async () => {
    const slow = await Promise.all([rawClose(url, []), rawClose(url, [])]);
    expect(slow.map((s) => s.code)).toEqual([4408, 4408]);
  });

  it('survives 1,000 rapid connect/disconnects without leaking', async () => {
    const stopsBefore = engine.stats.stops;
    let pairedCount = 0;
    const one = (i: number): Promise<void> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url);
        ws.on('error', () => {});
        ws.on('close', () => resolve());
        ws.on('open', () => {
          if (i % 3 === 0) ws.terminate();
          else if (i % 3 === 1) {
            ws.send(hello({ route: '/echo' }));
            ws.close();
          } else {
            ws.send(hello({ route: '/echo' }));
            ws.on('message', (data) => {
              if (String(data).startsWith(`[${Kind.WELCOME},`)) {
                pairedCount++;
                ws.terminate();
              }
            });
          }
        });
      });
    for (let batch = 0; batch < 1000; batch += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, k) => one(batch + k)));
    }
    // Dropped sessions wait out the suite's short resume TTL, then end.
    await until(
      engine.actors,
      'disconnect',
      () => engine.actors.connections === 0 && engine.actors.sessions().length === 0,
    );
    expect(engine.actors.health().suspended).toBe(0);
    // Every root actor the engine made was stopped, at least the ones seen paired.
    expect(engine.stats.stops - stopsBefore).toBeGreaterThanOrEqual(pairedCount);
    const session = await paired();
    expect(await session.server.ask('echo', 'still here')).toBe('still here');
    await session.close();
    await until(engine.actors, 'disconnect', () => engine.actors.connections === 0);
  });

  it('left no unhandled rejection behind', () => {
    expect(unhandled).toEqual([]);
  });
});
