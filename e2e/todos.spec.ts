// Journey: a todo list shared live by two tabs, saved to a file in the background and
// loaded again when the server starts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { startPlayground } from '../playground/start.mjs';
import { expect, openDemo, test } from './fixtures/playground.js';

async function add(page: Page, text: string): Promise<void> {
  await page.getByTestId('new-todo').fill(text);
  await page.getByTestId('new-todo').press('Enter');
}

test.describe('todos demo', () => {
  test('keeps two tabs in sync', async ({ context, playground }) => {
    const [a, b] = [await context.newPage(), await context.newPage()];
    await openDemo(a, `${playground.url}/todos`);
    await openDemo(b, `${playground.url}/todos`);

    await add(a, 'Buy milk');
    await add(b, 'Walk the dog');
    for (const page of [a, b]) {
      await expect(page.getByTestId('todo')).toHaveText(['Buy milk×', 'Walk the dog×']);
    }

    await b.getByRole('checkbox', { name: 'done: Buy milk' }).check();
    await expect(a.getByRole('checkbox', { name: 'done: Buy milk' })).toBeChecked();
    await expect(a.getByTestId('summary')).toHaveText('1 of 2 left');

    await a.getByRole('button', { name: 'remove Walk the dog' }).click();
    await expect(b.getByTestId('todo')).toHaveCount(1);
    await b.getByTestId('clear-done').click();
    await expect(a.getByTestId('todo')).toHaveCount(0);
    await expect(a.getByTestId('summary')).toHaveText('Nothing to do.');
  });

  test('saves the list to a file and loads it on the next start', async ({ page, playground }) => {
    await openDemo(page, `${playground.url}/todos`);
    await add(page, 'Persist me');
    await page.getByRole('checkbox', { name: 'done: Persist me' }).check();

    // The write is debounced and happens in the background: wait for the file to say so.
    const file = join(playground.dataDir, 'todos.json');
    const saved = async () => JSON.parse(await readFile(file, 'utf8').catch(() => '{"todos":[]}')).todos;
    await expect.poll(saved).toEqual([{ id: expect.any(String), text: 'Persist me', done: true }]);

    await playground.close();
    const again = await startPlayground({ port: 0, dataDir: playground.dataDir });
    try {
      await openDemo(page, `${again.url}/todos`);
      await expect(page.getByTestId('todo')).toHaveText(['Persist me×']);
      await expect(page.getByRole('checkbox', { name: 'done: Persist me' })).toBeChecked();
    } finally {
      await again.close();
    }
  });
});
