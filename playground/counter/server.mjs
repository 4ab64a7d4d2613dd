// @ts-check
// The counter's server actor. The playground makes one per browser connection (the route
// factory runs at every pairing), so every tab counts on its own.
import { defineActor } from '@actorspace/core';

/** Makes the server root actor of one connection of the `/counter` route. */
export function createCounterActor() {
  let value = 0;
  /** @type {import('@actorspace/core').RemoteActor | null} */
  let client = null;

  const actor = defineActor(
    {
      // Asks: the return value is the answer. The client also gets the value pushed below,
      // which is how a server-side change (from anywhere) would reach it.
      increment: () => push(++value),
      decrement: () => push(--value),
    },
    {
      // Called once the handshake completes, with the page's client root actor.
      setRemoteActor(remote) {
        client = remote;
        push(value);
      },
    },
  );

  /** Tells the client the new value and returns it. */
  function push(/** @type {number} */ n) {
    client?.tell('value', n);
    return n;
  }

  return actor;
}

/** The actor's type, so the client's `remote.api()` knows the handlers. */
/** @typedef {ReturnType<typeof createCounterActor>} CounterActor */
