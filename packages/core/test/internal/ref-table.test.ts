import { type ActorRef, ActorSpace, defineActor } from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { Ref, type Router } from '../../src/actor-ref.js';
import { encodeData } from '../../src/codec.js';
import { RefTable } from '../../src/internal/ref-table.js';
import { framesOf, once, rawPeer, serveHello } from '../helpers.js';

/** A router that is never called: references only need one to say where they belong. */
function router(): Router {
  return {
    tellTo: () => {
      throw new Error('not routed in these tests');
    },
    askTo: () => Promise.reject(new Error('not routed in these tests')),
  };
}

/** A table between a space (`local`) and a peer (`remote`), with a third space beside them. */
function setup() {
  const local = router();
  const remote = router();
  const third = router();
  const table = new RefTable(
    {
      router: local,
      localRef: (guid) => new Ref(local, guid),
      makeRemote: (guid) => new Ref(remote, guid),
    },
    remote,
  );
  return { table, local, remote, third };
}

describe('RefTable', () => {
  it('sends a local actor as its guid and accepts it back home once given', () => {
    const { table, local } = setup();
    expect(table.exportRef(new Ref(local, 'mine'))).toEqual({ g: 'mine' });
    const home = table.importRef({ g: 'mine', y: 1 }) as Ref;
    expect(home.guid).toBe('mine');
    expect(home.router).toBe(local);
  });

  it('accepts back home the root actor named in the handshake (giveRoot)', () => {
    const { table, local } = setup();
    table.giveRoot('root');
    const home = table.importRef({ g: 'root', y: 1 }) as Ref;
    expect(home.guid).toBe('root');
    expect(home.router).toBe(local);
  });

  it('refuses a reference coming home to a guid it never gave out', () => {
    const { table, local } = setup();
    table.exportRef(new Ref(local, 'mine'));
    expect(() => table.importRef({ g: 'admin', y: 1 })).toThrow(TypeError);
    expect(() => table.importRef({ g: 'admin', y: 1 })).toThrow(/never given/);
  });

  it("sends the peer's own actors back marked as coming home, and makes remote references of the peer's", () => {
    const { table, remote } = setup();
    expect(table.exportRef(new Ref(remote, 'theirs'))).toEqual({ g: 'theirs', y: 1 });
    const ref = table.importRef({ g: 'theirs' }) as Ref;
    expect(ref.guid).toBe('theirs');
    expect(ref.router).toBe(remote);
  });

  it('gives a third-party reference one stable forwarder id, which resolves back to it', () => {
    const { table, third } = setup();
    const a = new Ref(third, 'a');
    const b = new Ref(third, 'b');
    const wire = table.exportRef(a);
    expect(wire.y).toBeUndefined();
    expect(wire.g).not.toBe('a');
    expect(table.exportRef(a)).toEqual(wire);
    expect(table.exportRef(b).g).not.toBe(wire.g);
    expect(table.forwarder(wire.g)).toBe(a);
    // The peer sending the forwarder back gets the third party itself.
    expect(table.importRef({ g: wire.g, y: 1 })).toBe(a);
  });

  it('forgets forwarders and given guids on clear(), but not the root named in the handshake', () => {
    const { table, local, third } = setup();
    const a = new Ref(third, 'a');
    const { g } = table.exportRef(a);
    table.exportRef(new Ref(local, 'mine'));
    table.giveRoot('root');
    table.clear();
    expect(table.forwarder(g)).toBeUndefined();
    expect(() => table.importRef({ g, y: 1 })).toThrow(/never given/);
    expect(() => table.importRef({ g: 'mine', y: 1 })).toThrow(/never given/);
    // The root stays: it is the same actor in the next session of the channel.
    expect((table.importRef({ g: 'root', y: 1 }) as Ref).guid).toBe('root');
    // A new forwarder for the same reference after the clear.
    expect(table.exportRef(a).g).not.toBe(g);
  });

  it('refuses a malformed wire reference', () => {
    const { table } = setup();
    for (const wire of [null, 'root', {}, { g: '' }, { g: 5 }]) {
      expect(() => table.importRef(wire as never)).toThrow(TypeError);
    }
  });
});

describe('RefTable over a channel', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  /** A space with a root actor, a service that records what it is given, and an actor never handed out. */
  function server() {
    const space = new ActorSpace('server');
    cleanups.push(() => space.destroy());
    const root = space.register(defineActor({ hi: () => 'hi' }), 'root');
    space.register(defineActor({ drop: () => 'dropped' }), 'admin');
    const taken: ActorRef[] = [];
    space.register(defineActor({ take: (d: { r: ActorRef }) => void taken.push(d.r) }), 'svc');
    return { space, root, taken };
  }

  /** An ask to 'svc' whose data holds a reference `wire`, as a raw frame. */
  function askWithRef(id: number, wire: { g: string; y?: 1 }): string {
    const { json, meta } = encodeData({ r: new Ref(router(), wire.g) }, { exportRef: () => wire });
    return JSON.stringify([2, id, 'svc', 'take', json, meta]);
  }

  it('answers INVALID_MESSAGE to a peer that forges a reference home to an actor it was never given, and never runs the handler', async () => {
    const { space, taken } = server();
    const peer = rawPeer();
    const ch = space.addChannel(peer.transport);
    await once(ch, 'open');
    peer.push(askWithRef(1, { g: 'root', y: 1 }));
    peer.push(askWithRef(2, { g: 'admin', y: 1 }));
    await new Promise((r) => setTimeout(r, 0));
    expect(taken).toEqual([]);
    const replies = framesOf(peer.sent);
    expect(replies.map((f) => [f[0], f[1], (f[2] as { code: string }).code])).toEqual([
      [4, 1, 'INVALID_MESSAGE'],
      [4, 2, 'INVALID_MESSAGE'],
    ]);
    expect((replies[0] as [number, number, { message: string }])[2].message).toMatch(/never given/);
    expect(ch.state).toBe('open');
  });

  it('accepts back home the root actor the welcome named, and refuses every other local actor', async () => {
    const { space, root, taken } = server();
    const peer = rawPeer();
    const paired = serveHello(space, peer.transport, () => ({ actor: root }));
    peer.push(JSON.stringify([16, { v: 2 }]));
    const ch = (await paired)!;
    await new Promise((r) => setTimeout(r, 0));
    expect(ch.state).toBe('open');
    peer.push(askWithRef(1, { g: 'root', y: 1 }));
    peer.push(askWithRef(2, { g: 'admin', y: 1 }));
    await new Promise((r) => setTimeout(r, 0));
    // The root came back as a reference to the same actor; sending through it acts as the peer.
    expect(taken.map((r) => r.guid)).toEqual([root.guid]);
    const replies = framesOf(peer.sent).filter((f) => f[0] !== 17);
    expect(replies.map((f) => [f[0], f[1]])).toEqual([
      [3, 1],
      [4, 2],
    ]);
    expect((replies[1] as [number, number, { code: string }])[2].code).toBe('INVALID_MESSAGE');
  });
});
