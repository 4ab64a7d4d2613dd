/**
 * @actorspace/server: the runtime-agnostic engine. Imported by server code that mounts
 * actor pairing; each framework's adapter is its own subpath (`@actorspace/server/node`,
 * `/express`, `/fastify`, `/bun`, `/hono`).
 */
export {
  ActorServer,
  type ActorServerEvents,
  type ActorServerOptions,
  type ConnectionInfo,
  createActorServer,
  type HealthReport,
  type HttpRequest,
  type HttpResponse,
} from './actor-server.js';
export type {
  ActorFactory,
  AuthRequest,
  Route,
  RouteContext,
  RouteDefinition,
  UpgradeRequest,
} from './handshake.js';
export {
  CompositeResourceProvider,
  contentTypeOf,
  type DefaultResourceOptions,
  DefaultResourceProvider,
  type Resource,
  type ResourceProvider,
  type ResourceRequest,
  type StaticOptions,
} from './pages.js';
export type { HeadersLike, Peer, PeerConnection, PeerRequest } from './peer.js';
