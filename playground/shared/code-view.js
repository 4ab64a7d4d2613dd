// @ts-check
// The code view's DOM: the demo's source files, read-only, one at a time, lightly
// highlighted. The list of files and their text come from the playground host
// (`GET /source/<demo>` and `GET /source/<demo>/<file>`, an allowlist served as plain text),
// so the server's code is shown without ever being served as a module.
import { tokenize } from './highlight.js';

/** @typedef {{ path: string, side: 'server' | 'client', url: string, served: string | null }} SourceFile */

/**
 * Makes the code view of a demo. It loads nothing until `load()` (the first time the tab is
 * shown), then shows the first file: the one its README says to read first.
 * @param {string} demo the demo's folder, e.g. `counter`
 * @returns {{ element: HTMLElement, load(): void }}
 */
export function createCodeView(demo) {
  const element = document.createElement('div');
  element.className = 'code-view';
  element.innerHTML = `
    <div class="row files" role="tablist" aria-label="source files" data-testid="code-files"></div>
    <p class="small muted where" data-testid="code-where">Loading…</p>
    <pre class="code" data-testid="code" tabindex="0"><code></code></pre>`;
  const files = /** @type {HTMLElement} */ (element.querySelector('.files'));
  const where = /** @type {HTMLElement} */ (element.querySelector('.where'));
  const code = /** @type {HTMLElement} */ (element.querySelector('code'));
  /** @type {Map<string, Promise<string>>} */
  const texts = new Map();
  let loaded = false;

  /** @param {SourceFile} file @param {HTMLButtonElement} tab */
  async function show(file, tab) {
    for (const other of files.querySelectorAll('button'))
      other.setAttribute('aria-selected', String(other === tab));
    where.textContent =
      file.side === 'server'
        ? `playground/${demo}/${file.path}: runs on the server (shown here as text only).`
        : `playground/${demo}/${file.path}: served to this page as ${file.served}.`;
    if (!texts.has(file.url)) texts.set(file.url, fetchText(file.url));
    let text;
    try {
      text = await /** @type {Promise<string>} */ (texts.get(file.url));
    } catch (error) {
      texts.delete(file.url); // try again on the next click
      text = `// Could not load ${file.path}: ${/** @type {Error} */ (error).message}`;
    }
    if (tab.getAttribute('aria-selected') !== 'true') return; // another file was picked meanwhile
    code.replaceChildren(
      ...tokenize(text).map((t) =>
        t.kind
          ? Object.assign(document.createElement('span'), { className: `tok-${t.kind}`, textContent: t.text })
          : t.text,
      ),
    );
    code.parentElement?.scrollTo(0, 0);
  }

  return {
    element,
    load() {
      if (loaded) return;
      loaded = true;
      (async () => {
        const list = /** @type {{ files: SourceFile[] }} */ (JSON.parse(await fetchText(`/source/${demo}`)));
        const tabs = list.files.map((file) => {
          const tab = Object.assign(document.createElement('button'), {
            type: 'button',
            className: `file ${file.side}`,
            textContent: file.path,
          });
          tab.setAttribute('role', 'tab');
          tab.dataset.testid = 'code-file';
          tab.addEventListener('click', () => void show(file, tab));
          return tab;
        });
        files.replaceChildren(...tabs);
        const [first] = list.files;
        if (first && tabs[0]) await show(first, tabs[0]);
      })().catch((/** @type {Error} */ error) => {
        where.textContent = `Could not load the source: ${error.message}`;
        loaded = false; // try again the next time the tab is shown
      });
    },
  };
}

/** @param {string} url */
async function fetchText(url) {
  const response = await fetch(url, { cache: 'no-cache' });
  if (!response.ok) throw new Error(`GET ${url} answered ${response.status}`);
  return response.text();
}
