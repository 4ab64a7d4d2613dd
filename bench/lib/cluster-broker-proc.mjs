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
import { existsSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
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

const [cmd, args] =
  kind === 'redis'
    ? [
        existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      ]
    : [
        existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server',
        ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
      ];
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

const deadline = Date.now() + 10_000;
let ready = false;
while (!ready && Date.now() < deadline) {
  const open = await new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
  if (open) {
    ready = true;
    emit({ type: 'ready', pid: broker.pid });
  } else await new Promise((r) => setTimeout(r, 50));
}
if (!ready) {
  emit({ type: 'fatal', error: `${kind} broker did not listen on ${port}: ${output.trim()}` });
  killGroup();
}
