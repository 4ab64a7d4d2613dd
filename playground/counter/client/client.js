// @ts-check
// The counter's client root actor. No DOM here: it turns server messages into calls on a
// view and user intents into asks. The zero-build page imports this module and pairs the
// actor its default export returns with the `/counter` server actor.
import { defineActor } from '@actorspace/browser';
import { createCounterView } from './ui.js';

/** @typedef {import('@actorspace/browser').RemoteActor<import('../server.mjs').CounterActor>} ServerActor */

/**
 * @typedef {object} CounterView
 * @property {(value: number) => void} show
 * @property {(message: string) => void} fail
 */

/**
 * @param {(actions: { increment(): void; decrement(): void }) => CounterView} createView
 */
export function createCounterClient(createView) {
  /** @type {ServerActor | null} */
  let server = null;

  // User intents become asks to the server actor. An ask rejects with an ActorSpaceError
  // (by `code`) when it cannot be answered, so the view can say what went wrong.
  const ask = (/** @type {'increment' | 'decrement'} */ type) => {
    server
      ?.api()
      [type]()
      .catch((/** @type {any} */ error) => view.fail(`${type} failed: ${error.code}`));
  };
  const view = createView({ increment: () => ask('increment'), decrement: () => ask('decrement') });

  return defineActor(
    // The server pushes the value after each change and once when the pairing completes.
    { value: (/** @type {number} */ n) => view.show(n) },
    {
      // Typed as the server actor: its asks are checked against its handlers.
      setRemoteActor(/** @type {ServerActor} */ remote) {
        server = remote;
      },
    },
  );
}

// The page calls this with no arguments: the real view, rendered into #app.
export default () => createCounterClient(createCounterView);
