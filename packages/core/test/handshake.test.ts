import {
  ActorSpace,
  ActorSpaceError,
  type Channel,
  CloseCode,
  clientHandshake,
  createMemoryTransportPair,
  defineActor,
  type HelloFields,
  PROTOCOL_VERSION,
  ProtocolViolation,
  type RemoteActor,
  readHello,
} from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { checkHandshake } from '../src/protocol.js';
import { type Decision, framesOf, once, rawPeer, rejectionOf, serveHello } from './helpers.js';

const MIB = 1024 * 1024;

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

function space(id?: string): ActorSpace {
  const s = new ActorSpace(id);
  cleanups.push(() => s.destroy());
  return s;
}

const flush = () => new Promise((r) => setTimeout(r, 0));

/** A server space serving one in-memory transport with `decide`, and a client space with the other end. */
function pairing(decide: (hello: HelloFields) => Decision | Promise<Decision>) {
  const server = space('server');
  const client = space('client');
  const [ts, tc] = createMemoryTransportPair();
  const serverChannel = serveHello(server, ts, decide);
  return { server, client, serverChannel, tc };
}

/** What a function throws. */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('pairing', () => {
  it('pairs the root actors, calls setRemoteActor on both sides, and sets the session and caller', async () => {
    let serverSaw: RemoteActor | null = null;
    let clientSaw: RemoteActor | null = null;
    const { server, client, tc, serverChannel } = pairing((hello) => {
      const root = server.register(
        defineActor(
          { hi: (name: string) => `hi ${name}`, route: () => hello.route },
          { setRemoteActor: (r) => void (serverSaw = r) },
        ),
      );
      return { actor: root, session: 'sess-1', caller: { id: 'u1', type: 'client', claims: {} } };
    });
    const clientRoot = client.register(
      defineActor({ ping: () => 'pong' }, { setRemoteActor: (r) => void (clientSaw = r) }),
      'croot',
    );
    const ch = client.addChannel(tc, { handshake: clientHandshake({ actor: clientRoot, route: '/todos' }) });
    expect(ch.state).toBe('connecting');
    await once(ch, 'open');
    expect(ch.session).toBe('sess-1');
    expect(await ch.remote!.ask('hi', 'ada')).toBe('hi ada');
    expect(await ch.remote!.ask('route')).toBe('/todos');
    expect(clientSaw).toBe(ch.remote);
    expect(serverSaw!.guid).toBe('croot');
    expect(await serverSaw!.ask('ping')).toBe('pong');
    expect((await serverChannel)!.caller).toEqual({ id: 'u1', type: 'client', claims: {} });
  });

  it('queues messages sent before the welcome and delivers them in order once paired', async () => {
    const seen: number[] = [];
    let admit!: () => void;
    const admitted = new Promise<void>((resolve) => {
      admit = resolve;
    });
    const { server, client, tc } = pairing(async () => {
      await admitted;
      return {
        actor: server.register({ receive: (_t: string, n: unknown) => void seen.push(n as number) }, 'root'),
      };
    });
    const ch = client.addChannel(tc, { handshake: clientHandshake() });
    const root = ch.makeRemote('root');
    for (let i = 0; i < 5; i++) root.tell('n', i);
    const answer = root.ask('n', 5);
    await flush();
    expect(ch.state).toBe('connecting');
    expect(seen).toEqual([]);
    admit();
    await answer;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it.each([
    ['UNAUTHORIZED', CloseCode.UNAUTHENTICATED],
    ['FORBIDDEN', CloseCode.FORBIDDEN],
    ['NO_SUCH_ACTOR', CloseCode.UNKNOWN_ROUTE],
  ] as const)(
    'closes a pairing refused with %s as %i and rejects the queued asks',
    async (code, closeCode) => {
      expect([4401, 4403, 4404]).toContain(closeCode);
      const { client, tc, serverChannel } = pairing(() => new ActorSpaceError(code, `refused: ${code}`));
      const ch = client.addChannel(tc, { handshake: clientHandshake({ token: 'bad' }) });
      const pending = ch.makeRemote('x').ask('never');
      const [gotCode, reason] = await once<[number, string]>(ch, 'close');
      expect(gotCode).toBe(closeCode);
      expect(reason).toContain(code);
      expect((await rejectionOf(pending)).code).toBe('CHANNEL_CLOSED');
      expect(await serverChannel).toBeNull();
    },
  );

  it('closes 4408 when no welcome arrives in time', async () => {
    const client = space();
    const peer = rawPeer();
    const ch = client.addChannel(peer.transport, { handshake: clientHandshake(), handshakeTimeout: 20 });
    const pending = ch.makeRemote('x').ask('never');
    const [code, reason] = await once<[number, string]>(ch, 'close');
    expect(code).toBe(CloseCode.TIMEOUT);
    expect(reason).toContain('welcome');
    expect(peer.closed[0]?.[0]).toBe(CloseCode.TIMEOUT);
    expect(framesOf(peer.sent).map((f) => f[0])).toEqual([16]);
    expect((await rejectionOf(pending)).code).toBe('CHANNEL_CLOSED');
  });

  it('welcomes with its root, session and limits, and keeps the session only for a resumable client', async () => {
    for (const resumable of [false, true]) {
      const server = space();
      const root = server.register(defineActor({}), 'root');
      const peer = rawPeer();
      const served = serveHello(server, peer.transport, () => ({ actor: root, session: 's1' }), {
        resumable: true,
        maxPayload: 4096,
        flow: { window: 8192 },
      });
      peer.push(JSON.stringify([16, { v: PROTOCOL_VERSION, actor: 'croot', resumable }]));
      const ch = (await served)!;
      await flush();
      expect(ch.state).toBe('open');
      const welcome = { v: PROTOCOL_VERSION, actor: 'root', session: 's1', maxPayload: 4096, window: 8192 };
      expect(framesOf(peer.sent)).toEqual([[17, resumable ? { ...welcome, resumable: true } : welcome]]);
      expect(ch.remote?.guid).toBe('croot');
    }
  });
});

describe('readHello', () => {
  it('reads one hello frame', () => {
    expect(readHello(JSON.stringify([16, { v: PROTOCOL_VERSION, route: '/r', token: 't' }]), MIB)).toEqual({
      v: PROTOCOL_VERSION,
      route: '/r',
      token: 't',
    });
  });

  it('refuses a wrong protocol version or a first message that is not one hello with a 4400 ProtocolViolation', () => {
    const hello = JSON.stringify([16, { v: PROTOCOL_VERSION }]);
    for (const message of [
      '[16,{"v":99}]',
      '[16,{"v":1}]',
      '[1,"x","t",null]',
      '[17,{"v":2}]',
      `[${hello},${hello}]`,
      'not json',
    ]) {
      const error = thrownBy(() => readHello(message, MIB));
      expect(error).toBeInstanceOf(ProtocolViolation);
      expect((error as ProtocolViolation).closeCode).toBe(CloseCode.BAD_FRAME);
    }
  });

  it('refuses a hello larger than maxPayload with 4413', () => {
    const error = thrownBy(() =>
      readHello(JSON.stringify([16, { v: PROTOCOL_VERSION, token: 'x'.repeat(200) }]), 100),
    );
    expect((error as ProtocolViolation).closeCode).toBe(CloseCode.PAYLOAD_TOO_LARGE);
  });

  it('makes a server close 4400 without a word when the first frame is not a good hello', async () => {
    for (const frame of ['[16,{"v":99}]', '[1,"x","t",null]']) {
      const server = space();
      const peer = rawPeer();
      const served = serveHello(server, peer.transport, () => ({}));
      peer.push(frame);
      expect(await served).toBeNull();
      expect(peer.closed[0]?.[0]).toBe(CloseCode.BAD_FRAME);
      expect(peer.sent).toEqual([]);
      expect(server.channels.size).toBe(0);
    }
  });
});

describe('checkHandshake', () => {
  const malformed: Array<[string, unknown]> = [
    ['v', 1],
    ['v', '2'],
    ['route', 'r'.repeat(257)],
    ['route', 5],
    ['actor', 'a'.repeat(300)],
    ['actor', ''],
    ['actor', 7],
    ['token', 5],
    ['token', 't'.repeat(16_385)],
    ['resume', ''],
    ['resume', 's'.repeat(129)],
    ['session', 's'.repeat(129)],
    ['session', 1],
    ['resumable', 'yes'],
    ['resumed', 1],
    ['maxPayload', 0],
    ['maxPayload', 1.5],
    ['maxPayload', -1024],
    ['window', 0],
    ['window', '1024'],
    ['ack', -1],
    ['ack', 0.5],
    ['received', -1],
    ['consumed', Number.MAX_SAFE_INTEGER + 2],
    ['consumed', null],
  ];

  it.each(malformed)(
    'refuses a hello or welcome whose %s is %j with a 4400 ProtocolViolation',
    (name, value) => {
      for (const what of ['hello', 'welcome'] as const) {
        const error = thrownBy(() => checkHandshake({ v: PROTOCOL_VERSION, [name]: value } as never, what));
        expect(error).toBeInstanceOf(ProtocolViolation);
        expect((error as ProtocolViolation).closeCode).toBe(CloseCode.BAD_FRAME);
        expect((error as Error).message).toContain(name === 'v' ? 'version' : `"${name}"`);
      }
    },
  );

  it('accepts every field at its bounds and ignores fields it does not know', () => {
    const fields = {
      v: PROTOCOL_VERSION,
      route: 'r'.repeat(256),
      actor: 'a'.repeat(256),
      token: 't'.repeat(16_384),
      resume: 's'.repeat(128),
      session: 's'.repeat(128),
      resumable: false,
      resumed: true,
      maxPayload: 1,
      window: Number.MAX_SAFE_INTEGER,
      ack: 0,
      received: 0,
      consumed: Number.MAX_SAFE_INTEGER,
      future: { anything: true },
    };
    expect(checkHandshake(fields, 'hello')).toBe(fields);
  });
});

describe('clientHandshake', () => {
  async function waitingClient(): Promise<{ ch: Channel; peer: ReturnType<typeof rawPeer> }> {
    const client = space();
    const peer = rawPeer();
    const ch = client.addChannel(peer.transport, { handshake: clientHandshake() });
    await flush();
    return { ch, peer };
  }

  it('closes 4400 and rejects its asks on a welcome with a 300-character actor, never throwing out of the transport callback', async () => {
    const { ch, peer } = await waitingClient();
    const pending = ch.makeRemote('x').ask('never');
    const errors: string[] = [];
    ch.on('error', (e) => errors.push(e.code));
    const closed = once<[number, string]>(ch, 'close');
    expect(() =>
      peer.push(JSON.stringify([17, { v: PROTOCOL_VERSION, actor: 'a'.repeat(300), session: 's1' }])),
    ).not.toThrow();
    const [code, reason] = await closed;
    expect(code).toBe(CloseCode.BAD_FRAME);
    expect(reason).toContain('"actor"');
    expect(peer.closed[0]?.[0]).toBe(CloseCode.BAD_FRAME);
    expect((await rejectionOf(pending)).code).toBe('CHANNEL_CLOSED');
    expect(errors[0]).toBe('PROTOCOL');
    expect(ch.remote).toBeNull();
  });

  it('closes 4400 when the first frame is not a welcome', async () => {
    const { ch, peer } = await waitingClient();
    const closed = once<[number, string]>(ch, 'close');
    expect(() => peer.push('[1,"x","t",null]')).not.toThrow();
    expect((await closed)[0]).toBe(CloseCode.BAD_FRAME);
  });

  it('closes 4400 on a welcome of another protocol version', async () => {
    const { ch, peer } = await waitingClient();
    const closed = once<[number, string]>(ch, 'close');
    peer.push(JSON.stringify([17, { v: PROTOCOL_VERSION + 1 }]));
    expect((await closed)[0]).toBe(CloseCode.BAD_FRAME);
  });

  it('says hello with its route, actor, token and limits', async () => {
    const client = space();
    const peer = rawPeer();
    client.addChannel(peer.transport, {
      handshake: clientHandshake({ route: '/todos', actor: 'croot', token: 'secret' }),
      maxPayload: 4096,
      flow: { window: 8192 },
    });
    await flush();
    expect(framesOf(peer.sent)).toEqual([
      [
        16,
        {
          v: PROTOCOL_VERSION,
          route: '/todos',
          actor: 'croot',
          token: 'secret',
          maxPayload: 4096,
          window: 8192,
        },
      ],
    ]);
  });
});
