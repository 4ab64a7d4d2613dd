/**
 * Routes: what a server offers. Each route names the factory of its server root actor (one
 * per session) and, optionally, the client module of its zero-build page.
 */
import type { Actor, Caller } from '@actorspace/core';
import type { UpgradeRequest } from './connection.js';
import { checkImports, type Imports } from './modules.js';
import type { ResourceProvider } from './resources.js';

/** What a route factory receives for each new session. */
export interface RouteContext<S = Record<string, unknown>> {
  /** The server's shared services (`ActorServerOptions.services`). */
  services: S;
  /** Who connected, as `authenticate` returned it (or an anonymous client). */
  caller: Caller;
  /** The upgrade request: URL, lower-cased headers, origin and client address. */
  request: UpgradeRequest;
  /** The session this root actor serves. */
  session: {
    /** The session id, as sent to the client in the welcome. */
    id: string;
    /** The route the session was paired with, e.g. `/todos`. */
    route: string;
  };
}

/** Makes the root actor of one session of a route. */
export type ActorFactory<S = Record<string, unknown>> = (ctx: RouteContext<S>) => Actor | Promise<Actor>;

/** A route with a server actor factory and, optionally, a zero-build client page. */
export interface RouteDefinition<S = Record<string, unknown>> {
  /** Makes the route's server root actor for each session. */
  server: ActorFactory<S>;
  /** Module of the client root actor, for the zero-build page. */
  client?: string;
  /** Title of the zero-build page. */
  title?: string;
  /** Customises the page's resources. */
  resources?: ResourceProvider;
  /**
   * Bare specifiers the page's client modules may import, over the server's `imports`: a URL,
   * or `true` for an installed package served by name.
   * @default none
   */
  imports?: Imports;
}

/** A route: a factory, or a {@link RouteDefinition}. */
export type Route<S = Record<string, unknown>> = ActorFactory<S> | RouteDefinition<S>;

/**
 * Turns the `routes` option into definitions, checking every entry.
 * @throws TypeError for a route that does not start with `/` or is neither a factory nor a definition.
 */
export function normalizeRoutes<S>(
  routes: Record<string, Route<S>> | undefined,
): Map<string, RouteDefinition<S>> {
  const out = new Map<string, RouteDefinition<S>>();
  if (routes === undefined) return out;
  if (typeof routes !== 'object' || routes === null) {
    throw new TypeError('createActorServer: routes must be an object of route → factory');
  }
  for (const [name, route] of Object.entries(routes)) {
    if (!name.startsWith('/') || name.length > 256) {
      throw new TypeError(
        `createActorServer: route "${name.slice(0, 64)}" must start with "/", e.g. "/todos"`,
      );
    }
    const def: RouteDefinition<S> | null =
      typeof route === 'function'
        ? { server: route }
        : typeof route === 'object' && route !== null && typeof route.server === 'function'
          ? route
          : null;
    if (!def) {
      throw new TypeError(
        `createActorServer: route "${name}" must be a factory function or { server: factory, client?, title? }`,
      );
    }
    if (def.imports !== undefined) checkImports(def.imports, `createActorServer: route "${name}"`);
    out.set(name, def);
  }
  return out;
}
