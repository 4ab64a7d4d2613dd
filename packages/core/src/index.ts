/**
 * `@actorspace/core`: the transport-agnostic heart of ActorSpace. Imported by
 * `@actorspace/browser`, `@actorspace/node` and `@actorspace/server`, and directly by code that
 * runs actor spaces over its own transports (workers, iframes, tests).
 *
 * @module @actorspace/core
 */
export {
  type Actor,
  type ActorOptions,
  type DefinedActor,
  defineActor,
  describeActor,
  type Handler,
  type MessageContext,
} from './actor.js';
export {
  type ActorRef,
  type AskOptions,
  type Handlers,
  isActorRef,
  type RemoteApi,
  type Router,
  refThrough,
} from './actor-ref.js';
export { ActorSpace, type Logger, type SpaceEvents, type SpaceOptions } from './actor-space.js';
export { ANONYMOUS, type Caller, type CallerType, frozenCaller } from './caller.js';
export {
  Channel,
  type ChannelEvents,
  type ChannelObserver,
  type ChannelOptions,
  type ChannelState,
  type FlowOptions,
  type HeartbeatOptions,
  type RemoteActor,
} from './channel.js';
export {
  type DataLimits,
  decodeData,
  encodeData,
  type RefExporter,
  type RefImporter,
  type WireRef,
} from './codec.js';
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
export {
  type AnswerOf,
  type DataOf,
  type DefinedEntries,
  type DefinitionFor,
  type EntriesOf,
  type Entry,
  type InputOf,
  type Issue,
  type MessageDefinition,
  type MessageDescription,
  type OutputFor,
  type OutputOf,
  OutputValidationError,
  type Schema,
  type SchemaByCaller,
  type StandardJSONSchemaV1,
  type StandardSchemaV1,
  type TypedDefinition,
} from './definitions.js';
export { EventEmitter, type EventMap } from './emitter.js';
export { EncodedTell } from './encoded.js';
export {
  ActorSpaceError,
  type ActorSpaceErrorOptions,
  CloseCode,
  type CloseCodeValue,
  closeCodeFor,
  type ErrorCode,
  errorCodeForClose,
  httpStatusFor,
  isErrorCode,
} from './errors.js';
export {
  type Acceptance,
  acceptHandshake,
  type ClientHello,
  clientHandshake,
  type Handshake,
  type HandshakeLink,
  type Pairing,
  serverHandshake,
} from './handshake.js';
export {
  type HelloFields,
  Kind,
  PROTOCOL_VERSION,
  ProtocolViolation,
  readHello,
  type WelcomeFields,
} from './protocol.js';
export {
  checkTopic,
  type Member,
  type Recovery,
  SESSION_ACTOR,
  type SubscribeOptions,
  Subscription,
  type SubscriptionEvents,
  TOPICS_ACTOR,
  type TopicHandler,
  type TopicMeta,
} from './topics.js';
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
