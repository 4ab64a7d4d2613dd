// @ts-check
// The poll's client root actor (no DOM): results in, votes out as asks. The view is Preact,
// imported by name with no build step (see ui.js and the route's `imports`).
import { defineActor } from '@actorspace/browser';
import { createPollView } from './ui.js';

/** @typedef {import('@actorspace/browser').RemoteActor<import('../server.mjs').PollActor>} ServerActor */

/** @typedef {import('../poll.mjs').Results} Results */
/**
 * @typedef {object} PollView
 * @property {(results: Results) => void} show
 * @property {(message: string) => void} fail
 */

/** @param {(actions: { vote(option: number): void }) => PollView} createView */
export function createPollClient(createView) {
  /** @type {ServerActor | null} */
  let server = null;
  const view = createView({
    vote: (option) => {
      server
        ?.api()
        .vote(option)
        .then(view.show, (/** @type {any} */ error) => view.fail(`vote failed: ${error.code}`));
    },
  });
  return defineActor(
    // The poll tells every voter when the results change, and once when pairing completes.
    { results: (/** @type {Results} */ results) => view.show(results) },
    {
      // Typed as the server actor: its asks are checked against its handlers.
      setRemoteActor(/** @type {ServerActor} */ remote) {
        server = remote;
      },
    },
  );
}

export default () => createPollClient(createPollView);
