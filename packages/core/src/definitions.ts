/**
 * Message definitions: a handler with the schemas of what it takes and answers, the caller
 * types that may send it, and a description. Schemas are Standard Schema validators (zod 4,
 * valibot 1, arktype 2 and any other library that implements `@standard-schema/spec`); the
 * same definitions give `describeActor` its JSON Schemas and the remote side its types.
 */
import type { StandardJSONSchemaV1, StandardSchemaV1 } from '@standard-schema/spec';
import { ANONYMOUS, type CallerType } from './caller.js';
import type { Handler, MessageContext } from './context.js';
import { ActorSpaceError } from './errors.js';

export type { StandardJSONSchemaV1, StandardSchemaV1 };

/** A Standard Schema validator: anything with a `~standard` property of version 1. */
export type Schema<Input = any, Output = Input> = StandardSchemaV1<Input, Output>;

/** A schema per caller type, for a message that each kind of caller sends in its own shape. */
export type SchemaByCaller = { readonly [T in CallerType]?: Schema };

/** The type a schema (or each schema of a per-caller map) accepts. */
export type InputOf<S> = S extends Schema
  ? StandardSchemaV1.InferInput<S>
  : S extends SchemaByCaller
    ? { [T in keyof S]: S[T] extends Schema ? StandardSchemaV1.InferInput<S[T]> : never }[keyof S]
    : unknown;

/** The type a schema (or each schema of a per-caller map) produces once it has validated. */
export type OutputOf<S> = S extends Schema
  ? StandardSchemaV1.InferOutput<S>
  : S extends SchemaByCaller
    ? { [T in keyof S]: S[T] extends Schema ? StandardSchemaV1.InferOutput<S[T]> : never }[keyof S]
    : any;

/**
 * One message type of an actor, with its schemas. `defineActor` takes either a handler
 * function or this for each message type.
 *
 * @example
 * add: {
 *   input: z.object({ text: z.string().min(1) }),
 *   output: z.object({ id: z.number() }),
 *   callers: ['client', 'service'],
 *   description: 'Adds a todo and answers its id',
 *   handler: ({ text }, ctx) => store.add(text, ctx.caller?.id),
 * }
 */
export interface MessageDefinition<I = any, O = any> {
  /**
   * Validates the data before the handler runs (a schema, or one per caller type); the handler
   * gets the validated value. Invalid data is refused with `INVALID_MESSAGE`.
   */
  readonly input?: I;
  /**
   * Validates the answer. A failure is the handler's bug: the asker gets `REMOTE_ERROR` and
   * the space logs it. Checked when `validateOutput` is on (by default, unless
   * `NODE_ENV` is `production`).
   */
  readonly output?: O;
  /**
   * The caller types that may send this message; others get `FORBIDDEN`. The space's own
   * code (`system`) always may. Without it, the paired peer may and services may not.
   */
  readonly callers?: readonly CallerType[];
  /** What the message does, for people and for agents (`describeActor`). */
  readonly description?: string;
  /** Handles the message with the validated data. */
  readonly handler: (data: OutputOf<I>, ctx: MessageContext) => unknown;
}

/**
 * The entries of `defineActor` as its type parameters see them: for each message type, `I` is
 * the handler function, the `input` schema (or per-caller map) of a definition, or a whole
 * definition that has no `input`; `O` is a definition's `output` schema. Inferred, never
 * written by hand.
 */
export type EntriesOf<I, O> = { [K in keyof I]: I[K] | DefinitionFor<I[K]> } & {
  [K in keyof O]: Handler | OutputFor<O[K]>;
};

/** A definition as `defineActor` reads it, with `I` its input schema (see {@link EntriesOf}). */
export interface DefinitionFor<I> extends Omit<MessageDefinition, 'input' | 'output' | 'handler'> {
  /** The input schema (or one per caller type). */
  readonly input?: I;
  /** The output schema. */
  readonly output?: unknown;
  /** Handles the message with the data the input schema produced. */
  readonly handler: (data: OutputOf<I>, ctx: MessageContext) => unknown;
}

