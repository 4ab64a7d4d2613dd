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
  Channel,
  type ChannelOptions,
  CloseCode,
  defineActor,
  type ErrorCode,
  isActorRef,
  type MessageContext,
  messagePortTransport,
  type ReconnectOptions,
  type RemoteActor,
  type RemoteApi,
  Session,
  type SessionStatus,
  type Transport,
  webSocketTransport,
} from '@actorspace/core';
export { type BrowserConnectOptions, connect, resolveSocketUrl } from './connect.js';
