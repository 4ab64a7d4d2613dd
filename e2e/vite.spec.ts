// Journey: a bundled app (playground/vite). Vite builds the vanilla TypeScript page and the
// React page once; the Express server serves the build and ActorSpace on one port; the pages
// (and the route's zero-build page) pair, ask, and receive the list the server pushes after a
// change made by another. The guides that show this code are checked against it.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, type Page, test } from '@playwright/test';
import { build } from 'vite';
import { type StartedServer, startServer } from '../playground/vite/server/app.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const APP = join(ROOT, 'playground', 'vite');

/** Collects page errors and console errors; the test fails on any. */
function watchErrors(page: Page): string[] {
  const seen: string[] = [];
  page.on('pageerror', (error) => seen.push(`pageerror on ${page.url()}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') seen.push(`console.error on ${page.url()}: ${message.text()}`);
  });
  return seen;
}

async function add(page: Page, text: string): Promise<void> {
  await page.getByLabel('New todo').fill(text);
  await page.getByRole('button', { name: 'Add' }).click();
}

test.describe('Vite example', () => {
  let outDir = '';
  let server: StartedServer | null = null;

  test.beforeAll(async () => {
    // A build of its own, so the example's dist/ is left alone.
    outDir = await mkdtemp(join(tmpdir(), 'actorspace-vite-e2e-'));
    // Vite's build sets process.env.NODE_ENV to 'production'; later specs in this worker must not inherit it.
    const nodeEnv = process.env.NODE_ENV;
    try {
      await build({ root: APP, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
    } finally {
      if (nodeEnv === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = nodeEnv;
    }
    server = await startServer({ port: 0, dist: outDir });
  });

  test.afterAll(async () => {
    await server?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  test('the vanilla, React and zero-build pages pair, ask, and receive pushes', async ({ context }) => {
    const url = server!.url;
    const plain = await context.newPage();
    const react = await context.newPage();
    const errors = [plain, react].map(watchErrors);

    await plain.goto(`${url}/`);
    await expect(plain.getByTestId('status')).toHaveText('open');
    await react.goto(`${url}/react/`);
    await expect(react.getByTestId('status')).toHaveText('open');

    // An ask from the plain page: its answer is shown, and the server pushes the new list to
    // both pages (the React page learns of it only through the push).
    await add(plain, 'milk');
    await expect(plain.getByTestId('answer')).toHaveText('added #1');
    await expect(plain.getByTestId('todos').locator('li')).toHaveText(['milk']);
    await expect(react.getByTestId('todos').locator('li')).toHaveText(['milk']);

    // And the other way round.
    await add(react, 'eggs');
    await expect(react.getByTestId('answer')).toHaveText('added #2');
    await expect(react.getByTestId('todos').locator('li')).toHaveText(['milk', 'eggs']);
    await expect(plain.getByTestId('todos').locator('li')).toHaveText(['milk', 'eggs']);

    // A page opened later gets the list pushed when it pairs: here the route's zero-build page
    // (client/todos.js, no bundler), the other client model on the same route and server.
    const zero = await context.newPage();
    errors.push(watchErrors(zero));
    await zero.goto(`${url}/todos`);
    await expect(zero.locator('html')).toHaveAttribute('data-actorspace', 'open');
    await expect(zero.getByTestId('todos').locator('li')).toHaveText(['milk', 'eggs']);
    await add(zero, 'bread');
    await expect(zero.getByTestId('answer')).toHaveText('added #3');
    for (const page of [plain, react, zero]) {
      await expect(page.getByTestId('todos').locator('li')).toHaveText(['milk', 'eggs', 'bread']);
    }

    for (const page of context.pages()) await page.close();
    expect(errors.flat(), 'page errors and console errors').toEqual([]);
  });
});

test.describe('guides', () => {
  // A code block right under a **`playground/vite/<file>`** heading must be lines of that file,
  // in order (indentation aside: an excerpt is shown dedented).
  const lines = (text: string) =>
    text
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean);
  const within = (file: string[], block: string[]) =>
    file.some((_, at) => block.every((line, i) => file[at + i] === line));

  for (const guide of ['vite.md', 'client-models.md']) {
    test(`docs/guide/${guide} shows the example's code as it is`, async () => {
      const text = await readFile(join(ROOT, 'docs', 'guide', guide), 'utf8');
      const blocks = [...text.matchAll(/\*\*`(playground\/vite\/[^`]+)`\*\*\n\n```\w*\n([\s\S]*?)```/g)];
      expect(blocks.length).toBeGreaterThan(0);
      for (const [, file, code] of blocks) {
        const source = lines(await readFile(join(ROOT, file!), 'utf8'));
        expect(within(source, lines(code!)), `${guide}: the block from ${file} is not in that file`).toBe(
          true,
        );
      }
    });
  }
});
