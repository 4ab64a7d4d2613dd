// @ts-check
// The brokers the tests, the bench and the cluster playground start for themselves: Debian's
// redis-server and nats-server, each on a free port of 127.0.0.1 (never a broker's usual one),
// and waiting until a port accepts connections.
import { existsSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';

/** Redis's and NATS's usual ports: a broker started for a run never takes them. */
const BROKER_PORTS = new Set([6379, 4222]);

/** A TCP port of 127.0.0.1 nobody listens on now (never 6379 or 4222). */
export async function freePort() {
  for (;;) {
    const server = createServer();
    await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(undefined)));
    const { port } = /** @type {import('node:net').AddressInfo} */ (server.address());
    await new Promise((resolve) => server.close(() => resolve(undefined)));
    if (!BROKER_PORTS.has(port)) return port;
  }
}

/**
 * Resolves true once something accepts connections on `port` of 127.0.0.1; false after `ms`,
 * or as soon as `alive()` says the process that should listen has ended.
 * @param {number} port
 * @param {{ ms?: number, alive?: () => boolean }} [options]
 */
export async function listening(port, { ms = 10_000, alive = () => true } = {}) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && alive()) {
    const open = await new Promise((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

/**
 * The command line of a broker on `port`, keeping its files in `dir`: redis-server with nothing
 * saved (a restart forgets everything), or nats-server with JetStream stored in `dir`.
 * Debian puts nats-server in /usr/sbin, which not every PATH has.
 * @param {'redis' | 'nats'} kind
 * @param {number} port
 * @param {string} dir
 * @returns {[command: string, args: string[]]}
 */
export function brokerCommand(kind, port, dir) {
  return kind === 'redis'
    ? [
        existsSync('/usr/bin/redis-server') ? '/usr/bin/redis-server' : 'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
      ]
    : [
        existsSync('/usr/sbin/nats-server') ? '/usr/sbin/nats-server' : 'nats-server',
        ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', dir],
      ];
}
