#!/usr/bin/env node
// @ts-check
// `npm run playground:cluster` / `pnpm playground:cluster` (from the repo root): the playground
// as two nodes of one ActorSpace server. It starts its own redis-server on a free port of
// 127.0.0.1, then two playground processes (node A and node B) with a Redis backplane and a
// random signing key they share; the chat's topic (messages, who is online, history), the
// registry of sessions and the agent gateway span both nodes.
// Usage: node playground/cluster.mjs [--port 8080] [--data <dir>]
//   --port: node A's port, node B on the next one (0: each picks a free port); PORT=8080 works too
//   --data: where the nodes keep the todos and the desk's secret (default playground/.data)
//
// Nothing outlives it: redis-server and the nodes run in process groups of their own, stopped on
// exit, Ctrl+C, SIGTERM or a crash; redis-server is also killed by the kernel if this process
// dies unannounced (setpriv --pdeathsig), and each node stops when this process goes (its IPC
// channel closes). The same file runs each node: `cluster.mjs --node A --port 8080`, with the
// broker's URL and the signing key sent over IPC (never in the command line or environment).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { redisBackplane } from '@actorspace/redis';
import { brokerCommand, freePort, listening } from '../scripts/lib/brokers.mjs';
import { startPlayground } from './start.mjs';

const NODES = ['A', 'B'];
const { values } = parseArgs({
  options: { port: { type: 'string' }, data: { type: 'string' }, node: { type: 'string' } },
});

if (values.node) await runNode(values.node, Number(values.port ?? 0));
else await runCluster();

/** @typedef {{ redis: string, signingKey: string, dataDir?: string }} NodeConfig what the launcher sends each node */

/** One node: a playground on the backplane, told its broker and key by the launcher. */
async function runNode(/** @type {string} */ node, /** @type {number} */ port) {
  const send = process.send?.bind(process);
  if (!send) {
    console.error('playground: --node is for the processes cluster.mjs starts; run it without --node');
    process.exit(2);
  }
  const config = /** @type {NodeConfig} */ (await new Promise((resolve) => process.once('message', resolve)));
  const playground = await startPlayground({
    port,
    node,
    dataDir: config.dataDir,
    backplane: redisBackplane({ url: config.redis, signingKey: config.signingKey }),
    // The event-stream demo's tick: node A publishes it, every node's streams get it.
    clock: node === NODES[0],
  }).catch((error) => {
    console.error(
      error.code === 'EADDRINUSE'
        ? `playground: port ${port} is in use; pick another with --port`
        : `playground node ${node}: ${error.message}`,
    );
    process.exit(1);
  });
  send({ url: playground.url });

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    // A close that hangs (the broker gone) must not keep the process.
    setTimeout(() => process.exit(1), 5_000).unref();
    await playground.close();
    process.exit(0);
  };
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM'])) process.on(signal, stop);
  // The launcher went (however it ended): so does this node.
  process.once('disconnect', stop);
}

