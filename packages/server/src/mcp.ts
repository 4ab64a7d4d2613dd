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
import { errorResponse, type GatewayHttpHost, readBody } from './gateway-http.js';
import { headerOf, normalizeHeaders } from './internal/headers.js';

/** The MCP side of the gateway. */
export interface McpEndpoint {
  serve(request: HttpRequest, caller: Caller): Promise<HttpResponse>;
  close(): void;
}

/** The most MCP sessions kept at once; the least recently used goes first past it. */
const MAX_SESSIONS = 1000;
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
export async function createMcpEndpoint(gateway: Gateway, host: GatewayHttpHost): Promise<McpEndpoint> {
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
  const unwatch = gateway.watch(() => {
    if (!refresh()) return;
    for (const s of sessions.values()) s.server.sendToolListChanged().catch(() => {});
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
        gateway.spend(caller);
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
        if (sessions.size >= MAX_SESSIONS) {
          const [oldest] = sessions.keys();
          if (oldest !== undefined) close(oldest);
        }
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
    async serve(request, caller) {
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
      let parsedBody: unknown;
      if (method === 'POST') {
        const raw = await readBody(request, host.maxPayload);
        try {
          parsedBody = JSON.parse(raw);
        } catch {
          return errorResponse(400, 'INVALID_MESSAGE', 'the request body must be JSON');
        }
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
      for (const id of [...sessions.keys()]) close(id);
    },
  };
}

/** The tools for what the sessions offer: one per route and message type. */
function capabilityTools(list: PublicSessionInfo[]): Map<string, CapabilityTool> {
  const byName = new Map<string, CapabilityTool & { description: MessageDescription; route: string }>();
  for (const session of list) {
    for (const capability of session.capabilities) {
      const name = toolName(session.route, capability.type);
      const entry = byName.get(name);
      if (entry) entry.sessions.push(session.id);
      else
        byName.set(name, {
          tool: null as unknown as Tool,
          type: capability.type,
          sessions: [session.id],
          flat: false,
          description: capability,
          route: session.route,
        });
    }
  }
  const out = new Map<string, CapabilityTool>();
  for (const [name, entry] of [...byName].sort(([a], [b]) => a.localeCompare(b))) {
    const input = entry.description.input;
    const flat =
      input !== undefined &&
      input.type === 'object' &&
      !(typeof input.properties === 'object' && input.properties !== null && 'session' in input.properties);
    const sessionProperty = {
      type: 'string',
      enum: entry.sessions,
      description:
        entry.sessions.length === 1
          ? 'The session (browser tab) to run it in; may be left out: only one offers it.'
          : 'The session (browser tab) to run it in: see list_sessions for who is in each.',
    };
    const inputSchema: Record<string, unknown> = flat
      ? {
          ...input,
          type: 'object',
          properties: { ...(input?.properties as object), session: sessionProperty },
        }
      : {
          type: 'object',
          properties: { session: sessionProperty, ...(input !== undefined && { data: input }) },
          ...(input !== undefined && { required: ['data'] }),
        };
    if (entry.sessions.length > 1) {
      inputSchema.required = [...new Set([...((inputSchema.required as string[]) ?? []), 'session'])];
    }
    delete inputSchema.$schema;
    out.set(name, {
      type: entry.type,
      sessions: entry.sessions,
      flat,
      tool: {
        name,
        description: `${entry.description.description ?? entry.type} (runs in a browser tab of ${entry.route}; ${
          entry.sessions.length
        } tab${entry.sessions.length === 1 ? '' : 's'} offer it)`,
        inputSchema: inputSchema as Tool['inputSchema'],
      },
    });
  }
  return out;
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
