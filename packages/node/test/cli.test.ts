// The `actorspace` bin as users run it: the BUILT dist/cli/main.js in a child process, with
// config files written to a temp folder. Build first (see the error below).
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect } from '@actorspace/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
const BUILD =
  'pnpm --filter @actorspace/core --filter @actorspace/browser --filter @actorspace/server --filter @actorspace/node build';

/** An actor with no imports, so the config runs from any folder; onStop leaves a marker file. */
const ECHO_CONFIG = `import { writeFileSync } from 'node:fs';
export default {
  routes: {
    '/echo': () => ({
      receive: (type, data) => (type === 'echo' ? data : null),
      onStop: (reason) => writeFileSync(new URL('./stopped.txt', import.meta.url), String(reason)),
    }),
    '/tools': { server: () => ({ receive: () => null }), client: './tools-client.js', title: 'Tools' },
  },
};
`;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

let dir: string;
const children: ChildProcess[] = [];

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

function spawnCli(args: string[]): { child: ChildProcess; exit: Promise<Exit>; stdout: () => string } {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exit = new Promise<Exit>((resolve) =>
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr })),
  );
  return { child, exit, stdout: () => stdout };
}

/** Runs the CLI to its end. */
function run(...args: string[]): Promise<Exit> {
  return spawnCli(args).exit;
}

/** Starts `serve` and resolves with its URL once it printed it. */
async function start(...args: string[]) {
  const cli = spawnCli(['serve', ...args]);
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (): void => {
      const match = /^ActorSpace serving \S+ on (http:\/\/\S+)$/m.exec(cli.stdout());
      if (match?.[1]) {
        cli.child.stdout?.off('data', onData);
        resolve(match[1]);
      }
    };
    cli.child.stdout?.on('data', onData);
    cli.exit.then((exit) => reject(new Error(`serve exited with ${exit.code}: ${exit.stderr}`)));
  });
  return { ...cli, url };
}

/** A failed start: one line on stderr naming the file, no stack. */
function expectOneLine(exit: Exit, ...parts: string[]): void {
  expect(exit.code).toBe(1);
  expect(exit.stderr).not.toContain('    at ');
  const lines = exit.stderr.trimEnd().split('\n');
  expect(lines).toHaveLength(1);
  for (const part of parts) expect(lines[0]).toContain(part);
}

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: build the packages first with \`${BUILD}\``);
  dir = mkdtempSync(join(tmpdir(), 'actorspace-cli-'));
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('actorspace (built bin)', () => {
  it('is an executable file that starts with a node shebang', () => {
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
  });

  it('prints usage and exits 0 on --help, help and serve --help', async () => {
    const main = await run('--help');
    expect(main.code).toBe(0);
    expect(main.stdout).toContain('Usage: actorspace <command>');
    expect(main.stderr).toBe('');
    expect((await run('help')).stdout).toBe(main.stdout);
    const serve = await run('serve', '--help');
    expect(serve.code).toBe(0);
    expect(serve.stdout).toContain('Usage: actorspace serve [config]');
    expect((await run('help', 'serve')).stdout).toBe(serve.stdout);
  });

  it.each([
    [['serve', '--bogus'], "Unknown option '--bogus'"],
    [['frobnicate'], 'unknown command "frobnicate"'],
    [[], 'no command given'],
    [['serve', '--port', 'http'], '--port must be an integer'],
    [['serve', 'a.mjs', 'b.mjs'], 'one config file'],
  ])('exits 2 with usage on stderr for %j', async (args, problem) => {
    const exit = await run(...args);
    expect(exit.code).toBe(2);
    expect(exit.stdout).toBe('');
    expect(exit.stderr).toContain(problem);
    expect(exit.stderr).toContain('Usage: actorspace');
  });
});

describe('actorspace serve (built bin)', () => {
  it('serves a config: a Node client pairs and asks, health answers JSON, SIGTERM stops it gracefully', async () => {
    write('echo.config.mjs', ECHO_CONFIG);
    const server = await start('echo.config.mjs', '--port', '0');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.url).not.toMatch(/:0$/);
    expect(server.stdout()).toContain(`page    ${server.url}/tools`);

    const session = await connect(`${server.url.replace('http', 'ws')}/actorspace`, {
      route: '/echo',
      reconnect: false,
    });
    expect(await session.server.ask('echo', { text: 'hi' })).toEqual({ text: 'hi' });

    const health = await fetch(`${server.url}/actorspace/health`);
    expect(health.headers.get('content-type')).toContain('application/json');
    expect(await health.json()).toMatchObject({ status: 'ok', sessions: 1 });

    const closed = new Promise<void>((resolve) => session.on('status', (s) => s === 'closed' && resolve()));
    server.child.kill('SIGTERM');
    const exit = await server.exit;
    expect(exit).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(exit.stdout).toContain('stopping (SIGTERM)');
    // The live session's root actor was stopped before the process exited.
    expect(readFileSync(join(dir, 'stopped.txt'), 'utf8')).not.toBe('');
    await closed;
  });

  it('loads actorspace.config.mjs from the working folder by default and stops on SIGINT', async () => {
    write('actorspace.config.mjs', 'export default { routes: { "/a": () => ({ receive: () => "a" }) } };\n');
    const server = await start('--port', '0');
    expect(server.stdout()).toContain('ActorSpace serving actorspace.config.mjs on');
    server.child.kill('SIGINT');
    expect((await server.exit).code).toBe(0);
  });

  it.each([
    ['missing.mjs', null, 'not found'],
    [
      'syntax.mjs',
      'export default {\n  routes: { "/a": () => ({ receive() {} ) },\n};\n',
      'syntax error on line 2',
    ],
    ['nodefault.mjs', 'export const routes = {};\n', 'no default export'],
    ['noroutes.mjs', 'export default { port: 0 };\n', 'no routes'],
    ['badroute.mjs', 'export default { routes: { "/a": 42 } };\n', 'route "/a" must be a factory'],
    ['unslashed.mjs', 'export default { routes: { a: () => ({}) } };\n', 'route "a" must start with "/"'],
    ['throws.mjs', 'throw new TypeError("no database");\n', 'TypeError: no database'],
    ['importfails.mjs', 'import "actorspace-no-such-package";\nexport default {};\n', 'Cannot find package'],
  ])('exits 1 with one line naming %s for a bad config', async (name, text, problem) => {
    if (text !== null) write(name, text);
    expectOneLine(await run('serve', name, '--port', '0'), name, problem);
  });

  it('exits 1 with one line when the port is in use', async () => {
    write('busy.config.mjs', ECHO_CONFIG);
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    try {
      const address = blocker.address();
      const port = String(typeof address === 'object' && address ? address.port : 0);
      expectOneLine(await run('serve', 'busy.config.mjs', '--port', port), 'busy.config.mjs', 'EADDRINUSE');
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it('prints the stack of a bad config with --verbose', async () => {
    write('verbose.mjs', 'throw new Error("boom");\n');
    const exit = await run('serve', 'verbose.mjs', '--verbose');
    expect(exit.code).toBe(1);
    expect(exit.stderr.split('\n')[0]).toBe('actorspace: verbose.mjs: threw while loading: Error: boom');
    expect(exit.stderr).toContain('    at ');
  });
});
