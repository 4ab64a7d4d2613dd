/**
 * `connect()` for web pages: the core client plus page awareness. A reconnect waiting out
 * its backoff is tried at once when the browser comes back online or the tab becomes visible.
 */
import { type ConnectOptions, connect as coreConnect, type Session } from '@actorspace/core';

/** Options of the browser {@link connect}; `route` is required, everything else as in core. */
export type BrowserConnectOptions = ConnectOptions;

/** Resolves `/actorspace` or `ws://...` against the page: http pages get ws:, https pages wss:. */
export function resolveSocketUrl(url: string, base: string | undefined = globalThis.location?.href): string {
  if (/^wss?:\/\//i.test(url)) return url;
  if (!base) throw new TypeError(`cannot resolve "${url}" without a page location; pass a ws:// URL`);
  const resolved = new URL(url, base);
  if (resolved.protocol === 'http:') resolved.protocol = 'ws:';
  else if (resolved.protocol === 'https:') resolved.protocol = 'wss:';
  return resolved.href;
}

function pageWake(retryNow: () => void): () => void {
  const win = globalThis as unknown as Partial<Window>;
  const doc = globalThis.document;
  const onVisible = (): void => {
    if (doc?.visibilityState === 'visible') retryNow();
  };
  win.addEventListener?.('online', retryNow);
  doc?.addEventListener('visibilitychange', onVisible);
  return () => {
    win.removeEventListener?.('online', retryNow);
    doc?.removeEventListener('visibilitychange', onVisible);
  };
}

/**
 * Pairs the page's root actor with a server route. `url` may be relative to the page
 * (`/actorspace`). Reconnects with backoff, and at once on `online` or when the tab shows.
 *
 * @throws ActorSpaceError with the error code of the server's close code when it refuses
 *   the first handshake (`UNAUTHORIZED`, `FORBIDDEN`, `NO_SUCH_ACTOR`, ... as core's
 *   `connect()`), `CHANNEL_CLOSED` when unreachable; TypeError (rejects) for bad arguments
 * @example
 * import type { todos } from '../server/todos.js'; // types only: nothing of the server is bundled
 * const session = await connect<typeof todos>('/actorspace', { route: '/todos', actor: new TodoClient() });
 * badge.textContent = session.status;
 * session.on('status', (status) => (badge.textContent = status));
 * await session.server.api().add({ text: 'milk' });
 */
export async function connect<A = any>(url: string, options: BrowserConnectOptions): Promise<Session<A>> {
  const session = await coreConnect<A>(resolveSocketUrl(url), { wake: pageWake, ...options });
  endWithPage(session);
  return session;
}

/**
 * Closes the session when the page goes away, so the server ends it at once instead of
 * holding it for the resume window as it would for a dropped network.
 */
function endWithPage<A>(session: Session<A>): void {
  const win = globalThis as unknown as Partial<Window>;
  if (typeof win.addEventListener !== 'function') return;
  const onHide = (): void => {
    void session.close();
  };
  win.addEventListener('pagehide', onHide);
  session.on('status', (status) => {
    if (status === 'closed') win.removeEventListener?.('pagehide', onHide);
  });
}
