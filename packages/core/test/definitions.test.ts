// Message definitions: schemas from zod, valibot and arktype refuse bad data before the
// handler runs, callers are checked, answers are checked against their output schema, and
// describeActor publishes what a page or server actor offers.

import { toStandardJsonSchema } from '@valibot/to-json-schema';
import { type } from 'arktype';
import fc from 'fast-check';
import * as v from 'valibot';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  type Actor,
  ActorSpace,
  ActorSpaceError,
  type Caller,
  type Channel,
  createMemoryTransportPair,
  defineActor,
  describeActor,
  type MessageContext,
  type RemoteActor,
  type StandardSchemaV1,
} from '../src/index.js';
import { pairSpaces } from './helpers.js';

const client: Caller = { id: 'page-1', type: 'client', claims: {} };
const service: Caller = { id: 'billing', type: 'service', claims: {} };
const system: Caller = { id: 'server', type: 'system', claims: {} };

/** A context as a space makes one: `peer` is the caller of the channel the message came over. */
function ctx(caller: Caller | undefined, peer?: Caller): MessageContext {
  const context: { caller?: Caller; channel?: Channel; signal: AbortSignal } = {
    signal: new AbortController().signal,
  };
  if (caller) context.caller = caller;
  if (peer) context.channel = { caller: peer } as Channel;
  return context;
}

/** What `receive` did: its answer, or the ActorSpaceError it threw or rejected with. */
async function send(actor: Actor, type: string, data: unknown, context = ctx(client, client)) {
  try {
    return { answer: await actor.receive(type, data, context) };
  } catch (error) {
    if (!(error instanceof ActorSpaceError)) throw error;
    return { code: error.code, details: error.details as { issues?: unknown; type?: string } };
  }
}

const libraries: [string, { todo: StandardSchemaV1; count: StandardSchemaV1 }][] = [
  ['zod', { todo: z.object({ text: z.string().min(1), tags: z.array(z.string()) }), count: z.number() }],
  [
    'valibot',
    {
      todo: v.object({ text: v.pipe(v.string(), v.minLength(1)), tags: v.array(v.string()) }),
      count: v.number(),
    },
  ],
  ['arktype', { todo: type({ text: 'string > 0', tags: 'string[]' }), count: type('number') }],
];

describe.each(libraries)('input validation with %s', (_name, schemas) => {
  it('runs the handler with valid data, and refuses invalid data before it with INVALID_MESSAGE and issues', async () => {
    const seen: unknown[] = [];
    const actor = defineActor({
      add: { input: schemas.todo, handler: (todo: unknown) => seen.push(todo) },
    });
    expect(await send(actor, 'add', { text: 'milk', tags: ['food'] })).toEqual({ answer: 1 });

    const refused = await send(actor, 'add', { text: '', tags: ['ok', 3] });
    expect(refused.code).toBe('INVALID_MESSAGE');
    expect(refused.details?.type).toBe('add');
    const issues = refused.details?.issues as { path: (string | number)[]; message: string }[];
    expect(issues.length).toBeGreaterThanOrEqual(1);
    for (const issue of issues) expect(typeof issue.message).toBe('string');
    // The sender can see where: the empty text, and the second tag.
    const paths = issues.map((i) => i.path.join('.'));
    expect(paths).toContain('tags.1');
    expect(await send(actor, 'add', 'not an object')).toMatchObject({ code: 'INVALID_MESSAGE' });
    expect(seen).toEqual([{ text: 'milk', tags: ['food'] }]);
  });
});

