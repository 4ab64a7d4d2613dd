/**
 * The gateway over MCP (the Model Context Protocol, Streamable HTTP, on the official
 * `@modelcontextprotocol/sdk`). Loaded only when `gateway.mcp` is on.
 *
 * Tools, designed for a model to pick a tab and call it:
 * - `list_sessions`: the connected sessions (tabs), who is in each, and what each offers;
 * - one tool per route and message type that pages offer to services (`todos_add`), whose
 *   input is the message's own JSON Schema plus `session` (an enum of the sessions that offer
 *   it; optional when only one does).
 * Sessions coming, going or changing their capabilities change the tools' list, and every
 * MCP session is sent `notifications/tools/list_changed`.
 */

import { ActorSpaceError, type Caller, type MessageDescription } from '@actorspace/core';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Tool } from '@modelcontextprotocol/sdk/types.js';
import type { HttpRequest, HttpResponse } from './actor-server.js';
import type { Gateway, PublicSessionInfo } from './gateway.js';
import { errorResponse } from './gateway-http.js';
import { headerOf, normalizeHeaders } from './internal/headers.js';

/** The MCP side of the gateway. */
export interface McpEndpoint {
  /** Answers one MCP request of `caller`; `body` is a POST's parsed JSON. */
  serve(request: HttpRequest, caller: Caller, body: unknown): Promise<HttpResponse>;
  close(): void;
}

/** The most MCP sessions one service keeps at once; its least recently used goes first past it. */
const MAX_SESSIONS_PER_SERVICE = 100;
/** Milliseconds the tool list waits for more changes before it is rebuilt (and announced). */
const REFRESH_AFTER = 50;
const LIST_SESSIONS = 'list_sessions';

interface McpSession {
  server: Server;
  transport: WebStandardStreamableHTTPServerTransport;
  caller: Caller;
}

/** A tool of a route's message type, and where its calls go. */
interface CapabilityTool {
  tool: Tool;
  type: string;
  /** Sessions offering it, by id. */
  sessions: string[];
  /** The message's data is the tool's arguments (an object schema), or their `data` field. */
  flat: boolean;
}

/**
 * Loads the SDK (an optional dependency: only servers with `gateway.mcp` need it) and makes the endpoint.
 * @throws Error naming the package when it is not installed.
 */
