import type { AddressInfo } from 'node:net';
import { webSocketTransport } from '@actorspace/core';
import { describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { transportSuite } from './transport-suite.js';

transportSuite('ws on 127.0.0.1', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const { port } = wss.address() as AddressInfo;
  const serverSide = new Promise<WebSocket>((resolve) => wss.once('connection', resolve));
  // The client end is handed over while still connecting: frames sent now are held until open.
  const client = new WebSocket(`ws://127.0.0.1:${port}`);
  const server = await serverSide;
  return {
    a: client,
    b: server,
    dispose: async () => {
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((r) => wss.close(() => r()));
    },
  };
});

describe('webSocketTransport', () => {
  it('refuses something that is not a WebSocket with TypeError', () => {
    expect(() => webSocketTransport({} as never)).toThrow(TypeError);
  });
});
