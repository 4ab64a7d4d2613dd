// @ts-check
/** Helpers shared by the hand-rolled ws systems (not a system itself: leading underscore). */
import { once } from 'node:events';
import { WebSocket, WebSocketServer } from 'ws';

/**
 * @param {import('ws').WebSocketServer} wss
 * @returns {Promise<number>} the bound port
 */
export async function listen(wss) {
  const addr = wss.address();
  if (!addr) await once(wss, 'listening');
  const a = /** @type {import('node:net').AddressInfo} */ (wss.address());
  return a.port;
}

/** @param {import('ws').WebSocketServer} wss */
export function closeServer(wss) {
  for (const c of wss.clients) c.terminate();
  return /** @type {Promise<void>} */ (new Promise((r) => wss.close(() => r())));
}

/**
 * Open a `ws` client and wait for 'open'.
 * @param {typeof import('ws').WebSocket} WS
 * @param {string} url
 */
export function openClient(WS, url) {
  const ws = new WS(url, { perMessageDeflate: false });
  return /** @type {Promise<import('ws').WebSocket>} */ (
    new Promise((resolve, reject) => {
      ws.once('open', () => resolve(ws));
      ws.once('error', reject);
    })
  );
}

/** Numeric correlation ids -> pending promises. */
export function makeCorrelator() {
  let next = 0;
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: any) => void }>} */
  const pending = new Map();
  return {
    /**
     * @param {(id: number) => void} send
     * @returns {Promise<any>}
     */
    open(send) {
      return new Promise((resolve, reject) => {
        const i = ++next;
        pending.set(i, { resolve, reject });
        send(i);
      });
    },
    /** @param {number} i @param {any} value */
    settle(i, value) {
      const p = pending.get(i);
      if (p) {
        pending.delete(i);
        p.resolve(value);
      }
    },
    /** @param {Error} err */
    failAll(err) {
      for (const p of pending.values()) p.reject(err);
      pending.clear();
    },
  };
}

/**
 * A raw `ws` system with a numeric correlation id and one `ws.send` per message, over any
 * codec with `stringify` and `parse` (JSON for the floor, superjson for its rich variant).
 * Wire: ask `{"i":n,"p":payload}` -> reply `{"i":n,"r":result}`; tell `{"p":payload}`.
 * @param {{ stringify(value: any): string, parse(text: string): any }} codec
 */
export function wsSystem(codec) {
  return {
    /** @param {{ host: string, port: number, handlers: import('./index.mjs').Handlers }} o */
    async startServer({ host, port, handlers }) {
      const wss = new WebSocketServer({ host, port, perMessageDeflate: false });
      wss.on('connection', (ws) => {
        ws.on('message', (data) => {
          const msg = codec.parse(data.toString());
          if (msg.i !== undefined) ws.send(codec.stringify({ i: msg.i, r: handlers.onAsk(msg.p) }));
          else handlers.onTell(msg.p);
        });
      });
      return { port: await listen(wss), close: () => closeServer(wss) };
    },

    /** @param {{ host: string, port: number }} o */
    async connect({ host, port }) {
      const ws = await openClient(WebSocket, `ws://${host}:${port}`);
      const corr = makeCorrelator();
      ws.on('message', (data) => {
        const msg = codec.parse(data.toString());
        corr.settle(msg.i, msg.r);
      });
      ws.on('close', () => corr.failAll(new Error('connection closed')));
      return {
        /** @param {any} p */
        ask: (p) =>
          corr.open((i) => {
            ws.send(codec.stringify({ i, p }));
          }),
        /** @param {any} p */
        tell: (p) => ws.send(codec.stringify({ p })),
        close: async () => ws.close(),
      };
    },
  };
}