/** The `output` of a definition as `defineActor` reads it (see {@link EntriesOf}). */
export interface OutputFor<O> extends Omit<MessageDefinition, 'input' | 'output' | 'handler'> {
  /** The input schema (read by {@link DefinitionFor}). */
  readonly input?: unknown;
  /** The output schema. */
  readonly output?: O;
  /** The handler (typed by {@link DefinitionFor}). */
  readonly handler: unknown;
}

/**
 * The typed entries of an actor made by `defineActor`, as its remote references read them: a
 * handler function as it is, a definition with its `input` and `output` schemas.
 */
export type DefinedEntries<I, O> = {
  readonly [K in keyof I]: I[K] extends Schema
    ? TypedDefinition<I[K], K extends keyof O ? O[K] : unknown>
    : I[K] extends Handler
      ? I[K]
      : 'handler' extends keyof I[K]
        ? I[K]
        : TypedDefinition<I[K], K extends keyof O ? O[K] : unknown>;
};

/** A definition with its schemas' types, for the remote side's types. */
export interface TypedDefinition<I, O> extends MessageDefinition<I, O> {
  /** The input schema. */
  readonly input: I;
  /** The output schema, or `unknown` when there is none. */
  readonly output: O;
}

// Entries are read by their keys (`'handler' extends keyof E`) rather than with `E extends
// { handler: ... }`: an entry inferred from an object literal keeps its freshness, and a fresh
// literal with more properties than the pattern does not match it.

/** The data a message of entry `E` takes: its input schema's input, else its handler's parameter. */
export type DataOf<E> = 'handler' extends keyof E
  ? 'input' extends keyof E
    ? NonNullable<E['input' & keyof E]> extends Schema | SchemaByCaller
      ? InputOf<NonNullable<E['input' & keyof E]>>
      : FirstParam<E['handler' & keyof E]>
    : FirstParam<E['handler' & keyof E]>
  : FirstParam<E>;

/** What an ask of entry `E` resolves with: its output schema's output, else its handler's return. */
export type AnswerOf<E> = 'handler' extends keyof E
  ? 'output' extends keyof E
    ? NonNullable<E['output' & keyof E]> extends Schema
      ? StandardSchemaV1.InferOutput<NonNullable<E['output' & keyof E]>>
      : Returned<E['handler' & keyof E]>
    : Returned<E['handler' & keyof E]>
  : Returned<E>;

/** What a handler's answer is, once awaited. */
type Returned<F> = F extends (...args: any[]) => infer R ? Awaited<R> : unknown;

/** The first parameter of a handler: the data it takes. */
type FirstParam<F> = F extends (data: infer D, ...rest: any[]) => unknown ? D : never;

/** A handler function or a {@link MessageDefinition}: one entry of `defineActor`. */
export type Entry = Handler | MessageDefinition;

/** One message type as `describeActor` reports it. */
export interface MessageDescription {
  /** The message type. */
  type: string;
  /** The definition's description, when it has one. */
  description?: string;
  /** The caller types that may send it (`system` always may). */
  callers: CallerType[];
  /** JSON Schema of the data, when the schema library can produce one. */
  input?: Record<string, unknown>;
  /** JSON Schema of the answer, when the schema library can produce one. */
  output?: Record<string, unknown>;
}

/** One problem with a message's data, as `INVALID_MESSAGE`'s `details.issues` lists it. */
export interface Issue {
  /** Where in the data: property names and array indexes, outermost first (empty for the root). */
  path: (string | number)[];
  /** What is wrong, in the schema library's words. */
  message: string;
}

/**
 * Thrown for an answer its `output` schema refuses: a bug of the handler, not of the caller,
 * so its code is `REMOTE_ERROR` (and the space logs it).
 */
export class OutputValidationError extends ActorSpaceError {
  /**
   * Makes the error for an answer to `type` that its output schema refused.
   * @param type The message type whose answer failed.
   * @param issues What the schema said.
   */
  constructor(type: string, issues: Issue[]) {
    // The issues (which may quote the answer) stay here, for the log; the asker learns only that it failed.
    super('REMOTE_ERROR', `the answer to "${type}" does not match its output schema`, {
      details: { type, issues },
    });
    this.name = 'OutputValidationError';
  }

