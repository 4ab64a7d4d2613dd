/**
 * The one error type every public ActorSpace path throws or rejects with, the union of its
 * codes, and the WebSocket close codes of the pairing protocol.
 */

/** Every failure an ActorSpace API can report. The code is the contract; the message is for people. */
export type ErrorCode =
  | 'TIMEOUT'
  | 'ABORTED'
  | 'NO_SUCH_ACTOR'
  | 'CHANNEL_CLOSED'
  | 'REMOTE_ERROR'
  | 'MAILBOX_FULL'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNAUTHORIZED'
  | 'FORBIDDEN'
  | 'INVALID_MESSAGE'
  | 'PROTOCOL';

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'TIMEOUT',
  'ABORTED',
  'NO_SUCH_ACTOR',
  'CHANNEL_CLOSED',
  'REMOTE_ERROR',
  'MAILBOX_FULL',
  'PAYLOAD_TOO_LARGE',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'INVALID_MESSAGE',
  'PROTOCOL',
]);

/** True when `code` is one of the {@link ErrorCode}s. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && ERROR_CODES.has(code);
}

/**
 * WebSocket close codes used by the pairing protocol (docs/protocol.md has one row per code).
 * 1000/1001 are RFC 6455 codes; the 44xx codes mirror the HTTP status they resemble.
 */
export const CloseCode = {
  /** The channel was closed on purpose by either side. */
  NORMAL: 1000,
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** A frame could not be decoded, its kind is unknown, or the protocol version is not spoken. */
  BAD_FRAME: 4400,
  /** `authenticate` refused the hello's credentials. */
  UNAUTHENTICATED: 4401,
  /** The origin or the caller is not allowed here. */
  FORBIDDEN: 4403,
  /** The hello names a route the server does not have. */
  UNKNOWN_ROUTE: 4404,
  /** No hello arrived in time, or the peer stopped answering heartbeats. */
  TIMEOUT: 4408,
  /** A frame was larger than the receiver's `maxPayload`. */
  PAYLOAD_TOO_LARGE: 4413,
  /** The peer sent more than its rate allows. */
  RATE_LIMITED: 4429,
} as const;

/** One of the {@link CloseCode} values. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/** The {@link ErrorCode} a client reports when the server closes its handshake with `closeCode`. */
export function errorCodeForClose(closeCode: number): ErrorCode {
  if (closeCode === CloseCode.UNAUTHENTICATED) return 'UNAUTHORIZED';
  if (closeCode === CloseCode.FORBIDDEN) return 'FORBIDDEN';
  if (closeCode === CloseCode.PAYLOAD_TOO_LARGE) return 'PAYLOAD_TOO_LARGE';
  return 'PROTOCOL';
}

/** Options for {@link ActorSpaceError}. */
export interface ActorSpaceErrorOptions {
  /** Structured facts about the failure (the remote error's name and code, a close code...). */
  details?: unknown;
  /** The error that caused this one. */
  cause?: unknown;
}

/**
 * The error every public ActorSpace path throws or rejects with. Test it by `code`.
 *
 * @example
 * try { await ref.ask('addTodo', { text }) } catch (e) { if (e.code === 'TIMEOUT') retry() }
 */
export class ActorSpaceError extends Error {
  /** What failed, from {@link ErrorCode}. */
  readonly code: ErrorCode;
  /** Structured facts about the failure, when there are any. */
  readonly details?: unknown;

  constructor(code: ErrorCode, message: string, options: ActorSpaceErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ActorSpaceError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }
}

/** The shape in which an error crosses the wire. */
export interface WireError {
  code: ErrorCode;
  name: string;
  message: string;
  /** The remote error's own `code` property, when it had one that is not an {@link ErrorCode}. */
  remoteCode?: unknown;
  stack?: string;
  details?: unknown;
}

/** Turns anything thrown by a handler into its wire shape; stacks only when `withStack`. */
export function toWireError(error: unknown, withStack: boolean): WireError {
  if (error instanceof ActorSpaceError) {
    const wire: WireError = { code: error.code, name: error.name, message: error.message };
    if (error.details !== undefined && isJsonSafe(error.details)) wire.details = error.details;
    if (withStack && error.stack) wire.stack = error.stack;
    return wire;
  }
  if (error instanceof Error) {
    const wire: WireError = { code: 'REMOTE_ERROR', name: error.name, message: error.message };
    const own = (error as { code?: unknown }).code;
    if (own !== undefined && isJsonSafe(own)) wire.remoteCode = own;
    if (withStack && error.stack) wire.stack = error.stack;
    return wire;
  }
  return { code: 'REMOTE_ERROR', name: 'Error', message: describeThrown(error) };
}

/** Rebuilds an {@link ActorSpaceError} from its wire shape, tolerating anything malformed. */
export function fromWireError(wire: unknown, context: string): ActorSpaceError {
  const w = (typeof wire === 'object' && wire !== null ? wire : {}) as Partial<WireError>;
  const code: ErrorCode = isErrorCode(w.code) ? w.code : 'REMOTE_ERROR';
  const name = typeof w.name === 'string' ? w.name : 'Error';
  const message = typeof w.message === 'string' ? w.message : 'remote error';
  if (code === 'REMOTE_ERROR') {
    const details: Record<string, unknown> = { name, message };
    if (w.remoteCode !== undefined) details.code = w.remoteCode;
    if (typeof w.stack === 'string') details.stack = w.stack;
    return new ActorSpaceError(code, `${context} failed remotely: ${name}: ${message}`, { details });
  }
  const err = new ActorSpaceError(code, message, w.details === undefined ? {} : { details: w.details });
  if (typeof w.stack === 'string') err.stack = w.stack;
  return err;
}

function describeThrown(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function isJsonSafe(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}

/** @internal The error of a message refused because the target's mailbox is full. */
export function mailboxFull(target: string, type: string): ActorSpaceError {
  return new ActorSpaceError('MAILBOX_FULL', `mailbox of actor ${target} is full; "${type}" was refused`, {
    details: { target, type },
  });
}
