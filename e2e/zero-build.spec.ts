// Journey: the zero-build pages. Every demo page loads `@actorspace/browser` through the
// import map, with no bundler, and the index links them all.
import { expect, openDemo, test } from './fixtures/playground.js';

const DEMOS = ['/counter', '/todos', '/chat', '/status', '/poll'];
// The desk pairs only after signing in (desk.spec.ts); the index links it all the same.
const INDEX = [...DEMOS, '/desk'];

test.describe('zero-build pages', () => {
  test('the index links every demo', async ({ page, playground }) => {
    await page.goto(playground.url);
    await expect(page.getByRole('heading', { name: 'ActorSpace playground' })).toBeVisible();
    const links = page.locator('.demos a');
    await expect(links).toHaveCount(INDEX.length);
    expect(await links.evaluateAll((as) => as.map((a) => a.getAttribute('href')))).toEqual(INDEX);
    await links.first().click();
    await expect(page).toHaveURL(`${playground.url}/counter`);
    await expect(page.locator('html')).toHaveAttribute('data-actorspace', 'open');
  });

  for (const route of DEMOS) {
    test(`${route} imports @actorspace/browser through the import map`, async ({ page, playground }) => {
      const bundle = page.waitForResponse((r) => /\/actorspace\/browser\.[0-9a-f]+\.js$/.test(r.url()));
      await openDemo(page, `${playground.url}${route}`);

      // The page maps the bare specifier to the hashed bundle, which the server serves as JS.
      const map = JSON.parse((await page.locator('script[type="importmap"]').textContent()) ?? '{}');
      expect(map.imports['@actorspace/browser']).toMatch(/^\/actorspace\/browser\.[0-9a-f]+\.js$/);
      const response = await bundle;
      expect(new URL(response.url()).pathname).toBe(map.imports['@actorspace/browser']);
      expect(response.status()).toBe(200);
      expect(response.headers()['content-type']).toMatch(/^text\/javascript/);

      // The boot module imported it, paired, and published the session; the bare specifier
      // also resolves for any later import on the page.
      const state = await page.evaluate(async () => {
        const browser = await import('@actorspace/browser');
        return {
          status: globalThis.actorspace?.session.status,
          hasActor: typeof globalThis.actorspace?.actor?.receive === 'function',
          exports: typeof browser.connect === 'function' && typeof browser.defineActor === 'function',
        };
      });
      expect(state).toEqual({ status: 'open', hasActor: true, exports: true });
      await expect(page.locator('#app')).not.toBeEmpty();
    });
  }
});
