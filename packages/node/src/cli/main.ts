#!/usr/bin/env node
/**
 * The `actorspace` command, the bin of @actorspace/node: parses argv and runs `serve`.
 * Exit codes: 0 on success or after a graceful stop, 1 when the config or the server fails,
 * 2 for a usage error. Nothing imports this file; `serve()` is the programmatic API.
 */
import { isAbsolute, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_CONFIG_FILES, type ServeHandle, serve } from './serve.js';

const USAGE = `Usage: actorspace <command> [options]

Commands:
  serve [config]   Serve an ActorSpace config file on node:http
  help [command]   Show help

Options:
  -h, --help       Show help

Run "actorspace serve --help" for the options of serve.
`;

const SERVE_USAGE = `Usage: actorspace serve [config] [options]

Loads config (default: the first of ${DEFAULT_CONFIG_FILES.join(', ')} in the current
folder), whose default export is the options of createActorServer plus optional port, host
and path, and serves it on node:http until SIGINT or SIGTERM.

Options:
  -p, --port <n>   Port to listen on; 0 picks a free one (default: config port, else 8080)
      --host <h>   Interface to listen on (default: config host, else 127.0.0.1)
      --verbose    Print stacks of errors
  -h, --help       Show this help
`;

const OPTIONS = {
  port: { type: 'string', short: 'p' },
  host: { type: 'string' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const parse = (args: string[]) => parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });

async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    return usageError((error as Error).message, argv[0] === 'serve' ? SERVE_USAGE : USAGE);
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;

  if (command === undefined) {
    if (values.help) return help(USAGE);
    return usageError('no command given', USAGE);
  }
  if (command === 'help') {
    if (rest[0] === 'serve') return help(SERVE_USAGE);
    if (rest[0] === undefined) return help(USAGE);
    return usageError(`unknown command "${rest[0]}"`, USAGE);
  }
  if (command !== 'serve') return usageError(`unknown command "${command}"`, USAGE);
  if (values.help) return help(SERVE_USAGE);
  if (rest.length > 1) return usageError(`serve takes one config file, got ${rest.length}`, SERVE_USAGE);

  let port: number | undefined;
  try {
    port = values.port === undefined ? undefined : parsePort(values.port);
  } catch (error) {
    return usageError((error as Error).message, SERVE_USAGE);
  }
  return runServe({ config: rest[0], port, host: values.host, verbose: values.verbose === true });
}

async function runServe(options: {
  config: string | undefined;
  port: number | undefined;
  host: string | undefined;
  verbose: boolean;
}): Promise<number> {
  let handle: ServeHandle;
  try {
    handle = await serve({
      ...(options.config !== undefined && { config: options.config }),
      ...(options.port !== undefined && { port: options.port }),
      ...(options.host !== undefined && { host: options.host }),
    });
  } catch (error) {
    fail(error, options.verbose);
    return 1;
  }

  // Failures no caller waited for (such as a throwing tell handler): one line
  // each, so the server keeps a readable log.
  handle.actors.on('error', (error) => fail(error, options.verbose, ` [${error.code}]`));

  const stopped = new Promise<number>((done) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals): void => {
      if (stopping) {
        // A second signal while closing: the user does not want to wait for onStop handlers.
        process.stderr.write(`actorspace: ${signal} again, exiting without waiting\n`);
        done(1);
        return;
      }
      stopping = true;
      process.stdout.write(`ActorSpace stopping (${signal})\n`);
      handle.close().then(
        () => done(0),
        (error: unknown) => {
          fail(error, options.verbose);
          done(1);
        },
      );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });

  // Printed once the signal handlers are in place: whoever waits for this line may stop us.
  const name = displayName(handle.config);
  const lines = [
    `ActorSpace serving ${name} on ${handle.url}`,
    `  socket  ${handle.url.replace(/^http/, 'ws')}${handle.path}  routes: ${[...handle.actors.routes.keys()].join(', ') || '(none)'}`,
    ...handle.pages.map((page) => `  page    ${page.url}`),
    'Press Ctrl+C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return stopped;
}

function parsePort(text: string): number {
  const port = /^\d{1,5}$/.test(text) ? Number(text) : Number.NaN;
  if (!(port >= 0 && port <= 65535)) {
    throw new Error(`--port must be an integer from 0 to 65535, got "${text}"`);
  }
  return port;
}

function help(usage: string): number {
  process.stdout.write(usage);
  return 0;
}

function usageError(problem: string, usage: string): number {
  process.stderr.write(`actorspace: ${problem}\n\n${usage}`);
  return 2;
}

/** One line on stderr; the stack (and its causes) only with --verbose. */
function fail(error: unknown, verbose: boolean, suffix = ''): void {
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`actorspace: ${message.replace(/\s*\n\s*/g, ' ')}${suffix}\n`);
  if (!verbose) return;
  let cause: unknown = error;
  while (cause instanceof Error) {
    process.stderr.write(`${cause.stack ?? String(cause)}\n`);
    cause = cause.cause;
    if (cause !== undefined) process.stderr.write('Caused by: ');
  }
  if (cause !== undefined && !(cause instanceof Error)) process.stderr.write(`${String(cause)}\n`);
}

function displayName(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    fail(error, true);
    process.exit(1);
  },
);
