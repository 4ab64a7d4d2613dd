// Journey: a topic read by a plain EventSource (playground/stream/), with no ActorSpace client on
// the page. The playground publishes a tick on topic `clock` every second. The page is loaded
// through a TCP proxy, so the test can cut its connections as a lost network would: the
// browser reconnects by itself with Last-Event-ID, and the server replays what was missed.
import { createServer, type Server, Socket } from 'node:net';
import type { Page, Request } from '@playwright/test';
import { expect, test } from './fixtures/playground.js';

/** A TCP proxy in front of the playground: `drop()` destroys every connection through it. */
async function tcpProxy(port: number): Promise<{ url: string; drop(): number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  };
  const server: Server = createServer((client) => {
    const upstream = new Socket();
    track(client);
    track(upstream);
    upstream.connect(port, '127.0.0.1');
    client.pipe(upstream).pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    drop() {
      const count = sockets.size;
      for (const socket of sockets) socket.destroy();
      return count;
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

const number = async (page: Page, id: string): Promise<number> =>
  Number(await page.getByTestId(id).textContent());

/** The seqs of the tick rows on the page, oldest first. */
const seqs = async (page: Page): Promise<number[]> =>
  (
    await page
      .locator('[data-testid="events"] li[data-seq]')
      .evaluateAll((rows) => rows.map((row) => Number((row as HTMLElement).dataset.seq)))
  ).reverse();

/** Waits until the page shows at least `n` ticks. */
async function ticksAtLeast(page: Page, n: number): Promise<void> {
  await expect.poll(() => number(page, 'count'), { timeout: 20_000 }).toBeGreaterThanOrEqual(n);
}

/** Every number once, in order, with no hole. */
function expectContiguous(list: number[]): void {
  expect(list.length).toBeGreaterThan(0);
  const first = list[0] as number;
  expect(list).toEqual(list.map((_, i) => first + i));
}

test.describe('event stream demo', () => {
  test('a plain EventSource page shows the ticks as they are published', async ({ page, playground }) => {
    await page.goto(`${playground.url}/stream`);
    await expect(page.getByTestId('state')).toHaveText('open');
    await ticksAtLeast(page, 2);
    const row = page.locator('[data-testid="events"] li[data-seq]').first();
    await expect(row).toContainText(/id: [0-9a-f-]{36}:\d+ event: tick/);
    await expect(row).toContainText('"meta":{"values":{"at":["Date"]},"v":1}');
    // No ActorSpace client on this page: no bundle, no socket.
    expect(await page.evaluate(() => typeof (globalThis as { actorspace?: unknown }).actorspace)).toBe(
      'undefined',
    );
    expectContiguous(await seqs(page));
  });

  test('survives dropped connections: the browser resumes with Last-Event-ID, no tick lost or repeated', async ({
    page,
    playground,
    consoleErrors,
  }) => {
    // Chromium logs a cut stream as a failed request; that cut is the point of this test.
    consoleErrors.allow(/ERR_INCOMPLETE_CHUNKED_ENCODING|ERR_EMPTY_RESPONSE|ERR_CONNECTION_(RESET|CLOSED)/);
    const proxy = await tcpProxy(playground.port);
    try {
      const resumes: string[] = [];
      page.on('request', (request: Request) => {
        if (!request.url().includes('/actorspace/topics/clock')) return;
        void request.allHeaders().then((headers) => {
          const id = headers['last-event-id'] ?? new URL(request.url()).searchParams.get('lastEventId');
          if (id) resumes.push(id);
        });
      });
      await page.goto(`${proxy.url}/stream`);
      await expect(page.getByTestId('state')).toHaveText('open');
      await ticksAtLeast(page, 2);

      for (let drop = 1; drop <= 2; drop++) {
        const before = await number(page, 'count');
        expect(proxy.drop()).toBeGreaterThan(0);
        await expect(page.getByTestId('state')).toHaveText('connecting');
        // The server sent `retry: 2000`: the browser reconnects after about 2 s, while ticks go on.
        await expect(page.getByTestId('state')).toHaveText('open', { timeout: 15_000 });
        await expect(page.getByTestId('reconnects')).toHaveText(String(drop));
        await ticksAtLeast(page, before + 3);
      }
      // Each reconnect sent the last id the page had seen, and got what it missed.
      expect(resumes.length).toBeGreaterThanOrEqual(2);
      for (const id of resumes) expect(id).toMatch(/^[0-9a-f-]{36}:\d+$/);

      // A reconnect of the page's own (a new EventSource) passes the id as ?lastEventId=.
      const before = await number(page, 'count');
      await page.getByTestId('reconnect').click();
      await expect(page.getByTestId('reconnects')).toHaveText('3');
      await ticksAtLeast(page, before + 2);

      await expect(page.getByTestId('missing')).toHaveText('0');
      await expect(page.getByTestId('duplicates')).toHaveText('0');
      expectContiguous(await seqs(page));
      expect(resumes.length).toBeGreaterThanOrEqual(3);
    } finally {
      await page.close();
      await proxy.close();
    }
  });
});
