/**
 * Message data encoding: plain JSON when a value holds nothing special (the fast path), and
 * superjson otherwise, so Date, Map, Set, BigInt, undefined, RegExp, URL, typed arrays and
 * Error round-trip exactly. Actor references anywhere inside data cross as references.
 */
import SuperJSON from 'superjson';

/** Marks objects that must cross the wire as references (ActorRef implementations). */
export const REF_MARK: unique symbol = Symbol.for('actorspace.ref');

/** How a reference travels: the guid to address, and `y` when it points into the receiver's own space. */
export interface WireRef {
  g: string;
  y?: 1;
}

/** Turns references into wire form while encoding (supplied by the sending channel). */
export interface RefExporter {
  exportRef(ref: unknown): WireRef;
}

/** Turns wire references back into working references while decoding (supplied by the receiving channel). */
export interface RefImporter {
  importRef(wire: WireRef): unknown;
}

/** Meta value that stands for `undefined` data, the commonest non-JSON value (a tell without data). */
const UNDEFINED_META = 0;

// superjson calls custom transformers without a context argument, so the channel that is
// encoding or decoding right now is kept here; encode and decode are synchronous.
let exporter: RefExporter | null = null;
let importer: RefImporter | null = null;

const superjson = new SuperJSON();
superjson.allowErrorProps('code');
superjson.registerCustom<object, { g: string; y?: 1 }>(
  {
    isApplicable: (v): v is object => typeof v === 'object' && v !== null && REF_MARK in v,
    serialize: (ref) => {
      if (!exporter) throw new TypeError('an actor reference can only be sent over a channel');
      return exporter.exportRef(ref);
    },
    deserialize: (wire) => {
      if (!importer) throw new TypeError('an actor reference can only be received over a channel');
      return importer.importRef(wire as WireRef) as object;
    },
  },
  'ref',
);

const MAX_PLAIN_DEPTH = 64;

/**
 * True when `value` survives `JSON.stringify` / `JSON.parse` unchanged: strings, finite
 * numbers other than -0, booleans, null, and arrays / plain objects of those.
 */
export function isPlainJson(value: unknown, depth = 0): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !(value === 0 && 1 / value < 0);
    case 'object': {
      if (value === null) return true;
      if (depth > MAX_PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isPlainJson(value[i], depth + 1)) return false;
        }
        return true;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (key === '__proto__' || !isPlainJson((value as Record<string, unknown>)[key], depth + 1))
          return false;
      }
      return true;
    }
    default:
      return false;
  }
}

/**
 * Encodes message data into a JSON-safe value and, when the value needed superjson, its meta.
 * A result with `meta === undefined` is plain JSON.
 */
export function encodeData(value: unknown, refs: RefExporter | null): { json: unknown; meta: unknown } {
  if (value === undefined) return { json: null, meta: UNDEFINED_META };
  if (isPlainJson(value)) return { json: value, meta: undefined };
  const prev = exporter;
  exporter = refs;
  try {
    const out = superjson.serialize(value);
    return { json: out.json ?? null, meta: out.meta ?? undefined };
  } finally {
    exporter = prev;
  }
}

/** Inverse of {@link encodeData}. Throws TypeError when the meta is malformed. */
export function decodeData(json: unknown, meta: unknown, refs: RefImporter | null): unknown {
  if (meta === undefined) return json;
  if (meta === UNDEFINED_META) return undefined;
  if (typeof meta !== 'object' || meta === null) throw new TypeError('message meta must be an object');
  const prev = importer;
  importer = refs;
  try {
    return superjson.deserialize({ json: json as never, meta: meta as never });
  } finally {
    importer = prev;
  }
}

/**
 * Finds a key that could pollute prototypes if a handler merged the value into an object:
 * `__proto__` anywhere, or `constructor` holding an object. Returns the dotted path or null.
 */
export function findUnsafeKey(value: unknown, path = '', depth = 0): string | null {
  if (typeof value !== 'object' || value === null || depth > 256) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findUnsafeKey(value[i], `${path}[${i}]`, depth + 1);
      if (hit) return hit;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    const here = path ? `${path}.${key}` : key;
    if (key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null)) {
      return here;
    }
    const hit = findUnsafeKey(child, here, depth + 1);
    if (hit) return hit;
  }
  return null;
}
