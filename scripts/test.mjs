#!/usr/bin/env node
// `npm test`: install what the tests need, type-check, lint, build, and run every test file
// with node's test runner. A missing prerequisite fails loudly; nothing is skipped silently.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', ...options });
  if (r.status !== 0) {
    console.error(`\n${cmd} ${args.join(' ')} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status ?? 1);
  }
}

// 1. Node dependencies (better-sqlite3 compiles on first install).
const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) run(npm, ['install', '--no-audit', '--no-fund']);

// 2. External programs the tests drive. kubectl binaries come with the machine image; fail if absent.
const kubectlDir = '/usr/lib/google-cloud-sdk/bin';
const required = ['kubectl.1.29', 'kubectl.1.30', 'kubectl.1.32', 'kubectl.1.33'].map((b) => join(kubectlDir, b));
const missing = required.filter((p) => !existsSync(p));
if (missing.length) {
  console.error(`Missing kubectl binaries the acceptance tests drive: ${missing.join(', ')}`);
  process.exit(1);
}

// 3. Static checks and the build the CLI tests run.
run(npm, ['run', 'typecheck', '--silent']);
run(npm, ['run', 'lint', '--silent']);
run(npm, ['run', 'build', '--silent']);

// 4. Every test file, or those named on the command line.
function findTests(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist' && entry.name !== 'fixtures') out.push(...findTests(p));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const args = process.argv.slice(2);
const files = (args.length ? args : readdirSync(join(root, 'packages')).flatMap((pkg) => {
  const dir = join(root, 'packages', pkg, 'test');
  return existsSync(dir) ? findTests(dir) : [];
})).map((f) => relative(root, f)).sort();
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}
run(process.execPath, ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=300000', ...files]);
