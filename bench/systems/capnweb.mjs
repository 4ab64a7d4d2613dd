// @ts-check
/**
 * Cap'n Web 0.12 over `ws`. Node 20 has no global WebSocket and capnweb reads
 * `WebSocket.CONNECTING`, so ws's class is installed as globalThis.WebSocket (both ends).
 * ask = await stub.ask(payload); tell = stub.tell(payload) with its promise disposed at once
 * (capnweb has no fire-and-forget call).
 */

import { newWebSocketRpcSession, RpcTarget } from 'capnweb';
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listen, openClient } from './_ws-common.mjs';

const g = /** @type {any} */ (globalThis);
if (!g.WebSocket) g.WebSocket = WebSocket;

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: "Cap'n Web over ws",
  notes:
    'capnweb 0.12, newWebSocketRpcSession on ws sockets, RpcTarget per connection, tell = call + immediate dispose',
  bundle: { entry: "export { newWebSocketRpcSession } from 'capnweb';" },
};

class Api extends RpcTarget {
  /** @param {import('./index.mjs').Handlers} h */
  constructor(h) {
    super();
    this.h = h;
  }
  /** @param {any} p */
  ask(p) {
    return this.h.onAsk(p);
  }
  /** @param {any} p */
  tell(p) {
    this.h.onTell(p);
  }
}

/** @param {{ host: string, port: number, handlers: import('./index.mjs').Handlers }} o */
export async function startServer({ host, port, handlers }) {
  const wss = new WebSocketServer({ host, port, perMessageDeflate: false });
  wss.on('connection', (ws) => {
    newWebSocketRpcSession(/** @type {any} */ (ws), new Api(handlers));
  });
  return { port: await listen(wss), close: () => closeServer(wss) };
}

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  const ws = await openClient(WebSocket, `ws://${host}:${port}`);
  /** @type {any} */
  const stub = newWebSocketRpcSession(/** @type {any} */ (ws));
  return {
    /** @param {any} p */
    ask: (p) => stub.ask(p),
    /** @param {any} p */
    tell: (p) => {
      stub.tell(p)[Symbol.dispose]();
    },
    close: async () => {
      try {
        stub[Symbol.dispose]();
      } catch {}
      ws.close();
    },
  };
}
