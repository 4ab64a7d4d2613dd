/**
 * `@actorspace/server/bun`: `fetch` and `websocket` handlers for `Bun.serve`. Bun's server
 * types are described structurally here, so the package needs no bun-types to build.
 *
 * @module @actorspace/server/bun
 */
import type { ActorServer, HttpRequest, HttpResponse } from '../actor-server.js';
import { DEFAULT_PATH, normalizePath, pathnameOf } from '../internal/paths.js';
import type { PeerConnection, PeerRequest } from '../peer.js';

/** What the adapter keeps on each Bun socket (`ws.data`). */
export interface BunSocketData {
  /** The upgrade request (URL, headers, remote address), kept for the engine's `authenticate`. */
  request: PeerRequest;
  /** The engine's connection for the socket, from `open` until `close`. */
  connection: PeerConnection | null;
}

/** The part of Bun's `ServerWebSocket` the adapter uses. */
export interface BunWebSocket {
  /** What the adapter stored at the upgrade. */
  data: BunSocketData;
  /** Sends one text frame. */
  send(data: string): unknown;
  /** Closes the socket. */
  close(code?: number, reason?: string): void;
  /** Bytes queued and not yet sent, for the engine's flow control. */
  getBufferedAmount?(): number;
}

/** The part of Bun's `Server` the adapter uses. */
export interface BunServer {
  /** Upgrades the request to a WebSocket carrying `data`; false when it is not an upgrade. */
  upgrade(
    request: Request,
    options: {
      /** What the socket carries as `ws.data`. */
      data: BunSocketData;
    },
  ): boolean;
  /** The client's address, for the engine's `remoteAddress`. */
  requestIP?(request: Request): {
    /** The IP address. */
    address: string;
  } | null;
  /** Sets a request's idle timeout in seconds (0: none), so an event stream outlives Bun's `idleTimeout`. */
  timeout?(request: Request, seconds: number): void;
}

/** A host `fetch` handler for everything that is not the engine's. */
export type BunFetch = (request: Request, server: BunServer) => Response | Promise<Response> | undefined;

/** Options of {@link bunHandlers}. */
export interface BunHandlersOptions {
  /** Path of the WebSocket endpoint and prefix of the engine's HTTP endpoints. @default '/actorspace' */
  path?: string;
  /** The host app's own `fetch`, called for every request that is not the engine's. @default 404 */
  fetch?: BunFetch;
}

/** What {@link bunHandlers} returns: spread it into `Bun.serve`. */
export interface BunHandlers {
  /**
   * Bun's `fetch`: upgrades WebSocket requests to `path`, answers the engine's HTTP endpoints,
   * and hands every other request to the host's `fetch` (or answers 404). Resolves undefined
   * once Bun has taken the upgrade.
   */
  fetch(request: Request, server: BunServer): Promise<Response | undefined>;
  /** Bun's `websocket` handlers, which hand each socket to the engine. */
  websocket: {
    /** Bun's frame size limit: above the engine's `maxPayload`, so the engine closes oversize frames with 4413. */
    maxPayloadLength: number;
    /** Hands a new socket to the engine. */
    open(ws: BunWebSocket): void;
    /** Passes an incoming frame to the engine. */
    message(ws: BunWebSocket, message: string | ArrayBufferView | ArrayBuffer): void;
    /** Tells the engine the socket is gone. */
    close(ws: BunWebSocket, code: number, reason: string): void;
  };
}

/**
 * Handlers for `Bun.serve`: upgrades to `path` pair with the engine's routes, `GET <path>/health`
 * is answered, and every other request goes to `options.fetch` (Bun's `routes` keep working too).
 *
 * @example
 * import { createActorServer } from '@actorspace/server';
 * import { bunHandlers } from '@actorspace/server/bun';
 *
 * const actors = createActorServer({ routes: { '/todos': () => new TodoServerActor() } });
 * Bun.serve({
 *   port: 8080,
 *   ...bunHandlers(actors, { path: '/actorspace', fetch: () => new Response('my app') }),
 * });
 */
export function bunHandlers(actors: ActorServer<any>, options: BunHandlersOptions = {}): BunHandlers {
  const path = normalizePath(options.path ?? DEFAULT_PATH);
  const host = options.fetch;
  const notFound = (): Response => new Response('Not Found', { status: 404 });

  return {
    async fetch(request, server) {
      const pathname = pathnameOf(request.url);
      if (pathname === path && request.headers.get('upgrade')?.toLowerCase() === 'websocket') {
        if (!actors.checkOrigin(request.headers.get('origin'), request.headers))
          return new Response('Forbidden', { status: 403 });
        const address = server.requestIP?.(request)?.address;
        const peerRequest: PeerRequest = { url: request.url, headers: request.headers };
        if (address !== undefined) peerRequest.remoteAddress = address;
        if (server.upgrade(request, { data: { request: peerRequest, connection: null } })) return undefined;
        return new Response('WebSocket upgrade failed', { status: 400 });
      }
      if (actors.wants(request.method, request.url, path)) {
        const ask: HttpRequest = {
          method: request.method,
          url: request.url,
          headers: request.headers,
          signal: request.signal,
          body: request.body,
        };
        const address = server.requestIP?.(request)?.address;
        if (address !== undefined) ask.remoteAddress = address;
        const reply = await actors.http(ask, path);
        if (reply) {
          // An event stream is idle between events and heartbeats: longer than Bun's default
          // idleTimeout (10 s) would allow.
          if (reply.body instanceof ReadableStream) server.timeout?.(request, 0);
          return toResponse(reply);
        }
      }
      return host ? ((await host(request, server)) ?? notFound()) : notFound();
    },
    websocket: {
      // Above the engine's limit, so an oversize frame reaches the engine and gets 4413.
      maxPayloadLength: actors.maxPayload * 2 + 1024,
      open(ws) {
        ws.data.connection = actors.handle({
          send: (frame) => {
            ws.send(frame);
          },
          close: (code, reason) => ws.close(code, reason),
          // The engine stays under its high-water mark, far below Bun's backpressure limit
          // (16 MiB), so Bun never drops a frame (send() returning 0).
          bufferedAmount: () => ws.getBufferedAmount?.() ?? 0,
          request: ws.data.request,
        });
      },
      message(ws, message) {
        ws.data.connection?.message(message);
      },
      close(ws, code, reason) {
        ws.data.connection?.closed(code, reason);
        ws.data.connection = null;
      },
    },
  };
}

// Bun streams a ReadableStream body as it comes, and cancels it when the client goes away.
function toResponse(reply: HttpResponse): Response {
  return new Response(reply.body as BodyInit, { status: reply.status, headers: reply.headers });
}
