/**
 * Message data encoding. A value holding nothing special travels as plain JSON (the fast
 * path). Anything else travels in superjson 2's wire form, `{ json, meta }`, written and read
 * by this module in one pass each: Date, Map, Set, BigInt, undefined, RegExp, URL, typed
 * arrays, Error, NaN/±Infinity/-0, shared and cyclic objects, and actor references anywhere
 * inside data (which cross as references). The output is what `superjson.serialize` makes, and
 * superjson reads it; tests hold the two equal.
 */
import { ActorSpaceError } from './errors.js';

/** Marks objects that must cross the wire as references (ActorRef implementations). */
export const REF_MARK: unique symbol = Symbol.for('actorspace.ref');

/** How a reference travels: the guid to address, and `y` when it points into the receiver's own space. */
export interface WireRef {
  /** The guid of the actor the reference names. */
  g: string;
  /** Set when the actor lives in the receiver's own space (a reference travelling back home). */
  y?: 1;
}

/** Turns references into wire form while encoding (supplied by the sending channel). */
export interface RefExporter {
  /** The wire form of one actor reference met in the data. */
  exportRef(ref: unknown): WireRef;
}

/** Turns wire references back into working references while decoding (supplied by the receiving channel). */
export interface RefImporter {
  /** The working reference for one wire reference met in the data. */
  importRef(wire: WireRef): unknown;
}

/**
 * Bounds on incoming message data, checked before a handler sees it: a message that breaks
 * one is refused with `INVALID_MESSAGE`. Frames are already bounded by `maxPayload`; these
 * bound what a frame of that size can make the receiver do.
 */
export interface DataLimits {
  /** Deepest nesting of arrays and objects. @default 100 */
  depth?: number;
  /** Most elements of one array, Set or Map (the default is more than a 1 MiB frame can hold). @default 1048576 */
  arrayLength?: number;
  /**
   * Most digits of one BigInt; parsing one is quadratic in its length (CPython chose 4,300
   * for the same reason, CVE-2020-10735). @default 4300
   */
  bigintDigits?: number;
}

/** {@link DataLimits} with every field set. */
export type Limits = Required<DataLimits>;

/** The default {@link DataLimits}. */
export const DEFAULT_LIMITS: Limits = Object.freeze({
  depth: 100,
  arrayLength: 1_048_576,
  bigintDigits: 4300,
});

/**
 * Fills in and checks data limits.
 * @throws RangeError when a limit is not a positive integer.
 */
export function dataLimits(limits: DataLimits | undefined): Limits {
  if (limits === undefined) return DEFAULT_LIMITS;
  const out = { ...DEFAULT_LIMITS };
  for (const key of ['depth', 'arrayLength', 'bigintDigits'] as const) {
    const v = limits[key];
    if (v === undefined) continue;
    if (!(Number.isSafeInteger(v) && v > 0)) {
      throw new RangeError(`DataLimits.${key} must be a positive integer, got ${String(v)}`);
    }
    out[key] = v;
  }
  return Object.freeze(out);
}

/**
 * Checks decoded JSON against the limits and for keys that could pollute prototypes if a
 * handler merged the value into an object (`__proto__` anywhere, `constructor` holding an
 * object). Returns what is wrong, or null. Fails closed: data deeper than the limit is refused,
 * never passed unchecked.
 */
export function inspectData(value: unknown, limits: Limits): string | null {
  // The walk builds no paths: it runs on every large message. Only a failure walks again to say where.
  return clean(value, limits, 0) ? null : problemAt(value, limits, '', 0);
}

function clean(value: unknown, limits: Limits, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth >= limits.depth) return false;
  if (Array.isArray(value)) {
    if (value.length > limits.arrayLength) return false;
    for (let i = 0; i < value.length; i++) if (!clean(value[i], limits, depth + 1)) return false;
    return true;
  }
  for (const key in value) {
    const child = (value as Record<string, unknown>)[key];
    if (key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null))
      return false;
    if (!clean(child, limits, depth + 1)) return false;
  }
  return true;
}

