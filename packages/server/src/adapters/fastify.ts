/**
 * @actorspace/server/fastify: a Fastify 5 plugin. The upgrade is taken on Fastify's raw
 * server through the node adapter (no @fastify/websocket needed); the engine's HTTP
 * endpoints become Fastify routes.
 */
import { ActorSpaceError } from '@actorspace/core';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ActorServer } from '../actor-server.js';
import { DEFAULT_PATH, normalizePath } from '../internal/paths.js';
import { attach } from './node.js';

/** Options of {@link actorspaceFastify}. */
export interface ActorspaceFastifyOptions {
  /** The engine to mount. */
  actors: ActorServer<any>;
  /** Path of the WebSocket endpoint and prefix of the engine's HTTP endpoints. @default '/actorspace' */
  path?: string;
}

/**
 * Fastify 5 plugin mounting the engine: upgrades to `path` pair with its routes and
 * `GET <path>/health` is a Fastify route. The app's other routes are untouched; closing
 * Fastify detaches the plugin (close the engine yourself with `actors.close()`).
 *
 * @throws ActorSpaceError `INVALID_MESSAGE` (at register) when `actors` is missing.
 * @example
 * import Fastify from 'fastify';
 * import { createActorServer } from '@actorspace/server';
 * import { actorspaceFastify } from '@actorspace/server/fastify';
 *
 * const app = Fastify();
 * const actors = createActorServer({ routes: { '/todos': () => new TodoServerActor() } });
 * await app.register(actorspaceFastify, { actors, path: '/actorspace' });
 * await app.listen({ port: 8080 });
 */
export const actorspaceFastify: FastifyPluginAsync<ActorspaceFastifyOptions> = async (
  fastify: FastifyInstance,
  options: ActorspaceFastifyOptions,
) => {
  const { actors } = options;
  if (!actors || typeof actors.handle !== 'function') {
    throw new ActorSpaceError(
      'INVALID_MESSAGE',
      'actorspaceFastify needs { actors: createActorServer(...) }',
    );
  }
  const path = normalizePath(options.path ?? DEFAULT_PATH);
  const attachment = attach(fastify.server, actors, { path, http: false });
  fastify.addHook('onClose', async () => attachment.detach());
  fastify.route({
    method: 'GET',
    url: `${path}/health`,
    handler: async (request, reply) => {
      const answer = await actors.http(
        { method: request.method, url: request.url, headers: request.headers },
        path,
      );
      if (!answer) return reply.callNotFound();
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    },
  });
};
