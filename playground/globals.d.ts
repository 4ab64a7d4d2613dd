// What the zero-build page's boot module publishes on `globalThis` once the page is paired.
import type { Actor, Session } from '@actorspace/browser';

declare global {
  var actorspace: { session: Session; actor: Actor } | undefined;
}