function problemAt(value: unknown, limits: Limits, path: string, depth: number): string | null {
  if (typeof value !== 'object' || value === null) return null;
  if (depth >= limits.depth) return `data nests deeper than ${limits.depth} levels at "${path}"`;
  if (Array.isArray(value)) {
    if (value.length > limits.arrayLength) {
      return `an array of ${value.length} elements at "${path}" is longer than ${limits.arrayLength}`;
    }
    for (let i = 0; i < value.length; i++) {
      const hit = problemAt(value[i], limits, `${path}[${i}]`, depth + 1);
      if (hit) return hit;
    }
    return null;
  }
  for (const key of Object.keys(value)) {
    const child = (value as Record<string, unknown>)[key];
    const here = path ? `${path}.${key}` : key;
    if (key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null)) {
      return `message data has a forbidden key at "${here}"`;
    }
    const hit = problemAt(child, limits, here, depth + 1);
    if (hit) return hit;
  }
  return null;
}

/** Meta value that stands for `undefined` data, the commonest non-JSON value (a tell without data). */
const UNDEFINED_META = 0;

const MAX_PLAIN_DEPTH = 64;

/** A number JSON keeps exactly: finite and not -0. */
const isPlainNumber = (v: number): boolean => Number.isFinite(v) && (v !== 0 || 1 / v > 0);

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
      return isPlainNumber(value);
    case 'object': {
      if (value === null) return true;
      if (depth > MAX_PLAIN_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!(i in value) || !isPlainJson(value[i], depth + 1)) return false;
        }
        return true;
      }
      if (!isPlainObject(value)) return false;
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

/** A type annotation: a simple name (`'Date'`) or a name with a parameter (`['custom', 'ref']`). */
type Annotation = string | [string, string];
/** superjson's annotation tree: a node's own annotation and its children's, keyed by dotted path. */
type Tree = [Annotation] | [Annotation, Annotations];
type Annotations = Record<string, Tree>;

/** What the encoder knows about an object it met, when it tracks shared objects. */
interface Seen {
  value: unknown;
  done: boolean;
  /** Annotation record and path the first occurrence wrote to. */
  out: Annotations;
  rel: string;
  /** Every place the object occurs: dotted paths from the root and their lengths in segments. */
  paths: string[];
  segs: number[];
}

const FORBIDDEN_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const TYPED_ARRAYS: Record<string, new (items: number[]) => unknown> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
};

// Encoding is synchronous, so its state lives here rather than in a closure or an object made
// per call; a nested encode (a getter in the data) saves and restores it.
let refs: RefExporter | null = null;
/** Objects met so far; 0 while not tracking (a second meeting then restarts with tracking on). */
let seen = new Map<object, Seen | 0>();
/** True while an encode runs (a getter in the data may start another one). */
let encoding = false;
let track = false;
const RESTART = Symbol('restart');

const isPlainObject = (v: object): boolean => {
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const escapeKey = (key: string): string =>
  key.indexOf('.') < 0 && key.indexOf('\\') < 0 ? key : key.replace(/\\/g, '\\\\').replace(/\./g, '\\.');

/**
 * The root's path. Not a real path: an escaped path never ends in a lone backslash. (The
 * empty string is a real path, that of a `''` key.)
 */
const ROOT = '\\';

const join = (base: string, key: string): string => (base === ROOT ? key : `${base}.${key}`);

/** superjson's annotation for a node whose children may carry their own. */
function annotate(type: Annotation, inner: Annotations): Tree {
  for (const _ in inner) return [type, inner];
  return [type];
}

/**
 * Writes the wire form of `v`, recording annotations in `out` under `rel` (the path from the
 * nearest annotated ancestor) and, while tracking, identities under `full` (the path from the
 * root, `segs` segments long).
 */
function walk(v: unknown, out: Annotations, rel: string, full: string, segs: number): unknown {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      if (isPlainNumber(v)) return v;
      out[rel] = ['number'];
      return v === 0 ? '-0' : String(v);
    case 'undefined':
      out[rel] = ['undefined'];
      return null;
    case 'bigint':
      out[rel] = ['bigint'];
      return String(v);
    case 'object':
      if (v === null) return null;
      break;
    default:
      // Symbols and functions pass through; JSON leaves them out, as with superjson.
      return v;
  }
  const known = seen.get(v);
  if (known !== undefined) {
    if (known === 0) throw RESTART;
    return again(known, out, rel, full, segs);
  }
  let entry: Seen | 0 = 0;
  if (track) entry = { value: null, done: false, out, rel, paths: [full], segs: [segs] };
  seen.set(v, entry);
  const value = transform(v, out, rel, full, segs);
  if (entry !== 0) {
    entry.value = value;
    entry.done = true;
  }
  return value;
}

