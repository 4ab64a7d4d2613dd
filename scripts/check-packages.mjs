#!/usr/bin/env node
// After a build: every exports target exists, publint and attw pass on every published
// package, and the browser bundle stays inside its size-limit budget.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = new URL('..', import.meta.url).pathname;
const packages = readdirSync(join(ROOT, 'packages')).map((d) => join(ROOT, 'packages', d));
let failed = false;

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(targets);
  return [];
}

function run(cmd, args, cwd) {
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`✖ ${cmd} ${args.join(' ')} failed in ${cwd}`);
    failed = true;
  }
}

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);

for (const dir of packages) {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  for (const target of new Set([...targets(pkg.exports), ...targets(pkg.bin ?? {})])) {
    if (!existsSync(join(dir, target))) {
      console.error(`✖ ${pkg.name}: exports target ${target} does not exist (did the build run?)`);
      failed = true;
    }
  }
  run(bin('publint'), ['--strict'], dir);
  // The CLI entry and bundle are ESM-only by design; attw checks the library entries.
  run(
    bin('attw'),
    ['--pack', '.', '--profile', 'node16', '--exclude-entrypoints', 'bundle', 'package.json'],
    dir,
  );
  if (pkg['size-limit']) run(bin('size-limit'), [], dir);
}

if (failed) process.exit(1);
console.log('✔ package checks passed');
