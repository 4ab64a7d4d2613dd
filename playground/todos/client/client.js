// @ts-check
// The todos client root actor (no DOM). The view gets `actions`; each action is a tell to
// the server actor. The only thing that changes the view is a `state` message: the server
// broadcasts it to every tab after each change, so all tabs show the same list.
import { defineActor } from '@actorspace/browser';
import { createTodosView } from './ui.js';

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

  return defineActor(
    { state: (/** @type {Todo[]} */ todos) => render(todos) },
    {
      // Typed as the server actor: its asks are checked against its handlers.
      setRemoteActor(/** @type {ServerActor} */ remote) {
        server = remote;
      },
    },
  );
}

export default () => createTodosClient(createTodosView);
