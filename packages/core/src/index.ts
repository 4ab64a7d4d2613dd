/**
 * @actorspace/core: the transport-agnostic heart of ActorSpace. Imported by
 * @actorspace/browser, @actorspace/node and @actorspace/server, and directly by code that
 * runs actor spaces over its own transports (workers, iframes, tests).
 */
export {
  type Actor,
  type ActorOptions,
  type AskOptions,
  type Caller,
  defineActor,
  type Handler,
  type Handlers,
  type MessageContext,
  type RemoteApi,
} from './actor.js';
export { type ActorRef, isActorRef, type RemoteActor } from './actor-ref.js';
export { ActorSpace, type Logger, type SpaceEvents, type SpaceOptions } from './actor-space.js';
export {
  type AcceptResult,
  Channel,
  type ChannelEvents,
  type ChannelOptions,
  type ChannelState,
  type HeartbeatOptions,
} from './channel.js';
export { decodeData, encodeData } from './codec.js';
export {
  backoffDelay,
  type ConnectOptions,
  connect,
  type ReconnectOptions,
  Session,
  type SessionEvents,
  type SessionStatus,
  type WebSocketFactory,
} from './connect.js';
export { EventEmitter, type EventMap } from './emitter.js';
export {
  ActorSpaceError,
  type ActorSpaceErrorOptions,
  CloseCode,
  type CloseCodeValue,
  type ErrorCode,
  errorCodeForClose,
  isErrorCode,
} from './errors.js';
export { type HelloFields, Kind, PROTOCOL_VERSION, type WelcomeFields } from './protocol.js';
export {
  ABNORMAL_CLOSURE,
  type CloseHandler,
  type FrameHandler,
  type Transport,
  TransportBase,
} from './transport.js';
export { createMemoryTransportPair } from './transports/memory.js';
export { messagePortTransport, type PortLike } from './transports/message-port.js';
export { isWebSocketLike, type WebSocketLike, webSocketTransport } from './transports/web-socket.js';
