/**
 * The server's decision on a hello (DESIGN §4): resume the suspended session it names (same
 * route, same caller), or authenticate the caller, run the route's factory and start a new
 * session. Every refusal closes the socket with the error table's close code; nothing here
 * can fail without an answer.
 */
import {
  type Actor,
  ActorSpace,
  ActorSpaceError,
  type Caller,
  type ChannelOptions,
  CloseCode,
  closeCodeFor,
  frozenCaller,
  type HelloFields,
  SESSION_ACTOR,
  type SpaceOptions,
  TOPICS_ACTOR,
} from '@actorspace/core';
import { sessionActor } from './capabilities.js';
import type { Connection, UpgradeRequest } from './connection.js';
import type { Gateway } from './gateway.js';
import type { RouteDefinition } from './routes.js';
import { Session, type SessionHost } from './session.js';
import type { VerifiedToken } from './tokens.js';
import type { TopicHub } from './topics.js';

/**
 * What `authenticate` receives: the upgrade request, the hello's token, and what it says. For
 * an event stream (`GET <path>/topics/<topic>`) it is the stream's request, with `route` `''`,
 * `actor` undefined and the `?token=` of its URL.
 */
export interface AuthRequest extends UpgradeRequest {
  /** The route the hello asks for; `''` for an event stream. */
  route: string;
  /**
   * The id of the client's root actor, from the hello: the same on every reconnect of a
   * session, so an id made from it lets an anonymous caller resume. Undefined for an event stream.
   */
  actor: string | undefined;
  /** The token the client sent in its hello (an event stream: its URL's `?token=`), if any. */
  token: string | undefined;
  /**
   * The caller of the hello's access token, verified (signature, expiry, audience, route and
   * actor binding) when the server has `tokens`; null without a token or without `tokens`.
   */
  verified: VerifiedToken | null;
}

/** Decides who is calling; null refuses with 4401. A returned caller's `claims` default to `{}`. */
export type Authenticate = (
  req: AuthRequest,
) => CallerInit | null | undefined | Promise<CallerInit | null | undefined>;

/** A caller as `authenticate` may return it: `claims` may be left out; never `system`. */
export interface CallerInit extends Omit<Caller, 'claims' | 'type'> {
  /** A browser `client` or a `service`; a peer is never `system`. */
  type: 'client' | 'service';
  /** What authentication learned about the caller. @default {} */
  claims?: Record<string, unknown>;
}

/** What deciding on a hello needs from the engine. */
export interface HandshakeHost<S> extends SessionHost {
  readonly routes: ReadonlyMap<string, RouteDefinition<S>>;
  readonly services: S;
  readonly authenticate: Authenticate | undefined;
  /** Verifies access tokens (the server's `tokens`), or undefined when it has none. */
  readonly verifyToken: ((token: string) => Promise<VerifiedToken>) | undefined;
  /** The server's topics: each session gets their actor. */
  readonly topics: TopicHub;
  readonly spaceOptions: SpaceOptions;
  readonly channelOptions: ChannelOptions;
  /** The channel options of a service caller's session (its heartbeat differs). */
  readonly serviceChannelOptions: ChannelOptions;
  /** True once the server shuts down. */
  readonly closing: boolean;
  /** The agent gateway, when the server has one: services with no route pair with it. */
  readonly gateway: Gateway | null;
  /** A session by id. */
  session(id: string): Session | undefined;
  /** A new session started. */
  started(session: Session): void;
  /** A failure no client waits for (a throwing factory or `authenticate`). */
  error(error: ActorSpaceError, connection: Connection): void;
}

/** Decides on `hello` for `connection`: resumes a session, starts one, or refuses. */
export async function accept<S>(
  host: HandshakeHost<S>,
  connection: Connection,
  hello: HelloFields,
): Promise<void> {
  try {
    // Authenticated once per hello: a resume and the fresh session it may become share the result.
    const caller = await authenticate(host, connection, hello);
    const old = typeof hello.resume === 'string' ? host.session(hello.resume) : undefined;
    if (old?.resumable && old.route === (hello.route ?? '') && sameCaller(old, caller)) {
      if (connection.gone) return;
      // The client may come back before this side saw its old socket fail (a half-open TCP
      // connection, a network switch): the new socket takes the session over.
      if (!old.away && old.connection !== connection)
        old.connection.refuse(CloseCode.TIMEOUT, 'replaced by a new connection');
      if (old.away) {
        old.resume(connection, hello);
        return;
      }
    }
    await start(host, connection, hello, caller);
  } catch (error) {
    refuse(host, connection, hello, error);
  }
}

