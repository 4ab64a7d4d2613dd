/**
 * The ActorSpace wire protocol, version 2 (docs/protocol.md is the normative description).
 * A transport message is one JSON array frame `[kind, ...fields]`, or a batch: a JSON array
 * of frames, which is how the frames of one event-loop turn share one socket write.
 */
import { CloseCode } from './errors.js';
import { exceedsBytes } from './internal/utf8.js';

/** Protocol version spoken by this build; a hello with another version is closed with 4400. */
export const PROTOCOL_VERSION = 2;

/** Frame kinds. Numbers keep frames short; docs/protocol.md names each one. */
export const Kind = {
  /** A one-way message: `[1, target, type, data, meta?, sender?]`. */
  TELL: 1,
  /** A message that wants an answer: `[2, id, target, type, data, meta?, sender?]`. */
  ASK: 2,
  /** The answer to an ask: `[3, id, data, meta?]`. */
  RESOLVE: 3,
  /** An ask failed: `[4, id, error]`. */
  REJECT: 4,
  /** The asker gave up on an ask (timeout, abort): `[5, id]`. */
  CANCEL: 5,
  /** A failure that no ask waits for: `[6, error]`. */
  ERROR: 6,
  /** Heartbeat probe, answered with PONG: `[8]`. */
  PING: 8,
  /** The answer to a PING: `[9]`. */
  PONG: 9,
  /** Resumable sessions: numbered frames received so far, `[10, n]`. */
  ACK: 10,
  /** Bytes of tells and asks consumed so far, which gives the peer credit: `[11, consumed]`. */
  CREDIT: 11,
  /** The client's first message: `[16, {v, ...}]` ({@link HelloFields}). */
  HELLO: 16,
  /** The server's first message, the answer to a hello: `[17, {v, ...}]` ({@link WelcomeFields}). */
  WELCOME: 17,
} as const;

/** Client → server, first frame of a paired channel. */
export interface HelloFields {
  /** The protocol version the client speaks ({@link PROTOCOL_VERSION}). */
  v: number;
  /** The server route to pair with. */
  route?: string;
  /** The guid of the client's root actor. */
  actor?: string;
  /** Credentials for the server's `authenticate`. */
  token?: string;
  /** Session to resume; `ack`, `received` and `consumed` then say where the client stands. */
  resume?: string;
  /** The client keeps and numbers its frames and can resume; without it the server keeps no replay buffer. */
  resumable?: boolean;
  /** Largest frame the client accepts, in bytes. */
  maxPayload?: number;
  /** Bytes of tells and asks the client accepts beyond what it has consumed (its credit window). */
  window?: number;
  /** With `resume`: data frames of the session received so far. */
  ack?: number;
  /** With `resume`: bytes of tells and asks received so far (credit accounting). */
  received?: number;
  /** With `resume`: bytes of tells and asks consumed so far (credit accounting). */
  consumed?: number;
}

/** Server → client answer to a hello; nothing else is sent before it. */
export interface WelcomeFields {
  /** The protocol version the server speaks ({@link PROTOCOL_VERSION}). */
  v: number;
  /** The guid of the server's root actor (absent when the session resumes). */
  actor?: string;
  /** The session id, which the client sends back to resume. */
  session?: string;
  /** Largest frame the server accepts, in bytes. */
  maxPayload?: number;
  /** Bytes of tells and asks the server accepts beyond what it has consumed (its credit window). */
  window?: number;
  /** The server keeps this session for a resume (the client asked, and the server allows it). */
  resumable?: boolean;
  /** True when the hello's `resume` session continues; `ack`, `received`, `consumed` then say where the server stands. */
  resumed?: boolean;
  /** With `resumed`: data frames of the session the server has received. */
  ack?: number;
  /** With `resumed`: bytes of tells and asks the server has received. */
  received?: number;
  /** With `resumed`: bytes of tells and asks the server has consumed. */
  consumed?: number;
}

export type TellFrame = [typeof Kind.TELL, string, string, unknown, unknown?, string?, Via?];
export type AskFrame = [typeof Kind.ASK, number, string, string, unknown, unknown?, string?, Via?];
/**
 * Who a relayed message comes from, `[caller id, caller type]`: a server that relays a peer's
 * message to another peer (through a reference it handed on) says whose it is. Only a
 * channel that trusts its peer for this (a client's channel to its server) believes it.
 */
export type Via = [string, 'client' | 'service'];
export type ResolveFrame = [typeof Kind.RESOLVE, number, unknown, unknown?];
export type RejectFrame = [typeof Kind.REJECT, number, unknown];
export type CancelFrame = [typeof Kind.CANCEL, number];
export type ErrorFrame = [typeof Kind.ERROR, unknown];
export type PingFrame = [typeof Kind.PING];
export type PongFrame = [typeof Kind.PONG];
export type AckFrame = [typeof Kind.ACK, number];
export type CreditFrame = [typeof Kind.CREDIT, number];
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
  | CreditFrame
  | HelloFrame
  | WelcomeFrame;

/** A frame that broke the protocol: the channel closes with `closeCode`. */
export class ProtocolViolation extends Error {
  /** The close code to close the connection with: 4400 (`BAD_FRAME`) or 4413 (`PAYLOAD_TOO_LARGE`). */
  readonly closeCode: number;
  /**
   * Makes the error for one protocol breach.
   * @param message What broke the protocol.
   * @param closeCode The close code to close with. @defaultValue `CloseCode.BAD_FRAME` (4400)
   */
  constructor(message: string, closeCode: number = CloseCode.BAD_FRAME) {
    super(message);
    this.name = 'ProtocolViolation';
    this.closeCode = closeCode;
  }
}

