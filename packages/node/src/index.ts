/**
 * `@actorspace/node`: the Node entry. Imported by Node clients of an ActorSpace server
 * (service processes, AI agents, scripts) and by code that runs actor spaces across
 * worker_threads, and by scripts that start a server from an actorspace.config.js with
 * `serve()`. It re-exports what such code needs from `@actorspace/core`.
 *
 * @module @actorspace/node
 */
export {
  type Actor,
  type ActorOptions,
  type ActorRef,
  ActorSpace,
  ActorSpaceError,
  type AskOptions,
  acceptHandshake,
  type Caller,
  type CallerType,
  Channel,
  type ChannelOptions,
  CloseCode,
  clientHandshake,
  createMemoryTransportPair,
  defineActor,
  describeActor,
  type ErrorCode,
  errorCodeForClose,
  type FlowOptions,
  type HeartbeatOptions,
  isActorRef,
  type Member,
  type MessageContext,
  type MessageDefinition,
  messagePortTransport,
  type ReconnectOptions,
  type Recovery,
  type RemoteActor,
  type RemoteApi,
  Session,
  type SessionStatus,
  type SpaceOptions,
  type SubscribeOptions,
  Subscription,
  type TopicHandler,
  type TopicMeta,
  type Transport,
  webSocketTransport,
} from '@actorspace/core';
export {
  type ServeConfig,
  type ServedPage,
  type ServeHandle,
  type ServeOptions,
  serve,
} from './cli/serve.js';
export { connect, type NodeConnectOptions } from './connect.js';
export { type WorkerPortLike, workerTransport } from './worker-threads.js';