export async function createMcpEndpoint(gateway: Gateway): Promise<McpEndpoint> {
  let sdk: [
    typeof import('@modelcontextprotocol/sdk/server/index.js'),
    typeof import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
    typeof import('@modelcontextprotocol/sdk/types.js'),
  ];
  try {
    sdk = await Promise.all([
      import('@modelcontextprotocol/sdk/server/index.js'),
      import('@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'),
      import('@modelcontextprotocol/sdk/types.js'),
    ]);
  } catch (error) {
    throw new Error(
      'gateway.mcp needs the package @modelcontextprotocol/sdk: npm install @modelcontextprotocol/sdk',
      {
        cause: error,
      },
    );
  }
  const [
    { Server },
    { WebStandardStreamableHTTPServerTransport },
    { CallToolRequestSchema, ListToolsRequestSchema },
  ] = sdk;
  const sessions = new Map<string, McpSession>();
  let tools: Map<string, CapabilityTool> = new Map();
  let signature = '';

  const refresh = (): boolean => {
    tools = capabilityTools(gateway.list());
    const next = JSON.stringify([...tools.values()].map((t) => t.tool));
    const changed = next !== signature;
    signature = next;
    return changed;
  };
  refresh();
  // Changes come in bursts (tabs opening, a page advertising again): one rebuild for each burst.
  let pending: ReturnType<typeof setTimeout> | null = null;
  const unwatch = gateway.watch(() => {
    pending ??= setTimeout(() => {
      pending = null;
      if (!refresh()) return;
      for (const s of sessions.values()) s.server.sendToolListChanged().catch(() => {});
    }, REFRESH_AFTER);
  });

  const newSession = (caller: Caller): McpSession => {
    const server = new Server(
      { name: 'actorspace-gateway', version: '1' },
      {
        capabilities: { tools: { listChanged: true } },
        instructions:
          'Tools run in the browser tabs (sessions) connected to this server. Call list_sessions to see the tabs and what each offers; pass `session` to pick a tab.',
      },
    );
    server.setRequestHandler(ListToolsRequestSchema, () => ({
      tools: [listSessionsTool(), ...[...tools.values()].map((t) => t.tool)],
    }));
    server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
      const name = request.params.name;
      const args = (request.params.arguments ?? {}) as Record<string, unknown>;
      try {
        // (The HTTP request carrying this call was counted against the rate limit already.)
        if (name === LIST_SESSIONS) {
          const route = typeof args.route === 'string' ? args.route : undefined;
          const list = gateway.list().filter((s) => route === undefined || s.route === route);
          return text(list.map(summary));
        }
        const entry = tools.get(name);
        if (!entry) throw new ActorSpaceError('NO_SUCH_ACTOR', `no tool "${name.slice(0, 64)}" now`);
        const { session: chosen, ...rest } = args;
        const session = pick(entry, chosen);
        const data = entry.flat ? rest : rest.data;
        const result = await gateway.ask(caller, session, entry.type, data, {
          transport: 'mcp',
          signal: extra.signal,
        });
        return text(result === undefined ? null : result);
      } catch (error) {
        const e =
          error instanceof ActorSpaceError ? error : new ActorSpaceError('REMOTE_ERROR', String(error));
        return { isError: true, content: [{ type: 'text', text: `${e.code}: ${e.message}` }] };
      }
    });
    const transport = new WebStandardStreamableHTTPServerTransport({
      sessionIdGenerator: () => crypto.randomUUID(),
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        // Bounded per service, so one service's sessions never push out another's.
        const own = [...sessions].filter(([, s]) => s.caller.id === caller.id);
        if (own.length >= MAX_SESSIONS_PER_SERVICE) close((own[0] as [string, McpSession])[0]);
        sessions.set(id, mcp);
      },
      onsessionclosed: (id) => {
        sessions.delete(id);
      },
    });
    const mcp: McpSession = { server, transport, caller };
    return mcp;
  };

  const close = (id: string): void => {
    const s = sessions.get(id);
    sessions.delete(id);
    void s?.transport.close().catch(() => {});
    void s?.server.close().catch(() => {});
  };

  return {
    async serve(request, caller, parsedBody) {
      const method = request.method.toUpperCase();
      const id = headerOf(request.headers, 'mcp-session-id');
      let mcp: McpSession | undefined;
      if (id) {
        mcp = sessions.get(id);
        if (!mcp) return errorResponse(404, 'NO_SUCH_ACTOR', 'no such MCP session (initialize again)');
        if (mcp.caller.id !== caller.id)
          return errorResponse(403, 'FORBIDDEN', "this MCP session is another service's");
        // Most recently used last: the first in the map is the one evicted.
        sessions.delete(id);
        sessions.set(id, mcp);
      }
      if (!mcp) {
        mcp = newSession(caller);
        await mcp.server.connect(mcp.transport);
      }
      const response = await mcp.transport.handleRequest(webRequest(request, method), { parsedBody });
      return httpResponse(response, method);
    },
    close() {
      unwatch();
      if (pending) clearTimeout(pending);
      for (const id of [...sessions.keys()]) close(id);
    },
  };
}

/**
 * The tools for what the sessions offer: one per route, message type and advertisement (tabs
 * that describe the same type differently get a tool each, so no tab speaks for another).
 */
function capabilityTools(list: PublicSessionInfo[]): Map<string, CapabilityTool> {
  const groups = new Map<string, { route: string; description: MessageDescription; sessions: string[] }>();
  for (const session of list) {
    for (const capability of session.capabilities) {
      const key = JSON.stringify([session.route, capability]);
      const group = groups.get(key);
      if (group) group.sessions.push(session.id);
      else groups.set(key, { route: session.route, description: capability, sessions: [session.id] });
    }
  }
  const out = new Map<string, CapabilityTool>();
  for (const [key, group] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const { route, description, sessions } = group;
    let name = toolName(route, description.type);
    // Names are unique: a second tool that would clean up to the same name gets a suffix.
    if (out.has(name) || name === LIST_SESSIONS) name = `${name.slice(0, 55)}_${shortHash(key)}`;
    const { schema, flat } = toolInput(description.input, sessions);
    out.set(name, {
      type: description.type,
      sessions,
      flat,
      tool: {
        name,
        description: `${description.description ?? description.type} (runs in a browser tab of ${route}; ${
          sessions.length
        } tab${sessions.length === 1 ? '' : 's'} offer it)`,
        inputSchema: schema as Tool['inputSchema'],
      },
    });
  }
  return out;
}

