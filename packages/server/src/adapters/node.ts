/**
 * `@actorspace/server/node`: mounts the engine on a `node:http` / `node:https` server with `ws`
 * in noServer mode. Imported by plain Node servers, and reused by the Express and Fastify
 * adapters for the upgrade.
 *
 * @module @actorspace/server/node
 */
import type { Server as HttpServer, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { ActorServer, HttpRequest } from '../actor-server.js';
import { writeNodeReply } from '../internal/node-reply.js';
import { DEFAULT_PATH, normalizePath, pathnameOf } from '../internal/paths.js';
import type { Peer, PeerConnection, PeerRequest } from '../peer.js';

/** Options of {@link attach}. */
export interface AttachOptions {
  /** Path of the WebSocket endpoint; the engine's HTTP endpoints live under it. @default '/actorspace' */
  path?: string;
  /**
   * Serve the engine's HTTP endpoints (`<path>/health`) from the server's `request` event.
   * Framework adapters turn it off and route them through the framework instead.
   * @default true
   */
  http?: boolean;
}

/** What {@link attach} returns. */
export interface Attachment {
  /** The mount path. */
  readonly path: string;
  /** Stops handling upgrades and requests for `path` and closes the `ws` server; the engine stays open. */
  detach(): void;
}

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Mounts the engine on a `node:http` server: WebSocket upgrades to `path` pair with the
 * engine's routes; every other upgrade and request is left to the host's own handlers.
 * Browser origins refused by `origins` get HTTP 403 at the upgrade.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createActorServer } from '@actorspace/server';
 * import { attach } from '@actorspace/server/node';
 *
 * const actors = createActorServer({ routes: { '/echo': () => defineActor({ echo: (x) => x }) } });
 * const server = createServer((req, res) => res.end('my app'));
 * attach(server, actors, { path: '/actorspace' });
 * server.listen(8080);
 */
export function attach(
  server: HttpServer,
  actors: ActorServer<any>,
  options: AttachOptions = {},
): Attachment {
  const path = normalizePath(options.path ?? DEFAULT_PATH);
  const wss = new WebSocketServer({
    noServer: true,
    // Above the engine's limit, so an oversize frame reaches the engine and gets 4413 rather
    // than ws's own 1009; frames past twice the limit are still cut off by ws.
    maxPayload: actors.maxPayload * 2 + 1024,
    perMessageDeflate: false,
  });

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    if (pathnameOf(req.url) !== path) {
      // Another upgrade handler of the host may want it; answer only when there is none.
      if (server.listenerCount('upgrade') === 1) refuseUpgrade(socket, 404, 'Not Found');
      return;
    }
    if (!actors.checkOrigin(req.headers.origin, req.headers)) {
      refuseUpgrade(socket, 403, 'Forbidden');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => handleSocket(actors, ws, req));
  };
  server.on('upgrade', onUpgrade);

  let restore: (() => void) | null = null;
  if (options.http !== false) {
    // The engine.io pattern: take the host's request listeners and call them for every
    // request that is not ours, so the host never answers one of our URLs twice.
    const hostListeners = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const onRequest: RequestListener = (req, res) => {
      const pass = (): void => {
        for (const listener of hostListeners) listener.call(server, req, res);
        if (hostListeners.length === 0) {
          res.statusCode = 404;
          res.end();
        }
      };
      if (!actors.wants(req.method ?? 'GET', req.url ?? '/', path)) {
        pass();
        return;
      }
      serveHttp(actors, req, res, path).then(
        (served) => {
          if (!served) pass();
        },
        () => {
          if (!res.headersSent) res.statusCode = 500;
          res.end();
        },
      );
    };
    server.on('request', onRequest);
    restore = () => {
      server.off('request', onRequest);
      for (const listener of hostListeners) server.on('request', listener);
    };
  }

  return {
    path,
    detach() {
      server.off('upgrade', onUpgrade);
      restore?.();
      restore = null;
      wss.close();
    },
  };
}

/** The engine's view of one `ws` socket: methods on a prototype, not closures per socket. */
class WsPeer implements Peer {
  readonly #ws: WebSocket;
  readonly request: PeerRequest;

  constructor(ws: WebSocket, request: PeerRequest) {
    this.#ws = ws;
    this.request = request;
  }

  send(frame: string): void {
    this.#ws.send(frame);
  }

  close(code: number, reason: string): void {
    this.#ws.close(code, reason);
  }

  bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }
}

const CONNECTION: unique symbol = Symbol('actorspace.connection');
type TaggedSocket = WebSocket & { [CONNECTION]?: PeerConnection };

// Listeners shared by every socket; `ws` calls them with `this` set to the socket.
function onMessage(this: TaggedSocket, data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
  const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
  this[CONNECTION]?.message(isBinary ? bytes : bytes.toString('utf8'));
}

function onClose(this: TaggedSocket, code: number, reason: Buffer): void {
  this[CONNECTION]?.closed(code, reason.toString('utf8'));
}

// 'error' is always followed by 'close'; the listener keeps it from becoming unhandled.
function onError(): void {}

/**
 * Hands one `ws` socket to the engine. Exported for hosts that run their own `ws` server.
 */
export function handleSocket(actors: ActorServer<any>, ws: WebSocket, req: IncomingMessage): void {
  const request: PeerRequest = { url: req.url ?? '/', headers: req.headers };
  if (req.socket.remoteAddress !== undefined) request.remoteAddress = req.socket.remoteAddress;
  const socket = ws as TaggedSocket;
  socket[CONNECTION] = actors.handle(new WsPeer(ws, request));
  socket.on('message', onMessage);
  socket.on('close', onClose);
  socket.on('error', onError);
}

/**
 * Answers the engine's HTTP endpoints on a Node request. Resolves false when the request is
 * not one of them, so the caller can pass it on. An event stream (`<path>/topics/<topic>`) is
 * written as it comes, with backpressure, and ends when the client goes away; the promise
 * resolves once it has started.
 */
export async function serveHttp(
  actors: ActorServer<any>,
  req: IncomingMessage,
  res: ServerResponse,
  path: string = DEFAULT_PATH,
): Promise<boolean> {
  const request: HttpRequest = {
    method: req.method ?? 'GET',
    url: req.url ?? '/',
    headers: req.headers,
    body: req,
  };
  // A body a framework already parsed (Express with express.json()): the stream is spent.
  const parsed = (req as { body?: unknown }).body;
  if (parsed !== undefined) request.parsedBody = parsed;
  if (req.socket?.remoteAddress !== undefined) request.remoteAddress = req.socket.remoteAddress;
  request.signal = closeSignal(res);
  const reply = await actors.http(request, path);
  if (!reply) return false;
  writeNodeReply(res, reply);
  return true;
}

/** Aborted when the client goes away before its answer is written (a gateway ask is then cancelled). */
export function closeSignal(res: ServerResponse): AbortSignal {
  const controller = new AbortController();
  res.once('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller.signal;
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  // Destroy only once the answer is flushed, as ws's own abortHandshake does.
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
