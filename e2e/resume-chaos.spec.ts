// Chaos, in Chromium: both sides stream 2,000 numbered tells while the server destroys the
// TCP socket at random moments 15 times. Every resume must deliver each message exactly
// once, in order, both ways, in one session.

import { startChaosServer } from './fixtures/chaos-server.mjs';
import { expect, test } from './fixtures/playground.js';

const COUNT = 2000;
const DROPS = 15;
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

test('resume delivers every tell exactly once, in order, through 15 random socket drops', async ({
  page,
}) => {
  test.setTimeout(120_000);
  const chaos = await startChaosServer({ count: COUNT, drops: DROPS });
  try {
    const started = Date.now();
    await page.goto(`${chaos.url}/chaos?count=${COUNT}`);

    const done = async () => {
      const client = await page.evaluate(() => {
        const c = (globalThis as { chaos?: { received: number[] } }).chaos;
        return c?.received.length ?? 0;
      });
      return client === COUNT && chaos.stats.received.length === COUNT && chaos.stats.dropped === DROPS;
    };
    await expect.poll(done, { timeout: 90_000, intervals: [250] }).toBe(true);
    await expect(page.locator('html')).toHaveAttribute('data-actorspace', 'open');

    const client = await page.evaluate(() => (globalThis as any).chaos);
    expect(client.sendErrors).toEqual([]);
    expect(client.sent).toBe(COUNT);
    expect(client.received).toEqual(range(COUNT)); // server → browser
    expect(chaos.stats.received).toEqual(range(COUNT)); // browser → server
    expect(client.pairings).toBe(1);
    expect(chaos.stats.pairings).toBe(1); // every drop was resumed, never a fresh session
    test.info().annotations.push({
      type: 'chaos',
      description: `${COUNT} tells each way, ${chaos.stats.dropped} drops (${chaos.stats.handshakeDrops} mid-handshake), ${chaos.stats.sockets} sockets, ${Date.now() - started} ms`,
    });
    console.log(
      `chaos: ${COUNT} tells each way, ${chaos.stats.dropped} socket drops (${chaos.stats.handshakeDrops} mid-handshake), ${chaos.stats.sockets} sockets, ${Date.now() - started} ms`,
    );
  } finally {
    await chaos.close();
  }
});
