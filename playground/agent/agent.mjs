#!/usr/bin/env node
// @ts-check
// An AI agent's side of the gateway, with the official MCP client: it lists the tabs open on
// the todos demo and adds a todo to one of them, which every tab then shows. Run it while the
// playground runs (and a todos tab is open):
//
//   node playground/agent/agent.mjs                          adds "Water the plants"
//   node playground/agent/agent.mjs --text "Call Ada"        adds that
//   node playground/agent/agent.mjs --session <id>           to that tab (see the list it prints)
//
// Options: --url (default http://127.0.0.1:8080/actorspace), --secret-file (the playground's
// .data/desk-secret; or set ACTORSPACE_SECRET). The agent signs its own service token with it.
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createAccessToken } from '@actorspace/server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8080/actorspace' },
    text: { type: 'string', default: 'Water the plants' },
    session: { type: 'string' },
    'secret-file': { type: 'string', default: new URL('../.data/desk-secret', import.meta.url).pathname },
  },
});

const secret = process.env.ACTORSPACE_SECRET ?? (await readFile(values['secret-file'], 'utf8')).trim();
const token = await createAccessToken({
  secret,
  caller: { id: 'todo-agent', type: 'service' },
  expiresIn: '5m',
});

const client = new Client({ name: 'playground-todo-agent', version: '1.0.0' });
await client.connect(
  new StreamableHTTPClientTransport(new URL(`${values.url}/mcp`), {
    requestInit: { headers: { authorization: `Bearer ${token}` } },
  }),
);
try {
  const { tools } = await client.listTools();
  console.log(`tools: ${tools.map((t) => t.name).join(', ')}`);
  /** @type {{ session: string, route: string, caller: { id: string }, tools: string[] }[]} */
  const tabs = JSON.parse(
    textOf(await client.callTool({ name: 'list_sessions', arguments: { route: '/todos' } })),
  );
  for (const tab of tabs) console.log(`tab ${tab.session} (${tab.caller.id}): ${tab.tools.join(', ')}`);
  const target = values.session ?? tabs.find((t) => t.tools.includes('todos_addTodo'))?.session;
  if (!target) {
    console.error('no todos tab is open: open http://127.0.0.1:8080/todos and run this again');
    process.exitCode = 1;
  } else {
    const result = await client.callTool({
      name: 'todos_addTodo',
      arguments: { session: target, text: values.text },
    });
    if (result.isError) throw new Error(textOf(result));
    console.log(`added to ${target}: ${textOf(result)}`);
    const list = await client.callTool({ name: 'todos_listTodos', arguments: { session: target } });
    console.log(`that tab now shows: ${textOf(list)}`);
  }
} finally {
  await client.close();
}

/** @param {any} result the text of a tool's result */
function textOf(result) {
  return result.content.map((/** @type {{ text: string }} */ c) => c.text).join('');
}
