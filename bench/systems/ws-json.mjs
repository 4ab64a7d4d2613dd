// @ts-check
/** The floor: raw `ws` + JSON, a numeric correlation id, one `ws.send` per message. */
import { WebSocket, WebSocketServer } from 'ws';
import { closeServer, listen, openClient, wsSystem } from './_ws-common.mjs';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'raw ws + JSON (floor)',
  notes: 'ws 8, JSON.stringify/parse, numeric correlation id, one ws.send per message',
  bundle: { entry: null, note: 'native WebSocket (0 B)' },
};

export const { startServer, connect } = wsSystem(JSON);

/**
 * Fan-out floor: the server keeps a Set of the sockets that sent `{"join":topic}` (answered
 * with `{"joined":topic}`); a publish is one JSON.stringify and one ws.send per subscriber.
 * @type {import('./index.mjs').FanoutSystem}
 */
export const fanout = {
  notes:
    'ws 8: a Set of joined sockets per topic; publish = one JSON.stringify({ t, d }), then ws.send(text) to each',
  async startServer({ host, port, topic }) {
    const wss = new WebSocketServer({ host, port, perMessageDeflate: false });
    /** @type {Set<import('ws').WebSocket>} */
    const subs = new Set();
    wss.on('connection', (ws) => {
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString());
        if (msg.join === topic) {
          subs.add(ws);
          ws.send(JSON.stringify({ joined: topic }));
        }
      });
      ws.on('close', () => subs.delete(ws));
    });
    return {
      port: await listen(wss),
      publish: (data) => {
        const text = JSON.stringify({ t: topic, d: data });
        for (const ws of subs) ws.send(text);
      },
      subscribers: () => subs.size,
      close: () => closeServer(wss),
    };
  },
  async subscribe({ host, port, topic, onEvent }) {
    const ws = await openClient(WebSocket, `ws://${host}:${port}`);
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no join answer within 10 s')), 10_000);
      ws.on('message', (raw) => {
        const msg = JSON.parse(raw.toString());
        if (msg.d !== undefined) onEvent(msg.d);
        else if (msg.joined === topic) {
          clearTimeout(timer);
          resolve(undefined);
        }
      });
      ws.send(JSON.stringify({ join: topic }));
    });
    return { close: async () => ws.close() };
  },
};
