// @ts-check
// The event-stream demo's page script: a plain EventSource on topic `clock`, with no ActorSpace
// client at all. It shows each event as received, counts reconnects, and checks the numbers:
// every event once, in order (missing and duplicates stay 0 across dropped connections).

const TOPIC = 'clock';
const STREAM_URL = `/actorspace/topics/${encodeURIComponent(TOPIC)}`;
/** Rows kept on the page. */
const KEEP = 100;

/** @param {string} id */
const byId = (id) => /** @type {HTMLElement} */ (document.querySelector(`[data-testid="${id}"]`));
const list = byId('events');
const counts = { count: 0, reconnects: 0, missing: 0, duplicates: 0 };

/** @type {EventSource | null} */
let source = null;
/** The last id received (`<epoch>:<seq>`), for a reconnect of our own with `?lastEventId=`. */
let lastId = '';
/** Where the numbers are: the topic's epoch and the last seq seen (or announced by a gap). */
let epoch = '';
let seq = 0;
let opened = false;
/** @type {ReturnType<typeof setTimeout> | undefined} */
let retryTimer;

/**
 * Opens the stream. The browser itself reconnects after a dropped connection, sending the last
 * id as the `Last-Event-ID` header; a new EventSource of ours passes it as `?lastEventId=`.
 * @param {string} from the last id seen, or '' for the live stream
 */
function open(from) {
  clearTimeout(retryTimer);
  source?.close();
  source = new EventSource(from ? `${STREAM_URL}?lastEventId=${encodeURIComponent(from)}` : STREAM_URL);
  source.addEventListener('open', () => {
    if (opened) bump('reconnects');
    opened = true;
    showState();
  });
  source.addEventListener('error', () => {
    showState();
    // CONNECTING: the browser retries by itself. CLOSED: it gave up (the server answered an
    // error, e.g. 503 while it shut down): try again in a while, from where we are.
    if (source?.readyState === EventSource.CLOSED) retryTimer = setTimeout(() => open(lastId), 3000);
  });
  source.addEventListener('tick', (event) => onTick(/** @type {MessageEvent<string>} */ (event)));
  // Events were lost (history no longer held them, or the server restarted): go on from its seq.
  source.addEventListener('$gap', (event) => {
    const { data, lastEventId } = /** @type {MessageEvent<string>} */ (event);
    lastId = lastEventId;
    [epoch, seq] = split(lastEventId);
    row('gap', `gap: events were lost; continuing after #${JSON.parse(data).seq}`);
  });
  showState();
}

/** @param {MessageEvent<string>} event */
function onTick(event) {
  const [e, n] = split(event.lastEventId);
  if (e !== epoch) {
    // The first event, or a topic the server forgot (restarted), which numbers from 1 again.
    if (epoch) row('note', 'the server restarted: the topic numbers from 1 again');
    epoch = e;
    seq = n;
  } else if (n <= seq) {
    bump('duplicates');
  } else {
    if (n > seq + 1) {
      counts.missing += n - seq - 1;
      byId('missing').textContent = String(counts.missing);
    }
    seq = n;
  }
  lastId = event.lastEventId;
  byId('last-id').textContent = lastId;
  bump('count');
  const envelope = JSON.parse(event.data);
  const at = new Date(envelope.data.at).toLocaleTimeString();
  const li = row('', '');
  li.dataset.seq = String(n);
  li.innerHTML = '<div><strong></strong> <span class="muted"></span></div><code></code>';
  /** @type {HTMLElement} */ (li.querySelector('strong')).textContent = `#${n} ${at}`;
  /** @type {HTMLElement} */ (li.querySelector('span')).textContent =
    `id: ${event.lastEventId} event: ${event.type}`;
  /** @type {HTMLElement} */ (li.querySelector('code')).textContent = `data: ${event.data}`;
}

/**
 * `<epoch>:<seq>` → [epoch, seq].
 * @param {string} id
 * @returns {[string, number]}
 */
function split(id) {
  const colon = id.lastIndexOf(':');
  return [id.slice(0, colon), Number(id.slice(colon + 1))];
}

/**
 * Adds a row on top of the list.
 * @param {string} kind
 * @param {string} text
 */
function row(kind, text) {
  const li = document.createElement('li');
  if (kind) li.className = kind;
  li.textContent = text;
  list.prepend(li);
  while (list.children.length > KEEP) list.lastElementChild?.remove();
  return li;
}

/** @param {'count' | 'reconnects' | 'duplicates'} name */
function bump(name) {
  counts[name]++;
  byId(name).textContent = String(counts[name]);
}

function showState() {
  const state = ['connecting', 'open', 'closed'][source?.readyState ?? 2] ?? 'closed';
  document.documentElement.dataset.state = state;
  byId('state').textContent = state;
}

byId('reconnect').addEventListener('click', () => open(lastId));
open('');
