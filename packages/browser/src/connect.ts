/**
 * `connect()` for web pages: the core client plus page awareness. A reconnect waiting out
 * its backoff is tried at once when the browser comes back online or the tab becomes visible.
 */
import {
  ActorSpaceError,
  type ConnectOptions,
  connect as coreConnect,
  frozenCaller,
  type Router,
  type Session,
} from '@actorspace/core';

/** Options of the browser {@link connect}: those of core's, and `webmcp`. */
export interface BrowserConnectOptions extends ConnectOptions {
  /**
   * Offers the root actor's service-callable message types (`callers` includes `service`) to
   * in-browser agents as WebMCP tools (`navigator.modelContext`), where the browser has it: the
   * same capabilities the server's gateway lists. An agent's call is a `service` caller's ask
   * of the root actor, validated by its definitions. Nothing happens without `modelContext`.
   * @default false
   */
  webmcp?: boolean;
}

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
  const { webmcp, ...core } = options ?? ({} as BrowserConnectOptions);
  const session = await coreConnect<A>(resolveSocketUrl(url), { wake: pageWake, ...core });
  endWithPage(session);
  if (webmcp) offerWebMcp(session);
  return session;
}

/** The WebMCP surface this build uses (`navigator.modelContext`), as browsers ship it. */
interface ModelContext {
  registerTool?(tool: WebMcpTool): { unregister?(): void } | undefined;
  unregisterTool?(name: string): void;
  provideContext?(context: { tools: WebMcpTool[] }): void;
}

/** A WebMCP tool: a name, what it does, its input's JSON Schema, and what runs it. */
interface WebMcpTool {
  name: string;
  description: string;
  inputSchema: Record<string, unknown>;
  execute(
    input: Record<string, unknown>,
  ): Promise<{ content: { type: 'text'; text: string }[]; isError?: boolean }>;
}

/** In-page agents are services to the page's actor: they call what it lets services call. */
const WEBMCP_CALLER = frozenCaller({ id: 'webmcp', type: 'service' });

/**
 * Registers the root actor's service-callable types as WebMCP tools, named by message type,
 * and unregisters them when the session closes. An object input schema is the tool's input;
 * any other is wrapped as `{ data }`.
 */
function offerWebMcp(session: Session): void {
  const context = (globalThis.navigator as { modelContext?: ModelContext } | undefined)?.modelContext;
  const ref = session.root;
  const described = session.capabilities();
  if (!context || !ref || described.length === 0) return;
  const router = (ref as unknown as { router: Router }).router;
  const tools = described.map((d): WebMcpTool => {
    const flat = d.input?.type === 'object';
    return {
      name: d.type,
      description: d.description ?? d.type,
      inputSchema: flat
        ? (d.input as Record<string, unknown>)
        : { type: 'object', properties: d.input ? { data: d.input } : {} },
      async execute(input) {
        try {
          const data = flat ? input : input?.data;
          const result = await router.askTo(ref.guid, d.type, data, undefined, WEBMCP_CALLER);
          return { content: [{ type: 'text', text: JSON.stringify(result ?? null) }] };
        } catch (error) {
          const e = error as { code?: string; message?: string };
          return {
            content: [{ type: 'text', text: `${e.code ?? 'REMOTE_ERROR'}: ${e.message}` }],
            isError: true,
          };
        }
      },
    };
  });
  const registrations: ({ unregister?(): void } | undefined)[] = [];
  try {
    if (typeof context.registerTool === 'function') {
      for (const tool of tools) registrations.push(context.registerTool(tool));
    } else if (typeof context.provideContext === 'function') {
      context.provideContext({ tools });
    }
  } catch (error) {
    // The browser refused a tool (a name it already has, a schema it rejects): the session
    // stays, without WebMCP.
    session.emit(
      'error',
      new ActorSpaceError('INVALID_MESSAGE', `WebMCP refused the tools: ${String(error)}`),
    );
  }
  session.on('status', (status) => {
    if (status !== 'closed') return;
    for (const [i, tool] of tools.entries()) {
      const registration = registrations[i];
      if (registration?.unregister) registration.unregister();
      else context.unregisterTool?.(tool.name);
    }
  });
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