/** The launcher: redis-server, then the nodes one after the other, then waits for a stop. */
async function runCluster() {
  const first = Number(values.port ?? process.env.PORT ?? 8080);
  if (!Number.isInteger(first) || first < 0 || first > 65535 - NODES.length + 1) {
    console.error(`playground: --port must be a port number, got "${values.port ?? process.env.PORT}"`);
    process.exit(1);
  }
  const redisServer = findProgram('redis-server');
  if (!redisServer) {
    console.error(
      "playground: redis-server is not installed (Debian's redis-server package; `pnpm playground:cluster` installs it)",
    );
    process.exit(1);
  }

  /** @type {import('node:child_process').ChildProcess | null} */
  let redis = null;
  /** @type {import('node:child_process').ChildProcess[]} */
  const nodes = [];
  const all = () => (redis ? [redis, ...nodes] : nodes);
  // The last word, on any exit: every process group still there is killed (SIGKILL).
  process.on('exit', () => {
    for (const child of all()) killGroup(child, 'SIGKILL');
  });

  /** @type {Promise<never> | null} */
  let stopping = null;
  /** Stops the nodes gracefully (sessions close, todo writes land), then redis-server; exits. */
  const stop = (/** @type {number} */ code) => {
    stopping ??= (async () => {
      for (const child of nodes) killGroup(child, 'SIGTERM');
      await Promise.race([Promise.all(nodes.map(exited)), sleep(6_000)]);
      // redis-server (nothing to save), and any node that did not stop in time.
      for (const child of all()) killGroup(child, 'SIGKILL');
      await Promise.race([Promise.all(all().map(exited)), sleep(2_000)]);
      process.exit(code);
    })();
    return stopping;
  };
  for (const signal of /** @type {const} */ (['SIGINT', 'SIGTERM', 'SIGHUP'])) {
    process.on(signal, () => {
      if (!stopping) console.log(`\n${signal}: stopping the nodes and redis-server…`);
      stop(0);
    });
  }
  const crash = (/** @type {unknown} */ error) => {
    console.error('playground:', error);
    process.exit(1);
  };
  process.once('uncaughtException', crash);
  process.once('unhandledRejection', crash);
  // Started by another program over IPC (the e2e suite): stop when it goes.
  if (process.send) process.once('disconnect', () => stop(0));

  // redis-server on a free port, with nothing saved to disk (the temporary folder is its
  // working directory all the same), killed by the kernel if this process dies.
  const port = await freePort();
  const setpriv = findProgram('setpriv');
  const [, args] = brokerCommand('redis', port, tmpdir());
  redis = spawn(
    setpriv ?? redisServer,
    setpriv ? ['--pdeathsig', 'KILL', '--', redisServer, ...args] : args,
    { detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const keep = (/** @type {Buffer} */ d) => void (output = (output + String(d)).slice(-4000));
  redis.stdout?.on('data', keep);
  redis.stderr?.on('data', keep);
  const child = redis;
  if (!(await listening(port, { alive: () => child.exitCode === null && child.signalCode === null }))) {
    console.error(`playground: redis-server did not start on port ${port}:\n${output}`);
    process.exit(1);
  }
  const url = `redis://127.0.0.1:${port}`;
  redis.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`playground: redis-server exited (${code ?? signal}); stopping the cluster:\n${output}`);
    stop(1);
  });

  // The nodes, one after the other (node A makes the desk's secret in .data before B reads it).
  const signingKey = randomBytes(32).toString('hex');
  /** @type {string[]} */
  const urls = [];
  for (const [i, node] of NODES.entries()) {
    const nodePort = first === 0 ? 0 : first + i;
    const child = spawn(
      process.execPath,
      [fileURLToPath(import.meta.url), '--node', node, '--port', String(nodePort)],
      { detached: true, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
    );
    nodes.push(child);
    const started = new Promise((resolve, reject) => {
      child.once('message', (m) => resolve(/** @type {{ url: string }} */ (m).url));
      child.once('exit', (code) => reject(new Error(`node ${node} exited (${code}) before it was ready`)));
      setTimeout(() => reject(new Error(`node ${node} did not start within 30 s`)), 30_000).unref();
    });
    child.send(
      /** @type {NodeConfig} */ ({
        redis: url,
        signingKey,
        dataDir: values.data && resolvePath(values.data),
      }),
    );
    const nodeUrl = /** @type {string} */ (
      await started.catch((error) => {
        console.error(`playground: ${error.message}`);
        return stop(1);
      })
    );
    urls.push(nodeUrl);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      console.error(`playground: node ${node} exited (${code ?? signal}); stopping the cluster`);
      stop(1);
    });
  }

  console.log(`ActorSpace playground: ${NODES.length} nodes (processes) on one Redis backplane`);
  for (const [i, node] of NODES.entries()) console.log(`  node ${node}  ${urls[i]}`);
  console.log(`  redis  ${url} (its own redis-server, gone when this stops)`);
  console.log(
    `Open the chat on one node and on the other (${urls.map((u) => `${u}/chat`).join(' and ')}):\n` +
      'messages and who is online cross between them. The other demos keep their state in each\n' +
      "node's memory, so each node has its own. Ctrl+C stops the nodes and redis-server.",
  );
}

/** The path of `name` on the PATH (Debian's /usr/sbin and /usr/bin too), or null. */
function findProgram(/** @type {string} */ name) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/bin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

/** Signals a child's whole process group (it was started detached, as its leader). */
function killGroup(
  /** @type {import('node:child_process').ChildProcess} */ child,
  /** @type {NodeJS.Signals} */ signal,
) {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Gone already.
  }
}

/** Resolves when the child has exited. */
function exited(/** @type {import('node:child_process').ChildProcess} */ child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve(undefined)));
}

function sleep(/** @type {number} */ ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
