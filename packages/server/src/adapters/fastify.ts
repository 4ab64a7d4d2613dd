/**
 * `@actorspace/server/fastify`: a Fastify 5 plugin. The upgrade is taken on Fastify's raw
 * server through the node adapter (no `@fastify/websocket` needed); the engine's HTTP
 * endpoints become Fastify routes.
 *
 * @module @actorspace/server/fastify
 */
import { ActorSpaceError } from '@actorspace/core';
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { ActorServer, HttpRequest } from '../actor-server.js';
import { writeNodeReply } from '../internal/node-reply.js';
import { DEFAULT_PATH, normalizePath } from '../internal/paths.js';
import { attach, closeSignal } from './node.js';

/** Options of {@link actorspaceFastify}. */
export interface ActorspaceFastifyOptions {
  /** The engine to mount. */
  actors: ActorServer<any>;
  /** Path of the WebSocket endpoint and prefix of the engine's HTTP endpoints. @default '/actorspace' */
  path?: string;
}

const plugin: FastifyPluginAsync<ActorspaceFastifyOptions> = async (
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
  // The engine answers its own URLs (health, the browser bundle, zero-build pages, static
  // folders) before routing; every other request goes on to the app's routes untouched.
  fastify.addHook('onRequest', async (request, reply) => {
    if (!actors.wants(request.method, request.url, path)) return;
    // onRequest runs before Fastify reads the body: the gateway reads the raw stream itself.
    const ask: HttpRequest = {
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: request.raw,
    };
    if (request.raw.socket?.remoteAddress !== undefined) ask.remoteAddress = request.raw.socket.remoteAddress;
    ask.signal = closeSignal(reply.raw);
    const answer = await actors.http(ask, path);
    if (!answer) return;
    if (typeof answer.body === 'string' || answer.body instanceof Uint8Array) {
      return reply.code(answer.status).headers(answer.headers).send(answer.body);
    }
    // An event stream: written on the raw response as it comes, past Fastify's serializers
    // and onSend hooks (so no compression buffers it).
    reply.hijack();
    writeNodeReply(reply.raw, answer);
    return reply;
  });
};

/**
 * Fastify 5 plugin mounting the engine: upgrades to `path` pair with its routes, and the
 * engine's HTTP answers (`<path>/health`, the browser bundle, zero-build pages) are served
 * from an `onRequest` hook. The app's other routes are untouched; closing Fastify detaches
 * the plugin (close the engine yourself with `actors.close()`).
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
// skip-override: the hook must reach the whole app, not only this plugin's encapsulated context.
export const actorspaceFastify: FastifyPluginAsync<ActorspaceFastifyOptions> = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
});
