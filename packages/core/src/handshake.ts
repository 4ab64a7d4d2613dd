/**
 * The two halves of pairing, behind one interface the channel runs on every new transport.
 * The client half says hello and waits for the welcome; the server half answers a hello that
 * the server has already read and accepted. Each is a separate function, so a page's bundle
 * carries only the client half.
 */
import type { ActorRef } from './actor-ref.js';
import type { Caller } from './caller.js';
import { ActorSpaceError, closeCodeFor } from './errors.js';
import {
  checkHandshake,
  type Frame,
  type HelloFields,
  Kind,
  PROTOCOL_VERSION,
  ProtocolViolation,
  type WelcomeFields,
} from './protocol.js';

/** What a channel offers its handshake on a new transport. */
export interface HandshakeLink {
  /** Writes a handshake frame to the new transport. */
  send(frame: string): void;
  /** The session being resumed, or null for a first pairing. */
  readonly session: string | null;
  /** Whether this side can resume (keeps and numbers its frames). */
  readonly resumable: boolean;
  /** This side's largest incoming frame, in bytes. */
  readonly maxPayload: number;
  /** This side's credit window: bytes of tells and asks it accepts beyond what it has consumed. */
  readonly window: number;
  /** Where this side stands in the session, for a resume. */
  position(): {
    /** Data frames of the session received so far. */
    ack: number;
    /** Bytes of tells and asks received so far. */
    received: number;
    /** Bytes of tells and asks consumed (taken from mailboxes) so far. */
    consumed: number;
  };
  /** Pairing completed. */
  paired(pairing: Pairing): void;
}

/** What pairing settled. */
export interface Pairing {
  /** The session id. */
  session: string | null;
  /** The peer's root actor, when it named one. */
  remote: string | null;
  /** This side's root actor (the server's, named in the welcome). */
  local?: string;
  /** Who the peer is (the server's decision). */
  caller?: Caller;
  /** True when the session continues where it stopped. */
  resumed: boolean;
  /** Whether the peer can resume. */
  resumable: boolean;
  /** The peer's largest incoming frame, in bytes. */
  maxPayload?: number;
  /** The peer's credit window, in bytes. */
  window?: number;
  /** When resumed: data frames of the session the peer has received. */
  ack?: number;
  /** When resumed: bytes of tells and asks the peer has received. */
  received?: number;
  /** When resumed: bytes of tells and asks the peer has consumed. */
  consumed?: number;
}

/** One side of pairing, run by a channel on each new transport. */
export interface Handshake {
  /** 'hello' or 'welcome': what this side waits for (for timeout messages). */
  readonly awaits: string;
  /** Starts on a new transport. */
  begin(link: HandshakeLink): void;
  /** A frame arrived before pairing completed. @throws ProtocolViolation */
  receive(frame: Frame, link: HandshakeLink): void;
}

/** What the client says in its hello. */
export interface ClientHello {
  /** The server route to pair with. */
  route?: string;
  /** The client's root actor (or its guid). */
  actor?: ActorRef | string;
  /** Credentials for the server's `authenticate`. */
  token?: string;
}

/**
 * The client half of pairing: sends the hello (with the session to resume, if any) and
 * completes on the welcome.
 */
export function clientHandshake(hello: ClientHello = {}): Handshake {
  const actor = typeof hello.actor === 'string' ? hello.actor : hello.actor?.guid;
  return {
    awaits: 'welcome',
    begin(link) {
      const fields: HelloFields = { v: PROTOCOL_VERSION };
      if (hello.route !== undefined) fields.route = hello.route;
      if (actor !== undefined) fields.actor = actor;
      if (hello.token !== undefined) fields.token = hello.token;
      if (link.resumable) fields.resumable = true;
      if (link.session !== null) Object.assign(fields, { resume: link.session }, link.position());
      fields.maxPayload = link.maxPayload;
      fields.window = link.window;
      link.send(JSON.stringify([Kind.HELLO, fields]));
    },
    receive(frame, link) {
      if (frame[0] !== Kind.WELCOME) throw new ProtocolViolation('expected a welcome first');
      const w = checkHandshake(frame[1], 'welcome');
      const resumed = w.resumed === true && link.session !== null && w.session === link.session;
      const pairing: Pairing = {
        session: w.session ?? null,
        remote: w.actor ?? null,
        resumed,
        // The server keeps the session for a resume only when its welcome says so.
        resumable: link.resumable && w.resumable === true,
        ...pick(w, resumed),
      };
      if (actor !== undefined) pairing.local = actor;
      link.paired(pairing);
    },
  };
}

