#!/usr/bin/env node
// The README's two commands land here: `npm run playground` and `npm test` (or the same
// through pnpm). On a fresh machine with only Node and npm it installs what is missing
// (pnpm, the workspace's packages, Debian's chromium, redis-server and nats-server for the
// tests), then runs the task.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PNPM_VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).packageManager.split(
  '@',
)[1];
const task = process.argv[2];

function log(message) {
  process.stdout.write(`\n\u001b[1m▶ ${message}\u001b[0m\n`);
}

function run(cmd, args, opts = {}) {
  const result = spawnSync(cmd, args, { stdio: 'inherit', cwd: ROOT, ...opts });
  if (result.status !== 0) {
    console.error(`\n✖ ${[cmd, ...args].join(' ')} failed (exit ${result.status ?? result.signal})`);
    process.exit(result.status || 1);
  }
}

function has(cmd, args = ['--version']) {
  try {
    return execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim();
  } catch {
    return null;
  }
}

/** pnpm as a command and its leading arguments: the global one when its major matches, else npx. */
function pnpm() {
  const found = has('pnpm');
  if (found && found.split('.')[0] === PNPM_VERSION.split('.')[0]) return ['pnpm'];
  log(`installing pnpm@${PNPM_VERSION} with npm (corepack cannot verify this registry)`);
  const global = spawnSync('npm', ['install', '-g', `pnpm@${PNPM_VERSION}`], { stdio: 'inherit' });
  if (global.status === 0 && has('pnpm')) return ['pnpm'];
  return ['npx', '-y', `pnpm@${PNPM_VERSION}`];
}

function install(p) {
  const marker = join(ROOT, 'node_modules', '.modules.yaml');
  const lock = join(ROOT, 'pnpm-lock.yaml');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs && !process.env.CI) return;
  log('installing workspace packages');
  run(p[0], [...p.slice(1), 'install', '--frozen-lockfile']);
}

/**
 * Debian packages the tests need, installed with apt-get when their program is missing:
 * chromium for Playwright (never a downloaded browser), redis-server and nats-server for the
 * scale-out tests (started by the tests on free ports, never as system services).
 */
function ensureDebian(needed) {
  const missing = needed.filter(({ program }) => !existsSync(program)).map(({ pkg }) => pkg);
  if (missing.length === 0) return;
  log(`installing Debian's ${missing.join(', ')} for the tests`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args) =>
    run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), ...args], { env });
  apt('update');
  apt('install', '-y', '--no-install-recommends', ...missing);
  // The packages start their own services; the tests start brokers on free ports instead.
  for (const service of ['redis-server', 'nats-server']) {
    if (missing.includes(service)) spawnSync('service', [service, 'stop'], { stdio: 'ignore' });
  }
}

/** Passed and failed counts from vitest's JSON report. */
function vitestCounts(file) {
  const report = JSON.parse(readFileSync(file, 'utf8'));
  return { passed: report.numPassedTests ?? 0, failed: report.numFailedTests ?? 0 };
}

/** Passed and failed counts from Playwright's JSON report. */
function playwrightCounts(file) {
  const stats = JSON.parse(readFileSync(file, 'utf8')).stats ?? {};
  return { passed: stats.expected ?? 0, failed: (stats.unexpected ?? 0) + (stats.flaky ?? 0) };
}

const p = pnpm();
install(p);
const pn = (...args) => run(p[0], [...p.slice(1), ...args]);

/** The newest modification time of a file or of anything under a folder (node_modules aside). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of readdirSync(path)) {
    if (entry !== 'node_modules') max = Math.max(max, newest(join(path, entry)));
  }
  return max;
}

/**
 * Workspace packages whose build is older than their sources (or than the sources of the
 * workspace packages they depend on: the browser bundle holds the core). Empty when the build
 * is current, so the playground starts at once.
 */
function stalePackages() {
  const dir = (name) => join(ROOT, 'packages', name.replace('@actorspace/', ''));
  const shared = newest(join(ROOT, 'tsup.config.ts'));
  const inputs = (name) => {
    const manifest = JSON.parse(readFileSync(join(dir(name), 'package.json'), 'utf8'));
    const deps = Object.keys(manifest.dependencies ?? {}).filter((d) => d.startsWith('@actorspace/'));
    return Math.max(
      newest(join(dir(name), 'src')),
      newest(join(dir(name), 'package.json')),
      ...deps.map((d) => inputs(d)),
    );
  };
  return readdirSync(join(ROOT, 'packages'))
    .map((d) => `@actorspace/${d}`)
    .filter((name) => {
      const built = join(dir(name), 'dist', 'index.js');
      if (!existsSync(built)) return true;
      return statSync(built).mtimeMs < Math.max(shared, inputs(name));
    });
}

/** Processes of this checkout (and the servers tests start) other than this one and its parents. */
function ourProcesses() {
  const out = spawnSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' }).stdout ?? '';
  const mine = new Set([process.pid, process.ppid]);
  const watched = [ROOT, '/usr/bin/chromium', 'redis-server', 'nats-server', 'bun.exe'];
  return out
    .split('\n')
    .map((line) => line.trim().match(/^(\d+)\s+(.*)$/))
    .filter((m) => m && !mine.has(Number(m[1])) && watched.some((w) => m[2].includes(w)))
    .map((m) => ({ pid: Number(m[1]), args: m[2] }));
}

/**
 * Fails the run when a process a test started is still alive after the suites ended (after a
 * grace of 5 s for processes that are on their way out), and stops those processes.
 */
