import {
  ActorSpace,
  type Channel,
  type ChannelOptions,
  CloseCode,
  clientHandshake,
  defineActor,
  type RemoteActor,
  type Transport,
} from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { frameWeight } from '../src/internal/frame-writer.js';
import { once, serveHello } from './helpers.js';

/** An in-memory link that can be cut: frames still in flight when it is cut are lost, as on a real network. */
function link(): { client: Transport; server: Transport; cut(): void } {
  let alive = true;
  const handlers = [
    { message: (_f: string) => {}, close: (_c: number, _r: string) => {} },
    { message: (_f: string) => {}, close: (_c: number, _r: string) => {} },
  ] as const;
  const end = (me: 0 | 1): Transport => ({
    send(frame) {
      if (!alive) return;
      queueMicrotask(() => alive && handlers[me === 0 ? 1 : 0].message(frame as string));
    },
    close(code = 1000, reason = '') {
      if (!alive) return;
      alive = false;
      handlers[me].close(code, reason);
      queueMicrotask(() => handlers[me === 0 ? 1 : 0].close(code, reason));
    },
    onMessage(cb) {
      (handlers[me] as { message: unknown }).message = cb;
    },
    onClose(cb) {
      (handlers[me] as { close: unknown }).close = cb;
    },
  });
  return {
    client: end(0),
    server: end(1),
    cut() {
      if (!alive) return;
      alive = false;
      handlers[0].close(1006, 'cut');
      handlers[1].close(1006, 'cut');
    },
  };
}

const spaces: ActorSpace[] = [];
afterEach(async () => {
  for (const s of spaces.splice(0)) await s.destroy();
});

/** A server that resumes sessions it still holds, like the server engine does. */
function resumableServer(options: { resume?: boolean } = {}) {
  const server = new ActorSpace('server');
  spaces.push(server);
  const sessions = new Map<string, Channel>();
  const received: number[] = [];
  let clientRoot: RemoteActor | null = null;
  let sessionCount = 0;
  const root = server.register(
    defineActor(
      {
        n: (n: number) => {
          received.push(n);
          return n * 2;
        },
      },
      { setRemoteActor: (r) => (clientRoot = r) },
    ),
    'root',
  );
  let latest: Promise<Channel | null> = Promise.resolve(null);
  const attach = (t: Transport): void => {
    latest = serveHello(
      server,
      t,
      (hello) => {
        const old = hello.resume ? sessions.get(hello.resume) : undefined;
        if (old?.suspended && options.resume !== false) return { resume: old };
        return { actor: root, session: `s${++sessionCount}` };
      },
      { resumable: true },
    ).then((ch) => {
      if (ch && !sessions.has(`s${sessionCount}`)) sessions.set(`s${sessionCount}`, ch);
      return ch;
    });
  };
  return {
    server,
    attach,
    latest: () => latest,
    received,
    sessions,
    client: () => clientRoot,
    sessionCount: () => sessionCount,
  };
}

function resumableClient() {
  const client = new ActorSpace('client');
  spaces.push(client);
  const received: number[] = [];
  const root = client.register(defineActor({ n: (n: number) => void received.push(n) }), 'croot');
  const connect = (t: Transport, options: ChannelOptions = {}) =>
    client.addChannel(t, { handshake: clientHandshake({ actor: root }), resumable: true, ...options });
  return { client, root, received, connect };
}

