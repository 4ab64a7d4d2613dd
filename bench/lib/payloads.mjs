// @ts-check
/** The two payloads every system carries, and an exact structural equality check. */

/** @typedef {{ id: number, text: string, tags: string[], at: number }} PlainPayload */
/** @typedef {{ id: number, text: string, tags: string[], at: Date, meta: Map<string, unknown> }} RichPayload */

/**
 * @param {number} id
 * @returns {PlainPayload}
 */
export function plainPayload(id) {
  return { id, text: 'hello world', tags: ['a', 'b'], at: Date.now() };
}

/**
 * Same shape as the plain payload, with `at` a Date and a two-entry Map.
 * @param {number} id
 * @returns {RichPayload}
 */
export function richPayload(id) {
  return {
    id,
    text: 'hello world',
    tags: ['a', 'b'],
    at: new Date(),
    meta: new Map(
      /** @type {[string, unknown][]} */ ([
        ['region', 'eu'],
        ['attempt', 2],
      ]),
    ),
  };
}

/**
 * Exact structural equality: Dates must come back as Dates with the same time, Maps as Maps with
 * equal entries, arrays as arrays, plain objects with the same keys.
 * @param {unknown} a
 * @param {unknown} b
 * @returns {boolean}
 */
export function deepEqualExact(a, b) {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (a instanceof Map || b instanceof Map) {
    if (!(a instanceof Map && b instanceof Map) || a.size !== b.size) return false;
    for (const [k, v] of a) if (!b.has(k) || !deepEqualExact(v, b.get(k))) return false;
    return true;
  }
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!(Array.isArray(a) && Array.isArray(b)) || a.length !== b.length) return false;
    return a.every((x, i) => deepEqualExact(x, b[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every(
    (k) => Object.hasOwn(b, k) && deepEqualExact(/** @type {any} */ (a)[k], /** @type {any} */ (b)[k]),
  );
}

/**
 * Short human description of how an echo differs from what was sent (for "lossy" notes).
 * @param {any} sent
 * @param {any} got
 */
export function describeLoss(sent, got) {
  if (got === null || typeof got !== 'object') return `echo is ${typeof got}`;
  const parts = [];
  for (const k of Object.keys(sent)) {
    if (!deepEqualExact(sent[k], got[k])) {
      const g = got[k];
      const kind =
        g instanceof Date
          ? 'Date'
          : g instanceof Map
            ? 'Map'
            : Array.isArray(g)
              ? 'array'
              : g === null
                ? 'null'
                : typeof g;
      parts.push(`${k} came back as ${kind === 'object' ? JSON.stringify(g) : kind}`);
    }
  }
  return parts.join('; ') || 'differs';
}