  /** What the output schema said. */
  get issues(): Issue[] {
    return (this.details as { issues: Issue[] }).issues;
  }
}

/** Who may call without a `callers` list: the paired peer, the space's own code, not services. */
const DEFAULT_CALLERS: readonly CallerType[] = ['client', 'system'];

/** True for a Standard Schema validator. */
export function isSchema(value: unknown): value is Schema {
  const standard = (value as { '~standard'?: { version?: unknown; validate?: unknown } } | null)?.[
    '~standard'
  ];
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof standard === 'object' &&
    standard !== null &&
    standard.version === 1 &&
    typeof standard.validate === 'function'
  );
}

/**
 * Checks one entry of `defineActor` and returns it as a definition (a function becomes
 * `{ handler }`).
 * @throws TypeError for anything that is neither a function nor a well-formed definition.
 */
export function toDefinition(name: string, entry: unknown): MessageDefinition {
  if (typeof entry === 'function') return { handler: entry as Handler };
  const where = `defineActor: "${name}"`;
  if (typeof entry !== 'object' || entry === null) {
    throw new TypeError(`${where} must be a handler function or a definition with a handler`);
  }
  const def = entry as Partial<MessageDefinition> & Record<string, unknown>;
  if (typeof def.handler !== 'function') throw new TypeError(`${where} has no handler function`);
  for (const key of Object.keys(def)) {
    if (!['input', 'output', 'callers', 'description', 'handler'].includes(key)) {
      throw new TypeError(`${where} has an unknown field "${key}"`);
    }
  }
  if (def.input !== undefined && !isSchema(def.input)) {
    if (typeof def.input !== 'object' || def.input === null) {
      throw new TypeError(`${where}: input must be a Standard Schema or a schema per caller type`);
    }
    for (const [type, schema] of Object.entries(def.input)) {
      if (!isCallerType(type) || !isSchema(schema)) {
        throw new TypeError(
          `${where}: input.${type} must be a Standard Schema of caller type client, service or system`,
        );
      }
    }
  }
  if (def.output !== undefined && !isSchema(def.output)) {
    throw new TypeError(`${where}: output must be a Standard Schema`);
  }
  if (def.callers !== undefined) {
    if (!Array.isArray(def.callers) || !def.callers.every(isCallerType)) {
      throw new TypeError(`${where}: callers must list caller types (client, service, system)`);
    }
  }
  if (def.description !== undefined && typeof def.description !== 'string') {
    throw new TypeError(`${where}: description must be a string`);
  }
  return def as MessageDefinition;
}

function isCallerType(value: unknown): value is CallerType {
  return value === 'client' || value === 'service' || value === 'system';
}

/**
 * Refuses a caller the definition does not admit.
 *
 * No caller (a message from code that has no identity, as in a test) and `system` (the
 * space's own code) always pass. With `callers`, the caller's type must be listed. Without,
 * the peer the message came from directly (the paired peer) passes whatever its type, and
 * anyone else passes only as a `client`: a service reaches a handler only where it is listed.
 * @throws ActorSpaceError `FORBIDDEN`
 */
export function checkCaller(type: string, def: MessageDefinition, ctx: MessageContext): void {
  // A message over a channel that names no caller is an anonymous client's, never trusted more.
  const caller = ctx.caller ?? (ctx.channel ? ANONYMOUS : undefined);
  if (!caller || caller.type === 'system') return;
  if (def.callers) {
    if (def.callers.includes(caller.type)) return;
  } else if (DEFAULT_CALLERS.includes(caller.type) || caller === ctx.channel?.caller) {
    return;
  }
  throw new ActorSpaceError('FORBIDDEN', `a ${caller.type} caller may not send "${type}"`, {
    details: { type, caller: caller.type },
  });
}