function transform(v: object, out: Annotations, rel: string, full: string, segs: number): unknown {
  if (REF_MARK in v) {
    if (!refs) throw new TypeError('an actor reference can only be sent over a channel');
    out[rel] = [['custom', 'ref']];
    return refs.exportRef(v);
  }
  if (Array.isArray(v)) {
    const arr = new Array(v.length);
    // Holes stay holes (JSON writes null), as superjson leaves them.
    for (let i = 0; i < v.length; i++) {
      if (i in v) arr[i] = child(v[i], out, rel, full, String(i), segs);
    }
    return arr;
  }
  if (isPlainObject(v)) return walkObject(v as Record<string, unknown>, out, rel, full, segs);
  let inner: Annotations;
  if (v instanceof Date) {
    // An invalid Date passes through (JSON writes null), as with superjson.
    if (Number.isNaN(v.getTime())) return v;
    out[rel] = ['Date'];
    return v.toISOString();
  }
  if (v instanceof Map) {
    inner = {};
    const entries: unknown[] = [];
    let i = 0;
    for (const [k, val] of v) {
      const at = track ? join(full, String(i)) : '';
      entries.push([
        walk(k, inner, `${i}.0`, track ? `${at}.0` : '', segs + 2),
        walk(val, inner, `${i}.1`, track ? `${at}.1` : '', segs + 2),
      ]);
      i++;
    }
    out[rel] = annotate('map', inner);
    return entries;
  }
  if (v instanceof Set) {
    inner = {};
    const items: unknown[] = [];
    let i = 0;
    for (const item of v) {
      items.push(walk(item, inner, String(i), track ? join(full, String(i)) : '', segs + 1));
      i++;
    }
    out[rel] = annotate('set', inner);
    return items;
  }
  if (v instanceof Error) {
    inner = {};
    const plain: Record<string, unknown> = { name: v.name, message: v.message };
    if ('cause' in v) plain.cause = v.cause;
    plain.code = (v as { code?: unknown }).code;
    const value = walkObject(plain, inner, ROOT, full, segs);
    out[rel] = annotate('Error', inner);
    return value;
  }
  if (v instanceof RegExp) {
    out[rel] = ['regexp'];
    return String(v);
  }
  if (typeof URL !== 'undefined' && v instanceof URL) {
    out[rel] = ['URL'];
    return v.href;
  }
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    let name = v.constructor.name;
    // A subclass such as Node's Buffer travels as its standard base, which every receiver knows.
    if (!TYPED_ARRAYS[name]) {
      if (!(v instanceof Uint8Array)) throw new TypeError(`${name} cannot be encoded`);
      name = 'Uint8Array';
    }
    out[rel] = [['typed-array', name]];
    return Array.from(v as unknown as ArrayLike<number>);
  }
  // Other class instances pass through as JSON sees them, as with superjson.
  return v;
}

function walkObject(
  v: Record<string, unknown>,
  out: Annotations,
  rel: string,
  full: string,
  segs: number,
): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const key in v) {
    if (FORBIDDEN_KEYS.has(key)) {
      throw new TypeError(`property "${key}" is a prototype pollution risk and cannot be encoded`);
    }
    obj[key] = child(v[key], out, rel, full, escapeKey(key), segs);
  }
  return obj;
}

