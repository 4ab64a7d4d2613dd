// @ts-check
/**
 * raw `ws` + superjson (whole envelope), a numeric correlation id, one `ws.send` per message.
 * Wire: ask `{"i":n,"p":payload}` -> reply `{"i":n,"r":result}`; tell `{"p":payload}`.
 */

import superjson from 'superjson';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listen, makeCorrelator, openClient } from './_ws-common.mjs';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'raw ws + superjson',
  notes:
    'ws 8, superjson.stringify/parse of the whole envelope, numeric correlation id, one ws.send per message',
  bundle: { entry: "export { stringify, parse } from 'superjson';" },
};

/** @param {{ host: string, port: number, handlers: import('./index.mjs').Handlers }} o */
export async function startServer({ host, port, handlers }) {
  const wss = new WebSocketServer({ host, port, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    ws.on('message', (data) => {
      const msg = /** @type {any} */ (superjson.parse(data.toString()));
      if (msg.i !== undefined) ws.send(superjson.stringify({ i: msg.i, r: handlers.onAsk(msg.p) }));
      else handlers.onTell(msg.p);
    });
  });
  return { port: await listen(wss), close: () => closeServer(wss) };
}

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  const ws = await openClient(WebSocket, `ws://${host}:${port}`);
  const corr = makeCorrelator();
  ws.on('message', (data) => {
    const msg = /** @type {any} */ (superjson.parse(data.toString()));
    corr.settle(msg.i, msg.r);
  });
  ws.on('close', () => corr.failAll(new Error('connection closed')));
  return {
    /** @param {any} p */
    ask: (p) =>
      corr.open((i) => {
        ws.send(superjson.stringify({ i, p }));
      }),
    /** @param {any} p */
    tell: (p) => ws.send(superjson.stringify({ p })),
    close: async () => ws.close(),
  };
}
