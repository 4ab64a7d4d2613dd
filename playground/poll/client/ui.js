// @ts-check
// The poll's view, in Preact with htm templates. `preact`, `preact/hooks` and `htm` are
// bare imports: the route lists them in `imports`, so the page's import map points them at
// the installed packages, which the server serves from node_modules. Nothing is built.
import htm from 'htm';
import { h, render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { mountTeachingPanel } from '../../shared/teaching-panel.js';

const html = htm.bind(h);

/**
 * @typedef {object} State
 * @property {string} status the session's status, from `<html data-actorspace>`
 * @property {import('./client.js').Results | null} results
 * @property {number | null} mine the option this tab voted for
 * @property {string} error
 */

/**
 * @param {{ vote(option: number): void }} actions
 * @returns {import('./client.js').PollView}
 */
export function createPollView(actions) {
  document.head.append(
    Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/playground.css' }),
  );
  const root = document.documentElement;

  // A tiny store: the actor's messages and the page's status update it, Preact renders it.
  /** @type {Set<(state: State) => void>} */
  const listeners = new Set();
  /** @type {State} */
  let state = { status: root.dataset.actorspace ?? 'connecting', results: null, mine: null, error: '' };
  const update = (/** @type {Partial<State>} */ change) => {
    state = { ...state, ...change };
    for (const listener of listeners) listener(state);
  };
  new MutationObserver(() => update({ status: root.dataset.actorspace ?? 'connecting' })).observe(root, {
    attributes: true,
    attributeFilter: ['data-actorspace'],
  });

  const vote = (/** @type {number} */ option) => {
    update({ mine: option, error: '' });
    actions.vote(option);
  };

  function Poll() {
    const [now, setNow] = useState(state);
    useEffect(() => {
      listeners.add(setNow);
      // Effects run after the first paint: what changed in between (the results told at
      // pairing, the status) would otherwise wait for the next change.
      setNow(state);
      return () => void listeners.delete(setNow);
    }, []);
    const { status, results, mine, error } = now;
    const counts = results?.counts ?? [];
    const total = counts.reduce((a, b) => a + b, 0);
    return html`
      <a class="back" href="/">← all demos</a>
      <h1>Poll <span class="badge" data-testid="status">${status}</span></h1>
      <p class="lead">
        Vote, then open another tab: every tab sees the results change. This page is Preact,
        imported by name from <code>node_modules</code>, with no build.
      </p>
      <div class="card">
        <strong data-testid="question">${results?.question ?? '…'}</strong>
        <ul class="plain poll" data-testid="options">
          ${(results?.options ?? []).map(
            (label, i) => html`
              <li key=${label}>
                <button aria-pressed=${mine === i} data-testid=${`vote-${i}`} onClick=${() => vote(i)}>
                  ${label}
                </button>
                <meter min="0" max=${Math.max(total, 1)} value=${counts[i] ?? 0}></meter>
                <span class="small" data-testid=${`count-${i}`}>${counts[i] ?? 0}</span>
              </li>
            `,
          )}
        </ul>
        <p class="small muted">
          <span data-testid="total">${total}</span> votes from
          <span data-testid="voters">${results?.voters ?? 0}</span> open tabs
        </p>
        ${error ? html`<p class="muted small" data-testid="error">${error}</p>` : null}
      </div>
    `;
  }

  render(html`<${Poll} />`, /** @type {HTMLElement} */ (document.getElementById('app')));
  // Beside the app: the live traffic of this page's socket, and this demo's source.
  mountTeachingPanel('poll');

  return {
    show: (results) => update({ results }),
    fail: (message) => update({ error: message }),
  };
}
