// @ts-check
/**
 * Fan-out server child: `node bench/lib/fanout-server-proc.mjs <system>`.
 *
 * Starts the system's fan-out server on 127.0.0.1:0 with the publisher of lib/fanout-publisher.mjs
 * beside it (its control server on which the subscriber processes report their progress, and
 * the `count` / `run` / `end` / `close` commands the orchestrator drives: see there). Prints
 * `{ type: 'listening', port, controlPort, pid }`. The V8 CPU profile of a `run { profile }` …
 * `end` phase goes to <dir>/<name>-server.cpuprofile.
 */
import { loadSystem } from '../systems/index.mjs';
import { fanoutPublisher, TOPIC } from './fanout-publisher.mjs';
import { logUnhandled, runChild } from './proto.mjs';

const name = process.argv[2];
if (!name) {
  console.error('usage: fanout-server-proc.mjs <system>');
  process.exit(2);
}
logUnhandled(`fanout server ${name}`);

await runChild(async () => {
  const system = await loadSystem(name);
  if (!system) throw new Error(`system ${name} could not be loaded (is its package built?)`);
  if (!system.fanout) throw new Error(`system ${name} has no fan-out side`);
  const server = await system.fanout.startServer({ host: '127.0.0.1', port: 0, topic: TOPIC });
  return fanoutPublisher(server, { profileSuffix: '-server', closeCapMs: 2000 });
});
