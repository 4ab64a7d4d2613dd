/**
 * @actorspace/node: the Node entry. Imported by Node clients of an ActorSpace server
 * (service processes, AI agents, scripts) and by code that runs actor spaces across
 * worker_threads. It re-exports what such code needs from @actorspace/core.
 */
export {
  type Actor,
  type ActorOptions,
  type ActorRef,
  ActorSpace,
  ActorSpaceError,
  type AskOptions,
  type Caller,
  Channel,
  type ChannelOptions,
  CloseCode,
  createMemoryTransportPair,
  defineActor,
  type ErrorCode,
  errorCodeForClose,
  type HeartbeatOptions,
  isActorRef,
  type MessageContext,
  messagePortTransport,
  type ReconnectOptions,
  type RemoteActor,
  type RemoteApi,
  Session,
  type SessionStatus,
  type SpaceOptions,
  type Transport,
  webSocketTransport,
} from '@actorspace/core';
export { connect, type NodeConnectOptions } from './connect.js';
export { type WorkerPortLike, workerTransport } from './worker-threads.js';
