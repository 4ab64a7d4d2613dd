// @ts-check
// The todos DOM: builds the page once, then re-renders the list from each state it gets.

import { mountTeachingPanel } from '../../shared/teaching-panel.js';

/**
 * @param {import('./client.js').TodoActions} actions
 * @returns {(todos: import('./client.js').Todo[]) => void}
 */
export function createTodosView(actions) {
  document.head.append(
    Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/playground.css' }),
  );
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  app.innerHTML = `
    <a class="back" href="/">← all demos</a>
    <h1>Todos <span class="badge" data-testid="status">connecting</span></h1>
    <p class="lead">Shared live by every tab, saved to a file in the background. Open this page twice.</p>
    <div class="card">
      <form class="row" data-testid="add-form">
        <input class="grow" type="text" name="text" placeholder="What needs doing?" autocomplete="off" aria-label="new todo" data-testid="new-todo">
        <button type="submit">Add</button>
      </form>
      <ul class="plain todos" data-testid="list"></ul>
      <p class="row small muted" style="margin:0.75rem 0 0">
        <span class="grow" data-testid="summary"></span>
        <button type="button" class="secondary" data-testid="clear-done">Clear done</button>
      </p>
    </div>`;
  // Beside the app: the live traffic of this page's socket, and this demo's source.
  mountTeachingPanel('todos');
  const $ = (/** @type {string} */ id) =>
    /** @type {HTMLElement} */ (app.querySelector(`[data-testid="${id}"]`));
  const form = /** @type {HTMLFormElement} */ ($('add-form'));
  const input = /** @type {HTMLInputElement} */ ($('new-todo'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (input.value.trim()) actions.add(input.value);
    input.value = '';
  });
  $('clear-done').addEventListener('click', () => actions.clearDone());
  followStatus($('status'));

  const list = $('list');
  return (todos) => {
    list.replaceChildren(
      ...todos.map((todo) => {
        const item = document.createElement('li');
        item.className = todo.done ? 'done' : '';
        item.dataset.testid = 'todo';
        const box = Object.assign(document.createElement('input'), { type: 'checkbox', checked: todo.done });
        box.setAttribute('aria-label', `done: ${todo.text}`);
        box.addEventListener('change', () => actions.toggle(todo.id));
        const text = Object.assign(document.createElement('span'), {
          className: 'text grow',
          textContent: todo.text,
        });
        const remove = Object.assign(document.createElement('button'), {
          className: 'secondary',
          textContent: '×',
        });
        remove.setAttribute('aria-label', `remove ${todo.text}`);
        remove.addEventListener('click', () => actions.remove(todo.id));
        item.append(box, text, remove);
        return item;
      }),
    );
    const left = todos.filter((t) => !t.done).length;
    $('summary').textContent = todos.length ? `${left} of ${todos.length} left` : 'Nothing to do.';
  };
}

/** Mirrors `<html data-actorspace>` (kept current by the zero-build page) into a badge. */
function followStatus(/** @type {HTMLElement} */ badge) {
  const root = document.documentElement;
  const update = () => (badge.textContent = root.dataset.actorspace ?? 'connecting');
  new MutationObserver(update).observe(root, { attributes: true, attributeFilter: ['data-actorspace'] });
  update();
}
