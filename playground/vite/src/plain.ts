// The vanilla TypeScript page: pairs a root actor with the server's /todos route, asks `add`,
// and renders the list the server pushes (`changed`) after every change, from any tab.
import { connect, defineActor, type SessionStatus } from '@actorspace/browser';
import type { Todo, TodosActor } from '../server/todos.mjs'; // types only: nothing of the server is bundled

const status = document.querySelector<HTMLOutputElement>('#status')!;
const list = document.querySelector<HTMLUListElement>('#todos')!;
const answer = document.querySelector<HTMLParagraphElement>('#answer')!;
const form = document.querySelector<HTMLFormElement>('#add')!;
const input = form.querySelector<HTMLInputElement>('input')!;

function render(todos: Todo[]): void {
  list.replaceChildren(
    ...todos.map((todo) => {
      const item = document.createElement('li');
      item.textContent = todo.text;
      return item;
    }),
  );
}

function showStatus(value: SessionStatus | `failed: ${string}`): void {
  status.value = value; // connecting, open, reconnecting, closed
}

// The page's root actor: the server tells it `changed` with the whole list.
const page = defineActor({ changed: (todos: Todo[]) => render(todos) });

// '/actorspace' is resolved against the page: ws://<this host>/actorspace. In development that
// is Vite's dev server, which proxies it to Express (vite.config.ts, `ws: true`).
const session = await connect<TodosActor>('/actorspace', { route: '/todos', actor: page }).catch((error) => {
  showStatus(`failed: ${error.code}`); // refused or unreachable: see docs/guide/errors.md
  throw error;
});
// connect() resolves once paired, so its 'open' event has already fired: read the status, then listen.
showStatus(session.status);
session.on('status', showStatus);

form.addEventListener('submit', (event) => {
  event.preventDefault();
  session.server
    .api()
    .add({ text: input.value }) // typed from the server's handlers: Promise<Todo>
    .then(
      (todo) => {
        answer.textContent = `added #${todo.id}`;
        input.value = '';
      },
      (error) => (answer.textContent = `add failed: ${error.code}`), // an ActorSpaceError's code
    );
});
