// @ts-check
// The status client root actor (no DOM). It checks the server's tick stream: sequence
// numbers must arrive as 0, 1, 2, ... with none missing and none twice, across every
// dropped connection the session resumes. A fresh session (after the server restarted, or
// after the resume window passed) starts a new stream at 0, and setRemoteActor runs again.
import { defineActor } from '@actorspace/browser';
import { createStatusView } from './ui.js';

/**
 * @typedef {object} TickStats
 * @property {number} sessions paired sessions so far (1 + restarts seen)
 * @property {string} session the server's session id (short)
 * @property {number} received ticks received in this session
 * @property {number} last last sequence number, -1 before the first
 * @property {number} missing sequence numbers skipped
 * @property {number} duplicates sequence numbers seen twice (or going backwards)
 */

/** @param {(actions: { drop(): Promise<void> }) => (stats: TickStats) => void} createView */
export function createStatusClient(createView) {
  /** @type {TickStats} */
  const stats = { sessions: 0, session: '', received: 0, last: -1, missing: 0, duplicates: 0 };
  const render = createView({
    // Asks the playground host to destroy every ActorSpace socket it holds (this tab's and
    // any other's), as a lost network would: no close frame, the TCP connection just ends.
    drop: async () => {
      await fetch('/status/drop', { method: 'POST' });
    },
  });

  return defineActor(
    {
      tick: (/** @type {{ seq: number }} */ { seq }) => {
        if (seq <= stats.last) stats.duplicates++;
        else stats.missing += seq - stats.last - 1;
        stats.last = Math.max(stats.last, seq);
        stats.received++;
        render(stats);
      },
    },
    {
      /** @param {import('@actorspace/browser').RemoteActor<import('../server.mjs').StatusActor>} remote */
      async setRemoteActor(remote) {
        // A new session: its stream starts over.
        Object.assign(stats, {
          sessions: stats.sessions + 1,
          received: 0,
          last: -1,
          missing: 0,
          duplicates: 0,
        });
        render(stats);
        // Survives a drop (a pending ask resumes with its session); a fresh session instead
        // rejects it with CHANNEL_CLOSED, and this hook runs again for the new one.
        const hello = await remote
          .api()
          .hello()
          .catch(() => null);
        if (hello) stats.session = hello.session;
        render(stats);
      },
    },
  );
}

export default () => createStatusClient(createStatusView);