async function start<S>(
  host: HandshakeHost<S>,
  connection: Connection,
  hello: HelloFields,
  authenticated: Caller | undefined,
): Promise<void> {
  const route = hello.route ?? '';
  if (route === '' && host.gateway) {
    startGateway(host, host.gateway, connection, hello, authenticated);
    return;
  }
  const definition = host.routes.get(route);
  if (!definition) {
    throw new ActorSpaceError('NO_SUCH_ACTOR', `no route "${route.slice(0, 64)}" on this server`);
  }
  const caller = authenticated ?? frozenCaller({ id: connection.id, type: 'client' });
  if (connection.gone) return;
  const id = crypto.randomUUID();
  const actor = await definition.server({
    services: host.services,
    caller,
    request: connection.request,
    session: { id, route },
  });
  if (connection.gone || host.closing) {
    // The client left (or the server began shutting down) while the factory ran: the actor
    // never paired, but it still stops.
    stop(actor, 'connection closed during the handshake');
    if (host.closing) throw new ActorSpaceError('CHANNEL_CLOSED', 'server is shutting down');
    return;
  }
  pair(host, connection, hello, { id, route, caller, actor, guid: `root.${route.slice(1, 64) || 'root'}` });
}

/**
 * A hello with no route: a service pairs with the agent gateway. Clients never do (4403 for an
 * authenticated client, 4401 for an anonymous one).
 */
function startGateway<S>(
  host: HandshakeHost<S>,
  gateway: Gateway,
  connection: Connection,
  hello: HelloFields,
  caller: Caller | undefined,
): void {
  if (!caller) {
    throw new ActorSpaceError('UNAUTHORIZED', 'the gateway needs a service access token or a gateway key');
  }
  if (caller.type !== 'service') throw new ActorSpaceError('FORBIDDEN', 'clients cannot use the gateway');
  if (connection.gone) return;
  pair(host, connection, hello, {
    id: crypto.randomUUID(),
    route: '',
    caller,
    actor: gateway.actor(caller),
    guid: 'gateway',
    kind: 'gateway',
  });
}

/**
 * Starts a session: a space with the root actor (under `guid`), the session's own actors
 * (topics for everyone; the session actor, where a tab advertises its capabilities, for route
 * sessions), and the channel to the client.
 * @throws ActorSpaceError `REMOTE_ERROR` when `actor` is not an actor.
 */
function pair<S>(
  host: HandshakeHost<S>,
  connection: Connection,
  hello: HelloFields,
  p: { id: string; route: string; caller: Caller; actor: Actor; guid: string; kind?: 'route' | 'gateway' },
): void {
  const space = new ActorSpace(connection.id, host.spaceOptions);
  space.on('error', (error) => host.error(error, connection));
  let root: ReturnType<ActorSpace['register']>;
  try {
    root = space.register(p.actor, p.guid);
  } catch (error) {
    void space.destroy();
    throw new ActorSpaceError('REMOTE_ERROR', `the factory of route "${p.route}" did not return an actor`, {
      cause: error,
    });
  }
  const session = new Session(host, p.id, p.route, p.caller, space, connection, p.kind);
  space.register(host.topics.sessionActor(p.id, p.caller), TOPICS_ACTOR);
  if (session.kind === 'route') space.register(sessionActor(session), SESSION_ACTOR);
  host.started(session);
  const options = p.caller.type === 'service' ? host.serviceChannelOptions : host.channelOptions;
  session.open(hello, root, options);
}

/**
 * Who sends this hello: {@link identify} with the hello's route, actor and token.
 * @throws as {@link identify} does.
 */
function authenticate<S>(
  host: HandshakeHost<S>,
  connection: Connection,
  hello: HelloFields,
): Promise<Caller | undefined> {
  return identify(
    host,
    connection.request,
    { route: hello.route, actor: hello.actor, token: hello.token },
    `route "${hello.route}"`,
  );
}

