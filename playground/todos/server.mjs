// @ts-check
// The todos server actor: one per connection, all sharing the `todos` store service.
// It only translates messages into store actions and store changes into `state` tells;
// the store is the single place the list changes.
import { defineActor } from '@actorspace/core';

/**
 * Makes the server root actor of one `/todos` connection.
 * @param {{ services: { todos: import('./store.mjs').TodoStore } }} ctx
 */
export function createTodosActor({ services }) {
  const store = services.todos;
  /** @type {(() => void) | null} */
  let unsubscribe = null;

  // Actions are tells from the client: fire and forget, the new state comes back to every
  // tab (this one included) through the subscription below.
  return defineActor(
    {
      add: (/** @type {{ text: string }} */ { text }) => store.dispatch({ type: 'add', text }),
      toggle: (/** @type {{ id: string }} */ { id }) => store.dispatch({ type: 'toggle', id }),
      remove: (/** @type {{ id: string }} */ { id }) => store.dispatch({ type: 'remove', id }),
      clearDone: () => store.dispatch({ type: 'clearDone' }),
    },
    {
      setRemoteActor(client) {
        // A fresh session (first pairing, or after a server restart) starts from the current state.
        unsubscribe?.();
        client.tell('state', store.todos);
        unsubscribe = store.subscribe((todos) => client.tell('state', todos));
      },
      // The session ended (tab closed, or gone longer than the resume window): stop telling it.
      onStop() {
        unsubscribe?.();
      },
    },
  );
}

/** @typedef {ReturnType<typeof createTodosActor>} TodosActor */
