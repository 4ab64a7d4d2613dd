// @ts-check
// The todos client root actor (no DOM). The view gets `actions`; each action is a tell to
// the server actor. The only thing that changes the view is a `state` message: the server
// broadcasts it to every tab after each change, so all tabs show the same list.
import { defineActor } from '@actorspace/browser';
import { toStandardJsonSchema } from '@valibot/to-json-schema';
import * as v from 'valibot';
import { createTodosView } from './ui.js';

// What agents may send, as a schema: validated here before the handler runs, and published
// (as JSON Schema) in the server's registry, its MCP tools, and this page's WebMCP tools.
const NewTodo = toStandardJsonSchema(
  v.object({
    text: v.pipe(
      v.string(),
      v.regex(/\S/, 'must not be blank'),
      v.maxLength(200),
      v.description('What needs doing'),
    ),
  }),
);

// In-browser agents (WebMCP, where the browser has navigator.modelContext) get the same tools.
export const webmcp = true;

/** @typedef {import('@actorspace/browser').RemoteActor<import('../server.mjs').TodosActor>} ServerActor */

/** @typedef {import('../store.mjs').Todo} Todo */
/**
 * @typedef {object} TodoActions
 * @property {(text: string) => void} add
 * @property {(id: string) => void} toggle
 * @property {(id: string) => void} remove
 * @property {() => void} clearDone
 */

/** @param {(actions: TodoActions) => (todos: Todo[]) => void} createView */
export function createTodosClient(createView) {
  /** @type {ServerActor | null} */
  let server = null;

  /** @type {TodoActions} */
  const actions = {
    add: (text) => server?.tell('add', { text }),
    toggle: (id) => server?.tell('toggle', { id }),
    remove: (id) => server?.tell('remove', { id }),
    clearDone: () => server?.tell('clearDone'),
  };
  const render = createView(actions);
  /** @type {Todo[]} */
  let shown = [];

  return defineActor(
    {
      state: (/** @type {Todo[]} */ todos) => {
        shown = todos;
        render(todos);
      },
      // For agents (`callers: ['service']`): through the server's gateway (HTTP, MCP) or WebMCP.
      // The page's own server may call them too; other pages never reach this tab.
      addTodo: {
        description: "Adds a todo to this user's list (every open tab shows it).",
        input: NewTodo,
        callers: ['service'],
        handler: async ({ text }) => {
          await server?.ask('add', { text });
          return { added: text };
        },
      },
      listTodos: {
        description: 'The todos this tab shows: text, and whether each is done.',
        callers: ['service'],
        handler: () => shown.map(({ text, done }) => ({ text, done })),
      },
    },
    {
      // Typed as the server actor: its asks are checked against its handlers.
      setRemoteActor(/** @type {ServerActor} */ remote) {
        server = remote;
      },
    },
  );
}

export default () => createTodosClient(createTodosView);
