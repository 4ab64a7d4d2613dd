// @ts-check
// The status DOM: the connection badge, the drop button, the tick counters and a log of
// status changes. The status comes from `<html data-actorspace>`, which the zero-build
// page keeps in step with the session's `status` events.

import { mountTeachingPanel } from '../../shared/teaching-panel.js';

/**
 * @param {{ drop(): Promise<void> }} actions
 * @returns {(stats: import('./client.js').TickStats) => void}
 */
export function createStatusView(actions) {
  document.head.append(
    Object.assign(document.createElement('link'), { rel: 'stylesheet', href: '/playground.css' }),
  );
  const app = /** @type {HTMLElement} */ (document.getElementById('app'));
  app.innerHTML = `
    <a class="back" href="/">← all demos</a>
    <h1>Connection status <span class="badge" data-testid="status">connecting</span></h1>
    <p class="lead">The server streams a numbered tick every 250 ms. Drop the connection (or restart the server):
      the page reconnects, resumes its session, and no tick goes missing or arrives twice.</p>
    <div class="card">
      <div class="row">
        <span class="grow small muted">Session <code data-testid="session">…</code> · sessions so far: <span data-testid="sessions">0</span></span>
        <button data-testid="drop">Drop connection</button>
      </div>
      <div class="stats">
        <div><strong data-testid="received">0</strong><span class="small muted">received</span></div>
        <div><strong data-testid="last">–</strong><span class="small muted">last #</span></div>
        <div><strong data-testid="missing">0</strong><span class="small muted">missing</span></div>
        <div><strong data-testid="duplicates">0</strong><span class="small muted">duplicates</span></div>
      </div>
      <ul class="plain log muted" data-testid="log"></ul>
    </div>`;
  // Beside the app: the live traffic of this page's socket, and this demo's source.
  mountTeachingPanel('status');
  const $ = (/** @type {string} */ id) =>
    /** @type {HTMLElement} */ (app.querySelector(`[data-testid="${id}"]`));
  const button = /** @type {HTMLButtonElement} */ ($('drop'));
  button.addEventListener('click', async () => {
    button.disabled = true;
    await actions.drop().catch(() => {});
    button.disabled = false;
  });

  // Every status change, timestamped, newest first.
  const root = document.documentElement;
  const log = $('log');
  const onStatus = () => {
    const status = root.dataset.actorspace ?? 'connecting';
    $('status').textContent = status;
    const entry = document.createElement('li');
    entry.textContent = `${new Date().toLocaleTimeString()}  ${status}`;
    log.prepend(entry);
  };
  new MutationObserver(onStatus).observe(root, { attributes: true, attributeFilter: ['data-actorspace'] });

  return (stats) => {
    $('session').textContent = stats.session || '…';
    $('sessions').textContent = String(stats.sessions);
    $('received').textContent = String(stats.received);
    $('last').textContent = stats.last < 0 ? '–' : String(stats.last);
    $('missing').textContent = String(stats.missing);
    $('duplicates').textContent = String(stats.duplicates);
  };
}
