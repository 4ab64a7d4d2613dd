// @ts-check
// Reads ActorSpace wire messages for the traffic panel (no DOM). A message is one frame or a
// batch, an array of frames; each frame is an array whose first element is its kind. The
// shapes are the "Frames" table of docs/protocol.md.

/** Frame kinds by number, as docs/protocol.md names them. */
export const KINDS = /** @type {const} */ ({
  1: 'TELL',
  2: 'ASK',
  3: 'RESOLVE',
  4: 'REJECT',
  5: 'CANCEL',
  6: 'ERROR',
  8: 'PING',
  9: 'PONG',
  10: 'ACK',
  11: 'CREDIT',
  16: 'HELLO',
  17: 'WELCOME',
});

/** Kinds that keep the link running (heartbeat, acknowledgements, flow control): shown collapsed. */
const CONTROL = new Set([8, 9, 10, 11]);

/**
 * One frame, read.
 * @typedef {object} Frame
 * @property {number} kind
 * @property {string} name `TELL`, `ASK`, ... or `kind 7` for a kind this page does not know
 * @property {boolean} control PING, PONG, ACK or CREDIT
 * @property {number | null} id the ask id of ASK, RESOLVE, REJECT and CANCEL
 * @property {string | null} target the target actor's guid (TELL, ASK, and ERROR's details)
 * @property {string | null} type the message type (TELL, ASK, and ERROR's details)
 * @property {unknown} data the message data, the answer, the error or the handshake fields
 * @property {unknown} meta the data's superjson meta: `undefined` for plain JSON, `0` for `undefined`
 */

/**
 * Reads one WebSocket message into its frames; a message that is not ActorSpace JSON gives
 * one frame of kind 0 (`?`) with the text as its data.
 * @param {string} text
 * @returns {Frame[]}
 */
export function readMessage(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return [unknown(text)];
  }
  if (!Array.isArray(message) || message.length === 0) return [unknown(text)];
  // A batch is an array of frames; a frame starts with its kind, a number.
  const frames = Array.isArray(message[0]) ? message : [message];
  return frames.map((frame) => (Array.isArray(frame) ? readFrame(frame) : unknown(JSON.stringify(frame))));
}

/** @param {unknown[]} f */
function readFrame(f) {
  const kind = typeof f[0] === 'number' ? f[0] : 0;
  const name = KINDS[/** @type {keyof typeof KINDS} */ (kind)] ?? `kind ${kind}`;
  /** @type {Frame} */
  const frame = {
    kind,
    name,
    control: CONTROL.has(kind),
    id: null,
    target: null,
    type: null,
    data: undefined,
    meta: undefined,
  };
  switch (kind) {
    case 1: // [1, target, type, data, meta?, sender?]
      return { ...frame, target: str(f[1]), type: str(f[2]), data: f[3], meta: f[4] ?? undefined };
    case 2: // [2, id, target, type, data, meta?, sender?]
      return {
        ...frame,
        id: num(f[1]),
        target: str(f[2]),
        type: str(f[3]),
        data: f[4],
        meta: f[5] ?? undefined,
      };
    case 3: // [3, id, data, meta?]
      return { ...frame, id: num(f[1]), data: f[2], meta: f[3] ?? undefined };
    case 4: // [4, id, error]
    case 5: // [5, id]
      return { ...frame, id: num(f[1]), data: f[2] };
    case 6: {
      // [6, error]: its details say which tell failed
      const error = /** @type {{ details?: { target?: unknown, type?: unknown } } | null | undefined} */ (
        f[1]
      );
      const details = error?.details;
      return { ...frame, target: str(details?.target), type: str(details?.type), data: f[1] };
    }
    default: // [8], [9], [10, n], [11, consumed], [16, {...}], [17, {...}]
      return { ...frame, data: f[1] };
  }
}

/** @param {string} text @returns {Frame} */
function unknown(text) {
  return {
    kind: 0,
    name: '?',
    control: false,
    id: null,
    target: null,
    type: null,
    data: text,
    meta: undefined,
  };
}

const str = (/** @type {unknown} */ v) => (typeof v === 'string' ? v : null);
const num = (/** @type {unknown} */ v) => (typeof v === 'number' ? v : null);

/**
 * A one-line summary of a frame's data, at most `max` characters: the value as JSON, an
 * error as `CODE: message`, `undefined` for data that is `undefined` on the wire (meta `0`).
 * @param {Frame} frame
 * @param {number} [max]
 */
export function preview(frame, max = 120) {
  let text;
  if (frame.kind === 4 || frame.kind === 6) {
    const error = /** @type {{ code?: unknown, message?: unknown }} */ (frame.data ?? {});
    text = `${error.code ?? 'error'}: ${error.message ?? ''}`;
  } else if (frame.meta === 0) {
    text = 'undefined';
  } else if (frame.data === undefined) {
    text = '';
  } else if (typeof frame.data === 'string' && frame.kind === 0) {
    text = frame.data;
  } else {
    text = JSON.stringify(frame.data) ?? String(frame.data);
  }
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
