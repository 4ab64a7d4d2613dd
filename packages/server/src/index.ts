/**
 * `@actorspace/server`: the runtime-agnostic engine. Imported by server code that mounts
 * actor pairing; each framework's adapter is its own subpath (`@actorspace/server/node`,
 * `/express`, `/fastify`, `/bun`, `/hono`).
 *
 * @module @actorspace/server
 */
export {
  ActorServer,
  type ActorServerEvents,
  type ActorServerOptions,
  type ConnectionInfo,
  createActorServer,
  type HealthReport,
  type HeartbeatByCaller,
  type HttpRequest,
  type HttpResponse,
  type RateLimit,
  type SessionHandle,
  type SessionInfo,
} from './actor-server.js';
export type { Backplane, BackplaneEvent, BackplaneHost, BackplaneKeep } from './backplane.js';
export type { ClusterOptions } from './cluster.js';
export type { UpgradeRequest } from './connection.js';
export type { GatewayOptions, PublicSessionInfo, SessionChange } from './gateway.js';
export type { HttpBody } from './gateway-http.js';
export type { Authenticate, AuthRequest, CallerInit } from './handshake.js';
export type { ClusterLinkOptions } from './links.js';
export type { MetricsOptions } from './metrics.js';
export type { Imports } from './modules.js';
export type { StaticOptions } from './pages.js';
export type { HeadersLike, Peer, PeerConnection, PeerRequest } from './peer.js';
export {
  CompositeResourceProvider,
  contentTypeOf,
  type DefaultResourceOptions,
  DefaultResourceProvider,
  type Resource,
  type ResourceProvider,
  type ResourceRequest,
} from './resources.js';
export type { ActorFactory, Route, RouteContext, RouteDefinition } from './routes.js';
export type { ListedSession } from './session.js';
export type { EventStreamOptions } from './sse.js';
export {
  type AsymmetricKey,
  type CreateAccessTokenOptions,
  createAccessToken,
  createTokenVerifier,
  type Secret,
  type TokenCaller,
  type VerifiedToken,
  type VerifyAccessTokenOptions,
  verifyAccessToken,
} from './tokens.js';
export type { HistoryOptions, Rule, SlowOptions, TopicInfo, TopicListener, TopicOptions } from './topics.js';
