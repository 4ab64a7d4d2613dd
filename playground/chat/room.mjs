// @ts-check
// The chat room, one per playground server (a service): guest names and the recent
// messages for newcomers. Messages travel on the topic `chat/lobby`: the room publishes each
// one (as the server), and every page subscribes, with its name in the topic's presence.

/** @typedef {{ from: string, text: string, at: Date }} ChatMessage */

export const LOBBY = 'chat/lobby';
const ANIMALS = ['Otter', 'Heron', 'Lynx', 'Badger', 'Puffin', 'Marten', 'Ibex', 'Gecko'];
const RECENT = 50;

/** @param {{ publish(topic: string, type: string, data: unknown): Promise<number> }} topics the server's `actors` */
export function createChatRoom(topics) {
  /** @type {ChatMessage[]} */
  const recent = [];
  let guests = 0;

  return {
    /** A fresh guest name. */
    name: () => `${ANIMALS[guests % ANIMALS.length]} ${++guests}`,
    /** The last messages, for a page that joins (the topic has them for pages that come back). */
    recent: () => recent,
    /** Publishes a message to every page on the topic. */
    say(/** @type {string} */ from, /** @type {string} */ text) {
      // A Date travels as a Date: the codec keeps rich types intact.
      const message = { from, text, at: new Date() };
      recent.push(message);
      if (recent.length > RECENT) recent.shift();
      topics.publish(LOBBY, 'message', message);
    },
  };
}

/** @typedef {ReturnType<typeof createChatRoom>} ChatRoom */
