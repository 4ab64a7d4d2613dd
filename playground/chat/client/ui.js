// @ts-check
// The chat DOM: message list, who is online, and the input.

import { mountTeachingPanel } from '../../shared/teaching-panel.js';

/**
 * @param {{ say(text: string): Promise<boolean> }} actions
 * @returns {import('./client.js').ChatView}
 */
export function createChatView(actions) {
  document.head.append(
    Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/playground.css' }),
  );
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  app.innerHTML = `
    <a class="back" href="/">← all demos</a>
    <h1>Chat <span class="badge" data-testid="status">connecting</span></h1>
    <p class="lead">You are <strong data-testid="you">…</strong><span data-testid="node" hidden></span>. Open another tab to see presence change.</p>
    <div class="card chat">
      <div>
        <ul class="plain messages" data-testid="messages"></ul>
        <form class="row" data-testid="say-form">
          <input class="grow" type="text" name="text" placeholder="Say something" autocomplete="off" aria-label="message" data-testid="say">
          <button type="submit">Send</button>
        </form>
      </div>
      <div>
        <strong class="small">Online (<span data-testid="count">0</span>)</strong>
        <ul class="plain online small" data-testid="online"></ul>
      </div>
    </div>`;
  // Beside the app: the live traffic of this page's socket, and this demo's source.
  mountTeachingPanel('chat');
  const $ = (/** @type {string} */ id) =>
    /** @type {HTMLElement} */ (app.querySelector(`[data-testid="${id}"]`));
  const input = /** @type {HTMLInputElement} */ ($('say'));
  const messages = $('messages');
  $('say-form').addEventListener('submit', async (event) => {
    event.preventDefault();
    if (input.value.trim() && (await actions.say(input.value))) input.value = '';
  });
  followStatus($('status'));

  // connect() closes the session when the tab goes away (pagehide), so the server ends it at
  // once. Back/forward cache: a page restored after that has a closed session, so start afresh.
  addEventListener('pageshow', (event) => event.persisted && location.reload());

  const line = (/** @type {string} */ className, /** @type {(string | Node)[]} */ ...parts) => {
    const item = document.createElement('li');
    item.className = className;
    item.append(...parts);
    messages.append(item);
    messages.scrollTop = messages.scrollHeight;
  };
  const message = (/** @type {import('./client.js').ChatMessage} */ m) => {
    const from = Object.assign(document.createElement('span'), { className: 'from', textContent: m.from });
    const time = Object.assign(document.createElement('span'), {
      className: 'muted small',
      textContent: ` ${m.at.toLocaleTimeString()}`,
    });
    line('', from, m.text, time);
  };

  return {
    welcome(you, history, node) {
      $('you').textContent = you;
      // On a cluster (`pnpm playground:cluster`): which node's server this page is paired with.
      $('node').hidden = node === null;
      $('node').textContent = node === null ? '' : `, on node ${node}`;
      messages.replaceChildren();
      for (const m of history) message(m);
    },
    presence(online, event) {
      $('count').textContent = String(online.length);
      $('online').replaceChildren(
        ...online.map((name) => Object.assign(document.createElement('li'), { textContent: name })),
      );
      line('system', event);
    },
    message,
    notice(text) {
      line(
        'system',
        Object.assign(document.createElement('span'), { textContent: text, className: 'notice' }),
      );
    },
  };
}

/** Mirrors `<html data-actorspace>` (kept current by the zero-build page) into a badge. */
function followStatus(/** @type {HTMLElement} */ badge) {
  const root = document.documentElement;
  const update = () => (badge.textContent = root.dataset.actorspace ?? 'connecting');
  new MutationObserver(update).observe(root, { attributes: true, attributeFilter: ['data-actorspace'] });
  update();
}