describe('definitions', () => {
  it('gives the handler the value the schema produced (coercions, defaults)', async () => {
    const actor = defineActor({
      page: {
        input: z.object({ n: z.coerce.number(), size: z.number().default(20) }),
        handler: ({ n, size }) => n * size,
      },
    });
    expect(await send(actor, 'page', { n: '3' })).toEqual({ answer: 60 });
  });

  it('waits for async validators, in the mailbox turn', async () => {
    const taken = new Set(['alice']);
    const actor = defineActor({
      claim: {
        input: z.string().refine(async (name) => {
          await new Promise((r) => setTimeout(r, 5));
          return !taken.has(name);
        }, 'name taken'),
        handler: (name: string) => {
          taken.add(name);
          return name;
        },
      },
    });
    expect(await send(actor, 'claim', 'bob')).toEqual({ answer: 'bob' });
    const refused = await send(actor, 'claim', 'alice');
    expect(refused).toMatchObject({
      code: 'INVALID_MESSAGE',
      details: { issues: [{ message: 'name taken' }] },
    });
  });

  it('validates each caller type with its own schema, and refuses a caller type with none', async () => {
    const actor = defineActor({
      rename: {
        input: {
          client: z.object({ name: z.string() }),
          service: z.object({ name: z.string(), reason: z.string() }),
        },
        callers: ['client', 'service'],
        handler: (data) => data,
      },
    });
    expect(await send(actor, 'rename', { name: 'a' }, ctx(client, client))).toEqual({
      answer: { name: 'a' },
    });
    expect(await send(actor, 'rename', { name: 'a' }, ctx(service, service))).toMatchObject({
      code: 'INVALID_MESSAGE',
    });
    expect(await send(actor, 'rename', { name: 'a', reason: 'x' }, ctx(service, service))).toEqual({
      answer: { name: 'a', reason: 'x' },
    });
    const byClientOnly = defineActor({
      note: { input: { client: z.string() }, callers: ['client', 'service'], handler: (s) => s },
    });
    expect(await send(byClientOnly, 'note', 'x', ctx(service, service))).toMatchObject({ code: 'FORBIDDEN' });
    // The space's own code is trusted as it is.
    expect(await send(byClientOnly, 'note', 42, ctx(system))).toEqual({ answer: 42 });
  });

  it('admits services only where callers lists them, unless the service is the paired peer', async () => {
    const actor = defineActor({
      plain: () => 'plain',
      open: { callers: ['client', 'service'], handler: () => 'open' },
      backOffice: { callers: ['service'], handler: () => 'back office' },
    });
    // A service reaching the actor through someone else's reference (the gateway, a relay).
    const relayed = ctx(service, client);
    expect(await send(actor, 'plain', undefined, relayed)).toMatchObject({ code: 'FORBIDDEN' });
    expect(await send(actor, 'open', undefined, relayed)).toEqual({ answer: 'open' });
    expect(await send(actor, 'backOffice', undefined, relayed)).toEqual({ answer: 'back office' });
    // The service this actor is paired with calls its plain handlers.
    expect(await send(actor, 'plain', undefined, ctx(service, service))).toEqual({ answer: 'plain' });
    // A client, paired or not, never reaches a service-only handler.
    expect(await send(actor, 'backOffice', undefined, ctx(client, client))).toMatchObject({
      code: 'FORBIDDEN',
      details: { type: 'backOffice', caller: 'client' },
    });
    expect(await send(actor, 'plain', undefined, ctx(client))).toEqual({ answer: 'plain' });
    // The system, and code with no identity, always may.
    expect(await send(actor, 'backOffice', undefined, ctx(system))).toEqual({ answer: 'back office' });
    expect(await send(actor, 'backOffice', undefined, ctx(undefined))).toEqual({ answer: 'back office' });
  });

  it('sees who a message really comes from when the server relays it: a service is never the server', async () => {
    // The server's space, a page (client) and an agent (service), each paired as in production:
    // the server names each peer's caller; the peers trust the server about relayed messages.
    const server = new ActorSpace('server');
    const page = new ActorSpace('page');
    const agent = new ActorSpace('agent');
    const link = (peer: ActorSpace, caller: Caller) => {
      const [s, p] = createMemoryTransportPair();
      const toPeer = server.addChannel(s, { caller });
      const toServer = peer.addChannel(p, { caller: system, trustRelayed: true });
      return { toPeer, toServer };
    };
    const pageLink = link(page, client);
    const agentLink = link(agent, service);
    const seen: unknown[] = [];
    page.register(
      defineActor({
        plain: (_: unknown, c) => void seen.push(['plain', c.caller?.type]),
        secret: { callers: ['client'], input: { client: z.string() }, handler: () => 'secret' },
        forAgents: { callers: ['service'], handler: (_: unknown, c) => c.caller },
      }),
      'page-root',
    );
    // The server hands the agent a reference to the page's actor (a capability, relayed).
    const pageActor = pageLink.toPeer.makeRemote('page-root');
    server.register(defineActor({ pageActor: () => pageActor }), 'directory');
    const relayed = await agentLink.toServer.makeRemote('directory').ask<RemoteActor>('pageActor');
    await expect(relayed.ask('secret', { not: 'a string' })).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(relayed.ask('plain')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect(await relayed.ask('forAgents')).toEqual({ id: 'billing', type: 'service', claims: {} });
    // The server's own code still reaches the page as the page's server.
    await pageActor.ask('plain');
    expect(seen).toEqual([['plain', 'system']]);
    await Promise.all([server.destroy(), page.destroy(), agent.destroy()]);
  });

  it('treats a message over a channel that names no caller as an anonymous client', async () => {
    const { b, ab, destroy } = pairSpaces();
    b.register(
      defineActor({ admin: { callers: ['service'], input: { service: z.string() }, handler: () => 'ran' } }),
      'x',
    );
    await expect(ab.makeRemote('x').ask('admin', 'data')).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await destroy();
  });

  it('checks answers against output: a bad answer is REMOTE_ERROR for the asker and logged', async () => {
    const logged: string[] = [];
    const { a, b, ab, destroy } = pairSpaces();
    const space = new ActorSpace('logs', { logger: { error: (message: string) => logged.push(message) } });
    const make = (validateOutput?: boolean) =>
      defineActor(
        {
          total: {
            input: z.array(z.number()),
            output: z.number().int(),
            handler: (xs) => xs.reduce((s, x) => s + x, 0),
          },
        },
        validateOutput === undefined ? {} : { validateOutput },
      );
    const local = space.register(make());
    expect(await local.ask('total', [1, 2])).toBe(3);
    const failed = await local.ask('total', [1.5]).catch((e: ActorSpaceError) => e);
    expect(failed).toBeInstanceOf(ActorSpaceError);
    expect((failed as ActorSpaceError).code).toBe('REMOTE_ERROR');
    expect(logged.join('\n')).toMatch(/answer to "total" does not match its output schema/);
    // Across a channel the asker sees REMOTE_ERROR too; and with validateOutput off, no check.
    b.register(make(), 'strict');
    b.register(make(false), 'lenient');
    const remote = ab.makeRemote('strict');
    await expect(remote.ask('total', [0.5])).rejects.toMatchObject({ code: 'REMOTE_ERROR' });
    expect(await ab.makeRemote('lenient').ask('total', [0.5])).toBe(0.5);
    await space.destroy();
    await a.destroy();
    await destroy();
  });

  it('refuses bad data over a channel with INVALID_MESSAGE and the issues, and keeps the channel', async () => {
    const { b, ab, destroy } = pairSpaces();
    b.register(
      defineActor({ add: { input: z.object({ text: z.string() }), handler: ({ text }) => text } }),
      'todos',
    );
    const todos = ab.makeRemote('todos');
    const error = (await todos.ask('add', { text: 5 }).catch((e: unknown) => e)) as ActorSpaceError;
    expect(error.code).toBe('INVALID_MESSAGE');
    expect(error.details).toMatchObject({ type: 'add', issues: [{ path: ['text'] }] });
    expect(await todos.ask('add', { text: 'milk' })).toBe('milk');
    await destroy();
  });

  it('lets no data the schema refuses reach the handler (property)', async () => {
    const schema = z.object({ id: z.number().int().nonnegative(), name: z.string().max(8) });
    const reached: unknown[] = [];
    const actor = defineActor({ put: { input: schema, handler: (data) => void reached.push(data) } });
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (data) => {
        reached.length = 0;
        const result = await send(actor, 'put', data);
        const valid = schema.safeParse(data).success;
        expect(reached.length).toBe(valid ? 1 : 0);
        if (!valid) expect(result.code).toBe('INVALID_MESSAGE');
        for (const value of reached) expect(schema.safeParse(value).success).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses malformed definitions when the actor is made', () => {
    const handler = () => 1;
    expect(() => defineActor({ a: { handler, inptu: z.string() } as never })).toThrow(
      /unknown field "inptu"/,
    );
    expect(() => defineActor({ a: { input: { not: 'a schema' }, handler } as never })).toThrow(TypeError);
    expect(() => defineActor({ a: { input: { admin: z.string() }, handler } as never })).toThrow(TypeError);
    expect(() => defineActor({ a: { output: 'x', handler } as never })).toThrow(/output/);
    expect(() => defineActor({ a: { callers: ['root'], handler } as never })).toThrow(/callers/);
    expect(() => defineActor({ a: { input: z.string() } as never })).toThrow(/no handler/);
    expect(() => defineActor({ a: 42 as never })).toThrow(TypeError);
  });
});

describe('describeActor', () => {
  it('lists each message type with its description, callers and JSON Schemas', () => {
    const actor = defineActor({
      add: {
        input: z.object({ text: z.string() }),
        output: z.object({ id: z.number() }),
        callers: ['client', 'service'],
        description: 'Adds a todo',
        handler: () => ({ id: 1 }),
      },
      count: { input: type({ min: 'number' }), handler: () => 0 },
      rename: { input: toStandardJsonSchema(v.object({ name: v.string() })), handler: () => {} },
      list: () => [],
    });
    const [add, count, rename, list] = describeActor(actor);
    expect(add).toMatchObject({
      type: 'add',
      description: 'Adds a todo',
      callers: ['client', 'service'],
      input: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
      output: { type: 'object', properties: { id: { type: 'number' } } },
    });
    expect(count).toMatchObject({
      type: 'count',
      input: { type: 'object', properties: { min: { type: 'number' } } },
    });
    expect(rename).toMatchObject({ input: { type: 'object', properties: { name: { type: 'string' } } } });
    expect(list).toEqual({ type: 'list', callers: ['client', 'system'] });
  });

  it('describes a schema without JSON Schema support by what it has, and refuses other actors', () => {
    const bare: StandardSchemaV1<string> = {
      '~standard': { version: 1, vendor: 'bare', validate: (value) => ({ value: String(value) }) },
    };
    expect(describeActor(defineActor({ x: { input: bare, handler: () => {} } }))).toEqual([
      { type: 'x', callers: ['client', 'system'] },
    ]);
    expect(() => describeActor({ receive: () => {} })).toThrow(TypeError);
  });
});
