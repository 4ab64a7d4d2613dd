// @ts-check
/**
 * Broker keeper: `node bench/lib/cluster-broker-proc.mjs <redis|nats> <port> <dir>`.
 *
 * The orchestrator (bench/cluster.mjs, through lib/cluster-brokers.mjs) starts this process
 * detached, so it leads its own process group; it starts Debian's `redis-server` (no
 * persistence) or `nats-server` (JetStream, its store in <dir>) in that same group on
 * 127.0.0.1:<port>, waits until the port accepts connections and prints one line
 * `@@bench {"type":"ready","pid":<broker pid>}`. The orchestrator stops both by killing the group.
 * If the orchestrator dies without doing so (even by SIGKILL), this process's stdin closes and
 * it kills the broker, removes its files and ends its group itself: no broker outlives a run.
 */
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { brokerCommand, listening } from '../../scripts/lib/brokers.mjs';
import { emit } from './proto.mjs';

const [kind, portArg, dir] = process.argv.slice(2);
const port = Number(portArg);
if ((kind !== 'redis' && kind !== 'nats') || !(port > 0) || !dir) {
  console.error('usage: cluster-broker-proc.mjs <redis|nats> <port> <dir>');
  process.exit(2);
}

/** Kills this process group (the broker and this process). */
const killGroup = () => {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    process.exit(1);
  }
};
let stopping = false;
/** The orchestrator is gone: kill the broker, remove its files, then the group (this process). */
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  setTimeout(killGroup, 2_000).unref();
  broker.once('exit', () => {
    rmSync(dir, { recursive: true, force: true });
    killGroup();
  });
  broker.kill('SIGKILL');
};

const [cmd, args] = brokerCommand(kind, port, dir);
let output = '';
const broker = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
const keep = (/** @type {Buffer} */ d) => {
  output = (output + String(d)).slice(-2000);
};
broker.stdout.on('data', keep);
broker.stderr.on('data', keep);
broker.on('error', (err) => {
  emit({ type: 'fatal', error: `${cmd}: ${err.message}` });
  process.exit(1);
});
broker.on('exit', (code, signal) => {
  if (stopping) return;
  emit({ type: 'fatal', error: `${kind} broker exited (code ${code}, signal ${signal}): ${output.trim()}` });
  process.exit(1);
});

// The orchestrator went away (or closed our stdin on purpose): take the broker with us.
process.stdin.on('end', shutdown);
process.stdin.on('error', shutdown);
process.stdin.resume();
for (const sig of /** @type {const} */ (['SIGTERM', 'SIGINT', 'SIGHUP'])) process.on(sig, shutdown);

const ready = await listening(port, { alive: () => broker.exitCode === null && broker.signalCode === null });
if (ready) emit({ type: 'ready', pid: broker.pid });
else {
  emit({ type: 'fatal', error: `${kind} broker did not listen on ${port}: ${output.trim()}` });
  killGroup();
}
