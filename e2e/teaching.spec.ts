// Journey: a playground that teaches. Every demo page shows its own source (the server's as
// text from an allowlist, never from a client folder) and the live traffic of its socket:
// each ask with the time until its answer.
import type { Page } from '@playwright/test';
import { expect, openDemo, test } from './fixtures/playground.js';

/** Each demo, and a line of its server.mjs. */
const SERVERS = {
  counter: 'export function createCounterActor()',
  todos: 'export function createTodosActor({ services })',
  chat: 'export function createChatActor({ services })',
  status: 'export function createStatusActor(',
};

/** The traffic rows of one frame kind and direction, with `text` in them. */
const rows = (page: Page, kind: string, direction: 'in' | 'out', text: string | RegExp) =>
  page.locator(`[data-testid="traffic-row"][data-kind="${kind}"][data-direction="${direction}"]`, {
    hasText: text,
  });

const TIME = /^\d+(\.\d)? ms$|^\d+\.\d\d s$/;

test.describe('code view', () => {
  for (const [demo, line] of Object.entries(SERVERS)) {
    test(`/${demo} shows its server source and its client modules`, async ({ page, playground }) => {
      await openDemo(page, `${playground.url}/${demo}`);
      await page.getByTestId('tab-code').click();
      await expect(page).toHaveURL(`${playground.url}/${demo}#code`);
      const files = page.getByTestId('code-file');
      await expect(files.filter({ hasText: /^client\/client\.js$/ })).toHaveCount(1);
      await files.filter({ hasText: /^server\.mjs$/ }).click();
      await expect(page.getByTestId('code-where')).toContainText(
        `playground/${demo}/server.mjs: runs on the server`,
      );
      await expect(page.getByTestId('code')).toContainText(line);
      await expect(page.getByTestId('code').locator('.tok-keyword').first()).toBeVisible(); // highlighted

      await files.filter({ hasText: /^client\/client\.js$/ }).click();
      await expect(page.getByTestId('code-where')).toContainText(`served to this page as /${demo}/client.js`);
      await expect(page.getByTestId('code')).toContainText('export default');
      await expect(page.getByTestId('code')).not.toContainText(line);
    });
  }

  test('#code opens the page with the code shown beside the traffic; each part toggles', async ({
    page,
    playground,
  }) => {
    await openDemo(page, `${playground.url}/todos#code`);
    await expect(page.getByTestId('panel-code')).toBeVisible();
    await expect(page.getByTestId('panel-traffic')).toBeVisible();
    await expect(page.getByTestId('tab-code')).toHaveAttribute('aria-pressed', 'true');
    // The todos README says to read the store first.
    await expect(page.getByTestId('code-file').first()).toHaveText('store.mjs');
    await expect(page.getByTestId('code')).toContainText('export function reduce');

    await page.getByTestId('tab-traffic').click();
    await expect(page.getByTestId('panel-traffic')).toBeHidden();
    await expect(page.getByTestId('tab-traffic')).toHaveAttribute('aria-pressed', 'false');
    await page.getByTestId('tab-code').click();
    await expect(page.getByTestId('panel-code')).toBeHidden();
    await expect(page).toHaveURL(`${playground.url}/todos`);
    await page.getByTestId('tab-traffic').click();
    await expect(page.getByTestId('traffic-row').first()).toBeVisible();
  });

  test('the host serves the listed files as plain text, and nothing else', async ({
    request,
    playground,
  }) => {
    const list = await request.get(`${playground.url}/source/counter`);
    expect(list.status()).toBe(200);
    expect(await list.json()).toEqual({
      files: [
        { path: 'server.mjs', side: 'server', url: '/source/counter/server.mjs', served: null },
        {
          path: 'client/client.js',
          side: 'client',
          url: '/source/counter/client/client.js',
          served: '/counter/client.js',
        },
        {
          path: 'client/ui.js',
          side: 'client',
          url: '/source/counter/client/ui.js',
          served: '/counter/ui.js',
        },
      ],
    });

    const server = await request.get(`${playground.url}/source/counter/server.mjs`);
    expect(server.status()).toBe(200);
    expect(server.headers()['content-type']).toBe('text/plain; charset=utf-8');
    expect(server.headers()['x-content-type-options']).toBe('nosniff');
    expect(await server.text()).toContain(SERVERS.counter);

    for (const path of [
      '/source/start.mjs',
      '/source/counter/start.mjs',
      '/source/counter/../start.mjs',
      '/source/counter/%2e%2e/start.mjs',
      '/source/counter/client/..%2f..%2fstart.mjs',
      '/source/counter/SERVER.MJS',
      '/source/counter/server.mjs/',
      '/source/todos/.data/todos.json',
      '/source/chat/room.mjs.bak',
      '/source/nope/server.mjs',
      '/source/',
      '/shared/../start.mjs',
      '/shared/style.css',
      // The server's code is never in a client folder, so the page routes cannot serve it.
      '/counter/server.mjs',
      '/counter/../counter/server.mjs',
    ]) {
      const response = await request.get(`${playground.url}${path}`);
      expect(response.status(), path).toBe(404);
    }
  });
});

