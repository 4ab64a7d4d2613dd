// Journey: the demos on a phone (390 × 844). No page scrolls sideways, the app's main
// control is on screen and works, and one very long word in chat never widens the page,
// neither for its author nor for a later visitor who gets it in the history.
import type { Page } from '@playwright/test';
import { expect, openDemo, test } from './fixtures/playground.js';

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 720 };

/** The page's width including anything that sticks out sideways. */
const pageWidth = (page: Page): Promise<number> => page.evaluate(() => document.documentElement.scrollWidth);

/** Expects that nothing on the page reaches past the right edge of the viewport. */
async function expectNoSideways(page: Page, width: number): Promise<void> {
  expect(await pageWidth(page), 'document.documentElement.scrollWidth').toBeLessThanOrEqual(width);
}

/** Expects the element on screen and inside the viewport's width. */
async function expectReachable(page: Page, testId: string): Promise<void> {
  const element = page.getByTestId(testId);
  await expect(element).toBeVisible();
  const box = await element.boundingBox();
  expect(box, testId).not.toBeNull();
  expect(box!.x).toBeGreaterThanOrEqual(0);
  expect(box!.x + box!.width).toBeLessThanOrEqual(PHONE.width);
}

test.describe('at phone width', () => {
  test.use({ viewport: PHONE });

  test('/counter fits, and its buttons work', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/counter`);
    await expect(page.getByTestId('increment')).toBeInViewport();
    await page.getByTestId('increment').click();
    await expect(page.getByTestId('value')).toHaveText('1');
    await expectNoSideways(page, PHONE.width);
  });

  test('/todos fits, and a todo can be added', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/todos`);
    await expect(page.getByTestId('new-todo')).toBeInViewport();
    await page.getByTestId('new-todo').fill('Buy milk');
    await page.getByTestId('new-todo').press('Enter');
    await expect(page.getByTestId('todo')).toHaveText(['Buy milk×']);
    await expectReachable(page, 'clear-done');
    await expectNoSideways(page, PHONE.width);
  });

  test('/chat fits: the input, Send and the online list are reachable', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/chat`);
    await expect(page.getByTestId('say')).toBeInViewport();
    await expectReachable(page, 'say');
    await expectReachable(page, 'online');
    const send = page.getByRole('button', { name: 'Send' });
    await expect(send).toBeInViewport();
    await page.getByTestId('say').fill('hello from a phone');
    await send.click();
    await expect(page.getByTestId('say')).toHaveValue('');
    await expect(page.getByTestId('messages')).toContainText('hello from a phone');
    await expect(page.getByTestId('online').getByRole('listitem')).toHaveCount(1);
    await expectNoSideways(page, PHONE.width);
  });

  test('/status fits, and its counters and drop button are on screen', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/status`);
    await expect(page.getByTestId('drop')).toBeInViewport();
    await expect(page.getByTestId('drop')).toBeEnabled();
    await expectReachable(page, 'duplicates');
    await expect
      .poll(async () => Number(await page.getByTestId('received').textContent()))
      .toBeGreaterThan(0);
    await expectNoSideways(page, PHONE.width);
  });

  test('/poll fits, and its vote buttons work', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/poll`);
    await expectReachable(page, 'vote-4');
    await page.getByTestId('vote-4').click();
    await expect(page.getByTestId('count-4')).toHaveText('1');
    await expectNoSideways(page, PHONE.width);
  });

  for (const demo of ['counter', 'todos', 'chat', 'status', 'poll']) {
    test(`/${demo}: the How it works panel fits too, traffic and code`, async ({ page, playground }) => {
      await openDemo(page, `${playground.url}/${demo}`);
      await expect(page.getByTestId('traffic-row').first()).toBeVisible();
      await expectNoSideways(page, PHONE.width);
      await page.getByTestId('tab-code').click();
      // Long source lines scroll inside the code box, never the page.
      await expect(page.getByTestId('code')).toContainText('@ts-check');
      await expectNoSideways(page, PHONE.width);
      await expectReachable(page, 'tab-traffic');
    });
  }
});

const WORD = 'Supercalifragilistic'.repeat(25); // 500 characters, no space to break at

for (const [name, viewport] of Object.entries({ desktop: DESKTOP, phone: PHONE })) {
  test.describe(`a 500-character word in chat (${name})`, () => {
    test.use({ viewport });

    test('never widens the page, for its author or a later visitor', async ({ context, playground }) => {
      const a = await context.newPage();
      await openDemo(a, `${playground.url}/chat`);
      const appWidth = await a.locator('#app').evaluate((el) => el.getBoundingClientRect().width);
      await a.getByTestId('say').fill(WORD);
      await a.getByTestId('say').press('Enter');
      await expect(a.getByTestId('say')).toHaveValue('');
      await expect(a.getByTestId('messages')).toContainText(WORD);

      // A later visitor gets it with the history.
      const b = await context.newPage();
      await openDemo(b, `${playground.url}/chat`);
      await expect(b.getByTestId('messages')).toContainText(WORD);

      for (const page of [a, b]) {
        await expectNoSideways(page, viewport.width);
        const width = await page.locator('#app').evaluate((el) => el.getBoundingClientRect().width);
        expect(width).toBe(appWidth);
        // It wraps inside the message list: no sideways scrolling there either.
        const list = await page
          .getByTestId('messages')
          .evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
        expect(list.scroll).toBeLessThanOrEqual(list.client);
        await expect(page.getByRole('button', { name: 'Send' })).toBeInViewport();
      }
    });
  });
}
