import { connect, defineActor, type RemoteActor } from '@actorspace/node';
import { describe, expectTypeOf, it } from 'vitest';

const todos = defineActor({
  add: (data: { text: string }) => ({ id: 1, text: data.text }),
  list: () => [{ id: 1, text: 'milk' }],
});

describe('node connect<typeof serverActor>()', () => {
  it('types session.server, its ask, tell and api()', async () => {
    const session = await connect<typeof todos>('ws://localhost:8080/actorspace', { route: '/todos' });
    expectTypeOf(session.server).toEqualTypeOf<RemoteActor<typeof todos>>();
    expectTypeOf(session.server.api().add({ text: 'x' })).resolves.toEqualTypeOf<{
      id: number;
      text: string;
    }>();
    expectTypeOf(session.server.ask('list')).resolves.toEqualTypeOf<Array<{ id: number; text: string }>>();
    // @ts-expect-error: no such handler on the server
    session.server.tell('remove', 1);
  });
});
