// @ts-check
// The poll's server actor, one per connection: it casts the session's vote, and joins the
// poll's voters while the session lives, so it is told when anyone votes.
import { defineActor } from '@actorspace/core';

/**
 * Makes the server root actor of one `/poll` connection.
 * @param {{ services: { poll: import('./poll.mjs').Poll }, session: { id: string } }} ctx
 */
export function createPollActor({ services, session }) {
  const poll = services.poll;
  return defineActor(
    { vote: (/** @type {number} */ option) => poll.vote(session.id, option) },
    {
      setRemoteActor(client) {
        poll.join(session.id, client);
      },
      onStop() {
        poll.leave(session.id);
      },
    },
  );
}

/** @typedef {ReturnType<typeof createPollActor>} PollActor */
