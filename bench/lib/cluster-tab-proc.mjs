// @ts-check
/**
 * The "tab": `node bench/lib/cluster-tab-proc.mjs <port>`. A Node client of the node on
 * 127.0.0.1:<port> (route `/bench`, reconnection off) whose root actor offers `echo` to services,
 * as a page would. Prints `{ type: 'ready', pid }` once connected, then obeys:
 *   - `begin { profile? }` / `end`: CPU (user + system) between the two (and a V8 CPU profile);
 *   - `close`.
 */
import { join } from 'node:path';
import { connect, defineActor } from '@actorspace/node';
import { PhaseCpu } from './phase.mjs';
import { closeAndExit, runChild } from './proto.mjs';

const port = Number(process.argv[2]);

const phase = new PhaseCpu();

await runChild(async () => {
  const tab = await connect(`ws://127.0.0.1:${port}/actorspace`, {
    route: '/bench',
    reconnect: false,
    actor: defineActor({
      echo: { callers: ['service'], description: 'Echoes its input', handler: (data) => data },
    }),
  });
  const commands = {
    /** @param {{ profile?: { dir: string, name: string } }} m */
    begin: async (m) => {
      if (m.profile) await phase.startProfile(join(m.profile.dir, `${m.profile.name}.cpuprofile`));
      phase.startCount();
      return {};
    },
    end: async () => {
      const cpuUs = phase.cpuUs();
      await phase.stopProfile();
      return { cpuUs };
    },
    close: () => closeAndExit(tab.close(), 2000),
  };
  return { commands, event: { type: 'ready', pid: process.pid } };
});
