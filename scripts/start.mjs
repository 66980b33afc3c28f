#!/usr/bin/env node
// `npm start`: install dependencies when needed, build, then run the all-in-one server.
// Extra arguments after `npm start --` go to `canopy server` (e.g. `npm start -- --port 7443`).
import { spawnSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const lock = join(root, 'package-lock.json');
const marker = join(root, 'node_modules', '.package-lock.json');
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  console.log('Installing dependencies (first run compiles better-sqlite3, about 1-3 minutes)...');
  run(npm, ['install', '--no-audit', '--no-fund']);
}
console.log('Building...');
run(npm, ['run', 'build', '--silent']);
const child = spawn(process.execPath, [join(root, 'packages/cli/bin/canopy.js'), 'server', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