/** What {@link identify} needs from the engine: its `tokens` verifier and its `authenticate`. */
export interface IdentifyHost {
  readonly authenticate: Authenticate | undefined;
  readonly verifyToken: ((token: string) => Promise<VerifiedToken>) | undefined;
  /** The service a gateway key stands for, or null; absent without gateway keys. */
  readonly keyCaller?: ((token: string) => VerifiedToken | null) | undefined;
}

/** What the caller asks for: the route and root actor it names (bound tokens must match) and its token. */
export interface IdentifyFields {
  /** The route asked for (`''` where there is none, as for an event stream). */
  route: string | undefined;
  /** The client's root actor id, if any. */
  actor: string | undefined;
  /** The access token sent, if any. */
  token: string | undefined;
}

/**
 * Who is calling: from the access token (when the server has `tokens`), then from
 * `authenticate` (which sees the verified token and may decide otherwise); undefined when the
 * server has neither, for an anonymous client. Used for hellos and for event streams.
 * @param what Names what is asked for in the refusal's message (`route "/todos"`).
 * @throws ActorSpaceError `UNAUTHORIZED` (4401) for a missing, invalid or expired token, or
 *   when `authenticate` returns null; `FORBIDDEN` (4403) for a token bound to another route
 *   or actor; TypeError when `authenticate` returns something that is not a caller.
 */
export async function identify(
  host: IdentifyHost,
  request: UpgradeRequest,
  fields: IdentifyFields,
  what: string,
): Promise<Caller | undefined> {
  let verified: VerifiedToken | null = null;
  // A gateway key is a service's credential: it stands for that service, like a token would.
  const keyed = fields.token !== undefined ? (host.keyCaller?.(fields.token) ?? null) : null;
  if (keyed) verified = keyed;
  else if (host.verifyToken && fields.token !== undefined) {
    verified = await host.verifyToken(fields.token);
    if (verified.route !== undefined && verified.route !== fields.route) {
      throw new ActorSpaceError('FORBIDDEN', 'the access token is for another route');
    }
    if (verified.actor !== undefined && verified.actor !== fields.actor) {
      throw new ActorSpaceError('FORBIDDEN', 'the access token is for another actor');
    }
  }
  if (!host.authenticate) {
    if (keyed) return keyed;
    if (!host.verifyToken) return undefined;
    if (!verified) throw new ActorSpaceError('UNAUTHORIZED', 'an access token is required');
    return frozenCaller(verified);
  }
  const req: AuthRequest = {
    url: request.url,
    headers: request.headers,
    origin: request.origin,
    route: fields.route ?? '',
    actor: fields.actor,
    token: fields.token,
    verified,
  };
  if (request.remoteAddress !== undefined) req.remoteAddress = request.remoteAddress;
  const caller = await host.authenticate(req);
  if (!caller) throw new ActorSpaceError('UNAUTHORIZED', `authentication failed for ${what}`);
  if (
    typeof caller !== 'object' ||
    typeof caller.id !== 'string' ||
    (caller.type !== 'client' && caller.type !== 'service')
  ) {
    throw new TypeError('authenticate must return { id, type: "client" | "service", claims? } or null');
  }
  // A frozen copy: no handler can change who a session is, or its claims.
  return frozenCaller(caller);
}

/**
 * Resuming needs the caller the session has, when the server authenticates. A service's
 * gateway session is never resumed without its credential.
 */
function sameCaller(old: Session, caller: Caller | undefined): boolean {
  if (caller === undefined) return old.kind === 'route';
  return caller.id === old.caller.id && caller.type === old.caller.type;
}

function refuse<S>(host: HandshakeHost<S>, connection: Connection, hello: HelloFields, error: unknown): void {
  if (error instanceof ActorSpaceError) {
    connection.refuse(closeCodeFor(error.code), error.message);
    return;
  }
  host.error(
    new ActorSpaceError(
      'REMOTE_ERROR',
      `handshake of ${connection.id} for route "${String(hello.route).slice(0, 64)}" failed: ${String(error)}`,
      { cause: error },
    ),
    connection,
  );
  connection.refuse(CloseCode.INTERNAL_ERROR, 'internal error while accepting the connection');
}

function stop(actor: Actor | undefined, reason: string): void {
  try {
    actor?.onStop?.(reason);
  } catch {
    // onStop's failure has nowhere to go: the connection is already gone.
  }
}
