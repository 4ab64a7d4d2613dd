// @ts-check
// The chat room, one per playground server (a service): who is online, and the recent
// messages. Members are the client root actors of the paired sessions; the room tells
// each of them about joins, leaves and messages.

/** @typedef {{ from: string, text: string, at: Date }} ChatMessage */
/** @typedef {{ name: string, client: import('@actorspace/core').RemoteActor }} Member */

const ANIMALS = ['Otter', 'Heron', 'Lynx', 'Badger', 'Puffin', 'Marten', 'Ibex', 'Gecko'];
const HISTORY = 50;

export function createChatRoom() {
  /** @type {Map<string, Member>} session id → member */
  const members = new Map();
  /** @type {ChatMessage[]} */
  const history = [];
  let guests = 0;

  const online = () => [...members.values()].map((m) => m.name);

  /** Tells every member; a session that just ended is skipped (its onStop removes it). */
  const broadcast = (/** @type {string} */ type, /** @type {unknown} */ data) => {
    for (const member of members.values()) {
      try {
        member.client.tell(type, data);
      } catch {
        // CHANNEL_CLOSED: the member is leaving.
      }
    }
  };

  return {
    /** Adds a session's client actor; returns the member's name. */
    join(/** @type {string} */ session, /** @type {Member['client']} */ client) {
      const name = `${ANIMALS[guests % ANIMALS.length]} ${++guests}`;
      members.set(session, { name, client });
      client.tell('welcome', { you: name, history });
      broadcast('presence', { online: online(), event: `${name} joined` });
      return name;
    },
    leave(/** @type {string} */ session) {
      const member = members.get(session);
      if (!member) return;
      members.delete(session);
      broadcast('presence', { online: online(), event: `${member.name} left` });
    },
    say(/** @type {string} */ session, /** @type {string} */ text) {
      const member = members.get(session);
      const clean = String(text ?? '')
        .trim()
        .slice(0, 500);
      if (!member || !clean) return;
      // A Date travels as a Date: the codec keeps rich types intact.
      const message = { from: member.name, text: clean, at: new Date() };
      history.push(message);
      if (history.length > HISTORY) history.shift();
      broadcast('message', message);
    },
  };
}

/** @typedef {ReturnType<typeof createChatRoom>} ChatRoom */
