import { ActorSpace, defineActor, type Transport, type WebSocketLike } from '@actorspace/core';
import { afterEach, describe, expect, it } from 'vitest';
import { once } from '../helpers.js';

/** The two ends of a real transport, and how to dispose of whatever backs them. */
export interface TransportPair {
  a: Transport | WebSocketLike;
  b: Transport | WebSocketLike;
  dispose(): Promise<void> | void;
}

/** The behaviour every transport must show, run against a real pair made by `make`. */
export function transportSuite(name: string, make: () => Promise<TransportPair>): void {
  describe(`${name} transport`, () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    afterEach(async () => {
      for (const c of cleanups.splice(0).reverse()) await c();
    });

    async function spaces() {
      const pair = await make();
      const a = new ActorSpace('a');
      const b = new ActorSpace('b');
      cleanups.push(
        pair.dispose,
        () => a.destroy(),
        () => b.destroy(),
      );
      const ab = a.addChannel(pair.a);
      const ba = b.addChannel(pair.b);
      return { a, b, ab, ba };
    }

    it('carries asks and tells with rich data both ways', async () => {
      const { a, b, ab, ba } = await spaces();
      const notes: unknown[] = [];
      b.register(defineActor({ echo: (d: unknown) => d }), 'echo');
      a.register(defineActor({ note: (d: unknown) => void notes.push(d) }), 'notes');
      const value = { at: new Date(3), m: new Map([['k', new Set([1n])]]), bytes: new Uint8Array([9, 8]) };
      expect(await ab.makeRemote('echo').ask('echo', value)).toEqual(value);
      const done = new Promise<void>((resolve) => {
        a.register(defineActor({ done: () => resolve() }), 'done');
      });
      ba.makeRemote('notes').tell('note', 'one');
      ba.makeRemote('notes').tell('note', 'two');
      ba.makeRemote('done').tell('done');
      await done;
      expect(notes).toEqual(['one', 'two']);
    });

    it('keeps order over 5,000 messages sent in one burst', async () => {
      const { b, ab } = await spaces();
      const seen: number[] = [];
      b.register({ receive: (_t: string, n: unknown) => void seen.push(n as number) }, 'log');
      const log = ab.makeRemote('log');
      for (let i = 0; i < 4999; i++) log.tell('n', i);
      await log.ask('n', 4999);
      expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    });

    it('rejects pending asks with CHANNEL_CLOSED when the other side closes', async () => {
      const { b, ab, ba } = await spaces();
      b.register({ receive: () => new Promise(() => {}) }, 'hang');
      const pending = ab.makeRemote('hang').ask('wait');
      const closed = once<[number]>(ab, 'close');
      ba.close(1000, 'done');
      await closed;
      await expect(pending).rejects.toMatchObject({ code: 'CHANNEL_CLOSED' });
    });
  });
}