/** Child `key` of a container: plain leaves are copied without computing their paths. */
function child(v: unknown, out: Annotations, rel: string, full: string, key: string, segs: number): unknown {
  if (typeof v === 'string' || typeof v === 'boolean' || v === null) return v;
  if (typeof v === 'number' && isPlainNumber(v)) return v;
  return walk(v, out, join(rel, key), track ? join(full, key) : '', segs + 1);
}

/** An object met before: the same wire value and annotations again, or null for a cycle. */
function again(known: Seen, out: Annotations, rel: string, full: string, segs: number): unknown {
  known.paths.push(full);
  known.segs.push(segs);
  if (!known.done) return null;
  // Only the root has the path ROOT, and the root can only come back as a cycle (not done).
  const prefix = `${known.rel}.`;
  for (const key in known.out) {
    if (key === known.rel || key.startsWith(prefix)) {
      out[rel + key.slice(known.rel.length)] = known.out[key] as Tree;
    }
  }
  return known.value;
}

/** superjson's `referentialEqualities`: each shared object's shortest path and its other paths. */
function equalities(): unknown {
  const result: Record<string, string[]> = {};
  let root: string[] | undefined;
  let any = false;
  for (const entry of seen.values()) {
    if (entry === 0 || entry.paths.length < 2) continue;
    const order = entry.paths.map((_, i) => i).sort((a, b) => (entry.segs[a] ?? 0) - (entry.segs[b] ?? 0));
    const [first, ...rest] = order.map((i) => entry.paths[i] as string);
    if (entry.segs[order[0] as number] === 0) root = rest;
    else {
      result[first as string] = rest;
      any = true;
    }
  }
  if (root) return any ? [root, result] : [root];
  return any ? result : undefined;
}

function serialize(value: unknown): unknown {
  const out: Annotations = {};
  const json = walk(value, out, ROOT, ROOT, 0);
  const container =
    typeof value === 'object' &&
    value !== null &&
    !(REF_MARK in value) &&
    (Array.isArray(value) || isPlainObject(value));
  let values: unknown = out[ROOT];
  if (container) {
    values = undefined;
    for (const _ in out) values = out;
  }
  const eq = track ? equalities() : undefined;
  if (values === undefined && eq === undefined) return json;
  const meta: Record<string, unknown> = {};
  if (values !== undefined) meta.values = values;
  if (eq !== undefined) meta.referentialEqualities = eq;
  meta.v = 1;
  encodedMeta = meta;
  return json;
}

/** @internal The meta of the latest {@link encode}; read it right after the call. */
export let encodedMeta: unknown;

/**
 * @internal {@link encodeData} without the result object: returns the JSON value and leaves
 * the meta in {@link encodedMeta} (one allocation less per message on the hot path).
 */
export function encode(value: unknown, exporter: RefExporter | null): unknown {
  encodedMeta = undefined;
  if (value === undefined) {
    encodedMeta = UNDEFINED_META;
    return null;
  }
  if (isPlainJson(value)) return value;
  // A getter in the data may encode something else meanwhile: that inner run gets its own state.
  const outer = encoding ? { refs, seen, track } : null;
  if (outer) seen = new Map();
  encoding = true;
  refs = exporter;
  track = false;
  try {
    return serialize(value);
  } catch (error) {
    if (error !== RESTART) throw error;
    // An object occurs twice: encode again, recording where each object occurs.
    seen.clear();
    track = true;
    return serialize(value);
  } finally {
    seen.clear();
    if (outer) ({ refs, seen, track } = outer);
    else {
      refs = null;
      track = false;
    }
    encoding = outer !== null;
  }
}

