/** Who sends a message: set by the receiving side from authentication, never by the peer. */

/** Who sent a message: a browser client, a service (agent, back office) or the system itself. */
export interface Caller {
  id: string;
  type: 'client' | 'service' | 'system';
  claims?: Record<string, unknown>;
}
