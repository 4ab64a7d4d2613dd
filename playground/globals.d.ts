// What the zero-build page's boot module publishes on `globalThis`: the traffic tap before
// the client module runs, then the session and the client root actor once the page is paired.
import type { Actor, Session } from '@actorspace/browser';

declare global {
  /** One message of the page's socket: `out` sent by the page, `in` received; `at` is `performance.now()`. */
  interface ActorSpaceTrafficEvent {
    direction: 'in' | 'out';
    data: string;
    at: number;
  }

  var actorspace:
    | {
        /** Listeners get every WebSocket message of the page. */
        traffic: {
          on(listener: (event: ActorSpaceTrafficEvent) => void): void;
          off(listener: (event: ActorSpaceTrafficEvent) => void): void;
        };
        /** Set once the page is paired (absent before). */
        session: Session;
        /** Set once the page is paired (absent before). */
        actor: Actor;
      }
    | undefined;
}
