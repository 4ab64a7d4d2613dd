// @ts-check
/**
 * birpc 4.2 over `ws`, JSON serialization, birpc defaults otherwise (60 s timeout timer per
 * call, nanoid request ids). ask = rpc.ask(payload); tell = rpc.$callEvent('tell', payload).
 */

import { createBirpc } from 'birpc';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listen, openClient } from './_ws-common.mjs';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'birpc over ws (JSON)',
  notes: 'birpc 4.2 defaults (60 s timeout timer per call, nanoid ids), JSON serialize, $callEvent for tell',
  bundle: { entry: "export { createBirpc } from 'birpc';" },
};

/**
 * @param {import('ws').WebSocket} ws
 * @param {Record<string, (...a: any[]) => any>} fns
 */
function channel(ws, fns) {
  return createBirpc(fns, {
    post: (data) => ws.send(data),
    on: (fn) => {
      ws.on('message', (data) => fn(data.toString()));
    },
    serialize: (v) => JSON.stringify(v),
    deserialize: (v) => JSON.parse(v),
  });
}

/** @param {{ host: string, port: number, handlers: import('./index.mjs').Handlers }} o */
export async function startServer({ host, port, handlers }) {
  const wss = new WebSocketServer({ host, port, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    const rpc = channel(ws, {
      ask: (p) => handlers.onAsk(p),
      tell: (p) => {
        handlers.onTell(p);
      },
    });
    ws.on('close', () => rpc.$close());
  });
  return { port: await listen(wss), close: () => closeServer(wss) };
}

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  const ws = await openClient(WebSocket, `ws://${host}:${port}`);
  /** @type {any} */
  const rpc = channel(ws, {});
  ws.on('close', () => rpc.$close());
  /** @param {unknown} err */
  const ignore = (err) => {
    void err;
  };
  return {
    /** @param {any} p */
    ask: (p) => rpc.ask(p),
    /** @param {any} p */
    tell: (p) => {
      rpc.$callEvent('tell', p).catch(ignore);
    },
    close: async () => ws.close(),
  };
}