/**
 * A tool's input schema: an object schema's properties (when each is a schema object) and
 * required names, plus `session`; any other schema as `data`. Only those parts of a page's
 * schema are taken, so a malformed one cannot break the tool list for every agent.
 */
function toolInput(
  input: Record<string, unknown> | undefined,
  sessions: string[],
): { schema: Record<string, unknown>; flat: boolean } {
  const session = {
    type: 'string',
    enum: sessions,
    description:
      sessions.length === 1
        ? 'The session (browser tab) to run it in; may be left out: only one offers it.'
        : 'The session (browser tab) to run it in: see list_sessions for who is in each.',
  };
  const properties = input?.properties;
  const flat =
    input?.type === 'object' &&
    typeof properties === 'object' &&
    properties !== null &&
    !Array.isArray(properties) &&
    !('session' in properties) &&
    Object.values(properties).every((p) => typeof p === 'object' && p !== null && !Array.isArray(p));
  const required: string[] = [];
  if (flat && Array.isArray(input?.required)) {
    for (const r of input.required) if (typeof r === 'string') required.push(r);
  }
  if (!flat && input !== undefined) required.push('data');
  if (sessions.length > 1) required.push('session');
  const schema: Record<string, unknown> = {
    type: 'object',
    properties: flat
      ? { ...(properties as object), session }
      : { session, ...(input !== undefined && { data: input }) },
  };
  if (required.length > 0) schema.required = required;
  return { schema, flat };
}

function shortHash(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(36);
}

function listSessionsTool(): Tool {
  return {
    name: LIST_SESSIONS,
    description:
      'Lists the browser tabs (sessions) connected now: id, route, who is signed in (caller), state, and the tools each offers.',
    inputSchema: {
      type: 'object',
      properties: { route: { type: 'string', description: 'Only the sessions of this route, e.g. /todos.' } },
    },
  };
}

/** `/todos` + `add` → `todos_add` (MCP tool names: letters, digits, `_` and `-`, at most 64). */
function toolName(route: string, type: string): string {
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^_+|_+$/g, '');
  return `${clean(route) || 'root'}_${clean(type) || 'message'}`.slice(0, 64);
}

function summary(s: PublicSessionInfo): Record<string, unknown> {
  return {
    session: s.id,
    route: s.route,
    caller: s.caller,
    state: s.state,
    connectedAt: new Date(s.connectedAt).toISOString(),
    tools: s.capabilities.map((c) => toolName(s.route, c.type)),
  };
}

/** The session a call goes to. @throws ActorSpaceError `INVALID_MESSAGE` when it must be named, or is not one that offers the tool. */
function pick(entry: CapabilityTool, chosen: unknown): string {
  if (chosen === undefined) {
    if (entry.sessions.length === 1) return entry.sessions[0] as string;
    throw new ActorSpaceError('INVALID_MESSAGE', `name the session: one of ${entry.sessions.join(', ')}`);
  }
  if (typeof chosen !== 'string' || !entry.sessions.includes(chosen)) {
    throw new ActorSpaceError('INVALID_MESSAGE', `session must be one of ${entry.sessions.join(', ')}`);
  }
  return chosen;
}

function text(value: unknown): { content: { type: 'text'; text: string }[] } {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

/** The engine's request as the SDK's transport takes it (the body is passed parsed). */
function webRequest(request: HttpRequest, method: string): Request {
  const url = /^https?:\/\//i.test(request.url) ? request.url : `http://localhost${request.url}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(normalizeHeaders(request.headers))) {
    if (name === 'content-length' || name === 'transfer-encoding' || name === 'connection') continue;
    headers.set(name, value);
  }
  const init: RequestInit = { method, headers };
  if (request.signal) init.signal = request.signal;
  return new Request(url, init);
}

function httpResponse(response: Response, method: string): HttpResponse {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name.toLowerCase()] = value;
  });
  const body = method === 'HEAD' || response.body === null ? '' : response.body;
  return { status: response.status, headers, body };
}
