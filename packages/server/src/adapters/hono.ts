/**
 * `@actorspace/server/hono`: a Hono sub-app with the engine's WebSocket endpoint and HTTP
 * endpoints, for any runtime Hono's `upgradeWebSocket` helper supports (tested on Node with
 * `@hono/node-ws`).
 *
 * @module @actorspace/server/hono
 */
import { Hono, type MiddlewareHandler } from 'hono';
import type { UpgradeWebSocket, WSContext, WSEvents } from 'hono/ws';
import type { ActorServer, HttpRequest } from '../actor-server.js';
import { DEFAULT_PATH, normalizePath } from '../internal/paths.js';
import type { PeerConnection, PeerRequest } from '../peer.js';

/** Options of {@link honoRoutes}. */
export interface HonoRoutesOptions {
  /** The runtime's `upgradeWebSocket` helper (`@hono/node-ws`, `hono/bun`, `hono/deno`...). */
  upgradeWebSocket: UpgradeWebSocket<any, any, any>;
  /** Path of the WebSocket endpoint and prefix of the engine's HTTP endpoints. @default '/actorspace' */
  path?: string;
}

/**
 * A Hono app with the engine's endpoints: mount it with `app.route('/', honoRoutes(...))`.
 * Browser origins refused by `origins` get HTTP 403 before the upgrade.
 *
 * @example
 * import { serve } from '@hono/node-server';
 * import { createNodeWebSocket } from '@hono/node-ws';
 * import { Hono } from 'hono';
 * import { createActorServer } from '@actorspace/server';
 * import { honoRoutes } from '@actorspace/server/hono';
 *
 * const app = new Hono();
 * const { injectWebSocket, upgradeWebSocket } = createNodeWebSocket({ app });
 * const actors = createActorServer({ routes: { '/todos': () => new TodoServerActor() } });
 * app.route('/', honoRoutes(actors, { upgradeWebSocket }));
 * injectWebSocket(serve({ fetch: app.fetch, port: 8080 }));
 */
export function honoRoutes(actors: ActorServer<any>, options: HonoRoutesOptions): Hono {
  const path = normalizePath(options.path ?? DEFAULT_PATH);
  const app = new Hono();

  const checkOrigin: MiddlewareHandler = async (c, next) => {
    if (!actors.checkOrigin(c.req.header('origin'), c.req.raw.headers)) return c.text('Forbidden', 403);
    await next();
  };

  app.get(
    path,
    checkOrigin,
    options.upgradeWebSocket((c) => {
      const request: PeerRequest = { url: c.req.url, headers: c.req.raw.headers };
      let connection: PeerConnection | null = null;
      const events: WSEvents = {
        onOpen(_event, ws: WSContext) {
          connection = actors.handle({
            send: (frame) => ws.send(frame),
            close: (code, reason) => ws.close(code, reason),
            // The runtime's own socket, where it has one that counts its buffer (ws, Bun, browsers).
            bufferedAmount: () => bufferedOf(ws.raw),
            request,
          });
        },
        onMessage(event, _ws) {
          const data = event.data as unknown;
          if (typeof data === 'string' || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
            connection?.message(data);
          } else {
            // A Blob (some runtimes): the protocol is text only, so any bytes are a bad frame.
            connection?.message(new Uint8Array(0));
          }
        },
        onClose(event, _ws) {
          connection?.closed(event.code, event.reason);
          connection = null;
        },
      };
      return events;
    }),
  );

  app.all('*', async (c, next) => {
    if (!actors.wants(c.req.method, c.req.url, path)) return next();
    const ask: HttpRequest = {
      method: c.req.method,
      url: c.req.url,
      headers: c.req.raw.headers,
      signal: c.req.raw.signal,
      body: c.req.raw.body,
    };
    const reply = await actors.http(ask, path);
    if (!reply) return next();
    if (reply.body instanceof ReadableStream) {
      // An event stream, streamed by the runtime as it comes (cancelled when the client goes
      // away). On Bun, `c.env` is the server: lift its idle timeout (10 s by default) for it.
      const bun = c.env as { timeout?: (request: Request, seconds: number) => void; upgrade?: unknown };
      if (typeof bun?.timeout === 'function' && typeof bun.upgrade === 'function') bun.timeout(c.req.raw, 0);
    }
    return c.body(reply.body as any, reply.status as 200, reply.headers);
  });

  return app;
}

/** `bufferedAmount` of a runtime socket (`ws`, the WHATWG WebSocket) or Bun's `getBufferedAmount()`. */
function bufferedOf(raw: unknown): number {
  const socket = raw as { bufferedAmount?: unknown; getBufferedAmount?: () => number } | undefined;
  if (typeof socket?.bufferedAmount === 'number') return socket.bufferedAmount;
  return socket?.getBufferedAmount?.() ?? 0;
}
