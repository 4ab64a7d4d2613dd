// @ts-check
// The chat client root actor (no DOM): room events in, `say` asks out.
import { defineActor } from '@actorspace/browser';
import { createChatView } from './ui.js';

/** @typedef {import('@actorspace/browser').RemoteActor<import('../server.mjs').ChatActor>} ServerActor */

/** @typedef {import('../room.mjs').ChatMessage} ChatMessage */
/**
 * @typedef {object} ChatView
 * @property {(you: string, history: ChatMessage[]) => void} welcome
 * @property {(online: string[], event: string) => void} presence
 * @property {(message: ChatMessage) => void} message
 */

/** @param {(actions: { say(text: string): Promise<boolean> }) => ChatView} createView */
export function createChatClient(createView) {
  /** @type {ServerActor | null} */
  let server = null;

  const view = createView({
    say: async (text) => (server ? server.api().say({ text }) : false),
  });

  return defineActor(
    {
      welcome: (/** @type {{ you: string, history: ChatMessage[] }} */ { you, history }) =>
        view.welcome(you, history),
      presence: (/** @type {{ online: string[], event: string }} */ { online, event }) =>
        view.presence(online, event),
      message: (/** @type {ChatMessage} */ message) => view.message(message),
    },
    {
      // Typed as the server actor: its asks are checked against its handlers.
      setRemoteActor(/** @type {ServerActor} */ remote) {
        server = remote;
      },
    },
  );
}

export default () => createChatClient(createChatView);
