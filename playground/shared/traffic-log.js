// @ts-check
// The traffic panel's model (no DOM): turns the page's socket messages into rows, one per
// frame, keeps the last `limit` of them, names the two root actors, and times every ask
// until its answer (and the HELLO until its WELCOME).
import { preview, readMessage } from './frames.js';

/**
 * One message of the page's socket, as `globalThis.actorspace.traffic` reports it.
 * @typedef {{ direction: 'in' | 'out', data: string, at: number }} TrafficEvent
 */

/**
 * One frame of the traffic.
 * @typedef {object} TrafficRow
 * @property {number} seq 1, 2, 3... in the order the frames went by
 * @property {number} at `performance.now()` when its message was sent or received
 * @property {'in' | 'out'} direction `out`: the page sent it; `in`: the server did
 * @property {string} name the frame kind: `TELL`, `ASK`, `RESOLVE`, ...
 * @property {boolean} control PING, PONG, ACK or CREDIT
 * @property {number | null} id the ask id
 * @property {string} target whom it is for: `server`, `client` (the root actors) or a short guid; '' when none
 * @property {string} type the message type; for an answer, the type of the ask it answers
 * @property {string} preview the data, short
 * @property {string} detail the data and its meta, longer (for a tooltip)
 * @property {number} batch how many frames its message carried (1: sent alone)
 * @property {number | null} ms for an ask: the time until its answer, once answered; for an answer: the same
 * @property {'pending' | 'answered' | 'rejected' | 'cancelled' | null} state an ask's fate
 */

/**
 * What one message changed: rows added, rows updated (an ask got its answer), rows dropped
 * from the front to stay within the limit.
 * @typedef {{ added: TrafficRow[], updated: TrafficRow[], dropped: TrafficRow[] }} TrafficChange
 */

/** Pending asks kept for timing at most; older ones are forgotten (they get no time). */
const MAX_PENDING = 1000;

/**
 * @param {{ limit?: number }} [options] `limit`: rows kept (default 200)
 */
export function createTrafficLog({ limit = 200 } = {}) {
  /** @type {TrafficRow[]} */
  const rows = [];
  /** Asks waiting for their answer, by `${asker direction}:${id}`: ask ids are chosen per direction. */
  /** @type {Map<string, TrafficRow>} */
  const pending = new Map();
  /** guid → `client` / `server`, learnt from HELLO and WELCOME. */
  /** @type {Map<string, string>} */
  const names = new Map();
  /** @type {TrafficRow | null} */
  let hello = null;
  let seq = 0;

  const label = (/** @type {string | null} */ guid) => (guid ? (names.get(guid) ?? guid.slice(0, 8)) : '');
  const other = (/** @type {'in' | 'out'} */ d) => (d === 'in' ? 'out' : 'in');

  return {
    /** The rows kept, oldest first. */
    get rows() {
      return /** @type {readonly TrafficRow[]} */ (rows);
    },

    /**
     * Adds one socket message.
     * @param {TrafficEvent} event
     * @returns {TrafficChange}
     */
    record({ direction, data, at }) {
      /** @type {TrafficChange} */
      const change = { added: [], updated: [], dropped: [] };
      const frames = readMessage(data);
      for (const frame of frames) {
        const fields = /** @type {{ actor?: unknown, resumed?: unknown }} */ (frame.data ?? {});
        if (frame.kind === 16 && typeof fields.actor === 'string') names.set(fields.actor, 'client');
        if (frame.kind === 17) {
          if (typeof fields.actor === 'string') names.set(fields.actor, 'server');
          // A fresh session numbers its asks from the start again: the old ones will never be answered.
          if (fields.resumed !== true) pending.clear();
        }
        /** @type {TrafficRow} */
        const row = {
          seq: ++seq,
          at,
          direction,
          name: frame.name,
          control: frame.control,
          id: frame.id,
          target: label(frame.target),
          type: frame.type ?? '',
          preview: preview(frame),
          detail: preview(frame, 2000) + (frame.meta ? `\nmeta: ${JSON.stringify(frame.meta)}` : ''),
          batch: frames.length,
          ms: null,
          state: null,
        };
        if (frame.kind === 2 && frame.id !== null) {
          row.state = 'pending';
          pending.set(`${direction}:${frame.id}`, row);
          if (pending.size > MAX_PENDING) pending.delete(/** @type {string} */ (pending.keys().next().value));
        } else if ((frame.kind === 3 || frame.kind === 4 || frame.kind === 5) && frame.id !== null) {
          // An answer travels the other way from its ask; a cancel the same way.
          const key = `${frame.kind === 5 ? direction : other(direction)}:${frame.id}`;
          const ask = pending.get(key);
          if (ask) {
            pending.delete(key);
            ask.ms = row.ms = at - ask.at;
            ask.state = frame.kind === 3 ? 'answered' : frame.kind === 4 ? 'rejected' : 'cancelled';
            row.type = ask.type;
            row.target = ask.target;
            change.updated.push(ask);
          }
        } else if (frame.kind === 16) {
          hello = row;
        } else if (frame.kind === 17 && hello) {
          row.ms = at - hello.at; // the pairing (or resume) took this long
          hello = null;
        }
        rows.push(row);
        change.added.push(row);
      }
      while (rows.length > limit) change.dropped.push(/** @type {TrafficRow} */ (rows.shift()));
      return change;
    },

    /** Forgets the rows (asks still pending keep their timing). */
    clear() {
      rows.length = 0;
    },
  };
}

/** @typedef {ReturnType<typeof createTrafficLog>} TrafficLog */

/** `0.4 ms`, `12 ms`, `1.25 s`. */
export function formatMs(/** @type {number} */ ms) {
  if (ms < 10) return `${ms.toFixed(1)} ms`;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}
