// @ts-check
// The help desk, one per playground server (a service): tickets opened by signed-in pages,
// resolved by a back-office agent. Every page watching the desk is told when tickets change.

/** @typedef {{ id: number, text: string, by: string, resolvedBy: string | null }} Ticket */
/** @typedef {import('@actorspace/core').RemoteActor} Watcher */

export function createDesk() {
  /** @type {Ticket[]} */
  const tickets = [];
  /** @type {Map<string, Watcher>} session id → the page's client actor */
  const watchers = new Map();
  let next = 1;

  const broadcast = () => {
    for (const watcher of watchers.values()) {
      try {
        watcher.tell('tickets', tickets);
      } catch {
        // CHANNEL_CLOSED: the page is leaving (its onStop removes it).
      }
    }
  };

  return {
    /** Tickets, oldest first. */
    list: () => tickets,
    watch(/** @type {string} */ session, /** @type {Watcher} */ watcher) {
      watchers.set(session, watcher);
      watcher.tell('tickets', tickets);
    },
    unwatch(/** @type {string} */ session) {
      watchers.delete(session);
    },
    open(/** @type {string} */ text, /** @type {string} */ by) {
      const ticket = { id: next++, text, by, resolvedBy: null };
      tickets.push(ticket);
      if (tickets.length > 100) tickets.shift();
      broadcast();
      return ticket;
    },
    resolve(/** @type {number} */ id, /** @type {string} */ by) {
      const ticket = tickets.find((t) => t.id === id);
      if (!ticket) return null;
      ticket.resolvedBy = by;
      broadcast();
      return ticket;
    },
  };
}

/** @typedef {ReturnType<typeof createDesk>} Desk */
