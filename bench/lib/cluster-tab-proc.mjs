// @ts-check
/**
 * The "tab": `node bench/lib/cluster-tab-proc.mjs <port>`. A Node client of the node on
 * 127.0.0.1:<port> (route `/bench`, reconnection off) whose root actor offers `echo` to services,
 * as a page would. Prints `{ type: 'ready', pid }` once connected, then obeys:
 *   - `begin { profile? }` / `end`: CPU (user + system) between the two (and a V8 CPU profile);
 *   - `close`.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { connect, defineActor } from '@actorspace/node';
import { emit, errorMessage, serveCommands } from './proto.mjs';

const port = Number(process.argv[2]);

/** @type {NodeJS.CpuUsage | null} */
let cpu0 = null;
/** @type {{ session: Session, file: string } | null} */
let profiling = null;

try {
  const tab = await connect(`ws://127.0.0.1:${port}/actorspace`, {
    route: '/bench',
    reconnect: false,
    actor: defineActor({
      echo: { callers: ['service'], description: 'Echoes its input', handler: (data) => data },
    }),
  });
  serveCommands({
    /** @param {{ profile?: { dir: string, name: string } }} m */
    begin: async (m) => {
      if (m.profile) {
        const session = new Session();
        session.connect();
        await session.post('Profiler.enable');
        await session.post('Profiler.start');
        profiling = { session, file: join(m.profile.dir, `${m.profile.name}.cpuprofile`) };
      }
      cpu0 = process.cpuUsage();
      return {};
    },
    end: async () => {
      const cpu = process.cpuUsage(cpu0 ?? undefined);
      if (profiling) {
        const { session, file } = profiling;
        profiling = null;
        const { profile } = await session.post('Profiler.stop');
        session.disconnect();
        writeFileSync(file, JSON.stringify(profile));
      }
      return { cpuUs: cpu.user + cpu.system };
    },
    close: async () => {
      await Promise.race([tab.close(), new Promise((r) => setTimeout(r, 2000))]);
      setImmediate(() => process.exit(0));
      return {};
    },
  });
  emit({ type: 'ready', pid: process.pid });
} catch (err) {
  emit({ type: 'fatal', error: errorMessage(err) });
  process.exit(1);
}
