/**
 * `@actorspace/server/express`: mounts the engine in an Express 5 (or 4) app. The upgrade goes
 * through the node adapter; the engine's HTTP endpoints become an Express middleware, so
 * they sit in the app's middleware order like any other route.
 *
 * @module @actorspace/server/express
 */
import type { Server as HttpServer } from 'node:http';
import type { Application, NextFunction, Request, RequestHandler, Response } from 'express';
import type { ActorServer } from '../actor-server.js';
import { DEFAULT_PATH, normalizePath } from '../internal/paths.js';
import { type Attachment, attach, serveHttp } from './node.js';

/** Options of {@link mountExpress}. */
export interface MountExpressOptions {
  /** Path of the WebSocket endpoint and prefix of the engine's HTTP endpoints. @default '/actorspace' */
  path?: string;
}

/**
 * Mounts the engine in an Express app and its HTTP server: WebSocket upgrades to `path`
 * pair with the engine's routes, `GET <path>/health` is answered by a middleware added with
 * `app.use`, and every other route, middleware and WebSocket endpoint of the app keeps working.
 *
 * @example
 * import express from 'express';
 * import { createServer } from 'node:http';
 * import { createActorServer } from '@actorspace/server';
 * import { mountExpress } from '@actorspace/server/express';
 *
 * const app = express();
 * const server = createServer(app);
 * const actors = createActorServer({ routes: { '/todos': () => new TodoServerActor() } });
 * mountExpress(app, server, actors, { path: '/actorspace' });
 * server.listen(8080);
 */
export function mountExpress(
  app: Application,
  server: HttpServer,
  actors: ActorServer<any>,
  options: MountExpressOptions = {},
): Attachment {
  const path = normalizePath(options.path ?? DEFAULT_PATH);
  app.use(expressMiddleware(actors, { path }));
  return attach(server, actors, { path, http: false });
}

/** The Express middleware answering the engine's HTTP endpoints under `path`; everything else goes to `next()`. */
export function expressMiddleware(
  actors: ActorServer<any>,
  options: MountExpressOptions = {},
): RequestHandler {
  const path = normalizePath(options.path ?? DEFAULT_PATH);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!actors.wants(req.method, req.url, path)) {
      next();
      return;
    }
    serveHttp(actors, req, res, path).then((served) => {
      if (!served) next();
    }, next);
  };
}
