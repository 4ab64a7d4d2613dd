/**
 * `@actorspace/browser`: what a web page imports. The core API plus a page-aware `connect()`;
 * the same file, bundled, is what servers serve at `<path>/browser.js` for zero-build pages.
 *
 * @module @actorspace/browser
 */
export {
  type Actor,
  type ActorOptions,
  type ActorRef,
  ActorSpace,
  ActorSpaceError,
  type AskOptions,
  type Caller,
  type CallerType,
  Channel,
  type ChannelOptions,
  CloseCode,
  defineActor,
  describeActor,
  type ErrorCode,
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
  type SubscribeOptions,
  Subscription,
  type TopicHandler,
  type TopicMeta,
  type Transport,
  webSocketTransport,
} from '@actorspace/core';
export { type BrowserConnectOptions, connect, resolveSocketUrl } from './connect.js';
