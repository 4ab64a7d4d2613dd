// @ts-check
// The desk's server actor, one per connection. Who is calling comes from the access token
// the connection presented (ctx.caller), never from the data. Each message says who may send
// it: signed-in pages open tickets; only a back-office service may resolve them.
import { defineActor } from '@actorspace/core';
import { z } from 'zod';

/**
 * Makes the server root actor of one `/desk` connection: a page's or the agent's.
 * @param {{ services: { desk: import('./desk.mjs').Desk }, session: { id: string }, caller: import('@actorspace/core').Caller }} ctx
 */
export function createDeskActor({ services, session, caller }) {
  const desk = services.desk;
  return defineActor(
    {
      open: {
        description: 'Opens a ticket in the name of the signed-in user',
        input: z.object({ text: z.string().trim().min(1).max(200) }),
        callers: ['client'],
        handler: ({ text }, ctx) => desk.open(text, ctx.caller?.id ?? 'unknown'),
      },
      list: {
        description: 'Lists the tickets',
        callers: ['client', 'service'],
        handler: () => desk.list(),
      },
      resolve: {
        description: 'Marks a ticket resolved (back office only)',
        input: z.object({ id: z.number().int().positive() }),
        callers: ['service'],
        handler: ({ id }, ctx) => desk.resolve(id, ctx.caller?.id ?? 'unknown'),
      },
    },
    {
      // Pages watch the desk; the agent only calls it.
      setRemoteActor(client) {
        if (caller.type === 'client') desk.watch(session.id, client);
      },
      onStop() {
        desk.unwatch(session.id);
      },
    },
  );
}

/** @typedef {ReturnType<typeof createDeskActor>} DeskActor */
