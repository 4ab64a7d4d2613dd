/**
 * The one error type every public ActorSpace path throws or rejects with, the union of its
 * codes, the WebSocket close codes of the pairing protocol, and the one table that ties each
 * error code to its close code and HTTP status.
 */

/**
 * WebSocket close codes used by the pairing protocol (docs/protocol.md has one row per code).
 * 1000/1001/1011 are RFC 6455 codes; the 44xx codes mirror the HTTP status they resemble.
 */
export const CloseCode = {
  /** The channel was closed on purpose by either side. */
  NORMAL: 1000,
  /** The server is shutting down: the session is over (clients pair again, fresh). */
  GOING_AWAY: 1001,
  /** Something failed inside the closing side. */
  INTERNAL_ERROR: 1011,
  /** A frame could not be decoded, its kind is unknown, or the protocol version is not spoken. */
  BAD_FRAME: 4400,
  /** The hello's credentials were refused. */
  UNAUTHENTICATED: 4401,
  /** The origin or the caller is not allowed here. */
  FORBIDDEN: 4403,
  /** The hello names a route the server does not have. */
  UNKNOWN_ROUTE: 4404,
  /** No hello or welcome arrived in time, or the peer stopped answering heartbeats. */
  TIMEOUT: 4408,
  /** A frame was larger than the receiver's `maxPayload`. */
  PAYLOAD_TOO_LARGE: 4413,
  /** The peer spent a budget: its rate limit, its flow-control window, or the bytes it left unread. */
  RATE_LIMITED: 4429,
} as const;

/** One of the {@link CloseCode} values. */
export type CloseCodeValue = (typeof CloseCode)[keyof typeof CloseCode];

/**
 * Every failure an ActorSpace API can report, with the close code a channel or a refused
 * handshake uses for it and the HTTP status an HTTP endpoint answers it with. The code is the
 * contract; the message is for people.
 */
const TABLE = {
  TIMEOUT: [CloseCode.TIMEOUT, 504],
  // No close code: an abort ends one ask, never a channel. 499 "client closed request":
  // nobody waits for the answer any more.
  ABORTED: [0, 499],
  NO_SUCH_ACTOR: [CloseCode.UNKNOWN_ROUTE, 404],
  CHANNEL_CLOSED: [CloseCode.GOING_AWAY, 503],
  REMOTE_ERROR: [CloseCode.INTERNAL_ERROR, 502],
  MAILBOX_FULL: [CloseCode.RATE_LIMITED, 429],
  PAYLOAD_TOO_LARGE: [CloseCode.PAYLOAD_TOO_LARGE, 413],
  UNAUTHORIZED: [CloseCode.UNAUTHENTICATED, 401],
  FORBIDDEN: [CloseCode.FORBIDDEN, 403],
  // PROTOCOL before INVALID_MESSAGE: a 4400 close reads back as PROTOCOL.
  PROTOCOL: [CloseCode.BAD_FRAME, 400],
  INVALID_MESSAGE: [CloseCode.BAD_FRAME, 400],
} as const satisfies Record<string, readonly [number, number]>;

/**
 * Every failure an ActorSpace API can report (docs/protocol.md has the table of codes, close
 * codes and HTTP statuses).
 * @useDeclaredType
 */
export type ErrorCode = keyof typeof TABLE;

/** True when `code` is one of the {@link ErrorCode}s. */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.hasOwn(TABLE, code);
}

/** The close code a channel or a refused handshake uses for `code`. */
export function closeCodeFor(code: ErrorCode): number {
  return TABLE[code][0] || CloseCode.NORMAL;
}

/** The HTTP status an HTTP endpoint answers `code` with. */
export function httpStatusFor(code: ErrorCode): number {
  return TABLE[code][1];
}

/**
 * The {@link ErrorCode} a client reports when its channel closes with `closeCode`: the first
 * row of the table with that close code, or `PROTOCOL` for a code the table does not have.
 */
export function errorCodeForClose(closeCode: number): ErrorCode {
  for (const code in TABLE) if (TABLE[code as ErrorCode][0] === closeCode) return code as ErrorCode;
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

  /**
   * Makes an error with a code from {@link ErrorCode}; the library makes these, and so can
   * handlers that want the asker to see a code rather than `REMOTE_ERROR`.
   * @param code What failed.
   * @param message What happened, for people.
   * @param options `details` and `cause`.
   */
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
  const wire: WireError =
    error instanceof ActorSpaceError
      ? { code: error.code, name: error.name, message: error.message }
      : {
          code: 'REMOTE_ERROR',
          name: error instanceof Error ? error.name : 'Error',
          message: error instanceof Error ? error.message : describeThrown(error),
        };
  if (error instanceof ActorSpaceError) {
    // A REMOTE_ERROR's details are the failing side's own (an output check's issues quote the answer).
    if (error.details !== undefined && error.code !== 'REMOTE_ERROR' && isJsonSafe(error.details)) {
      wire.details = error.details;
    }
  } else if (error instanceof Error) {
    const own = (error as { code?: unknown }).code;
    if (own !== undefined && isJsonSafe(own)) wire.remoteCode = own;
  }
  if (withStack && error instanceof Error && error.stack) wire.stack = error.stack;
  return wire;
}

/**
 * Rebuilds an {@link ActorSpaceError} from its wire shape, tolerating anything malformed.
 * `what` names the message it answers (`ask "add" to actor s1`), and every message says it.
 */
export function fromWireError(wire: unknown, what: string): ActorSpaceError {
  const w = (typeof wire === 'object' && wire !== null ? wire : {}) as Partial<WireError>;
  const code: ErrorCode = isErrorCode(w.code) ? w.code : 'REMOTE_ERROR';
  const name = typeof w.name === 'string' ? w.name.slice(0, 256) : 'Error';
  const message = typeof w.message === 'string' ? w.message : 'remote error';
  if (code === 'REMOTE_ERROR') {
    const details: Record<string, unknown> = { name, message };
    if (w.remoteCode !== undefined) details.code = w.remoteCode;
    if (typeof w.stack === 'string') details.stack = w.stack;
    return new ActorSpaceError(code, `${what} failed remotely: ${name}: ${message}`, { details });
  }
  const err = new ActorSpaceError(
    code,
    message.includes(what) ? message : `${what}: ${message}`,
    w.details === undefined ? {} : { details: w.details },
  );
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

/** How a message names itself in errors: `tell "add" to actor s1`. */
export function describeMessage(kind: 'tell' | 'ask', type: string, target: string): string {
  return `${kind} "${type}" to actor ${target}`;
}

/** The error of a message refused because the target cannot take more. */
export function mailboxFull(what: string, why: string, details?: unknown): ActorSpaceError {
  return new ActorSpaceError('MAILBOX_FULL', `${what} was refused: ${why}`, details ? { details } : {});
}
