// @ts-check
// The traffic panel's DOM: a live list of the frames on this page's socket, from the tap the
// zero-build page publishes (`globalThis.actorspace.traffic`), newest at the bottom. Asks
// show the time until their answer; PING, PONG, ACK and CREDIT are hidden unless asked for.
import { createTrafficLog, formatMs } from './traffic-log.js';

/** @typedef {import('./traffic-log.js').TrafficRow} TrafficRow */

/** What each kind means, for the kind column's tooltip. */
const MEANING = /** @type {Record<string, string>} */ ({
  TELL: 'a message with no answer',
  ASK: 'a message that waits for an answer (RESOLVE or REJECT with the same #id)',
  RESOLVE: 'the answer to an ask',
  REJECT: 'an ask failed: the error travels back',
  CANCEL: 'the asker gave up on an ask',
  ERROR: 'a failure no ask waits for (e.g. a tell to a missing actor)',
  PING: 'heartbeat',
  PONG: 'heartbeat answer',
  ACK: 'numbered frames received so far (resumable session)',
  CREDIT: 'bytes consumed so far (flow control)',
  HELLO: "the client's first message: route, root actor, limits",
  WELCOME: "the server's answer to HELLO: session id, root actor, limits",
});

/**
 * Makes the panel and starts listening. Call it before the page pairs (in the view factory,
 * which the client module runs first) to see the HELLO and WELCOME too.
 * @param {{ limit?: number }} [options] `limit`: rows kept (default 200)
 * @returns {HTMLElement}
 */
export function createTrafficPanel({ limit = 200 } = {}) {
  const panel = document.createElement('div');
  panel.className = 'traffic-panel';
  panel.innerHTML = `
    <div class="row small traffic-tools">
      <label class="grow"><input type="checkbox" data-testid="show-control"> control frames</label>
      <button type="button" class="secondary" data-testid="traffic-pause">Pause</button>
      <button type="button" class="secondary" data-testid="traffic-clear">Clear</button>
    </div>
    <p class="small muted summary" data-testid="traffic-summary"></p>
    <ol class="plain traffic" data-testid="traffic" aria-live="off"></ol>
    <p class="small muted legend">→ sent by this page, ← from the server. An ask shows the time until its
      answer; hover a row for its data. Only the last ${limit} frames are kept.</p>`;
  const $ = (/** @type {string} */ id) =>
    /** @type {HTMLElement} */ (panel.querySelector(`[data-testid="${id}"]`));
  const list = $('traffic');
  const summary = $('traffic-summary');
  const pause = /** @type {HTMLButtonElement} */ ($('traffic-pause'));
  const showControl = /** @type {HTMLInputElement} */ ($('show-control'));

  const log = createTrafficLog({ limit });
  /** @type {Map<TrafficRow, HTMLElement>} */
  const shown = new Map();
  let paused = false;
  let messages = 0;

  const tap = globalThis.actorspace?.traffic;
  if (!tap) {
    summary.textContent = 'No traffic tap on this page (it is not a zero-build page).';
    return panel;
  }
  tap.on((event) => {
    messages++;
    const change = log.record(event);
    for (const row of change.dropped) {
      shown.get(row)?.remove();
      shown.delete(row);
    }
    if (!paused) {
      const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 24;
      for (const row of change.updated) shown.get(row)?.replaceWith(render(row));
      for (const row of change.added) list.append(render(row));
      if (atBottom) list.scrollTop = list.scrollHeight;
    }
    summarize();
  });

  showControl.addEventListener('change', () => {
    list.classList.toggle('show-control', showControl.checked);
    summarize();
  });
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    if (!paused) redraw();
  });
  $('traffic-clear').addEventListener('click', () => {
    log.clear();
    redraw();
  });
  summarize();
  return panel;

  /** Renders every kept row again (after a pause or a clear). */
  function redraw() {
    shown.clear();
    list.replaceChildren(...log.rows.map(render));
    list.scrollTop = list.scrollHeight;
    summarize();
  }

  function summarize() {
    const hidden = showControl.checked ? 0 : log.rows.filter((r) => r.control).length;
    summary.textContent =
      `${messages} messages` +
      (hidden ? ` · ${hidden} control frames hidden` : '') +
      (paused ? ' · paused' : '');
  }

  /** One row: time, direction, kind, what it is for, its timing, and a preview of its data. */
  function render(/** @type {TrafficRow} */ row) {
    const item = document.createElement('li');
    item.className = `frame ${row.direction} kind-${row.name.toLowerCase()}${row.control ? ' control' : ''}`;
    item.dataset.testid = 'traffic-row';
    item.dataset.kind = row.name;
    item.dataset.direction = row.direction;
    item.title = row.detail;
    const cell = (/** @type {string} */ className, /** @type {string} */ text, title = '') => {
      const span = Object.assign(document.createElement('span'), { className, textContent: text });
      if (title) span.title = title;
      return span;
    };
    const what = cell('what', '');
    if (row.type) what.append(Object.assign(document.createElement('b'), { textContent: row.type }));
    const to = [
      row.target && row.name !== 'RESOLVE' && row.name !== 'REJECT' ? `→ ${row.target}` : '',
      row.id === null ? '' : `#${row.id}`,
    ]
      .filter(Boolean)
      .join(' ');
    if (to) what.append(` ${to}`);
    const preview = cell('preview', row.preview);
    if (row.batch > 1) {
      preview.prepend(
        cell('batch', `batch of ${row.batch}`, 'sent in one WebSocket message with other frames'),
        ' ',
      );
    }
    item.append(
      cell('t', clock(row.at)),
      cell(
        'dir',
        row.direction === 'out' ? '→' : '←',
        row.direction === 'out' ? 'sent by this page' : 'received from the server',
      ),
      cell('kind', row.name, MEANING[row.name] ?? ''),
      what,
      timing(row),
      preview,
    );
    shown.set(row, item);
    return item;

    /** The time column: an ask's wait for its answer (or that it still waits). */
    function timing(/** @type {TrafficRow} */ r) {
      if (r.state === 'pending') return cell('ms pending', '…', 'waiting for the answer');
      if (r.ms === null) return cell('ms', '');
      const title =
        r.name === 'ASK'
          ? `${r.state} after ${formatMs(r.ms)}`
          : r.name === 'WELCOME'
            ? 'since the HELLO'
            : 'since its ask';
      return cell(`ms${r.state === 'rejected' ? ' bad' : ''}`, formatMs(r.ms), title);
    }
  }
}

/** `12:03:04.123`, the wall-clock time of a `performance.now()` reading. */
function clock(/** @type {number} */ at) {
  const date = new Date(performance.timeOrigin + at);
  const two = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(date.getMilliseconds()).padStart(3, '0')}`;
}
