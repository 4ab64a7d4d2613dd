#!/usr/bin/env node
// The README's two commands land here: `npm run playground` and `npm test` (or the same
// through pnpm). On a fresh machine with only Node and npm it installs what is missing
// (pnpm, the workspace's packages, Debian's chromium for e2e), then runs the task.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
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

/** Debian's chromium for Playwright; never a downloaded browser. */
function ensureChromium() {
  if (existsSync('/usr/bin/chromium')) return;
  log('installing Debian chromium for the e2e suite');
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'update'], { env });
  run(
    sudo[0] ?? 'apt-get',
    [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', 'chromium'],
    { env },
  );
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

switch (task) {
  case 'playground':
    log('building packages');
    pn('run', 'build');
    log('starting the playground');
    run(process.execPath, [join(ROOT, 'playground', 'server.mjs'), ...process.argv.slice(3)]);
    break;
  case 'test': {
    const started = Date.now();
    log('lint');
    pn('run', 'lint');
    log('build');
    pn('run', 'build');
    log('typecheck');
    pn('run', 'typecheck');
    log('unit and integration tests');
    const vitestReport = join(ROOT, 'test-results', 'vitest.json');
    pn('exec', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile=${vitestReport}`);
    const counts = vitestCounts(vitestReport);
    if (existsSync(join(ROOT, 'e2e', 'playwright.config.ts'))) {
      ensureChromium();
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
    log('package checks (publint, attw, exports, size-limit)');
    pn('run', 'check:pkg');
    log(`all green in ${Math.round((Date.now() - started) / 1000)} s`);
    // The closing line CI reads: every vitest test and Playwright spec.
    console.log(`tests: ${counts.passed} passed, ${counts.failed} failed`);
    break;
  }
  default:
    console.error('usage: node scripts/run.mjs <playground|test>');
    process.exit(2);
}
