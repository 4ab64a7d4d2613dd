// @ts-check
// The counter's DOM: renders into the page's #app and reports clicks as actions.

import { mountTeachingPanel } from '../../shared/teaching-panel.js';

/**
 * @param {{ increment(): void; decrement(): void }} actions
 * @returns {import('./client.js').CounterView}
 */
export function createCounterView(actions) {
  document.head.append(
    Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/playground.css' }),
  );
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  app.innerHTML = `
    <a class="back" href="/">← all demos</a>
    <h1>Counter <span class="badge" data-testid="status">connecting</span></h1>
    <p class="lead">The smallest pairing: each click is an ask to this tab's own server actor, which pushes the new value back.</p>
    <div class="card row" style="justify-content:center;gap:1.5rem">
      <button class="secondary" data-testid="decrement" aria-label="decrement">−1</button>
      <output class="counter-value" data-testid="value">…</output>
      <button data-testid="increment" aria-label="increment">+1</button>
    </div>
    <p class="muted small" data-testid="error"></p>`;
  // Beside the app: the live traffic of this page's socket, and this demo's source.
  mountTeachingPanel('counter');
  const $ = (/** @type {string} */ id) =>
    /** @type {HTMLElement} */ (app.querySelector(`[data-testid="${id}"]`));
  $('increment').addEventListener('click', () => actions.increment());
  $('decrement').addEventListener('click', () => actions.decrement());
  followStatus($('status'));
  return {
    show: (value) => {
      $('value').textContent = String(value);
    },
    fail: (message) => {
      $('error').textContent = message;
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
