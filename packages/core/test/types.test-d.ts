import {
  type ActorRef,
  ActorSpace,
  connect,
  defineActor,
  type MessageContext,
  type RemoteActor,
  type RemoteApi,
} from '@actorspace/core';
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

describe('typed references end to end', () => {
  const client = defineActor({
    changed: (_list: string[]) => {},
    ping: () => 'pong' as const,
  });

  it('types ask and tell of a typed reference from the handlers', () => {
    const remote = null as unknown as RemoteActor<typeof todos>;
    expectTypeOf(remote.ask('add', { text: 'x' })).resolves.toEqualTypeOf<{ id: number; text: string }>();
    expectTypeOf(remote.ask('list')).resolves.toEqualTypeOf<Array<{ id: number; text: string }>>();
    expectTypeOf(remote.ask('add', { text: 'x' }, { timeout: 5 })).resolves.toHaveProperty('id');
    remote.tell('add', { text: 'x' });
    remote.tell('clear');
    // @ts-expect-error: no such message type
    remote.ask('remove', 1);
    // @ts-expect-error: data of the wrong shape
    remote.tell('add', { txt: 'x' });
    // @ts-expect-error: data is required for add
    remote.ask('add');
  });

  it('types session.server from connect<typeof serverActor>()', async () => {
    const session = await connect<typeof todos>('ws://x', { route: '/todos' });
    expectTypeOf(session.server).toEqualTypeOf<RemoteActor<typeof todos>>();
    expectTypeOf(session.server.api().add({ text: 'x' })).resolves.toEqualTypeOf<{
      id: number;
      text: string;
    }>();
    expectTypeOf(session.server.ask('list')).resolves.toEqualTypeOf<Array<{ id: number; text: string }>>();
    const untyped = await connect('ws://x', { route: '/todos' });
    expectTypeOf(untyped.server.ask('anything')).resolves.toBeUnknown();
  });

  it('types the client on the server side: setRemoteActor and ctx.sender', () => {
    defineActor(
      {
        add: (text: string, ctx: MessageContext<typeof client>) => {
          ctx.sender?.tell('changed', [text]);
          // @ts-expect-error: the client has no such handler
          ctx.sender?.tell('nope');
        },
      },
      {
        setRemoteActor(remote: RemoteActor<typeof client>) {
          expectTypeOf(remote.ask('ping')).resolves.toEqualTypeOf<'pong'>();
          remote.api().changed(['milk']);
        },
      },
    );
  });

  it('lets a typed reference go where an untyped one is expected', () => {
    const typed = null as unknown as RemoteActor<typeof todos>;
    const refs: ActorRef[] = [typed];
    expectTypeOf(refs[0]?.ask('anything')).resolves.toBeUnknown();
  });

  it('keeps references to class actors (their own receive, no handler map) untyped', () => {
    class Counter {
      receive(_type: string, _data: unknown) {
        return 1;
      }
    }
    const space = new ActorSpace();
    const ref = space.register(new Counter());
    expectTypeOf(ref.ask<number>('inc', 1)).resolves.toBeNumber();
    ref.tell('anything', { at: 1 });
    expectTypeOf(ref.api().inc?.(1)).resolves.toBeAny();
  });
});
