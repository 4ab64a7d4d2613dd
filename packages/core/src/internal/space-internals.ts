/** What a channel needs from its space, kept apart so neither file imports the other's class. */
import type { Actor } from '../actor.js';
import type { ActorRef, Router } from '../actor-ref.js';
import type { Channel } from '../channel.js';
import type { ActorSpaceError } from '../errors.js';
import type { Mailbox } from '../mailbox.js';

/** A registered actor. */
export interface ActorEntry {
  actor: Actor;
  mailbox: Mailbox;
  ref: ActorRef;
}

export type LogLevel = 'debug' | 'warn' | 'error';

export interface SpaceInternals {
  readonly router: Router;
  readonly maxPayload: number;
  readonly askTimeout: number;
  entry(guid: string): ActorEntry | undefined;
  localRef(guid: string): ActorRef;
  log(level: LogLevel, message: string, details?: unknown): void;
  reportError(error: ActorSpaceError, channel: Channel | null): void;
  channelClosed(channel: Channel): void;
}
