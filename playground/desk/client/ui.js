// @ts-check
// The desk DOM: a sign-in form, then the tickets and a form to open one.

import { mountTeachingPanel } from '../../shared/teaching-panel.js';

/**
 * @param {{ open(text: string): Promise<void>, resolve(id: number): Promise<void> }} actions
 * @returns {import('./client.js').DeskView}
 */
export function createDeskView(actions) {
  document.head.append(
    Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/playground.css' }),
  );
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  app.innerHTML = `
    <a class="back" href="/">← all demos</a>
    <h1>Help desk <span class="badge" data-testid="status">connecting</span></h1>
    <p class="lead">Sign in: the host app's login route issues a signed access token, and the
      server knows who is calling from it. Pages open tickets; only the back-office agent
      (<code>node playground/desk/agent.mjs</code>) may resolve them.</p>
    <form class="card row" data-testid="sign-in" hidden>
      <input class="grow" name="name" placeholder="Your name" aria-label="your name" autocomplete="off" data-testid="name">
      <button type="submit">Sign in</button>
    </form>
    <div class="card" data-testid="desk" hidden>
      <p class="small muted">Signed in as <strong data-testid="me"></strong></p>
      <form class="row" data-testid="open-form">
        <input class="grow" name="text" placeholder="Describe the problem" aria-label="ticket" autocomplete="off" data-testid="ticket-text">
        <button type="submit">Open ticket</button>
      </form>
      <ul class="plain" data-testid="tickets"></ul>
      <p class="small muted" data-testid="message"></p>
    </div>`;
  mountTeachingPanel('desk');
  const $ = (/** @type {string} */ id) =>
    /** @type {HTMLElement} */ (app.querySelector(`[data-testid="${id}"]`));
  const root = document.documentElement;
  new MutationObserver(() => ($('status').textContent = root.dataset.actorspace ?? 'connecting')).observe(
    root,
    {
      attributes: true,
      attributeFilter: ['data-actorspace'],
    },
  );

  const openForm = /** @type {HTMLFormElement} */ ($('open-form'));
  openForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = /** @type {HTMLInputElement} */ ($('ticket-text'));
    await actions.open(input.value);
    input.value = '';
  });

  return {
    signIn: () => {
      const form = /** @type {HTMLFormElement} */ ($('sign-in'));
      form.hidden = false;
      return new Promise((resolve) => {
        form.addEventListener('submit', (event) => {
          event.preventDefault();
          const name = /** @type {HTMLInputElement} */ ($('name')).value.trim();
          if (!name) return;
          form.hidden = true;
          resolve(name);
        });
      });
    },
    signedIn: (name) => {
      $('me').textContent = name;
      $('desk').hidden = false;
    },
    show: (tickets) => {
      $('tickets').replaceChildren(
        ...tickets.map((t) => {
          const li = document.createElement('li');
          li.className = 'row';
          li.dataset.testid = `ticket-${t.id}`;
          const text = document.createElement('span');
          text.className = 'grow';
          text.textContent = `#${t.id} ${t.text} (${t.by})`;
          const state = document.createElement('span');
          state.className = 'small muted';
          state.dataset.testid = `state-${t.id}`;
          state.textContent = t.resolvedBy ? `resolved by ${t.resolvedBy}` : 'open';
          li.append(text, state);
          if (!t.resolvedBy) {
            const button = document.createElement('button');
            button.className = 'secondary';
            button.textContent = 'Resolve';
            button.dataset.testid = `resolve-${t.id}`;
            button.addEventListener('click', () => actions.resolve(t.id));
            li.append(button);
          }
          return li;
        }),
      );
    },
    say: (message) => {
      $('message').textContent = message;
    },
  };
}