test.describe('traffic panel', () => {
  test('shows an ask and its answer, with the time between them', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/counter`);
    // The pairing is in it from the start: the panel listens before the page connects.
    await expect(rows(page, 'HELLO', 'out', '"route":"/counter"')).toHaveCount(1);
    await expect(rows(page, 'WELCOME', 'in', '').locator('.ms')).toHaveText(TIME);

    await page.getByTestId('increment').click();
    await expect(page.getByTestId('value')).toHaveText('1');

    const ask = rows(page, 'ASK', 'out', 'increment → server #1');
    const answer = rows(page, 'RESOLVE', 'in', 'increment #1');
    await expect(ask.locator('.ms')).toHaveText(TIME);
    await expect(answer.locator('.ms')).toHaveText(TIME);
    expect(await answer.locator('.ms').textContent()).toBe(await ask.locator('.ms').textContent());
    await expect(answer.locator('.preview')).toHaveText(/1$/); // the answer: the new value
    await expect(
      rows(page, 'TELL', 'in', /value → client/)
        .last()
        .locator('.preview'),
    ).toHaveText(/1$/);

    await page.getByTestId('decrement').click();
    await expect(rows(page, 'ASK', 'out', 'decrement → server #2').locator('.ms')).toHaveText(TIME);

    // An ask the server cannot handle comes back as a REJECT carrying the error's code.
    const code = await page.evaluate(() =>
      globalThis.actorspace?.session.server.ask('square', 3).then(
        () => 'resolved',
        (error: { code: string }) => error.code,
      ),
    );
    expect(code).toMatch(/^[A-Z_]+$/);
    const rejected = rows(page, 'ASK', 'out', 'square → server #3');
    await expect(rejected.locator('.ms')).toHaveText(TIME);
    await expect(rejected.locator('.ms')).toHaveClass(/bad/);
    await expect(rows(page, 'REJECT', 'in', 'square #3').locator('.preview')).toContainText(`${code}: `);
  });

  test('times the asks of the other demos too: say in chat, hello in status', async ({
    page,
    playground,
  }) => {
    await openDemo(page, `${playground.url}/chat`);
    await page.getByTestId('say').fill('hi');
    await page.getByTestId('say').press('Enter');
    await expect(rows(page, 'ASK', 'out', 'say → server').locator('.ms')).toHaveText(TIME);
    await expect(rows(page, 'ASK', 'out', 'say → server').locator('.preview')).toHaveText('{"text":"hi"}');
    // The message comes back as a topic event (a tell to the page's topics actor); its Date
    // travels with superjson meta (see the tooltip).
    const message = rows(page, 'TELL', 'in', 'event → ');
    await expect(message).toHaveCount(1);
    await expect(message).toHaveAttribute('title', /meta: .*Date/);

    await openDemo(page, `${playground.url}/status`);
    await expect(rows(page, 'ASK', 'out', 'hello → server #1').locator('.ms')).toHaveText(TIME);
    await expect(rows(page, 'TELL', 'in', 'tick → client').first()).toBeVisible();
  });

  test('hides control frames until asked, and keeps only the last 200 rows', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/counter`);
    await page.getByTestId('increment').click();
    // The page acknowledges the numbered frames it got (ACK) within 200 ms; hidden by default.
    const acks = page.locator('[data-testid="traffic-row"][data-kind="ACK"]');
    await expect(acks.first()).toBeAttached();
    await expect(acks.first()).toBeHidden();
    await expect(page.getByTestId('traffic-summary')).toContainText('control frames hidden');
    await page.getByTestId('show-control').check();
    await expect(acks.first()).toBeVisible();

    // 300 tells out, 300 value tells back, their acks: far more than 200 frames.
    await page.evaluate(() => {
      for (let i = 0; i < 300; i++) globalThis.actorspace?.session.server.tell('increment');
    });
    await expect(page.getByTestId('value')).toHaveText('301');
    await expect(rows(page, 'TELL', 'in', 'value → client').last().locator('.preview')).toHaveText(/301$/);
    await expect(page.getByTestId('traffic-row')).toHaveCount(200);
    await expect(rows(page, 'HELLO', 'out', '')).toHaveCount(0); // the oldest went first

    // Clearing empties the list. Link upkeep (the ACK for the last tells, a PING) may
    // arrive right after the click, so only data frames must be gone for good.
    await page.getByTestId('traffic-clear').click();
    const data = page.locator('[data-testid="traffic-row"]:not(.control)');
    await expect(data).toHaveCount(0);
    await expect(rows(page, 'HELLO', 'out', '')).toHaveCount(0);
    expect(await page.locator('[data-testid="traffic-row"].control').count()).toBeLessThan(10);
    await page.getByTestId('increment').click();
    await expect(rows(page, 'ASK', 'out', 'increment').locator('.ms')).toHaveText(TIME);
  });
});

test('the index tells about the code view and the traffic panel', async ({ page, playground }) => {
  await page.goto(playground.url);
  await expect(page.locator('main')).toContainText('How it works');
  await expect(page.locator('main')).toContainText('Traffic');
  await expect(page.locator('main')).toContainText('Code');
});
