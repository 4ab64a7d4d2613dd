// @ts-check
/**
 * Socket.IO 4.8: websocket transport only on both ends, no reconnection, forceNew.
 * ask = emitWithAck('ask', payload) answered by the ack callback; tell = emit('tell', payload).
 */

import { once } from 'node:events';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';

/** @type {import('./index.mjs').SystemMeta} */
export const meta = {
  label: 'Socket.IO (websocket only)',
  notes: "socket.io 4.8, transports ['websocket'] both ends, reconnection off, forceNew, emitWithAck / emit",
  bundle: { entry: "export { io } from 'socket.io-client';" },
};

/** @param {{ host: string, port: number, handlers: import('./index.mjs').Handlers }} o */
export async function startServer({ host, port, handlers }) {
  const http = createServer();
  const ioServer = new Server(http, {
    transports: ['websocket'],
    serveClient: false,
    perMessageDeflate: false,
  });
  ioServer.on('connection', (socket) => {
    socket.on('ask', (payload, ack) => ack(handlers.onAsk(payload)));
    socket.on('tell', (payload) => handlers.onTell(payload));
  });
  http.listen(port, host);
  await once(http, 'listening');
  const addr = /** @type {import('node:net').AddressInfo} */ (http.address());
  return {
    port: addr.port,
    close: () =>
      /** @type {Promise<void>} */ (
        new Promise((resolve) => {
          ioServer.disconnectSockets(true);
          ioServer.close(() => resolve());
        })
      ),
  };
}

/** @param {{ host: string, port: number }} o */
export async function connect({ host, port }) {
  const socket = io(`http://${host}:${port}`, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  await new Promise((resolve, reject) => {
    socket.once('connect', () => resolve(undefined));
    socket.once('connect_error', reject);
  });
  return {
    /** @param {any} p */
    ask: (p) => socket.emitWithAck('ask', p),
    /** @param {any} p */
    tell: (p) => {
      socket.emit('tell', p);
    },
    close: async () => {
      socket.disconnect();
    },
  };
}

/**
 * Fan-out: rooms. A client emits 'join' with an ack; the server joins its socket to the room
 * and acks. Server code publishes with `io.to(room).emit('msg', data)` (encoded once per
 * broadcast by socket.io's adapter).
 * @type {import('./index.mjs').FanoutSystem}
 */
export const fanout = {
  notes:
    "rooms: client emit('join', room, ack) → socket.join(room); publish io.to(room).emit('msg', data); websocket only both ends, reconnection off, forceNew",
  async startServer({ host, port, topic }) {
    const http = createServer();
    const ioServer = new Server(http, {
      transports: ['websocket'],
      serveClient: false,
      perMessageDeflate: false,
    });
    ioServer.on('connection', (socket) => {
      socket.on('join', (room, ack) => {
        socket.join(room);
        if (typeof ack === 'function') ack(true);
      });
    });
    http.listen(port, host);
    await once(http, 'listening');
    const addr = /** @type {import('node:net').AddressInfo} */ (http.address());
    return {
      port: addr.port,
      publish: (data) => {
        ioServer.to(topic).emit('msg', data);
      },
      subscribers: () => ioServer.sockets.adapter.rooms.get(topic)?.size ?? 0,
      close: () =>
        /** @type {Promise<void>} */ (
          new Promise((resolve) => {
            ioServer.disconnectSockets(true);
            ioServer.close(() => resolve());
          })
        ),
    };
  },
  async subscribe({ host, port, topic, onEvent }) {
    const socket = io(`http://${host}:${port}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    await new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(undefined));
      socket.once('connect_error', reject);
    });
    socket.on('msg', onEvent);
    await socket.timeout(10_000).emitWithAck('join', topic);
    return {
      close: async () => {
        socket.disconnect();
      },
    };
  },
};
