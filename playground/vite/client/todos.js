// @ts-check
// The zero-build client of the same /todos route. No bundler: the Express server serves this
// module at /todos/client.js, a page with an import map for '@actorspace/browser', and a boot
// module that pairs the actor returned below with the route's server actor. Everything in
// this folder is served to anyone who asks, so it holds browser code only.
import { defineActor } from '@actorspace/browser';

/** @typedef {import('../server/todos.mjs').Todo} Todo */
/** @typedef {import('@actorspace/browser').RemoteActor<import('../server/todos.mjs').TodosActor>} TodosServer */

/** The default export: a factory the page calls with no arguments (a class works too). */
export default function createTodosClient() {
  const app = /** @type {HTMLElement} */ (document.querySelector('#app'));
  app.innerHTML = `<h1>Todos <small>zero-build</small></h1>
<form><input aria-label="New todo" placeholder="Buy milk" required> <button type="submit">Add</button></form>
<p data-testid="answer"></p>
<ul data-testid="todos"></ul>`;
  const form = /** @type {HTMLFormElement} */ (app.querySelector('form'));
  const input = /** @type {HTMLInputElement} */ (form.querySelector('input'));
  const answer = /** @type {HTMLElement} */ (app.querySelector('[data-testid="answer"]'));
  const list = /** @type {HTMLElement} */ (app.querySelector('[data-testid="todos"]'));

  /** @type {TodosServer | null} */
  let server = null;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    server
      ?.api()
      .add({ text: input.value })
      .then(
        (todo) => {
          answer.textContent = `added #${todo.id}`;
          input.value = '';
        },
        (error) => (answer.textContent = `add failed: ${error.code}`),
      );
  });

  /** @param {Todo[]} todos */
  function render(todos) {
    list.replaceChildren(
      ...todos.map((todo) => Object.assign(document.createElement('li'), { textContent: todo.text })),
    );
  }

  return defineActor(
    { changed: (/** @type {Todo[]} */ todos) => render(todos) },
    {
      /**
       * Called once paired, and again if the client pairs in a fresh session.
       * @param {TodosServer} remote
       */
      setRemoteActor(remote) {
        server = remote;
      },
    },
  );
}
