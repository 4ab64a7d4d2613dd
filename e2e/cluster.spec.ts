// Journey: the playground as a cluster (`pnpm playground:cluster`): two node processes on one
// redis-server, started by playground/cluster.mjs as users run it. A chat page on node A and
// one on node B see each other online and each other's messages; a newcomer on B gets what
// was said on A; closing a tab on B is a leave on A. When the cluster stops, nothing of it is
// left: redis-server and both nodes are gone.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect, openDemo } from './fixtures/playground.js';

const CLUSTER = fileURLToPath(new URL('../playground/cluster.mjs', import.meta.url));

interface Cluster {
  /** Node A's and node B's URLs. */
  a: string;
  b: string;
  /** `redis://127.0.0.1:<port>`. */
  redis: string;
  /** Stops it as Ctrl+C would (SIGINT); resolves once cluster.mjs exited. */
  stop(): Promise<void>;
}

const test = base.extend<{ cluster: Cluster }>({
  cluster: async ({ context }, use) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'actorspace-e2e-cluster-'));
    // Its own process group; with an IPC channel, so it stops even if this worker dies.
    const child = spawn(process.execPath, [CLUSTER, '--port', '0', '--data', dataDir], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stderr?.on('data', (d) => {
      output += String(d);
    });
    const started = await new Promise<{ a: string; b: string; redis: string }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the cluster did not start:\n${output}`)), 30_000);
      child.stdout?.on('data', (d) => {
        output += String(d);
        const a = /node A\s+(http:\S+)/.exec(output)?.[1];
        const b = /node B\s+(http:\S+)/.exec(output)?.[1];
        const redis = /redis\s+(redis:\S+)/.exec(output)?.[1];
        if (a && b && redis && /Ctrl\+C/.test(output)) {
          clearTimeout(timer);
          resolve({ a, b, redis });
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the cluster exited (${code}):\n${output}`));
      });
    });
    const stop = () => stopCluster(child);
    await use({ ...started, stop });
    // Pages first: a page still loading when its server goes away would log errors.
    for (const page of context.pages()) await page.close();
    await stop();
    await rm(dataDir, { recursive: true, force: true });
  },
});

/** SIGINT, as Ctrl+C; SIGKILL to its group if it has not exited in 15 s. */
async function stopCluster(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGINT');
  const timer = setTimeout(() => {
    try {
      process.kill(-(child.pid as number), 'SIGKILL');
    } catch {
      // Gone already.
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/** True when something accepts connections at `url` (http:// or redis://). */
function accepts(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

test.describe('playground cluster', () => {
  test('chat pages on two nodes share messages, presence and history; stopping leaves nothing', async ({
    context,
    cluster,
  }) => {
    const a = await context.newPage();
    await openDemo(a, `${cluster.a}/chat`);
    await expect(a.getByTestId('you')).toHaveText(/^\w+ A\d+$/);
    await expect(a.getByTestId('node')).toHaveText(', on node A');
    const nameA = (await a.getByTestId('you').textContent()) ?? '';

    const b = await context.newPage();
    await openDemo(b, `${cluster.b}/chat`);
    await expect(b.getByTestId('you')).toHaveText(/^\w+ B\d+$/);
    await expect(b.getByTestId('node')).toHaveText(', on node B');
    const nameB = (await b.getByTestId('you').textContent()) ?? '';

    // Who is online spans the nodes: each page lists both members.
    for (const page of [a, b]) {
      await expect(page.getByTestId('count')).toHaveText('2');
      const online = page.getByTestId('online');
      await expect(online.getByText(nameA, { exact: true })).toBeVisible();
      await expect(online.getByText(nameB, { exact: true })).toBeVisible();
    }
    await expect(a.getByTestId('messages')).toContainText(`${nameB} joined`);

    // Messages cross: one said on each node reaches both pages.
    await a.getByTestId('say').fill('hello from node A');
    await a.getByTestId('say').press('Enter');
    await expect(a.getByTestId('say')).toHaveValue('');
    await b.getByTestId('say').fill('hello from node B');
    await b.getByTestId('say').press('Enter');
    await expect(b.getByTestId('say')).toHaveValue('');
    for (const page of [a, b]) {
      await expect(page.getByTestId('messages')).toContainText('hello from node A');
      await expect(page.getByTestId('messages')).toContainText('hello from node B');
    }

    // A newcomer on node B gets the recent messages, the one said on node A included (dates intact).
    const c = await context.newPage();
    await openDemo(c, `${cluster.b}/chat`);
    const history = c.getByTestId('messages').getByRole('listitem');
    await expect(history.nth(0)).toContainText('hello from node A');
    await expect(history.nth(0)).toContainText(/\d{1,2}:\d{2}:\d{2}/);
    await expect(history.nth(1)).toContainText('hello from node B');
    await expect(a.getByTestId('count')).toHaveText('3');

    // Closing a tab on node B is a leave on node A at once (the page closes its session).
    await b.close({ runBeforeUnload: true });
    await expect(a.getByTestId('count')).toHaveText('2');
    await expect(a.getByTestId('messages')).toContainText(`${nameB} left`);
    await expect(a.getByTestId('online').getByText(nameB, { exact: true })).toHaveCount(0);

    // Stopped as Ctrl+C stops it: both nodes and redis-server are gone.
    for (const page of context.pages()) await page.close();
    await cluster.stop();
    for (const url of [cluster.a, cluster.b, cluster.redis]) expect(await accepts(url), url).toBe(false);
  });
});
