// Journey: the smallest pairing. Each page gets its own server actor; asks go out and the
// server pushes the value back.
import { expect, openDemo, test } from './fixtures/playground.js';

test.describe('counter demo', () => {
  test('pairs the page with its server actor, which answers asks and pushes the value', async ({
    page,
    playground,
  }) => {
    await openDemo(page, `${playground.url}/counter`);
    const value = page.getByTestId('value');
    await expect(value).toHaveText('0'); // pushed by the server actor's setRemoteActor
    for (let i = 0; i < 3; i++) await page.getByTestId('increment').click();
    await expect(value).toHaveText('3');
    await page.getByTestId('decrement').click();
    await expect(value).toHaveText('2');
    await expect(page.getByTestId('status')).toHaveText('open');
  });

  test('gives every page its own server actor', async ({ context, playground }) => {
    const [a, b] = [await context.newPage(), await context.newPage()];
    await openDemo(a, `${playground.url}/counter`);
    await openDemo(b, `${playground.url}/counter`);
    await a.getByTestId('increment').click();
    await expect(a.getByTestId('value')).toHaveText('1');
    await expect(b.getByTestId('value')).toHaveText('0');
  });
});
