import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeData,
  encodeData,
  fastSerialize,
  findUnsafeKey,
  isPlainJson,
  superjson,
} from '../src/codec.js';

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
        fc.jsonValue().filter((v) => findUnsafeKey(v) === null && !JSON.stringify(v).includes('"__proto__"')),
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

  it('makes exactly what superjson makes whenever its fast path applies (property)', () => {
    const leaf = fc.oneof(
      fc.date(),
      fc.bigInt(),
      fc.constant(undefined),
      fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0),
      fc.double(),
      fc.string(),
      fc.boolean(),
      fc.constant(null),
      fc.constantFrom(/a+/g, new URL('https://x.test/p'), new Uint8Array([1, 2]), new Float32Array([0.5])),
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
      ),
    })).node;
    let fast = 0;
    fc.assert(
      fc.property(value, (v) => {
        const mine = fastSerialize(v, null);
        if (!mine) return;
        fast++;
        const theirs = superjson.serialize(v);
        // superjson also records NaN values as "referentially equal"; that changes nothing on decode.
        const same = (x: unknown) => JSON.parse(JSON.stringify(x ?? null));
        expect(same(mine.json)).toEqual(same(theirs.json));
        expect(same((mine.meta as { values?: unknown } | undefined)?.values)).toEqual(
          same(theirs.meta?.values),
        );
        const wire = JSON.parse(JSON.stringify(mine));
        expect(decodeData(wire.json, wire.meta, null)).toEqual(v);
      }),
      { numRuns: 1000 },
    );
    expect(fast).toBeGreaterThan(500);
  });

  it('refuses rich data with keys superjson guards against', () => {
    expect(() => encodeData({ at: new Date(0), prototype: {} }, null)).toThrow(/prototype pollution/);
  });

  it('finds keys that could pollute prototypes', () => {
    expect(findUnsafeKey(JSON.parse('{"a":{"__proto__":{"x":1}}}'))).toBe('a.__proto__');
    expect(findUnsafeKey(JSON.parse('[{"constructor":{"prototype":{}}}]'))).toBe('[0].constructor');
    expect(findUnsafeKey({ constructor: 'a string is harmless', b: [1, 2] })).toBeNull();
  });

  it('refuses malformed meta with an error instead of a wrong value', () => {
    expect(() => decodeData({ a: 1 }, 'nonsense', null)).toThrow();
    expect(() => decodeData({ a: 1 }, { values: { __proto__: ['Date'] } }, null)).not.toThrow();
  });
});
