// @ts-check
// The desk's client root actor (no DOM). The module also exports `token`: the zero-build page
// calls it before every connection attempt, so the session carries who is signed in, and a
// reconnect gets a fresh token. The host app issues it from its own login route.
import { defineActor } from '@actorspace/browser';
import { createDeskView } from './ui.js';

/** @typedef {import('@actorspace/browser').RemoteActor<import('../server.mjs').DeskActor>} ServerActor */
/** @typedef {import('../desk.mjs').Ticket} Ticket */

/**
 * @typedef {object} DeskView
 * @property {() => Promise<string>} signIn resolves with the name the user signed in with
 * @property {(name: string) => void} signedIn
 * @property {(tickets: Ticket[]) => void} show
 * @property {(message: string) => void} say
 */

/** @type {DeskView | null} */
let view = null;
/** @type {ServerActor | null} */
let server = null;

const actions = {
  open: async (/** @type {string} */ text) => {
    try {
      await server?.api().open({ text });
    } catch (/** @type {any} */ error) {
      view?.say(`open refused: ${error.code}: ${error.details?.issues?.[0]?.message ?? error.message}`);
    }
  },
  // The page tries what only a service may do: the server refuses it with FORBIDDEN.
  resolve: async (/** @type {number} */ id) => {
    try {
      await server?.api().resolve({ id });
    } catch (/** @type {any} */ error) {
      view?.say(`resolve refused: ${error.code} (only a back-office service may resolve)`);
    }
  },
};

/** The view, made once, before the first connection attempt needs the sign-in form. */
const theView = () => (view ??= createDeskView(actions));

/**
 * The access token for this page: the host's login route issues it for the name the user
 * signs in with (asked once, then remembered for reconnects).
 */
export async function token() {
  const name = sessionStorage.getItem('desk-name') ?? (await theView().signIn());
  sessionStorage.setItem('desk-name', name);
  const response = await fetch('/desk/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!response.ok) throw new Error(`login failed: ${response.status}`);
  theView().signedIn(name);
  return (await response.json()).token;
}

export default () =>
  defineActor(
    { tickets: (/** @type {Ticket[]} */ tickets) => theView().show(tickets) },
    {
      setRemoteActor(/** @type {ServerActor} */ remote) {
        server = remote;
      },
    },
  );
