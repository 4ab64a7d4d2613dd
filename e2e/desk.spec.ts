// Journey: identity. The host's login route issues a token, the page connects with it and
// is known by it; a message the page may not send is refused; a back-office agent (a Node
// process with a service token) does what the page cannot, and every page sees it.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connect } from '@actorspace/node';
import { expect, test } from './fixtures/playground.js';

const AGENT = fileURLToPath(new URL('../playground/desk/agent.mjs', import.meta.url));
const run = promisify(execFile);

test.describe('help desk demo (tokens, callers, a service agent)', () => {
  test('signs in with a token, opens tickets, is refused resolve, and the agent resolves them', async ({
    page,
    playground,
  }) => {
    await page.goto(`${playground.url}/desk`);
    await page.getByTestId('name').fill('Ada');
    const login = page.waitForResponse((r) => r.url().endsWith('/desk/login'));
    await page.getByTestId('name').press('Enter');
    const { token } = await (await login).json();
    await expect(page.locator('html')).toHaveAttribute('data-actorspace', 'open');
    await expect(page.getByTestId('me')).toHaveText('Ada');
    // The traffic panel shows the hello with its token redacted: the credential is on no page.
    await expect(page.getByTestId('traffic-row').first()).toBeVisible();
    expect(await page.content()).not.toContain(token);
    expect(await page.content()).toContain('[redacted]');

    await page.getByTestId('ticket-text').fill('Printer on fire');
    await page.getByTestId('ticket-text').press('Enter');
    await expect(page.getByTestId('ticket-1')).toContainText('Printer on fire (Ada)');
    await expect(page.getByTestId('state-1')).toHaveText('open');

    // What only a service may do: the server refuses the page.
    await page.getByTestId('resolve-1').click();
    await expect(page.getByTestId('message')).toHaveText(/resolve refused: FORBIDDEN/);
    // Data the schema refuses never reaches the handler.
    await page.getByTestId('ticket-text').fill('   ');
    await page.getByTestId('ticket-text').press('Enter');
    await expect(page.getByTestId('message')).toHaveText(/open refused: INVALID_MESSAGE/);

    // The back-office agent, a separate Node process with its own service token.
    const { stdout } = await run(
      process.execPath,
      [
        AGENT,
        '--url',
        `${playground.url.replace('http', 'ws')}/actorspace`,
        '--secret-file',
        join(playground.dataDir, 'desk-secret'),
      ],
      { timeout: 15_000 },
    );
    expect(stdout).toContain('resolved #1 Printer on fire');
    await expect(page.getByTestId('state-1')).toHaveText('resolved by support-agent');
  });

  test('the login route and the desk refuse what they should', async ({ request, playground }) => {
    const bad = await request.post(`${playground.url}/desk/login`, { data: { name: '<script>' } });
    expect(bad.status()).toBe(400);
    const ok = await request.post(`${playground.url}/desk/login`, { data: { name: 'Bob' } });
    const { token } = await ok.json();
    const url = `${playground.url.replace('http', 'ws')}/actorspace`;
    // No token: 4401. A desk token on another route: 4403.
    await expect(connect(url, { route: '/desk', reconnect: false })).rejects.toMatchObject({
      code: 'UNAUTHORIZED',
    });
    await expect(connect(url, { route: '/counter', token, reconnect: false })).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
    // The other demos still take anonymous pages.
    const anonymous = await connect(url, { route: '/counter', reconnect: false });
    await anonymous.close();
  });
});
