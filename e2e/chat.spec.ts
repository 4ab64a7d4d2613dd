// Journey: chat with presence. Joining and leaving follow the sessions' lives; messages
// reach everyone.
import { expect, openDemo, test } from './fixtures/playground.js';

test.describe('chat demo', () => {
  test('shows who is online as pages come and go, and broadcasts messages', async ({
    context,
    playground,
  }) => {
    const a = await context.newPage();
    await openDemo(a, `${playground.url}/chat`);
    await expect(a.getByTestId('count')).toHaveText('1');
    const nameA = (await a.getByTestId('you').textContent()) ?? '';
    expect(nameA).toMatch(/^\w+ \d+$/);

    const b = await context.newPage();
    await openDemo(b, `${playground.url}/chat`);
    await expect(b.getByTestId('you')).not.toHaveText('…');
    const nameB = (await b.getByTestId('you').textContent()) ?? '';
    expect(nameB).not.toBe(nameA);
    for (const page of [a, b]) {
      await expect(page.getByTestId('count')).toHaveText('2');
      await expect(page.getByTestId('online').getByRole('listitem')).toHaveText([nameA, nameB]);
    }
    await expect(a.getByTestId('messages')).toContainText(`${nameB} joined`);

    await b.getByTestId('say').fill('hello from B');
    await b.getByTestId('say').press('Enter');
    await expect(b.getByTestId('say')).toHaveValue(''); // cleared once the ask was answered
    for (const page of [a, b]) await expect(page.getByTestId('messages')).toContainText('hello from B');

    // Closing the tab ends B's session at once (the page closes it on pagehide): A sees B leave.
    await b.close({ runBeforeUnload: true });
    await expect(a.getByTestId('count')).toHaveText('1');
    await expect(a.getByTestId('online').getByRole('listitem')).toHaveText([nameA]);
    await expect(a.getByTestId('messages')).toContainText(`${nameB} left`);
  });

  test('sends the history to a newcomer, dates intact', async ({ context, playground }) => {
    const a = await context.newPage();
    await openDemo(a, `${playground.url}/chat`);
    await a.getByTestId('say').fill('first!');
    await a.getByTestId('say').press('Enter');
    await expect(a.getByTestId('say')).toHaveValue('');

    const b = await context.newPage();
    await openDemo(b, `${playground.url}/chat`);
    await expect(b.getByTestId('messages')).toContainText('first!');
    // The message's `at` is a Date on the server; it arrives as a Date and renders as a time.
    await expect(b.getByTestId('messages').getByRole('listitem').first()).toContainText(
      /\d{1,2}:\d{2}:\d{2}/,
    );
  });

  test('says "recovered" after a dropped connection, and nothing is missed', async ({
    context,
    playground,
    request,
  }) => {
    const a = await context.newPage();
    await openDemo(a, `${playground.url}/chat`);
    const b = await context.newPage();
    await openDemo(b, `${playground.url}/chat`);
    await expect(a.getByTestId('count')).toHaveText('2');
    // Every ActorSpace socket of the playground is cut, as a lost network would.
    await request.post(`${playground.url}/status/drop`);
    await b.getByTestId('say').fill('sent across the drop');
    await b.getByTestId('say').press('Enter');
    for (const page of [a, b]) {
      await expect(page.getByTestId('messages')).toContainText('reconnected: recovered, nothing missed');
      await expect(page.getByTestId('messages')).toContainText('sent across the drop');
    }
    // The drop was not a leave: nobody left or joined again.
    await expect(a.getByTestId('count')).toHaveText('2');
    await expect(a.getByTestId('messages')).not.toContainText('left');
  });
});
