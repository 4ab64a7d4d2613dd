#!/usr/bin/env node
// After a build, checks each published package the way npm users get it, and prints only
// findings: every exports/bin target exists; the tarball holds README.md, LICENSE and dist
// (no sources or tests); publint and attw pass; the browser bundle fits its size-limit budget;
// and a consumer project that installs the tarballs compiles with `strict` and
// `skipLibCheck: false` (the published .d.ts need nothing the user did not install).
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const packages = readdirSync(join(ROOT, 'packages')).map((d) => join(ROOT, 'packages', d));
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
const work = mkdtempSync(join(tmpdir(), 'actorspace-pack-'));
let failed = 0;

function finding(message) {
  console.error(`✖ ${message}`);
  failed++;
}

/** Runs a command quietly; its output is shown only when it fails. */
function quiet(label, cmd, args, cwd, { noisy } = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
  if (r.status !== 0) {
    finding(`${label} failed:\n${output}`);
  } else if (noisy?.(output)) {
    // Passed, with something to say (a publint suggestion): a finding all the same.
    finding(`${label}:\n${output}`);
  }
  return r.stdout ?? '';
}

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

const tarballs = {};
try {
  for (const dir of packages) {
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    for (const target of new Set([...targets(pkg.exports), ...targets(pkg.bin ?? {})])) {
      if (!existsSync(join(dir, target))) {
        finding(`${pkg.name}: exports target ${target} does not exist (did the build run?)`);
      }
    }
    for (const field of ['description', 'repository', 'keywords', 'license']) {
      if (!pkg[field]) finding(`${pkg.name}: package.json has no ${field}`);
    }
    if (pkg.sideEffects === undefined) finding(`${pkg.name}: package.json does not say sideEffects`);

    // The tarball npm users download.
    const dest = join(work, basename(dir));
    quiet(`${pkg.name}: pnpm pack`, 'pnpm', ['pack', '--pack-destination', dest], dir);
    const tgz = readdirSync(dest).find((f) => f.endsWith('.tgz'));
    if (!tgz) continue;
    tarballs[pkg.name] = join(dest, tgz);
    const files = spawnSync('tar', ['-tzf', tarballs[pkg.name]], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));
    for (const needed of ['package.json', 'README.md', 'LICENSE']) {
      if (!files.includes(needed)) finding(`${pkg.name}: the tarball has no ${needed}`);
    }
    if (readFileSync(join(dir, 'LICENSE'), 'utf8') !== readFileSync(join(ROOT, 'LICENSE'), 'utf8')) {
      finding(`${pkg.name}: LICENSE differs from the repository's`);
    }
    for (const file of files) {
      if (!/^(dist\/|bin\/|package\.json$|README\.md$|LICENSE$)/.test(file)) {
        finding(`${pkg.name}: the tarball holds ${file}, which users do not need`);
      }
    }

    quiet(`${pkg.name}: publint`, bin('publint'), ['--strict'], dir, {
      noisy: (out) => !/All good!/.test(out),
    });
    // The CLI entry and the bundle are ESM-only by design; attw checks the library entries.
    quiet(
      `${pkg.name}: attw`,
      bin('attw'),
      [tarballs[pkg.name], '--profile', 'node16', '--exclude-entrypoints', 'bundle', 'package.json'],
      dir,
    );
    if (pkg['size-limit']) quiet(`${pkg.name}: size-limit`, bin('size-limit'), [], dir);
  }

  // A consumer project, as npm users make one: the tarballs, the frameworks, TypeScript.
  const consumer = join(work, 'consumer');
  cpSync(join(ROOT, 'scripts', 'consumer'), consumer, { recursive: true });
  const local = Object.fromEntries(Object.entries(tarballs).map(([name, tgz]) => [name, `file:${tgz}`]));
  writeFileSync(
    join(consumer, 'package.json'),
    JSON.stringify({
      name: 'actorspace-consumer',
      private: true,
      type: 'module',
      dependencies: {
        ...local,
        '@types/express': '5.0.6',
        '@types/node': '20.19.43',
        express: '5.3.0',
        fastify: '5.12.8',
        hono: '4.13.19',
        typescript: '5.9.3',
      },
      overrides: local,
    }),
  );
  quiet(
    'consumer project: npm install of the tarballs',
    'npm',
    ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'],
    consumer,
  );
  quiet(
    'consumer project: tsc --strict with skipLibCheck false',
    join(consumer, 'node_modules', '.bin', 'tsc'),
    ['-p', 'tsconfig.json'],
    consumer,
  );
  quiet(
    'consumer project: the installed actorspace command',
    join(consumer, 'node_modules', '.bin', 'actorspace'),
    ['--help'],
    consumer,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

if (failed > 0) {
  console.error(`✖ ${failed} finding(s) in the package checks`);
  process.exit(1);
}
console.log('✔ package checks passed');
