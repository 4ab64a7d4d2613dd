import { type ActorRef, defineActor, type RemoteActor, type RemoteApi } from '@actorspace/core';
import { describe, expectTypeOf, it } from 'vitest';

const todos = defineActor({
  add: (data: { text: string }) => ({ id: 1, text: data.text }),
  list: async () => [{ id: 1, text: 'milk' }],
  clear: (_data?: undefined) => {},
});

describe('defineActor inference', () => {
  it('types the remote proxy from the handlers', () => {
    const remote = null as unknown as RemoteActor<typeof todos>;
    const api = remote.api();
    expectTypeOf(api.add).parameter(0).toEqualTypeOf<{ text: string }>();
    expectTypeOf(api.add({ text: 'x' })).resolves.toEqualTypeOf<{ id: number; text: string }>();
    expectTypeOf(api.list()).resolves.toEqualTypeOf<Array<{ id: number; text: string }>>();
    expectTypeOf(api.clear).toBeCallableWith();
    // @ts-expect-error: unknown message names are not on the proxy
    api.remove;
    // @ts-expect-error: wrong data shape
    api.add({ txt: 'x' });
  });

  it('accepts a plain handler map as the type parameter', () => {
    type Api = RemoteApi<{ ping: (n: number) => string }>;
    expectTypeOf<Api['ping']>().returns.resolves.toBeString();
  });

  it('keeps untyped refs permissive', () => {
    const ref = null as unknown as ActorRef;
    expectTypeOf(ref.ask('anything', 1)).resolves.toBeUnknown();
    expectTypeOf(ref.ask<number>('n')).resolves.toBeNumber();
  });
});
