/** Who sends a message: set by the receiving side from authentication, never by the peer. */

/** Who sent a message: a browser client, a service (agent, back office) or the system itself. */
export interface Caller {
  /** Who the caller is: the id `authenticate` gave it; for `system` callers, the sending space's id (or `server`). */
  id: string;
  /** What kind of caller it is: a browser `client`, a `service`, or the `system` itself. */
  type: 'client' | 'service' | 'system';
  /** Whatever else `authenticate` learned about the caller (roles, tenant, token claims). */
  claims?: Record<string, unknown>;
}
