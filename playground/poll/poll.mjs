// @ts-check
// The poll, one per playground server (a service): the question, one vote per session, and
// the voters to tell when the results change. A voter is the client root actor of a session.

/** @typedef {{ question: string, options: string[], counts: number[], voters: number }} Results */
/** @typedef {import('@actorspace/core').RemoteActor} Voter */

export const QUESTION = 'Which adapter do you mount ActorSpace in?';
export const OPTIONS = ['node:http', 'Express', 'Fastify', 'Bun', 'Hono'];

export function createPoll() {
  /** @type {Map<string, number>} session id → the option it voted for */
  const votes = new Map();
  /** @type {Map<string, Voter>} session id → its client actor */
  const voters = new Map();

  /** @returns {Results} */
  const results = () => {
    const counts = OPTIONS.map(() => 0);
    for (const option of votes.values()) counts[option] = (counts[option] ?? 0) + 1;
    return { question: QUESTION, options: OPTIONS, counts, voters: voters.size };
  };

  const broadcast = () => {
    const now = results();
    for (const voter of voters.values()) {
      try {
        voter.tell('results', now);
      } catch {
        // CHANNEL_CLOSED: the session is ending (its onStop removes it).
      }
    }
  };

  return {
    results,
    join(/** @type {string} */ session, /** @type {Voter} */ voter) {
      voters.set(session, voter);
      broadcast();
    },
    leave(/** @type {string} */ session) {
      if (voters.delete(session)) broadcast();
    },
    /**
     * Records (or changes) a session's vote.
     * @returns {Results}
     * @throws RangeError for an option that is not on the ballot (the ask rejects with it)
     */
    vote(/** @type {string} */ session, /** @type {number} */ option) {
      if (!Number.isInteger(option) || option < 0 || option >= OPTIONS.length) {
        throw new RangeError(`there is no option ${option}`);
      }
      votes.set(session, option);
      broadcast();
      return results();
    },
  };
}

/** @typedef {ReturnType<typeof createPoll>} Poll */
