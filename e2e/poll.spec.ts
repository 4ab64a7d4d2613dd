// Journey: a zero-build page that imports real packages by name. The poll's view is Preact
// with htm, mapped by the route's `imports` and served from node_modules; votes are asks and
// every open tab is told the new results.
import { expect, openDemo, test } from './fixtures/playground.js';

test.describe('poll demo (Preact, no build)', () => {
  test('loads preact, preact/hooks and htm by name from the server, versioned and immutable', async ({
    page,
    playground,
  }) => {
    const modules: { url: string; cache: string | undefined; type: string | undefined }[] = [];
    page.on('response', (response) => {
      if (response.url().includes('/actorspace/modules/')) {
        const headers = response.headers();
        modules.push({ url: response.url(), cache: headers['cache-control'], type: headers['content-type'] });
      }
    });
    await openDemo(page, `${playground.url}/poll`);
    await expect(page.getByTestId('question')).toHaveText('Which adapter do you mount ActorSpace in?');

    const map = await page.evaluate(
      () => JSON.parse(document.querySelector('script[type="importmap"]')?.textContent ?? '{}').imports,
    );
    expect(map.preact).toMatch(/^\/actorspace\/modules\/preact@\d+\.\d+\.\d+\/.+\.m?js$/);
    expect(map['preact/hooks']).toMatch(/^\/actorspace\/modules\/preact@[\d.]+\/hooks\/.+\.m?js$/);
    expect(map.htm).toMatch(/^\/actorspace\/modules\/htm@[\d.]+\/.+\.m?js$/);
    for (const name of ['preact', 'htm']) {
      const loaded = modules.find((m) => m.url.includes(`/modules/${name}@`));
      expect(loaded, name).toBeDefined();
      expect(loaded?.cache).toContain('immutable');
      expect(loaded?.type).toContain('text/javascript');
    }
  });

  test('a vote is an ask, and every tab sees the results change', async ({ context, playground }) => {
    const [a, b] = [await context.newPage(), await context.newPage()];
    await openDemo(a, `${playground.url}/poll`);
    await openDemo(b, `${playground.url}/poll`);
    await expect(a.getByTestId('voters')).toHaveText('2');

    await a.getByTestId('vote-1').click();
    await expect(b.getByTestId('count-1')).toHaveText('1');
    await expect(a.getByTestId('vote-1')).toHaveAttribute('aria-pressed', 'true');
    await b.getByTestId('vote-1').click();
    await expect(a.getByTestId('count-1')).toHaveText('2');

    // A changed vote moves, it does not add up.
    await a.getByTestId('vote-3').click();
    await expect(b.getByTestId('count-1')).toHaveText('1');
    await expect(b.getByTestId('count-3')).toHaveText('1');
    await expect(b.getByTestId('total')).toHaveText('2');

    // A closed tab leaves the voters; its vote stays.
    await a.close();
    await expect(b.getByTestId('voters')).toHaveText('1');
    await expect(b.getByTestId('total')).toHaveText('2');
  });

  test('nothing else under node_modules is reachable', async ({ request, playground }) => {
    const page = await (await request.get(`${playground.url}/poll`)).text();
    const preact = page.match(/\/actorspace\/modules\/(preact@[\d.]+)\//)?.[1];
    expect(preact).toBeDefined();
    expect((await request.get(`${playground.url}/actorspace/modules/${preact}/package.json`)).status()).toBe(
      200,
    );
    for (const path of [
      '/actorspace/modules/ws@8.23.0/index.js',
      '/actorspace/modules/preact@0.0.0/dist/preact.mjs',
      `/actorspace/modules/${preact}/../../ws/package.json`,
      `/actorspace/modules/${preact}/%2e%2e/%2e%2e/ws/package.json`,
    ]) {
      const response = await request.get(`${playground.url}${path}`);
      expect(response.status(), path).toBe(404);
    }
  });
});
