// @ts-check
/** The floor: raw `ws` + JSON, a numeric correlation id, one `ws.send` per message. */
import { wsSystem } from './_ws-common.mjs';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'raw ws + JSON (floor)',
  notes: 'ws 8, JSON.stringify/parse, numeric correlation id, one ws.send per message',
  bundle: { entry: null, note: 'native WebSocket (0 B)' },
};

export const { startServer, connect } = wsSystem(JSON);
