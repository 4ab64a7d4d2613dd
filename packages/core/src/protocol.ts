/**
 * The ActorSpace wire protocol, version 1 (docs/protocol.md is the normative description).
 * A transport message is one JSON array frame `[kind, ...fields]`, or a batch: a JSON array
 * of frames, which is how the frames of one event-loop turn share one socket write.
 */
import { CloseCode } from './errors.js';
import { exceedsBytes } from './internal/utf8.js';

/** Protocol version spoken by this build; a hello with another version is closed with 4400. */
export const PROTOCOL_VERSION = 1;

/** Frame kinds. Numbers keep frames short; docs/protocol.md names each one. */
export const Kind = {
  TELL: 1,
  ASK: 2,
  RESOLVE: 3,
  REJECT: 4,
  CANCEL: 5,
  ERROR: 6,
  PING: 8,
  PONG: 9,
  ACK: 10,
  HELLO: 16,
  WELCOME: 17,
} as const;

/** Client → server, first frame of a paired channel. */
export interface HelloFields {
  v: number;
  route?: string;
  actor?: string;
  token?: string;
  resume?: string;
  /** The client keeps and numbers its frames and can resume; without it the server keeps no replay buffer. */
  resumable?: boolean;
  /** Largest frame the client accepts, in bytes. */
  maxPayload?: number;
  /** With `resume`: how many data frames of the session the client has received. */
  ack?: number;
}

/** Server → client answer to a hello; nothing else is sent before it. */
export interface WelcomeFields {
  v: number;
  actor?: string;
  session?: string;
  maxPayload?: number;
  /** True when the hello's `resume` session continues; `ack` then counts the frames the server received. */
  resumed?: boolean;
  ack?: number;
}

export type TellFrame = [typeof Kind.TELL, string, string, unknown, unknown?, string?];
export type AskFrame = [typeof Kind.ASK, number, string, string, unknown, unknown?, string?];
export type ResolveFrame = [typeof Kind.RESOLVE, number, unknown, unknown?];
export type RejectFrame = [typeof Kind.REJECT, number, unknown];
export type CancelFrame = [typeof Kind.CANCEL, number];
export type ErrorFrame = [typeof Kind.ERROR, unknown];
export type PingFrame = [typeof Kind.PING];
export type PongFrame = [typeof Kind.PONG];
export type AckFrame = [typeof Kind.ACK, number];
export type HelloFrame = [typeof Kind.HELLO, HelloFields];
export type WelcomeFrame = [typeof Kind.WELCOME, WelcomeFields];

/** Any decoded frame. */
export type Frame =
  | TellFrame
  | AskFrame
  | ResolveFrame
  | RejectFrame
  | CancelFrame
  | ErrorFrame
  | PingFrame
  | PongFrame
  | AckFrame
  | HelloFrame
  | WelcomeFrame;

/** A frame that broke the protocol: the channel closes with `closeCode`. */
export class ProtocolViolation extends Error {
  readonly closeCode: number;
  constructor(message: string, closeCode: number = CloseCode.BAD_FRAME) {
    super(message);
    this.name = 'ProtocolViolation';
    this.closeCode = closeCode;
  }
}

const MAX_GUID_LENGTH = 256;
const MAX_TYPE_LENGTH = 256;

/**
 * Decodes one transport message into its frames. Throws {@link ProtocolViolation} (never
 * anything else) for input that is not a protocol v1 message.
 */
export function decodeMessage(message: string | Uint8Array, maxPayload: number): Frame[] {
  if (typeof message !== 'string') {
    throw new ProtocolViolation('binary frames are not part of protocol v1; send JSON text');
  }
  if (exceedsBytes(message, maxPayload)) {
    throw new ProtocolViolation(
      `frame of ${message.length} characters exceeds maxPayload of ${maxPayload} bytes`,
      CloseCode.PAYLOAD_TOO_LARGE,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw new ProtocolViolation('frame is not valid JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) {
    throw new ProtocolViolation('frame must be a non-empty JSON array');
  }
  if (Array.isArray(parsed[0])) {
    for (const frame of parsed) checkFrame(frame);
    return parsed as Frame[];
  }
  checkFrame(parsed);
  return [parsed as Frame];
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isName(v: unknown, max: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function isOptionalName(v: unknown): boolean {
  return v === undefined || v === null || isName(v, MAX_GUID_LENGTH);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Validates a frame's shape in place; data fields are checked when they are decoded. */
function checkFrame(f: unknown): void {
  if (!Array.isArray(f)) throw new ProtocolViolation('batched frame must be a JSON array');
  if (!frameShapeOk(f)) throw new ProtocolViolation(`malformed frame of kind ${f[0]}`);
}

function frameShapeOk(f: unknown[]): boolean {
  switch (f[0]) {
    case Kind.TELL:
      return (
        f.length >= 4 &&
        f.length <= 6 &&
        isName(f[1], MAX_GUID_LENGTH) &&
        isName(f[2], MAX_TYPE_LENGTH) &&
        isOptionalName(f[5])
      );
    case Kind.ASK:
      return (
        f.length >= 5 &&
        f.length <= 7 &&
        isId(f[1]) &&
        isName(f[2], MAX_GUID_LENGTH) &&
        isName(f[3], MAX_TYPE_LENGTH) &&
        isOptionalName(f[6])
      );
    case Kind.RESOLVE:
      return f.length >= 3 && f.length <= 4 && isId(f[1]);
    case Kind.REJECT:
      return f.length === 3 && isId(f[1]) && isRecord(f[2]);
    case Kind.CANCEL:
      return f.length === 2 && isId(f[1]);
    case Kind.ERROR:
      return f.length === 2 && isRecord(f[1]);
    case Kind.PING:
    case Kind.PONG:
      return f.length === 1;
    case Kind.ACK:
      return f.length === 2 && typeof f[1] === 'number' && Number.isSafeInteger(f[1]) && f[1] >= 0;
    case Kind.HELLO:
    case Kind.WELCOME:
      return f.length === 2 && isRecord(f[1]) && typeof f[1].v === 'number';
    default:
      throw new ProtocolViolation(`unknown frame kind ${JSON.stringify(f[0])?.slice(0, 32)}`);
  }
}
