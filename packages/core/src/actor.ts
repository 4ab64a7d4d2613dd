/**
 * What an actor is (any object with `receive`) and `defineActor`, which builds one from a map
 * of handlers or definitions: it checks who may call, validates data with the definitions'
 * schemas, and its types flow to the remote side's proxies.
 */
import type { RemoteActor } from './channel.js';
import type { Handler, MessageContext } from './context.js';
import {
  checkCaller,
  type DefinedEntries,
  describeDefinition,
  type EntriesOf,
  type MessageDefinition,
  type MessageDescription,
  settle,
  toDefinition,
  validateInput,
  validateOutput,
} from './definitions.js';
import { ActorSpaceError } from './errors.js';

export type { Handler, MessageContext };

/** An actor: anything with `receive`. Plain objects and class instances both work. */
export interface Actor {
  /** Handles one message; the return value (or its promise) answers an ask. */
  receive(type: string, data: unknown, ctx: MessageContext): unknown;
  /** Root actors: called once pairing completes, with the peer's root actor. */
  setRemoteActor?(remote: RemoteActor): void;
  /** Called when the actor is unregistered or its connection is gone. */
  onStop?(reason?: unknown): void;
}

/** Options of {@link defineActor}. */
export interface ActorOptions {
  /** Called once pairing completes, with the peer's root actor. */
  setRemoteActor?(remote: RemoteActor): void;
  /** Called when the actor is unregistered or its connection is gone. */
  onStop?(reason?: unknown): void;
  /**
   * Checks answers against the definitions' `output` schemas. A refused answer is the
   * handler's bug: the asker gets `REMOTE_ERROR` and the space logs it.
   * @default true, unless `process.env.NODE_ENV` is `production`
   */
  validateOutput?: boolean;
}

/** Where {@link describeActor} finds a defined actor's definitions. */
const DEFINITIONS: unique symbol = Symbol('actorspace.definitions');

/** An actor made by {@link defineActor}: its entries, typed, for `RemoteActor<typeof actor>`. */
export type DefinedActor<H> = Actor & {
  /** The handlers and definitions the actor was built from; their types are what `RemoteActor<typeof actor>` reads. */
  readonly handlers: H;
};

/**
 * Builds an actor from a map of message types to handler functions or definitions (a handler
 * with Standard Schema validators, the caller types that may send it, a description). Its
 * type carries them, so `ref.api()` on a `RemoteActor<typeof myActor>` is fully typed: from
 * the handler's parameter and return, or from the `input` and `output` schemas.
 *
 * Before a handler runs, the actor refuses a caller the entry does not admit (`FORBIDDEN`:
 * services only where `callers` lists `service`, unless they are the paired peer) and data
 * its `input` refuses (`INVALID_MESSAGE` with `details.issues`).
 *
 * @throws TypeError when `handlers` is not an object of functions and definitions. The actor
 *   rejects messages of a type it has no handler for with `INVALID_MESSAGE`.
 * @example
 * export const todos = defineActor({
 *   add: {
 *     input: z.object({ text: z.string().min(1) }),
 *     callers: ['client', 'service'],
 *     description: 'Adds a todo',
 *     handler: ({ text }, ctx) => list.push({ text, by: ctx.caller?.id }),
 *   },
 *   list: () => list,
 * });
 */
export function defineActor<I extends Record<string, unknown>, O extends Record<string, unknown> = {}>(
  handlers: EntriesOf<I, O>,
  options: ActorOptions = {},
): DefinedActor<DefinedEntries<I, O>> {
  if (typeof handlers !== 'object' || handlers === null) {
    throw new TypeError('defineActor needs an object of message handlers');
  }
  const definitions = new Map<string, MessageDefinition>();
  for (const [name, entry] of Object.entries(handlers)) definitions.set(name, toDefinition(name, entry));
  const checkOutput = options.validateOutput ?? !isProduction();

  const actor = {
    handlers: handlers as unknown as DefinedEntries<I, O>,
    [DEFINITIONS]: definitions,
    receive(type: string, data: unknown, ctx: MessageContext): unknown {
      const def = definitions.get(type);
      if (!def) {
        throw new ActorSpaceError('INVALID_MESSAGE', `actor has no handler for message type "${type}"`, {
          details: { type },
        });
      }
      checkCaller(type, def, ctx);
      // A plain handler (no schemas) costs one map lookup and one check more than calling it.
      let answer: unknown;
      if (def.input === undefined) answer = def.handler(data, ctx);
      else {
        const input = validateInput(type, def, data, ctx);
        answer = isThenable(input) ? input.then((valid) => def.handler(valid, ctx)) : def.handler(input, ctx);
      }
      return checkOutput && def.output ? settle(answer, (value) => validateOutput(type, def, value)) : answer;
    },
  } as DefinedActor<DefinedEntries<I, O>>;
  if (options.setRemoteActor) actor.setRemoteActor = options.setRemoteActor;
  if (options.onStop) actor.onStop = options.onStop;
  return actor;
}

/**
 * The message types of an actor made by {@link defineActor}: each with its description, the
 * caller types that may send it, and the JSON Schemas of its data and answer where the schema
 * library provides them (Standard JSON Schema: zod 4 and arktype do; valibot through
 * `toStandardJsonSchema` of `@valibot/to-json-schema`). The agent gateway publishes this.
 *
 * @throws TypeError for an actor not made by `defineActor`.
 */
export function describeActor(actor: Actor): MessageDescription[] {
  const definitions = (actor as { [DEFINITIONS]?: Map<string, MessageDefinition> } | null)?.[DEFINITIONS];
  if (!definitions) throw new TypeError('describeActor: the actor was not made by defineActor');
  return [...definitions].map(([type, def]) => describeDefinition(type, def));
}

function isThenable(value: unknown): value is Promise<unknown> {
  return typeof (value as { then?: unknown } | null)?.then === 'function';
}

declare const process: { env: Record<string, string | undefined> };

/**
 * True when `NODE_ENV` is `production`: read as `process.env.NODE_ENV`, the expression bundlers
 * (Vite, webpack, esbuild) replace in browser builds; false where there is no `process`.
 */
function isProduction(): boolean {
  try {
    return process.env.NODE_ENV === 'production';
  } catch {
    return false;
  }
}
