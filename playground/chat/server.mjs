// @ts-check
// The chat server actor, one per connection. Messages and presence travel on the topic
// `chat/lobby` (see start.mjs for its options): this actor only names the tab and checks
// what it says before the room publishes it. Presence follows the session's life: a page
// joins the topic's presence when it subscribes and leaves when its session ends (the tab
// closes, or a dropped connection is not resumed in time); a short drop is not a leave.
import { defineActor } from '@actorspace/core';
import { z } from 'zod';
import { LOBBY } from './room.mjs';

/**
 * Makes the server root actor of one `/chat` connection.
 * @param {{ services: { chat: import('./room.mjs').ChatRoom } }} ctx
 */
export function createChatActor({ services }) {
  const room = services.chat;
  /** @type {string | null} */
  let name = null;

  return defineActor({
    join: {
      description:
        "Names this tab; answers its name, the room's topic, the recent messages and (on a cluster) the node",
      handler: () => {
        name ??= room.name();
        return { you: name, node: room.node, topic: LOBBY, history: room.recent() };
      },
    },
    // An ask, so the client knows when the message was accepted (and can clear its input);
    // the schema refuses an empty or overlong message before the handler runs.
    say: {
      input: z.object({ text: z.string().trim().min(1).max(500) }),
      output: z.boolean(),
      handler: ({ text }) => {
        room.say(name ?? room.name(), text);
        return true;
      },
    },
  });
}

/** @typedef {ReturnType<typeof createChatActor>} ChatActor */
