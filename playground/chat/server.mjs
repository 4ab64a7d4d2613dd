// @ts-check
// The chat server actor, one per connection. Presence follows the session's life:
// it joins the room when pairing completes (setRemoteActor) and leaves when the session
// stops (onStop), which happens when the tab closes, or when a dropped connection is not
// resumed within the server's resume window. A short network drop is not a leave.
import { defineActor } from '@actorspace/core';

/**
 * Makes the server root actor of one `/chat` connection.
 * @param {{ services: { chat: import('./room.mjs').ChatRoom }, session: { id: string } }} ctx
 */
export function createChatActor({ services, session }) {
  const room = services.chat;

  return defineActor(
    {
      // An ask, so the client knows when the message was accepted (and can clear its input).
      say: (/** @type {{ text: string }} */ { text }) => {
        room.say(session.id, text);
        return true;
      },
    },
    {
      setRemoteActor(client) {
        room.join(session.id, client);
      },
      onStop() {
        room.leave(session.id);
      },
    },
  );
}

/** @typedef {ReturnType<typeof createChatActor>} ChatActor */