/** Longest actor guid, message type and route. */
export const MAX_NAME = 256;
/** Longest token in a hello (a JWT with a few claims is well under it). */
const MAX_TOKEN = 16_384;
/** Longest session id in a hello. */
const MAX_SESSION = 128;

/** True when the latest {@link decodeMessage} read a batch (read it right after the call). */
export let decodedBatch = false;

/**
 * Decodes one transport message into its frames. Throws {@link ProtocolViolation} (never
 * anything else) for input that is not a protocol message.
 */
export function decodeMessage(message: string | Uint8Array, maxPayload: number): Frame[] {
  if (typeof message !== 'string') {
    throw new ProtocolViolation('binary frames are not part of the protocol; send JSON text');
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
  decodedBatch = Array.isArray(parsed[0]);
  if (decodedBatch) {
    for (const frame of parsed) checkFrame(frame);
    return parsed as Frame[];
  }
  checkFrame(parsed);
  return [parsed as Frame];
}

/** True for TELL and ASK: the frames that enter mailboxes and spend credit. */
export function isDataFrame(frame: Frame): frame is TellFrame | AskFrame {
  return frame[0] === Kind.TELL || frame[0] === Kind.ASK;
}

/**
 * The credit a message of `length` characters spends when it carries tells or asks: the sum,
 * over its frames, of each frame's length plus one. Both sides compute it from the message
 * alone (`[a,b]` is one longer than a, b and a comma; a single frame one shorter).
 */
export function messageCost(length: number, batch: boolean): number {
  return batch ? length - 1 : length + 1;
}

function isId(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0;
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}

function isName(v: unknown, max = MAX_NAME): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= max;
}

function isOptionalName(v: unknown): boolean {
  return v === undefined || v === null || isName(v);
}

/** The caller a relayed message comes from: `[id, 'client' | 'service']`, or absent. */
function isVia(v: unknown): boolean {
  return (
    v === undefined ||
    (Array.isArray(v) && v.length === 2 && isName(v[0]) && (v[1] === 'client' || v[1] === 'service'))
  );
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
        f.length >= 4 && f.length <= 7 && isName(f[1]) && isName(f[2]) && isOptionalName(f[5]) && isVia(f[6])
      );
    case Kind.ASK:
      return (
        f.length >= 5 &&
        f.length <= 8 &&
        isId(f[1]) &&
        isName(f[2]) &&
        isName(f[3]) &&
        isOptionalName(f[6]) &&
        isVia(f[7])
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
    case Kind.CREDIT:
      return f.length === 2 && isCount(f[1]);
    case Kind.HELLO:
    case Kind.WELCOME:
      return f.length === 2 && isRecord(f[1]) && typeof f[1].v === 'number';
    default:
      throw new ProtocolViolation(`unknown frame kind ${JSON.stringify(f[0])?.slice(0, 32)}`);
  }
}

/** A field of a hello or welcome that is absent, or passes `ok`. */
function field(fields: Record<string, unknown>, name: string, ok: (v: unknown) => boolean): void {
  const v = fields[name];
  if (v !== undefined && !ok(v)) {
    throw new ProtocolViolation(`handshake field "${name}" is malformed`);
  }
}

/**
 * Checks every field of a hello or welcome: names and ids within their lengths, counts as
 * non-negative safe integers, sizes as positive ones. Unknown fields are ignored.
 * @throws ProtocolViolation (4400) for a malformed field or another protocol version.
 */
export function checkHandshake<T extends HelloFields | WelcomeFields>(
  fields: T,
  what: 'hello' | 'welcome',
): T {
  const f = fields as unknown as Record<string, unknown>;
  if (f.v !== PROTOCOL_VERSION) {
    throw new ProtocolViolation(
      `protocol version ${String(f.v).slice(0, 16)} in the ${what} is not spoken here; this side speaks ${PROTOCOL_VERSION}`,
    );
  }
  field(f, 'route', (v) => typeof v === 'string' && v.length <= MAX_NAME);
  field(f, 'actor', (v) => isName(v));
  field(f, 'token', (v) => typeof v === 'string' && v.length <= MAX_TOKEN);
  field(f, 'resume', (v) => isName(v, MAX_SESSION));
  field(f, 'session', (v) => isName(v, MAX_SESSION));
  field(f, 'resumable', (v) => typeof v === 'boolean');
  field(f, 'resumed', (v) => typeof v === 'boolean');
  field(f, 'maxPayload', isId);
  field(f, 'window', isId);
  field(f, 'ack', isCount);
  field(f, 'received', isCount);
  field(f, 'consumed', isCount);
  // A window smaller than the largest frame could never carry one.
  if (typeof f.window === 'number' && typeof f.maxPayload === 'number' && f.window < f.maxPayload) {
    throw new ProtocolViolation(`the ${what}'s window of ${f.window} bytes is smaller than its maxPayload`);
  }
  return fields;
}

/**
 * Reads the first message of a server-side connection: it must be exactly one hello.
 * @throws ProtocolViolation with the close code to use (4400, 4413).
 */
export function readHello(message: string | Uint8Array, maxPayload: number): HelloFields {
  const frames = decodeMessage(message, maxPayload);
  const first = frames[0] as Frame;
  if (frames.length !== 1 || first[0] !== Kind.HELLO) {
    throw new ProtocolViolation('the first message must be one hello frame');
  }
  return checkHandshake(first[1], 'hello');
}
