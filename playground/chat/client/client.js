// @ts-check
// The chat client (no DOM). The page's root actor has nothing to receive: messages and
// presence arrive on the topic `chat/lobby`, which `connected()` subscribes to once the page
// is paired. The subscription keeps itself current: after a reconnect it says whether it
// missed anything (`recovered`).
import { defineActor } from '@actorspace/browser';
import { createChatView } from './ui.js';

/** @typedef {import('../room.mjs').ChatMessage} ChatMessage */
/** @typedef {import('@actorspace/browser').RemoteActor<import('../server.mjs').ChatActor>} ServerActor */
/**
 * @typedef {object} ChatView
 * @property {(you: string, history: ChatMessage[], node: string | null) => void} welcome
 * @property {(online: string[], event: string) => void} presence
 * @property {(message: ChatMessage) => void} message
 * @property {(text: string) => void} notice
 */

/** @type {ServerActor | null} */
let server = null;
const view = createChatView({
  say: async (text) => (server ? server.api().say({ text }) : false),
});

/** Joins the room: a name, the recent messages, and the topic with this tab in its presence. */
async function join(
  /** @type {import('@actorspace/browser').Session<import('../server.mjs').ChatActor>} */ session,
) {
  const { you, node, topic, history } = await session.server.api().join();
  view.welcome(you, history, node);
  const sub = await session.subscribe(topic, (type, data) => type === 'message' && view.message(data), {
    presence: { name: you },
  });
  const online = () => sub.presence().map((m) => String(m.meta.name));
  view.presence(online(), `you joined as ${you}`);
  sub.on('join', (m) => view.presence(online(), `${m.meta.name} joined`));
  sub.on('leave', (m) => view.presence(online(), `${m.meta.name} left`));
  sub.on('recovered', ({ recovered }) =>
    view.notice(
      recovered ? 'reconnected: recovered, nothing missed' : 'reconnected: some messages were missed',
    ),
  );
}

/** Called by the zero-build page once paired. */
export const connected = join;

export default () =>
  defineActor(
    {},
    {
      setRemoteActor(/** @type {ServerActor} */ remote) {
        server = remote;
      },
    },
  );
