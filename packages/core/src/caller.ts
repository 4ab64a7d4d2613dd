/** Who sends a message: set by the receiving side from authentication, never by the peer. */

/** The kinds of caller: a browser `client`, a `service` (agent, back office), the `system` itself. */
export type CallerType = 'client' | 'service' | 'system';

/** Who sent a message: a browser client, a service (agent, back office) or the system itself. */
export interface Caller {
  /** Who the caller is: the id `authenticate` or the access token gave it; for `system` callers, the sending space's id (or `server`). */
  id: string;
  /** What kind of caller it is. A remote peer is never `system`. */
  type: CallerType;
  /** Whatever else authentication learned about the caller (roles, tenant, token claims); `{}` when nothing. */
  claims: Record<string, unknown>;
}

/** A caller that cannot change after authentication: frozen, with a frozen copy of its claims. */
export function frozenCaller(caller: Pick<Caller, 'id' | 'type'> & { claims?: unknown }): Caller {
  return Object.freeze({
    id: caller.id,
    type: caller.type,
    claims: frozenCopy(caller.claims ?? {}) as Record<string, unknown>,
  });
}

/** A frozen copy of plain objects and arrays (other values as they are). */
function frozenCopy(value: unknown, depth = 0): unknown {
  if (depth > 32 || typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return Object.freeze(value.map((v) => frozenCopy(v, depth + 1)));
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    if (key !== '__proto__') out[key] = frozenCopy(v, depth + 1);
  }
  return Object.freeze(out);
}

/** Who sends a message over a channel that names no caller: an anonymous client, never trusted more. */
export const ANONYMOUS: Caller = frozenCaller({ id: 'anonymous', type: 'client' });
