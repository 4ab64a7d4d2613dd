// @ts-check
// The chat room, one per playground server (a service): guest names and the recent
// messages for newcomers. Messages travel on the topic `chat/lobby`: the room publishes each
// one (as the server), and every page subscribes, with its name in the topic's presence.
//
// The recent messages come from the topic too: the room subscribes to it (actors.subscribe),
// so on a cluster (`pnpm playground:cluster`) they include what was said on the other nodes.

/** @typedef {{ from: string, text: string, at: Date }} ChatMessage */

export const LOBBY = 'chat/lobby';
const ANIMALS = ['Otter', 'Heron', 'Lynx', 'Badger', 'Puffin', 'Marten', 'Ibex', 'Gecko'];
const RECENT = 50;

/**
 * @param {{ publish(topic: string, type: string, data: unknown): Promise<number> }} topics the server's `actors`
 * @param {{ node?: string }} [options] on a cluster, this node's label: guest names carry it
 *   ("Otter A1"), so two nodes never hand out the same name
 */
export function createChatRoom(topics, { node } = {}) {
  /** @type {ChatMessage[]} */
  const recent = [];
  let guests = 0;

  return {
    /** This node's label on a cluster, else null. */
    node: node ?? null,
    /** A fresh guest name. */
    name: () => `${ANIMALS[guests % ANIMALS.length]} ${node ?? ''}${++guests}`,
    /** The last messages, for a page that joins (the topic has them for pages that come back). */
    recent: () => recent,
    /** Publishes a message to every page on the topic (on a cluster, of every node). */
    say(/** @type {string} */ from, /** @type {string} */ text) {
      // A Date travels as a Date: the codec keeps rich types intact.
      topics.publish(LOBBY, 'message', { from, text, at: new Date() });
    },
    /**
     * Keeps `recent` from the topic itself: every message published, whichever node's room
     * published it, starting with what the topic's history keeps. Resolves with the function
     * that stops it.
     * @param {import('@actorspace/server').ActorServer<any>} actors
     */
    follow(actors) {
      return actors.subscribe(
        LOBBY,
        (type, data) => {
          if (type !== 'message') return;
          recent.push(/** @type {ChatMessage} */ (data));
          if (recent.length > RECENT) recent.shift();
        },
        { replay: RECENT },
      );
    },
  };
}

/** @typedef {ReturnType<typeof createChatRoom>} ChatRoom */
