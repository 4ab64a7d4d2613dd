// @ts-check
// The server side of the /todos route: one list shared by every session (a service), and
// the root actor the route's factory makes for each browser connection. Node runs this file
// as is; the Vite pages import only its types (`import type`), so none of it is bundled.
import { defineActor } from '@actorspace/core';

/** @typedef {{ id: number, text: string }} Todo */

/**
 * The list every session shares, and who to tell when it changes.
 * @typedef {ReturnType<typeof createTodoList>} TodoList
 */
export function createTodoList() {
  /** @type {Todo[]} */
  const todos = [];
  /** @type {Set<(todos: Todo[]) => void>} */
  const watchers = new Set();
  return {
    list: () => todos,
    /** @param {string} text */
    add(text) {
      const todo = { id: todos.length + 1, text };
      todos.push(todo);
      for (const watcher of watchers) watcher(todos);
      return todo;
    },
    /**
     * Calls `watcher` after every change; returns the function that stops it.
     * @param {(todos: Todo[]) => void} watcher
     */
    watch(watcher) {
      watchers.add(watcher);
      return () => void watchers.delete(watcher);
    },
  };
}

/**
 * The route factory: the server root actor of one browser connection.
 * @param {import('@actorspace/server').RouteContext<{ todos: TodoList }>} ctx
 */
export function createTodosActor({ services }) {
  let unwatch = () => {};
  return defineActor(
    {
      // Asks: the return value is the answer.
      add: (/** @type {{ text: string }} */ { text }) => services.todos.add(text),
      list: () => services.todos.list(),
    },
    {
      // Called once the handshake completes, with the page's root actor: push the list now
      // and after every change, from any session.
      setRemoteActor(page) {
        unwatch();
        page.tell('changed', services.todos.list());
        unwatch = services.todos.watch((todos) => page.tell('changed', todos));
      },
      onStop: () => unwatch(),
    },
  );
}

/** The server root actor's type, for `connect<TodosActor>(...)` in the pages. */
/** @typedef {ReturnType<typeof createTodosActor>} TodosActor */