/**
 * Encodes message data as it travels in frames: a JSON-safe value and, when the value held
 * special values, its superjson meta (`undefined` for plain JSON, `0` for `undefined` data).
 * Actor references need a channel (`refs`); without one they throw.
 * @param value The message data.
 * @param exporter Turns actor references into their wire form; a channel passes its own.
 * @returns The frame's `json` and `meta` fields.
 * @throws ActorSpaceError `INVALID_MESSAGE` when the data holds a key superjson refuses
 * (`__proto__`, `prototype`, `constructor`) next to special values, a 64-bit typed array, a
 * reference without a channel, or nests too deeply to encode.
 *
 * @example
 * const { json, meta } = encodeData({ at: new Date() }); // meta: { values: { at: ['Date'] }, v: 1 }
 */
export function encodeData(
  value: unknown,
  exporter: RefExporter | null = null,
): {
  /** The JSON-safe value: the data itself when it holds nothing special. */
  json: unknown;
  /** The superjson meta that restores the special values, or `undefined` for plain JSON. */
  meta: unknown;
} {
  try {
    const json = encode(value, exporter);
    return { json, meta: encodedMeta };
  } catch (error) {
    throw invalid('data cannot be encoded', error);
  }
}

function invalid(what: string, error: unknown): ActorSpaceError {
  return new ActorSpaceError('INVALID_MESSAGE', `${what}: ${(error as Error)?.message ?? String(error)}`, {
    cause: error,
  });
}

// ---- decoding ------------------------------------------------------------------------------

/** Splits a superjson path (`a.b\\.c` is `a`, `b.c`) and refuses prototype keys. */
function parsePath(path: string): string[] {
  let parts: string[];
  if (path.indexOf('\\') < 0) parts = path.split('.');
  else {
    parts = [];
    let segment = '';
    for (let i = 0; i < path.length; i++) {
      const c = path[i] as string;
      if (c === '\\') {
        const next = path[++i];
        if (next !== '.' && next !== '\\') throw new TypeError(`invalid path "${path}"`);
        segment += next;
      } else if (c === '.') {
        parts.push(segment);
        segment = '';
      } else segment += c;
    }
    parts.push(segment);
  }
  if (parts.length > limits.depth) throw new TypeError(`path "${path.slice(0, 64)}..." nests too deeply`);
  for (const key of parts) {
    if (FORBIDDEN_KEYS.has(key)) throw new TypeError(`path "${path}" is a prototype pollution risk`);
  }
  return parts;
}

const isContainer = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && (Array.isArray(v) || isPlainObject(v));

let importer: RefImporter | null = null;
// The limits of the decode that runs now (decoding is synchronous and never re-entered).
let limits: Limits = DEFAULT_LIMITS;

/** Applies an annotation tree to the JSON value it describes, children first, in place. */
function applyTree(value: unknown, tree: unknown, depth: number): unknown {
  if (depth > limits.depth) throw new TypeError('message meta nests too deeply');
  if (!Array.isArray(tree)) return applyChildren(value, tree, depth);
  if (tree[1] !== undefined) value = applyChildren(value, tree[1], depth);
  return untransform(value, tree[0]);
}

/**
 * Checks that `key` names something `parent` holds as decoded JSON: an existing index of an
 * array, or a key of a plain object. Hostile meta can then neither reach a prototype nor
 * grow an array (`length`, or an index far past its end).
 */
function slot(parent: unknown, key: string): Record<string, unknown> {
  if (Array.isArray(parent)) {
    const n = Number(key);
    if (Number.isInteger(n) && n >= 0 && n < parent.length && String(n) === key) return parent as never;
  } else if (isContainer(parent)) return parent;
  throw new TypeError(`path segment "${key}" leads nowhere`);
}

function applyChildren(value: unknown, children: unknown, depth: number): unknown {
  if (typeof children !== 'object' || children === null) throw new TypeError('malformed annotations');
  for (const key of Object.keys(children)) {
    const path = parsePath(key);
    let parent = value;
    for (let i = 0; i < path.length - 1; i++) parent = slot(parent, path[i] as string)[path[i] as string];
    const last = path[path.length - 1] as string;
    const into = slot(parent, last);
    into[last] = applyTree(into[last], (children as Record<string, unknown>)[key], depth + 1);
  }
  return value;
}

