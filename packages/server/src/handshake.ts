/**
 * The server side of the pairing handshake: route lookup, `authenticate`, and the route
 * factory that makes each connection's root actor (DESIGN §4).
 */
import {
  type AcceptResult,
  type Actor,
  type ActorSpace,
  ActorSpaceError,
  type Caller,
  type Channel,
  CloseCode,
  type HelloFields,
} from '@actorspace/core';
import type { ResourceProvider } from './pages.js';

/** What a route factory receives for each new connection. */
export interface RouteContext<S = Record<string, unknown>> {
  /** The server's shared services (`ActorServerOptions.services`). */
  services: S;
  /** Who connected, as `authenticate` returned it (or an anonymous client). */
  caller: Caller;
  /** The upgrade request: URL, lower-cased headers, origin and client address. */
  request: UpgradeRequest;
  /** The session this connection pairs in. */
  session: { id: string; route: string };
}

/** The upgrade request, as routes and `authenticate` see it. */
export interface UpgradeRequest {
  url: string;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  /** The browser's `Origin` header, or null for non-browser clients. */
  origin: string | null;
  remoteAddress?: string;
}

/** What `authenticate` receives: the upgrade request plus the hello's token. */
export interface AuthRequest extends UpgradeRequest {
  /** The token the client sent in its hello, if any. */
  token: string | undefined;
}

/** What `authenticate` receives: the upgrade request's fields and the hello's token. */
export function authRequest(request: UpgradeRequest, token: string | undefined): AuthRequest {
  const req: AuthRequest = { url: request.url, headers: request.headers, origin: request.origin, token };
  if (request.remoteAddress !== undefined) req.remoteAddress = request.remoteAddress;
  return req;
}

/** Makes the root actor of one connection of a route. */
export type ActorFactory<S = Record<string, unknown>> = (ctx: RouteContext<S>) => Actor | Promise<Actor>;

/** A route with a server actor factory and, optionally, a zero-build client page. */
export interface RouteDefinition<S = Record<string, unknown>> {
  /** Makes the route's server root actor for each connection. */
  server: ActorFactory<S>;
  /** Module of the client root actor, for the zero-build page. */
  client?: string;
  /** Title of the zero-build page. */
  title?: string;
  /** Customises the page's resources. */
  resources?: ResourceProvider;
}

/** A route: a factory, or a {@link RouteDefinition}. */
export type Route<S = Record<string, unknown>> = ActorFactory<S> | RouteDefinition<S>;

/** Turns the `routes` option into definitions, checking every entry. */
export function normalizeRoutes<S>(
  routes: Record<string, Route<S>> | undefined,
): Map<string, RouteDefinition<S>> {
  const out = new Map<string, RouteDefinition<S>>();
  if (routes === undefined) return out;
  if (typeof routes !== 'object' || routes === null) {
    throw new ActorSpaceError(
      'INVALID_MESSAGE',
      'createActorServer: routes must be an object of route → factory',
    );
  }
  for (const [name, route] of Object.entries(routes)) {
    if (!name.startsWith('/')) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        `createActorServer: route "${name}" must start with "/", e.g. "/todos"`,
      );
    }
    const def: RouteDefinition<S> | null =
      typeof route === 'function'
        ? { server: route }
        : typeof route === 'object' && route !== null && typeof route.server === 'function'
          ? route
          : null;
    if (!def) {
      throw new ActorSpaceError(
        'INVALID_MESSAGE',
        `createActorServer: route "${name}" must be a factory function or { server: factory, client?, title? }`,
      );
    }
    out.set(name, def);
  }
  return out;
}

/** What the handshake needs from the engine for one connection. */
export interface HandshakeContext<S> {
  routes: Map<string, RouteDefinition<S>>;
  services: S;
  request: UpgradeRequest;
  connectionId: string;
  space: ActorSpace;
  authenticate:
    | ((req: AuthRequest) => Caller | null | undefined | Promise<Caller | null | undefined>)
    | undefined;
}

/**
 * Decides on a hello: unknown route → `NO_SUCH_ACTOR` (4404); `authenticate` returning null →
 * `UNAUTHORIZED` (4401); otherwise runs the route's factory and registers its actor.
 */
export async function acceptHello<S>(
  hello: HelloFields,
  channel: Channel,
  hs: HandshakeContext<S>,
): Promise<AcceptResult> {
  const routeName = typeof hello.route === 'string' ? hello.route : '';
  const route = hs.routes.get(routeName);
  if (!route) {
    throw new ActorSpaceError('NO_SUCH_ACTOR', `no route "${routeName.slice(0, 64)}" on this server`, {
      details: { closeCode: CloseCode.UNKNOWN_ROUTE },
    });
  }
  let caller: Caller = { id: hs.connectionId, type: 'client' };
  if (hs.authenticate) {
    const token = typeof hello.token === 'string' ? hello.token : undefined;
    const result = await hs.authenticate(authRequest(hs.request, token));
    if (!result) {
      throw new ActorSpaceError('UNAUTHORIZED', `authentication failed for route "${routeName}"`);
    }
    caller = result;
  }
  if (channel.state === 'closed')
    throw new ActorSpaceError('CHANNEL_CLOSED', 'the client left during the handshake');
  const session = { id: crypto.randomUUID(), route: routeName };
  const actor = await route.server({ services: hs.services, caller, request: hs.request, session });
  // Re-read: the client may have left while the factory ran (TS narrowed the earlier check).
  if ((channel.state as string) === 'closed') {
    // The client left while the factory ran: the actor never paired, but it still stops.
    try {
      actor?.onStop?.('connection closed during the handshake');
    } catch {
      // onStop's failure has nowhere to go; the connection is already gone.
    }
    throw new ActorSpaceError('CHANNEL_CLOSED', 'the client left during the handshake');
  }
  const ref = hs.space.register(actor, `root.${routeName.slice(1, 64) || 'root'}`);
  return { actor: ref, session: session.id, caller };
}
