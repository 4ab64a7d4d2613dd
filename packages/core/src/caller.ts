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