function untransform(v: unknown, type: unknown): unknown {
  switch (type) {
    case 'undefined':
      return undefined;
    case 'number':
      return Number(v);
    case 'bigint': {
      if (typeof v !== 'string' || v.length > limits.bigintDigits + 1) {
        throw new TypeError(`a BigInt may have at most ${limits.bigintDigits} digits`);
      }
      return BigInt(v);
    }
    case 'Date':
      return new Date(v as string);
    case 'regexp': {
      const s = String(v);
      const end = s.lastIndexOf('/');
      return new RegExp(s.slice(1, end), s.slice(end + 1));
    }
    case 'URL':
      return new URL(v as string);
    case 'set':
    case 'map': {
      if (!Array.isArray(v)) throw new TypeError(`a ${type} must travel as an array`);
      checkLength(v);
      const c = type === 'set' ? new Set(v) : new Map(v as [unknown, unknown][]);
      // Placeholders (null) of shared members collapse in a Set or Map; shared-object paths
      // address the members as they travelled, so keep those until the sharing is restored.
      if (views) views.set(c, type === 'set' ? v : v.map((e) => [...(e as unknown[])]));
      return c;
    }
    case 'Error': {
      const e = v as { name: string; message: string; cause?: unknown; stack?: string; code?: unknown };
      const error = new Error(e.message, { cause: e.cause }) as Error & { code?: unknown };
      error.name = e.name;
      error.stack = e.stack;
      error.code = e.code;
      return error;
    }
  }
  if (Array.isArray(type)) {
    if (type[0] === 'typed-array') {
      const ctor = Object.hasOwn(TYPED_ARRAYS, type[1]) ? TYPED_ARRAYS[type[1]] : undefined;
      if (ctor && Array.isArray(v)) return new ctor(checkLength(v) as number[]);
    } else if (type[0] === 'custom' && type[1] === 'ref') {
      if (!importer) throw new TypeError('an actor reference can only be received over a channel');
      return importer.importRef(v as WireRef);
    }
  }
  throw new TypeError(`cannot decode a value annotated ${JSON.stringify(type)}`);
}

function checkLength(v: unknown[]): unknown[] {
  if (v.length > limits.arrayLength) {
    throw new TypeError(`a collection of ${v.length} elements is longer than ${limits.arrayLength}`);
  }
  return v;
}

type Keyed = Map<unknown, unknown> | Set<unknown>;

/**
 * The Sets and Maps met while applying `referentialEqualities`, as arrays (members, or
 * `[key, value]` entries) addressed by position as superjson paths do. Replacements go into
 * the arrays and each container is rebuilt once at the end, in its original order, so the
 * work stays proportional to the message whatever the paths ask for.
 */
let views: Map<Keyed, unknown[]> | null = null;

function row(c: Keyed, key: string | undefined): { view: unknown[]; n: number } {
  let view = views?.get(c);
  if (!view) {
    view = c instanceof Map ? [...c.entries()] : [...c];
    views?.set(c, view);
  }
  const n = Number(key);
  if (!(Number.isInteger(n) && n >= 0 && n < view.length)) throw new TypeError('index out of bounds');
  return { view, n };
}

/** Follows `path` from `value`, counting Map entries as `row.0` (key) and `row.1` (value). */
function getDeep(value: unknown, path: string[]): unknown {
  for (let i = 0; i < path.length; i++) {
    if (value instanceof Set) {
      const { view, n } = row(value, path[i]);
      value = view[n];
    } else if (value instanceof Map) {
      const { view, n } = row(value, path[i]);
      value = (view[n] as unknown[])[Number(path[++i]) === 0 ? 0 : 1];
    } else if (value instanceof Error)
      value = (value as unknown as Record<string, unknown>)[path[i] as string];
    else value = slot(value, path[i] as string)[path[i] as string];
  }
  return value;
}

