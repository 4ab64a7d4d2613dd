// @ts-check
// The status server actor: streams a numbered `tick` to its client every 250 ms for as long
// as the session lives. When the socket drops, the ticks keep coming: the session buffers
// them, and the resumed connection delivers each one exactly once, in order.
import { defineActor } from '@actorspace/core';

export const TICK_MS = 250;

/** Makes the server root actor of one `/status` connection. */
export function createStatusActor(/** @type {{ session: { id: string } }} */ { session }) {
  /** @type {ReturnType<typeof setInterval> | null} */
  let timer = null;
  let seq = 0;

  return defineActor(
    {
      // Lets the client show which server session it is paired with.
      hello: () => ({ session: session.id.slice(0, 8) }),
    },
    {
      setRemoteActor(client) {
        timer = setInterval(() => {
          try {
            client.tell('tick', { seq, at: Date.now() });
            seq++;
          } catch {
            // MAILBOX_FULL: the client has read nothing for a very long time (16 MiB of ticks
            // wait for it). This tick was refused, not lost: the next one carries the same seq.
          }
        }, TICK_MS);
      },
      // The session is over (page closed, or not resumed in time): stop streaming.
      onStop() {
        if (timer) clearInterval(timer);
      },
    },
  );
}

/** @typedef {ReturnType<typeof createStatusActor>} StatusActor */