describe('session resumption', () => {
  it('keeps pending asks across a lost link and answers them once resumed', async () => {
    const srv = resumableServer();
    const cli = resumableClient();
    let l = link();
    srv.attach(l.server);
    const ch = cli.connect(l.client);
    await once(ch, 'open');
    const remote = ch.remote!;
    const before = remote.ask<number>('n', 1);
    l.cut();
    expect(ch.state).toBe('connecting');
    expect(ch.suspended).toBe(true);
    const during = remote.ask<number>('n', 2);
    remote.tell('n', 3);
    l = link();
    srv.attach(l.server);
    ch.resume(l.client);
    const [resumed] = await once<[boolean]>(ch, 'resume');
    expect(resumed).toBe(true);
    expect(await before).toBe(2);
    expect(await during).toBe(4);
    await remote.ask('n', 4);
    expect(srv.received).toEqual([1, 2, 3, 4]);
    expect(srv.sessionCount()).toBe(1);
  });

  it('keeps no session for a client that cannot resume: a lost link ends it on the server too', async () => {
    const srv = resumableServer();
    const cli = resumableClient();
    const l = link();
    srv.attach(l.server);
    const ch = cli.connect(l.client, { resumable: false });
    await once(ch, 'open');
    const serverCh = (await srv.latest())!;
    for (let i = 0; i < 50; i++) expect(await ch.remote!.ask<number>('n', i)).toBe(i * 2);
    let suspended = false;
    serverCh.on('suspend', () => {
      suspended = true;
    });
    const closed = once<[number, string]>(serverCh, 'close');
    l.cut();
    expect((await closed)[0]).toBe(1006);
    expect(suspended).toBe(false);
    expect(serverCh.state).toBe('closed');
  });

  it('delivers every message exactly once and in order while the link is cut at random moments', async () => {
    const srv = resumableServer();
    const cli = resumableClient();
    let l = link();
    srv.attach(l.server);
    const ch = cli.connect(l.client);
    await once(ch, 'open');
    const toServer = ch.remote!;
    const toClient = srv.client()!;
    const total = 3000;
    let cuts = 0;
    const answers: Promise<number>[] = [];
    let seed = 42;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < total; i++) {
      if (i % 3 === 0) answers.push(toServer.ask<number>('n', i, { timeout: 0 }));
      else toServer.tell('n', i);
      toClient.tell('n', i);
      if (random() < 0.01) {
        // Let some frames reach the wire, then cut with others still in flight.
        await Promise.resolve();
        l.cut();
        cuts++;
        await new Promise((r) => setTimeout(r, 0));
        l = link();
        srv.attach(l.server);
        ch.resume(l.client);
      } else if (i % 50 === 0) {
        await new Promise((r) => setTimeout(r, 0));
      }
    }
    const doubled = await Promise.all(answers);
    await toServer.ask('n', total);
    await toClient.ask('n', total);
    expect(cuts).toBeGreaterThan(10);
    expect(srv.received).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(cli.received).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    expect(doubled).toEqual(answers.map((_, k) => k * 3 * 2));
    expect(srv.sessionCount()).toBe(1);
  });

  it('starts a fresh session, rejects what the old one owed and pairs again when the server cannot resume', async () => {
    const srv = resumableServer({ resume: false });
    const cli = resumableClient();
    const pairings: string[] = [];
    let l = link();
    srv.attach(l.server);
    const root2 = cli.client.register(
      defineActor({ n: () => {} }, { setRemoteActor: (r) => void pairings.push(r.guid) }),
      'croot2',
    );
    const ch = cli.client.addChannel(l.client, {
      handshake: clientHandshake({ actor: root2 }),
      resumable: true,
    });
    await once(ch, 'open');
    l.cut();
    const owed = ch.remote!.ask('n', 1);
    const errors: string[] = [];
    ch.on('error', (e) => errors.push(e.code));
    l = link();
    srv.attach(l.server);
    ch.resume(l.client);
    const [resumed] = await once<[boolean]>(ch, 'resume');
    expect(resumed).toBe(false);
    await expect(owed).rejects.toMatchObject({ code: 'CHANNEL_CLOSED' });
    // The owed ask rejects on its own; no tell was queued, so nothing else is reported.
    expect(errors).toEqual([]);
    expect(ch.session).toBe('s2');
    expect(pairings).toHaveLength(2);
    expect(await ch.remote!.ask('n', 5)).toBe(10);
  });

  it('refuses new sends with MAILBOX_FULL at the call once the send buffer is full', async () => {
    const srv = resumableServer();
    const cli = resumableClient();
    const l = link();
    srv.attach(l.server);
    const frame = '[1,"root","n",0]';
    const ch = cli.connect(l.client, { flow: { sendBuffer: 5 * frameWeight(frame) } });
    await once(ch, 'open');
    l.cut();
    for (let i = 0; i < 5; i++) ch.remote!.tell('n', i);
    expect(ch.bufferedAmount).toBe(5 * frameWeight(frame));
    expect(() => ch.remote!.tell('n', 5)).toThrow(expect.objectContaining({ code: 'MAILBOX_FULL' }));
  });

  it('closes for good on a deliberate close or a final code, rejecting pending asks', async () => {
    const srv = resumableServer();
    const cli = resumableClient();
    const l = link();
    srv.attach(l.server);
    const ch = cli.connect(l.client);
    await once(ch, 'open');
    const pending = ch.remote!.ask('never-answered-in-time', 1);
    l.client.close(CloseCode.NORMAL, 'bye');
    await expect(pending).rejects.toMatchObject({ code: 'CHANNEL_CLOSED' });
    expect(ch.state).toBe('closed');
  });
});
