/** What a handler learns about the message it handles. */
import type { ActorRef } from './actor-ref.js';
import type { Caller } from './caller.js';
import type { Channel } from './channel.js';

/**
 * Facts about the message being handled. `Sender` types `sender` where the handler knows who
 * sends it (`ctx: MessageContext<typeof clientActor>` in a server handler).
 */
export interface MessageContext<Sender = any> {
  /** A reply-capable reference to the sending actor, when the message was sent from inside one. */
  readonly sender?: ActorRef<Sender>;
  /**
   * Who is calling: set by the receiving side from authentication (the server's access token
   * or `authenticate`), never from anything the peer sends; `system` for the space's own code.
   */
  readonly caller?: Caller;
  /** The channel the message came over; absent for local messages. */
  readonly channel?: Channel;
  /** Aborted when the asker aborts, times out or disconnects. */
  readonly signal: AbortSignal;
}

/** A message handler: the message's data and context in, the answer (or its promise) out. */
export type Handler = (data: any, ctx: MessageContext) => unknown;