function checkNoLeftovers(before) {
  const known = new Set(before.map((p) => p.pid));
  let left = [];
  for (let waited = 0; waited <= 5000; waited += 250) {
    left = ourProcesses().filter((p) => !known.has(p.pid));
    if (left.length === 0) return;
    spawnSync('sleep', ['0.25']);
  }
  console.error(`\n✖ ${left.length} process(es) started by the tests outlived them:`);
  for (const p of left) {
    console.error(`  ${p.pid} ${p.args.slice(0, 200)}`);
    try {
      process.kill(p.pid, 'SIGKILL');
    } catch {}
  }
  process.exit(1);
}

/**
 * Fails when the generated API reference differs from the committed one (the sources' TSDoc
 * changed and `pnpm docs:api` was not run): the run has regenerated it, so committing it fixes
 * the failure. Outside a git checkout there is nothing to compare with.
 */
function checkDocsCurrent() {
  const status = spawnSync('git', ['status', '--porcelain', '--', 'docs/api'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (status.status !== 0) return;
  if (status.stdout.trim() !== '') {
    console.error(
      `\n✖ docs/api was out of date with the sources' TSDoc; it is regenerated now, commit it:\n${status.stdout}`,
    );
    process.exit(1);
  }
}

switch (task) {
  case 'playground': {
    const args = process.argv.slice(3);
    const watch = args.includes('--watch');
    const rest = args.filter((a) => a !== '--watch');
    const server = join(ROOT, 'playground', 'server.mjs');
    const stale = stalePackages();
    if (stale.length > 0) {
      log(`building ${stale.join(', ')}`);
      pn(...stale.flatMap((name) => ['--filter', name]), 'run', 'build');
    }
    if (watch) {
      // Packages rebuild on save (tsup --watch) and the server restarts when its code or a
      // package's build changes; client modules are served fresh, so a page reload shows them.
      log('watching packages and the playground (Ctrl+C stops)');
      const children = [
        spawn(
          p[0],
          [
            ...p.slice(1),
            '-r',
            '--parallel',
            '--filter',
            './packages/*',
            'exec',
            'tsup',
            '--config',
            '../../tsup.config.ts',
            '--watch',
            '--silent',
          ],
          { cwd: ROOT, stdio: 'inherit', detached: true, env: { ...process.env, ACTORSPACE_WATCH: '1' } },
        ),
        spawn(
          process.execPath,
          [
            '--watch-path',
            join(ROOT, 'playground'),
            '--watch-path',
            join(ROOT, 'packages', 'server', 'dist'),
            '--watch-path',
            join(ROOT, 'packages', 'core', 'dist'),
            server,
            ...rest,
          ],
          { cwd: ROOT, stdio: 'inherit', detached: true },
        ),
      ];
      const stop = () => {
        for (const child of children) {
          try {
            process.kill(-child.pid, 'SIGTERM');
          } catch {}
        }
        process.exit(0);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      break;
    }
    log('starting the playground');
    run(process.execPath, [server, ...rest]);
    break;
  }
  case 'playground:cluster': {
    // The playground as two nodes (processes) on one Redis backplane, with a redis-server of
    // its own on a free port (playground/cluster.mjs); Ctrl+C stops the nodes and redis-server.
    const stale = stalePackages();
    if (stale.length > 0) {
      log(`building ${stale.join(', ')}`);
      pn(...stale.flatMap((name) => ['--filter', name]), 'run', 'build');
    }
    ensureDebian([{ pkg: 'redis-server', program: '/usr/bin/redis-server' }]);
    log('starting the playground as a cluster of two nodes');
    run(process.execPath, [join(ROOT, 'playground', 'cluster.mjs'), ...process.argv.slice(3)]);
    break;
  }
  case 'test': {
    const started = Date.now();
    const before = ourProcesses();
    log('lint');
    pn('run', 'lint');
    log('build');
    pn('run', 'build');
    log('typecheck');
    pn('run', 'typecheck');
    log('API reference: every export documented, docs/api current');
    pn('run', 'docs:api');
    checkDocsCurrent();
    ensureDebian([
      { pkg: 'redis-server', program: '/usr/bin/redis-server' },
      { pkg: 'nats-server', program: '/usr/sbin/nats-server' },
    ]);
    log('unit and integration tests');
    const vitestReport = join(ROOT, 'test-results', 'vitest.json');
    pn('exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${vitestReport}`);
    const counts = vitestCounts(vitestReport);
    if (existsSync(join(ROOT, 'e2e', 'playwright.config.ts'))) {
      ensureDebian([{ pkg: 'chromium', program: '/usr/bin/chromium' }]);
      log('e2e in Chromium');
      const e2eReport = join(ROOT, 'test-results', 'e2e.json');
      run(
        p[0],
        [...p.slice(1), '--filter', 'actorspace-e2e', 'exec', 'playwright', 'test', '--reporter=list,json'],
        {
          env: { ...process.env, PLAYWRIGHT_JSON_OUTPUT_NAME: e2eReport },
        },
      );
      const e2e = playwrightCounts(e2eReport);
      counts.passed += e2e.passed;
      counts.failed += e2e.failed;
    }
    log('no test process outlives the run');
    checkNoLeftovers(before);
    log('package checks (publint, attw, exports, size-limit, tarballs)');
    pn('run', 'check:pkg');
    log(`all green in ${Math.round((Date.now() - started) / 1000)} s`);
    // The closing line CI reads: every vitest test and Playwright spec.
    console.log(`tests: ${counts.passed} passed, ${counts.failed} failed`);
    break;
  }
  default:
    console.error('usage: node scripts/run.mjs <playground|playground:cluster|test>');
    process.exit(2);
}
