// Journey: an AI agent reaches a user's open tab. The agent script (playground/agent/agent.mjs,
// the official MCP client over Streamable HTTP with a service token) lists the todos tabs and
// adds a todo to one, which every tab then shows; the same page offers its tools to in-browser
// agents through WebMCP (navigator.modelContext, injected here as Chromium has none yet).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect, openDemo, test } from './fixtures/playground.js';

const AGENT = fileURLToPath(new URL('../playground/agent/agent.mjs', import.meta.url));
const run = promisify(execFile);

test.describe('agent demo (gateway, MCP, WebMCP)', () => {
  test('the MCP agent lists the todos tabs and adds a todo to one while you watch', async ({
    context,
    playground,
  }) => {
    const [a, b] = [await context.newPage(), await context.newPage()];
    await openDemo(a, `${playground.url}/todos`);
    await openDemo(b, `${playground.url}/todos`);
    const { stdout } = await run(
      process.execPath,
      [
        AGENT,
        '--url',
        `${playground.url}/actorspace`,
        '--secret-file',
        join(playground.dataDir, 'desk-secret'),
        '--text',
        'Call the plumber',
      ],
      { timeout: 20_000 },
    );
    expect(stdout).toContain('todos_addTodo');
    // It lists both tabs (by their public ids), picks one, and adds the todo there.
    const tabs = [...stdout.matchAll(/^tab (\S+) /gm)].map((m) => m[1]);
    expect(tabs).toHaveLength(2);
    const added = /^added to (\S+): \{"added":"Call the plumber"\}$/m.exec(stdout);
    expect(tabs).toContain(added?.[1]);
    for (const page of [a, b]) await expect(page.getByTestId('todo')).toHaveText(['Call the plumber×']);
  });

  test('offers the same tools to an in-browser agent through WebMCP', async ({ page, playground }) => {
    await page.addInitScript(() => {
      const tools = new Map<string, { execute(input: unknown): Promise<unknown>; inputSchema: unknown }>();
      Object.defineProperty(navigator, 'modelContext', {
        value: {
          registerTool(tool: {
            name: string;
            execute(input: unknown): Promise<unknown>;
            inputSchema: unknown;
          }) {
            tools.set(tool.name, tool);
            return { unregister: () => tools.delete(tool.name) };
          },
        },
      });
      Object.assign(globalThis, { webmcpTools: tools });
    });
    await openDemo(page, `${playground.url}/todos`);
    const names = await page.evaluate(() => [...(globalThis as any).webmcpTools.keys()].sort());
    expect(names).toEqual(['addTodo', 'listTodos']);
    const schema = await page.evaluate(() => (globalThis as any).webmcpTools.get('addTodo').inputSchema);
    expect(schema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
    const added = await page.evaluate(() =>
      (globalThis as any).webmcpTools.get('addTodo').execute({ text: 'From the page agent' }),
    );
    expect(added).toEqual({ content: [{ type: 'text', text: '{"added":"From the page agent"}' }] });
    await expect(page.getByTestId('todo')).toHaveText(['From the page agent×']);
    // The definitions' schema still decides: an empty text is refused before the handler.
    const refused = await page.evaluate(() =>
      (globalThis as any).webmcpTools.get('addTodo').execute({ text: ' ' }),
    );
    expect(refused).toMatchObject({
      isError: true,
      content: [{ text: expect.stringMatching(/^INVALID_MESSAGE: /) }],
    });
  });
});
