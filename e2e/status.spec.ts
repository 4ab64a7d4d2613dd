// Journey: the connection drops and comes back. The status demo's server streams a numbered
// tick every 250 ms; the page counts missing and duplicated sequence numbers.
import type { Page } from '@playwright/test';
import { startPlayground } from '../playground/start.mjs';
import { expect, expectStatus, openDemo, test } from './fixtures/playground.js';

const number = async (page: Page, id: string): Promise<number> =>
  Number(await page.getByTestId(id).textContent());

/** Waits until the page has received at least `n` ticks in its current session. */
async function receivedAtLeast(page: Page, n: number): Promise<void> {
  await expect.poll(() => number(page, 'received'), { timeout: 15_000 }).toBeGreaterThanOrEqual(n);
}

test.describe('status demo', () => {
  test('reconnects after the server kills the socket', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/status`);
    await receivedAtLeast(page, 2);

    expect(playground.dropSockets()).toBe(1);
    await expectStatus(page, 'reconnecting');
    await expect(page.getByTestId('status')).toHaveText('reconnecting');
    await expectStatus(page, 'open');
    await expect(page.getByTestId('log')).toContainText('reconnecting');
    await expect(page.getByTestId('sessions')).toHaveText('1'); // resumed, not a new session
  });

  test('resumes after several drops with no tick lost or repeated', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/status`);
    await receivedAtLeast(page, 3);

    for (let drop = 0; drop < 4; drop++) {
      if (drop % 2 === 0) {
        playground.dropSockets();
      } else {
        // The page's own button: POST /status/drop on the playground host.
        await page.getByTestId('drop').click();
      }
      await expectStatus(page, 'reconnecting');
      await expectStatus(page, 'open');
      // Let ticks sent while the socket was down (and a few after) arrive.
      await receivedAtLeast(page, (await number(page, 'received')) + 2);
    }

    // One read of all four counters: a tick may land between two separate reads.
    const stats = await page.evaluate(() => {
      const read = (id: string) => Number(document.querySelector(`[data-testid="${id}"]`)?.textContent);
      return {
        received: read('received'),
        last: read('last'),
        missing: read('missing'),
        duplicates: read('duplicates'),
        sessions: read('sessions'),
      };
    });
    expect(stats).toEqual({
      received: stats.last + 1,
      last: stats.last,
      missing: 0,
      duplicates: 0,
      sessions: 1,
    }); // exactly 0..last, each once
    expect(stats.last).toBeGreaterThan(10);
  });

  test('pairs a fresh session after the server restarts', async ({ page, playground, consoleErrors }) => {
    // While the server is down, Chromium logs each refused reconnect attempt itself
    // ("WebSocket connection to ... failed"); that line is the expected symptom here.
    consoleErrors.allow(/^WebSocket connection to 'ws:\/\/127\.0\.0\.1:\d+\/actorspace' failed/);
    await openDemo(page, `${playground.url}/status`);
    await receivedAtLeast(page, 2);
    const before = await page.getByTestId('session').textContent();

    await playground.close(); // sessions end with 1001; the page starts reconnecting
    await expectStatus(page, 'reconnecting');
    const restarted = await startPlayground({ port: playground.port, dataDir: playground.dataDir });
    try {
      await expectStatus(page, 'open', 20_000);
      await expect(page.getByTestId('sessions')).toHaveText('2'); // setRemoteActor ran again
      await expect(page.getByTestId('session')).not.toHaveText(before ?? '');
      await receivedAtLeast(page, 2);
      await expect(page.getByTestId('missing')).toHaveText('0');
    } finally {
      await restarted.close();
    }
  });
});
