/**
 * Runs the route suite against the BUILT Bun adapter under a real Bun (the `bun` npm
 * package): `pnpm build` first. The suite itself runs here in Node and connects over TCP.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runAdapterSuite, type StartedServer } from '../adapter-suite.js';
import type { SuiteConfig } from '../fixtures/suite-server.js';

// The binary itself, not the `.bin/bun` shell wrapper: killing the wrapper would leave Bun running.
const BUN = fileURLToPath(new URL('../../node_modules/bun/bin/bun.exe', import.meta.url));
const SCRIPT = fileURLToPath(new URL('../fixtures/bun-server.mjs', import.meta.url));
const BUILT = fileURLToPath(new URL('../../dist/adapters/bun.js', import.meta.url));

function startBun(config: SuiteConfig): Promise<StartedServer> {
  if (!existsSync(BUILT)) {
    throw new Error('the Bun adapter test runs the built package: run `pnpm build` first');
  }
  // Its own process group, so stopping it stops anything it started too.
  const child: ChildProcess = spawn(BUN, ['run', SCRIPT], {
    env: { ...process.env, SUITE_CONFIG: JSON.stringify(config) },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`bun exited with ${code} before listening: ${stderr}`)));
    child.stdout?.on('data', (chunk) => {
      out += chunk;
      const match = /PORT=(\d+)/.exec(out);
      if (!match) return;
      const port = Number(match[1]);
      const httpUrl = `http://127.0.0.1:${port}`;
      resolve({
        wsUrl: `ws://127.0.0.1:${port}/actorspace`,
        httpUrl,
        closeEngine: async () => {
          await (await fetch(`${httpUrl}/admin/close`, { method: 'POST' })).json();
        },
        stops: async () =>
          ((await (await fetch(`${httpUrl}/admin/stops`)).json()) as { stops: number }).stops,
        stop: async () => {
          if (child.exitCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGTERM');
          await exited;
        },
      });
    });
  });
}

runAdapterSuite('bun', { start: startBun });
