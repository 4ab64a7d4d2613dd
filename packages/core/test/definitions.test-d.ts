// Types flow from the schemas: the handler's data is the input schema's output, and a remote
// reference's api()/ask take the input schema's input and answer the output schema's output.
import { type } from 'arktype';
import * as v from 'valibot';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineActor, type RemoteActor } from '../src/index.js';

describe('types from zod', () => {
  const todos = defineActor({
    add: {
      input: z.object({ text: z.string(), due: z.coerce.date().optional() }),
      output: z.object({ id: z.number() }),
      handler: (todo) => {
        expectTypeOf(todo).toEqualTypeOf<{ text: string; due?: Date | undefined }>();
        return { id: 1 };
      },
    },
    count: { input: z.number().optional(), handler: (n) => n ?? 0 },
    list: { description: 'All todos', callers: ['client', 'service'], handler: () => [{ id: 1 }] },
    rename: { callers: ['client'], handler: (name: string) => name.length },
    plain: (name: string) => name.length,
  });

  it('types api() and ask from input and output', () => {
    const remote = null as unknown as RemoteActor<typeof todos>;
    expectTypeOf(remote.api().add).parameter(0).toEqualTypeOf<{ text: string; due?: unknown }>();
    expectTypeOf(remote.api().add({ text: 'x' })).resolves.toEqualTypeOf<{ id: number }>();
    expectTypeOf(remote.ask('add', { text: 'x' })).resolves.toEqualTypeOf<{ id: number }>();
    // No output schema: the answer is not typed; the data may be left out when it is optional.
    expectTypeOf(remote.api().count()).resolves.toBeUnknown();
    expectTypeOf(remote.api().plain('x')).resolves.toBeNumber();
    // A definition without schemas is typed by its handler, whatever else it says.
    expectTypeOf(remote.api().list()).resolves.toEqualTypeOf<{ id: number }[]>();
    expectTypeOf(remote.api().rename).parameter(0).toBeString();
    expectTypeOf(remote.api().rename('x')).resolves.toBeNumber();
    // @ts-expect-error: text must be a string
    remote.api().add({ text: 1 });
    // @ts-expect-error: data is required
    remote.ask('add');
  });

  it('types the handler from the input schema', () => {
    defineActor({
      // @ts-expect-error: the input has no field txt
      bad: { input: z.object({ text: z.string() }), handler: ({ txt }) => txt },
    });
  });
});

describe('types from valibot', () => {
  const actor = defineActor({
    greet: {
      input: v.object({ name: v.string() }),
      output: v.string(),
      handler: ({ name }) => {
        expectTypeOf(name).toBeString();
        return `hi ${name}`;
      },
    },
  });
  it('types api() from the schemas', () => {
    const remote = null as unknown as RemoteActor<typeof actor>;
    expectTypeOf(remote.api().greet).parameter(0).toEqualTypeOf<{ name: string }>();
    expectTypeOf(remote.api().greet({ name: 'x' })).resolves.toBeString();
    // @ts-expect-error: name is required
    remote.api().greet({});
  });
});

describe('types from arktype', () => {
  const actor = defineActor({
    move: {
      input: type({ x: 'number', y: 'number' }),
      output: type({ ok: 'boolean' }),
      handler: ({ x, y }) => {
        expectTypeOf(x).toBeNumber();
        return { ok: x + y > 0 };
      },
    },
  });
  it('types api() from the schemas', () => {
    const remote = null as unknown as RemoteActor<typeof actor>;
    expectTypeOf(remote.api().move).parameter(0).toEqualTypeOf<{ x: number; y: number }>();
    expectTypeOf(remote.api().move({ x: 1, y: 2 })).resolves.toEqualTypeOf<{ ok: boolean }>();
  });
});

describe('per-caller input', () => {
  const actor = defineActor({
    rename: {
      input: {
        client: z.object({ name: z.string() }),
        service: z.object({ name: z.string(), reason: z.string() }),
      },
      callers: ['client', 'service'],
      handler: (data) => {
        expectTypeOf(data.name).toBeString();
        return data.name;
      },
    },
  });
  it('takes what any of the callers may send', () => {
    const remote = null as unknown as RemoteActor<typeof actor>;
    expectTypeOf(remote.api().rename)
      .parameter(0)
      .toEqualTypeOf<{ name: string } | { name: string; reason: string }>();
  });
});
