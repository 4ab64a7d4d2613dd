import fc from 'fast-check';
import SuperJSON from 'superjson';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS, decode, decodeData, encodeData, inspectData, isPlainJson } from '../src/codec.js';

// The reference implementation of the wire form, configured as the codec behaves.
const superjson = new SuperJSON();
superjson.allowErrorProps('code');

// Keys superjson refuses in values with special types (a prototype pollution guard).
const RICH_FORBIDDEN = ['__proto__', 'prototype', 'constructor'];

function roundTrip(value: unknown): unknown {
  const { json, meta } = encodeData(value, null);
  const wire = JSON.parse(JSON.stringify([json, meta ?? null]));
  return decodeData(wire[0], wire[1] ?? undefined, null);
}

describe('codec', () => {
  it('round-trips every special value superjson carries', () => {
    const error = Object.assign(new Error('boom'), { code: 'E_BOOM' });
    const value = {
      date: new Date(1_700_000_000_000),
      map: new Map<unknown, unknown>([
        ['a', 1],
        [2, new Set([3])],
      ]),
      set: new Set(['x']),
      big: 2n ** 70n,
      undef: undefined,
      regex: /a+b/gi,
      url: new URL('https://example.com/p?q=1'),
      bytes: new Uint8Array([0, 1, 255]),
      floats: new Float64Array([1.5, -2]),
      nan: Number.NaN,
      inf: Number.NEGATIVE_INFINITY,
      negZero: -0,
      error,
      nested: [{ when: new Date(0) }],
    };
    const back = roundTrip(value) as typeof value;
    expect(back.date).toEqual(value.date);
    expect(back.map).toEqual(value.map);
    expect(back.set).toEqual(value.set);
    expect(back.big).toBe(value.big);
    expect('undef' in back && back.undef === undefined).toBe(true);
    expect(back.regex.source).toBe('a+b');
    expect(back.regex.flags).toBe('gi');
    expect(back.url.href).toBe(value.url.href);
    expect(back.bytes).toEqual(value.bytes);
    expect(back.floats).toEqual(value.floats);
    expect(back.nan).toBeNaN();
    expect(back.inf).toBe(Number.NEGATIVE_INFINITY);
    expect(Object.is(back.negZero, -0)).toBe(true);
    expect(back.error).toBeInstanceOf(Error);
    expect(back.error.message).toBe('boom');
    expect((back.error as Error & { code?: string }).code).toBe('E_BOOM');
    expect(back.nested[0]?.when).toEqual(new Date(0));
  });

  it('sends plain JSON without meta (the fast path)', () => {
    const { json, meta } = encodeData(
      { id: 1, text: 'hi', tags: ['a'], nested: { ok: true, n: null } },
      null,
    );
    expect(meta).toBeUndefined();
    expect(json).toEqual({ id: 1, text: 'hi', tags: ['a'], nested: { ok: true, n: null } });
  });

  it('encodes undefined data with the short marker', () => {
    expect(encodeData(undefined, null)).toEqual({ json: null, meta: 0 });
    expect(roundTrip(undefined)).toBeUndefined();
  });

  it('classifies values that JSON would change as not plain', () => {
    for (const v of [
      undefined,
      Number.NaN,
      -0,
      new Date(),
      // biome-ignore lint/suspicious/noSparseArray: a hole is exactly what JSON cannot keep
      [1, , 3],
      { a: new Map() },
      1n,
      () => 1,
      Symbol('s'),
    ]) {
      expect(isPlainJson(v)).toBe(false);
    }
    for (const v of [null, 0, 'x', true, [], {}, { a: [1, { b: 'c' }] }, Object.create(null)]) {
      expect(isPlainJson(v)).toBe(true);
    }
  });

  it('round-trips any JSON value exactly (property)', () => {
    fc.assert(
      fc.property(
        fc
          .jsonValue()
          .filter(
            (v) => inspectData(v, DEFAULT_LIMITS) === null && !JSON.stringify(v).includes('"__proto__"'),
          ),
        (value) => {
          expect(roundTrip(value)).toEqual(value);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('round-trips values mixing dates, maps, sets, bigints and undefined (property)', () => {
    const special = fc.oneof(
      fc.date({ noInvalidDate: true }),
      fc.bigInt(),
      fc.constant(undefined),
      fc.string(),
      fc.integer(),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        special,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(
          fc.string().filter((k) => !RICH_FORBIDDEN.includes(k)),
          tie('node'),
          { maxKeys: 4 },
        ),
        fc.array(special, { maxLength: 4 }).map((xs) => new Set(xs)),
        fc.array(fc.tuple(fc.string(), tie('node')), { maxLength: 3 }).map((xs) => new Map(xs)),
      ),
    })).node;
    fc.assert(
      fc.property(value, (v) => {
        expect(roundTrip(v)).toEqual(v);
      }),
      { numRuns: 300 },
    );
  });

  it('makes exactly what superjson makes, and each reads the other (property)', () => {
    const leaf = fc.oneof(
      fc.date({ noInvalidDate: true }),
      fc.bigInt(),
      fc.constant(undefined),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(/a+/g, new URL('https://x.test/p'), new Uint8Array([1, 2]), new Float32Array([0.5])),
      fc
        .string()
        .map((m) => Object.assign(new Error(m), { name: m ? 'TypeError' : 'Error', code: m.length })),
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(
          fc.string().filter((k) => !RICH_FORBIDDEN.includes(k)),
          tie('node'),
          { maxKeys: 4 },
        ),
        fc.array(tie('node'), { maxLength: 3 }).map((xs) => new Set(xs)),
        fc.array(fc.tuple(tie('node'), tie('node')), { maxLength: 3 }).map((xs) => new Map(xs)),
        // The same object in two places.
        tie('node').map((x) => ({ first: x, second: x })),
      ),
    })).node;
    const wire = (x: unknown) => JSON.parse(JSON.stringify(x ?? null));
    fc.assert(
      fc.property(value, (v) => {
        const mine = encodeData(v, null);
        if (v === undefined) return;
        const theirs = superjson.serialize(v);
        expect(wire(mine.json)).toEqual(wire(theirs.json));
        expect(wire((mine.meta as { values?: unknown } | undefined)?.values)).toEqual(
          wire(theirs.meta?.values),
        );
        // superjson also lists repeated NaN and BigInt values as "shared"; that changes nothing on decode.
        const fromMine = wire(mine);
        const fromTheirs = wire(theirs);
        expect(decodeData(fromMine.json, fromMine.meta ?? undefined, null)).toEqual(v);
        // superjson moves shared Map keys and Set members to the end when it restores them, so
        // it reads values back exactly only when nothing is shared.
        if (!(mine.meta as { referentialEqualities?: unknown } | undefined)?.referentialEqualities) {
          expect(superjson.deserialize(wire(mine))).toEqual(v);
        }
        expect(decodeData(fromTheirs.json, fromTheirs.meta ?? undefined, null)).toEqual(v);
      }),
      { numRuns: 1000 },
    );
  });

  it('keeps shared objects shared and cycles cyclic, as superjson does', () => {
    const shared = { n: 1, at: new Date(5) };
    const when = new Date(7);
    const cyclic: Record<string, unknown> = { name: 'root' };
    cyclic.self = cyclic;
    const inMap = new Map<unknown, unknown>([[shared, when]]);
    const cases: unknown[] = [
      { a: shared, b: [shared], c: when, d: { e: when } },
      cyclic,
      { m: inMap, again: shared, set: new Set([shared]) },
      [when, when, { deep: [when] }],
    ];
    for (const v of cases) {
      const mine = encodeData(v, null);
      const theirs = superjson.serialize(v);
      expect(JSON.parse(JSON.stringify(mine))).toEqual(JSON.parse(JSON.stringify(theirs)));
      const w = JSON.parse(JSON.stringify(mine));
      expect(decodeData(w.json, w.meta, null)).toEqual(
        superjson.deserialize(JSON.parse(JSON.stringify(theirs))),
      );
    }
    const back = roundTrip(cases[0]) as { a: unknown; b: unknown[]; c: Date; d: { e: Date } };
    expect(back.b[0]).toBe(back.a);
    expect(back.d.e).toBe(back.c);
    const loop = roundTrip(cyclic) as { self: unknown };
    expect(loop.self).toBe(loop);
    const viaMap = roundTrip(cases[2]) as { m: Map<unknown, unknown>; again: unknown; set: Set<unknown> };
    expect([...viaMap.m.keys()][0]).toBe(viaMap.again);
    expect([...viaMap.set][0]).toBe(viaMap.again);
  });

  it('carries what JSON cannot name the way superjson does', () => {
    class Point {
      constructor(
        public x: number,
        public y: number,
      ) {}
    }
    // biome-ignore lint/suspicious/noSparseArray: holes become null, as with superjson
    const holes = [1, , new Date(0)];
    expect(roundTrip(holes)).toEqual([1, null, new Date(0)]);
    expect(roundTrip({ p: new Point(1, 2), at: new Date(0) })).toEqual({
      p: { x: 1, y: 2 },
      at: new Date(0),
    });
    expect(roundTrip({ 'a.b': new Date(1), 'c\\d': 1n, '': undefined })).toEqual({
      'a.b': new Date(1),
      'c\\d': 1n,
      '': undefined,
    });
    expect(roundTrip({ bad: new Date(Number.NaN), fn: () => 1 })).toEqual({ bad: null });
    const cause = new Error('inner');
    const outer = roundTrip(new Error('outer', { cause })) as Error;
    expect(outer.message).toBe('outer');
    expect((outer.cause as Error).message).toBe('inner');
  });

  it('restores sharing through error causes and through Sets that contain themselves', () => {
    const original = new Error('db down');
    const errors = roundTrip({ original, wrapped: new Error('x', { cause: original }) }) as {
      original: Error;
      wrapped: Error;
    };
    expect(errors.wrapped.cause).toBe(errors.original);

    const member: Record<string, unknown> = {};
    const set = new Set<unknown>([member]);
    set.add(set);
    member.s = set;
    const back = roundTrip({ set }) as { set: Set<unknown> };
    const [first, second] = [...back.set];
    expect(back.set.size).toBe(2);
    expect(second).toBe(back.set);
    expect((first as { s: unknown }).s).toBe(back.set);
  });

  it('encodes data whose getter encodes other data meanwhile', () => {
    const x = { n: 1 };
    const value = {
      a: x,
      get b() {
        encodeData({ d: new Date(0) }, null);
        return new Date(1);
      },
      c: x,
    };
    const back = roundTrip(value) as { a: unknown; b: Date; c: unknown };
    expect(back.b).toEqual(new Date(1));
    expect(back.c).toBe(back.a);
  });

  it('sends Node Buffers and other Uint8Array subclasses as Uint8Array', () => {
    class Bytes extends Uint8Array {}
    const back = roundTrip({ b: new Bytes([1, 2, 3]) }) as { b: Uint8Array };
    expect(back.b).toEqual(new Uint8Array([1, 2, 3]));
    expect(back.b.constructor).toBe(Uint8Array);
    expect(() => encodeData({ big: new BigInt64Array(1) }, null)).toThrow(/BigInt64Array cannot be encoded/);
  });

  it('refuses rich data with keys superjson guards against', () => {
    expect(() => encodeData({ at: new Date(0), prototype: {} }, null)).toThrow(/prototype pollution/);
  });

  it('finds keys that could pollute prototypes', () => {
    expect(inspectData(JSON.parse('{"a":{"__proto__":{"x":1}}}'), DEFAULT_LIMITS)).toMatch('a.__proto__');
    expect(inspectData(JSON.parse('[{"constructor":{"prototype":{}}}]'), DEFAULT_LIMITS)).toMatch(
      '[0].constructor',
    );
    expect(inspectData({ constructor: 'a string is harmless', b: [1, 2] }, DEFAULT_LIMITS)).toBeNull();
  });

  it('refuses data past its limits, failing closed: nothing deeper than the depth limit passes unchecked', () => {
    const deep = (n: number) => JSON.parse(`${'{"a":'.repeat(n)}{"__proto__":{"x":1}}${'}'.repeat(n)}`);
    const limits = { ...DEFAULT_LIMITS, depth: 300 };
    // Past depth 256 the old scan gave up and passed the key through.
    expect(inspectData(deep(280), limits)).toMatch('__proto__');
    expect(inspectData(deep(400), limits)).toMatch('deeper than 300');
    expect(inspectData(deep(150), DEFAULT_LIMITS)).toMatch('deeper than 100');
    expect(inspectData(new Array(11).fill(0), { ...DEFAULT_LIMITS, arrayLength: 10 })).toMatch(
      'longer than 10',
    );
    expect(() => decodeData(deep(120), undefined)).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
    const plain = JSON.parse(`${'['.repeat(120)}1${']'.repeat(120)}`);
    expect(() => decodeData(plain, undefined)).toThrow(expect.objectContaining({ code: 'INVALID_MESSAGE' }));
    expect(decodeData(plain, undefined, null, { depth: 200 })).toBe(plain);
  });

  it('refuses BigInts longer than bigintDigits before parsing them', () => {
    const meta = { values: ['bigint'], v: 1 };
    expect(decodeData('9'.repeat(4300), meta)).toBe(BigInt('9'.repeat(4300)));
    expect(decodeData('-1234', meta, null, { bigintDigits: 4 })).toBe(-1234n);
    const err = (() => {
      try {
        decodeData('9'.repeat(900_000), meta);
      } catch (e) {
        return e as { code: string; message: string };
      }
    })();
    expect(err?.code).toBe('INVALID_MESSAGE');
    expect(err?.message).toMatch('at most 4300 digits');
  });

  it('refuses Sets, Maps and typed arrays longer than arrayLength', () => {
    const limits = { ...DEFAULT_LIMITS, arrayLength: 3 };
    expect(() => decode([1, 2, 3, 4], { values: ['set'], v: 1 }, null, limits)).toThrow('longer than 3');
    expect(() =>
      decode([1, 2, 3, 4], { values: [['typed-array', 'Uint8Array']], v: 1 }, null, limits),
    ).toThrow('longer than 3');
    expect(decode([1, 2, 3], { values: ['set'], v: 1 }, null, limits)).toEqual(new Set([1, 2, 3]));
  });

  it('throws ActorSpaceError INVALID_MESSAGE from its public functions', () => {
    expect(() => encodeData(new BigInt64Array(1))).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
    expect(() => decodeData(1, { values: ['Nope'], v: 1 })).toThrow(
      expect.objectContaining({ code: 'INVALID_MESSAGE' }),
    );
  });

  it('refuses malformed meta with an error instead of a wrong value', () => {
    const bad: unknown[] = [
      'nonsense',
      { values: { a: ['Date'] } }, // no version
      { values: { a: ['Nope'] }, v: 1 },
      { values: { a: [['class', 'Point']] }, v: 1 },
      { values: { 'a.b.c': ['Date'] }, v: 1 },
      { values: { 'a\\x': ['Date'] }, v: 1 },
      { values: { a: ['map'] }, v: 1 },
      { values: { a: [['typed-array', 'Buffer']] }, v: 1 },
      { values: JSON.parse('{"__proto__":["Date"]}'), v: 1 },
      { values: { 'constructor.prototype': ['Date'] }, v: 1 },
      { referentialEqualities: { a: ['__proto__.x'] }, v: 1 },
      { referentialEqualities: { a: 'b' }, v: 1 },
      { values: { a: [['custom', 'ref']] }, v: 1 }, // a reference without a channel
      // Paths may not grow an array: neither through `length` nor past its end.
      { referentialEqualities: { b: ['a.length'] }, v: 1 },
      { values: { 'a.4294967294': ['undefined'] }, v: 1 },
      { values: { 'a.01': ['undefined'] }, v: 1 },
    ];
    for (const meta of bad) {
      const json = { a: [0, 1], b: [4294967295] };
      expect(() => decode(json, meta, null, DEFAULT_LIMITS), JSON.stringify(meta)).toThrow(TypeError);
      expect(() => decodeData(json, meta, null), JSON.stringify(meta)).toThrow(
        expect.objectContaining({ code: 'INVALID_MESSAGE' }),
      );
      expect(json.a.length).toBe(2);
    }
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