function setDeep(root: unknown, path: string[], value: unknown): unknown {
  if (path.length === 0) return value;
  const last = path.length - 1;
  let parent = root;
  // Walk to the container of the last segment; a Map's entry takes the last two (row, 0|1).
  for (let i = 0; i < last; i++) {
    if (parent instanceof Map && i === last - 1) break;
    parent = getDeep(
      parent,
      parent instanceof Map ? [path[i] as string, path[++i] as string] : [path[i] as string],
    );
  }
  if (parent instanceof Map) {
    const { view, n } = row(parent, path[last - 1]);
    (view[n] as unknown[])[Number(path[last]) === 0 ? 0 : 1] = value;
  } else if (parent instanceof Set) {
    const { view, n } = row(parent, path[last]);
    view[n] = value;
  } else if (parent instanceof Error) {
    // An error's cause (or another of its own properties) that is shared elsewhere.
    if (Object.hasOwn(parent, path[last] as string))
      (parent as unknown as Record<string, unknown>)[path[last] as string] = value;
  } else slot(parent, path[last] as string)[path[last] as string] = value;
  return root;
}

function applyEqualities(root: unknown, eq: unknown): unknown {
  const apply = (record: unknown) => {
    if (typeof record !== 'object' || record === null) throw new TypeError('malformed equalities');
    for (const [at, others] of Object.entries(record)) {
      const target = getDeep(root, parsePath(at));
      const paths = list(others).map(parsePath);
      // superjson also lists repeated NaN and BigInt values; only objects need sharing.
      if (typeof target !== 'object' || target === null) continue;
      for (const path of paths) root = setDeep(root, path, target);
    }
  };
  if (Array.isArray(eq)) {
    for (const path of list(eq[0])) root = setDeep(root, parsePath(path), root);
    if (eq[1] !== undefined) apply(eq[1]);
  } else apply(eq);
  // Rebuild every Set and Map met, in order, from its (possibly updated) view.
  for (const [c, view] of views ?? []) {
    c.clear();
    if (c instanceof Map) for (const [k, v] of view as [unknown, unknown][]) c.set(k, v);
    else for (const item of view) c.add(item);
  }
  return root;
}

function list(v: unknown): string[] {
  if (!Array.isArray(v) || v.some((p) => typeof p !== 'string')) throw new TypeError('malformed equalities');
  return v;
}

/**
 * @internal {@link decodeData} with the limits filled in, throwing TypeError (the channel
 * turns it into the error for the frame).
 */
export function decode(json: unknown, meta: unknown, refs: RefImporter | null, bounds: Limits): unknown {
  if (meta === undefined) return json;
  if (meta === UNDEFINED_META) return undefined;
  if (typeof meta !== 'object' || meta === null) throw new TypeError('message meta must be an object');
  const { values, referentialEqualities, v } = meta as Record<string, unknown>;
  if (v !== 1) throw new TypeError('message meta must be version 1');
  const prev = importer;
  importer = refs;
  limits = bounds;
  // Sets and Maps made while decoding remember their members for the shared-object pass.
  if (referentialEqualities !== undefined) views = new Map();
  try {
    let value = values === undefined ? json : applyTree(json, values, 0);
    if (referentialEqualities !== undefined) value = applyEqualities(value, referentialEqualities);
    return value;
  } catch (error) {
    if (error instanceof RangeError) throw new TypeError('message meta nests too deeply');
    throw error;
  } finally {
    importer = prev;
    limits = DEFAULT_LIMITS;
    views = null;
  }
}

/**
 * Inverse of {@link encodeData}. `json` is decoded in place: pass what `JSON.parse` returned.
 * @throws ActorSpaceError `INVALID_MESSAGE` when the meta is malformed, names a type this codec
 *   does not know, or the value breaks `limits` (or holds a prototype-polluting key).
 */
export function decodeData(
  json: unknown,
  meta: unknown,
  refs: RefImporter | null = null,
  limits?: DataLimits,
): unknown {
  const bounds = dataLimits(limits);
  const problem = inspectData(json, bounds);
  if (problem) throw new ActorSpaceError('INVALID_MESSAGE', problem);
  try {
    return decode(json, meta, refs, bounds);
  } catch (error) {
    throw invalid('data cannot be decoded', error);
  }
}