/** What the server decided for a hello it accepted. */
export interface Acceptance {
  /** The server root actor paired with the client's (ignored when resuming). */
  actor?: ActorRef | string;
  /** The session id sent back in the welcome. */
  session?: string;
  /** Who the client is. */
  caller?: Caller;
  /**
   * Whether this client may resume (it also has to ask for it, and the channel has to be
   * `resumable`). @default true
   */
  resumable?: boolean;
}

/**
 * The server half of pairing: answers a hello the server has read (`readHello`) and accepted,
 * with a welcome for a new session, or, on a suspended channel, for the session it resumes.
 */
export function serverHandshake(hello: HelloFields, acceptance: Acceptance = {}): Handshake {
  const local = typeof acceptance.actor === 'string' ? acceptance.actor : acceptance.actor?.guid;
  return {
    awaits: 'hello',
    begin(link) {
      const resumed = link.session !== null;
      const welcome: WelcomeFields = { v: PROTOCOL_VERSION };
      if (local !== undefined) welcome.actor = local;
      const session = resumed ? link.session : acceptance.session;
      if (session != null) welcome.session = session;
      welcome.maxPayload = link.maxPayload;
      welcome.window = link.window;
      const resumable = hello.resumable === true && link.resumable && acceptance.resumable !== false;
      if (resumable) welcome.resumable = true;
      if (resumed) Object.assign(welcome, { resumed: true }, link.position());
      link.send(JSON.stringify([Kind.WELCOME, welcome]));
      const pairing: Pairing = {
        session: session ?? null,
        remote: hello.actor ?? null,
        resumed,
        resumable,
        ...pick(hello, resumed),
      };
      if (local !== undefined) pairing.local = local;
      if (acceptance.caller) pairing.caller = acceptance.caller;
      link.paired(pairing);
    },
    receive() {
      throw new ProtocolViolation('nothing may be sent before the welcome');
    },
  };
}

/**
 * The server half for a peer that pairs without a server engine (a worker, an iframe): waits
 * for the hello and answers it with `decide`'s acceptance. Throw an ActorSpaceError from
 * `decide` to refuse: the channel closes with the error table's close code (`UNAUTHORIZED`
 * 4401, `FORBIDDEN` 4403, `NO_SUCH_ACTOR` 4404...).
 *
 * @example
 * // worker.js
 * space.addChannel(workerTransport(parentPort), { handshake: acceptHandshake(() => ({ actor: workerRoot })) });
 */
export function acceptHandshake(decide: (hello: HelloFields) => Acceptance): Handshake {
  return {
    awaits: 'hello',
    begin() {},
    receive(frame, link) {
      if (frame[0] !== Kind.HELLO) throw new ProtocolViolation('the first frame must be a hello');
      const hello = checkHandshake(frame[1], 'hello');
      let acceptance: Acceptance;
      try {
        acceptance = decide(hello);
      } catch (error) {
        if (!(error instanceof ActorSpaceError)) throw error;
        throw new ProtocolViolation(error.message, closeCodeFor(error.code));
      }
      serverHandshake(hello, acceptance).begin(link);
    },
  };
}

/** The peer's limits, and where it stands when the session resumes. */
function pick(f: HelloFields | WelcomeFields, resumed: boolean): Partial<Pairing> {
  const out: Partial<Pairing> = {};
  if (f.maxPayload !== undefined) out.maxPayload = f.maxPayload;
  if (f.window !== undefined) out.window = f.window;
  if (resumed) {
    out.ack = f.ack ?? 0;
    out.received = f.received ?? 0;
    out.consumed = f.consumed ?? 0;
  }
  return out;
}