/** The schema that validates this caller's data: the one schema, or the caller type's. */
function inputSchema(def: MessageDefinition, ctx: MessageContext): Schema | null | undefined {
  const input = def.input;
  if (input === undefined) return null;
  if (isSchema(input)) return input;
  // A per-caller map: a caller type without a schema may not send it at all, except the
  // space's own code (and code with no identity), which is trusted as it is.
  const type = ctx.caller?.type ?? (ctx.channel ? 'client' : 'system');
  return (input as SchemaByCaller)[type] ?? (type === 'system' ? null : undefined);
}

/**
 * Validates a message's data for the handler: the value the schema produced, or its promise.
 * @throws ActorSpaceError `INVALID_MESSAGE` with `details.issues` when the schema refuses the
 *   data; `FORBIDDEN` when a per-caller `input` has no schema for this caller type.
 */
export function validateInput(
  type: string,
  def: MessageDefinition,
  data: unknown,
  ctx: MessageContext,
): unknown {
  const schema = inputSchema(def, ctx);
  if (schema === null) return data;
  if (schema === undefined) {
    throw new ActorSpaceError(
      'FORBIDDEN',
      `a ${ctx.caller?.type ?? 'system'} caller may not send "${type}"`,
      {
        details: { type, caller: ctx.caller?.type },
      },
    );
  }
  return settle(schema['~standard'].validate(data), (result) => {
    if (result.issues) {
      const issues = result.issues.map(toIssue);
      throw new ActorSpaceError('INVALID_MESSAGE', `invalid data for "${type}": ${summarize(issues)}`, {
        details: { type, issues },
      });
    }
    return result.value;
  });
}

/**
 * Validates an answer against the definition's `output`: the value the schema produced.
 * @throws OutputValidationError when the schema refuses it.
 */
export function validateOutput(type: string, def: MessageDefinition, answer: unknown): unknown {
  const schema = def.output as Schema | undefined;
  if (!schema) return answer;
  return settle(schema['~standard'].validate(answer), (result) => {
    if (result.issues) throw new OutputValidationError(type, result.issues.map(toIssue));
    return result.value;
  });
}

/** `then` for a value that may or may not be a promise: sync in, sync out. */
export function settle<T, R>(value: T | PromiseLike<T>, next: (value: T) => R): R | Promise<R> {
  return isThenable(value) ? Promise.resolve(value).then(next) : next(value as T);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

function toIssue(issue: StandardSchemaV1.Issue): Issue {
  const path = (issue.path ?? []).map((segment) => {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    return typeof key === 'number' ? key : String(key);
  });
  return { path, message: String(issue.message) };
}

function summarize(issues: Issue[]): string {
  const shown = issues
    .slice(0, 3)
    .map((i) => (i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message))
    .join('; ');
  return issues.length > 3 ? `${shown}; and ${issues.length - 3} more` : shown;
}

/**
 * Describes one definition for `describeActor`: JSON Schemas come from the Standard JSON
 * Schema interface (`~standard.jsonSchema`) where the schema library provides it.
 */
export function describeDefinition(type: string, def: MessageDefinition): MessageDescription {
  const description: MessageDescription = { type, callers: [...(def.callers ?? DEFAULT_CALLERS)] };
  if (def.description !== undefined) description.description = def.description;
  const input = def.input === undefined ? undefined : jsonSchemaOf(def.input, 'input');
  if (input) description.input = input;
  const output = def.output === undefined ? undefined : jsonSchemaOf(def.output, 'output');
  if (output) description.output = output;
  return description;
}

function jsonSchemaOf(schema: unknown, side: 'input' | 'output'): Record<string, unknown> | undefined {
  if (!isSchema(schema)) {
    // A per-caller map: one of the schemas the callers may send.
    const each = Object.values(schema as SchemaByCaller)
      .map((s) => jsonSchemaOf(s, side))
      .filter((s): s is Record<string, unknown> => s !== undefined);
    return each.length === 0 ? undefined : each.length === 1 ? each[0] : { anyOf: each };
  }
  const converter = (schema as unknown as Partial<StandardJSONSchemaV1>)['~standard']?.jsonSchema;
  if (!converter || typeof converter[side] !== 'function') return undefined;
  try {
    return converter[side]({ target: 'draft-2020-12' });
  } catch {
    // The library cannot express this schema in JSON Schema: describe it without.
    return undefined;
  }
}
