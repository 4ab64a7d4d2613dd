// @ts-check
// The panel every demo page shows beside its app: "Traffic", the live frames of the page's
// socket, and "Code", the demo's own server and client source. Each demo's `client/ui.js`
// imports this module as `../../shared/teaching-panel.js`: on disk that is this folder, and
// in the browser `/<demo>/ui.js` + `../../shared/` is `/shared/`, which the playground host
// serves.
import { createCodeView } from './code-view.js';
import { createTrafficPanel } from './traffic-panel.js';

/**
 * Adds the panel to the page, after `#app`. Call it from the view factory: the client
 * module runs it before the page pairs, so the traffic starts with the HELLO. "Traffic" and
 * "Code" are toggles, so both can be open at once; the code is open when the URL's hash is
 * `#code` (e.g. `/counter#code`).
 * @param {string} demo the demo's folder, e.g. `counter`
 */
export function mountTeachingPanel(demo) {
  const aside = document.createElement('aside');
  aside.className = 'teach card';
  aside.dataset.testid = 'teach';
  aside.setAttribute('aria-label', 'How it works');
  aside.innerHTML = `
    <div class="row teach-head">
      <strong class="grow">How it works</strong>
      <div class="toggles">
        <button type="button" aria-controls="panel-traffic" data-testid="tab-traffic">Traffic</button>
        <button type="button" aria-controls="panel-code" data-testid="tab-code">Code</button>
      </div>
    </div>
    <section id="panel-traffic" aria-label="Traffic" data-testid="panel-traffic"></section>
    <section id="panel-code" aria-label="Code" data-testid="panel-code"></section>`;
  const panel = (/** @type {Part} */ name) =>
    /** @type {HTMLElement} */ (aside.querySelector(`#panel-${name}`));
  const toggle = (/** @type {Part} */ name) =>
    /** @type {HTMLElement} */ (aside.querySelector(`[aria-controls="panel-${name}"]`));
  const code = createCodeView(demo);
  panel('traffic').append(createTrafficPanel());
  panel('code').append(code.element);

  const show = (/** @type {Part} */ name, /** @type {boolean} */ open) => {
    toggle(name).setAttribute('aria-pressed', String(open));
    panel(name).hidden = !open;
    if (name === 'code' && open) code.load();
  };
  toggle('traffic').addEventListener('click', () => show('traffic', panel('traffic').hidden));
  toggle('code').addEventListener('click', () => {
    const open = panel('code').hidden;
    show('code', open);
    history.replaceState(null, '', open ? '#code' : location.pathname + location.search);
  });
  show('traffic', true);
  show('code', location.hash === '#code');

  document.body.classList.add('teaching');
  document.body.append(aside);
}

/** @typedef {'traffic' | 'code'} Part */
