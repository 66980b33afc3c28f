#!/usr/bin/env node
// Builds the console into dist/ with Vite unless dist/ is newer than every input (sources,
// index.html, public/, the Vite config, the package manifest): `npm run build`, `npm start` and
// `npm test` call this on every run, and an unchanged console costs nothing. `--force` rebuilds.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const stamp = join(here, 'dist', 'index.html');

function newest(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const inputs = ['src', 'public', 'index.html', 'vite.config.ts', 'package.json', 'build.mjs'].map((p) => newest(join(here, p)));
if (!process.argv.includes('--force') && existsSync(stamp) && statSync(stamp).mtimeMs > Math.max(...inputs)) {
  console.log('console: dist/ is up to date');
  process.exit(0);
}
const vite = join(here, '..', '..', 'node_modules', 'vite', 'bin', 'vite.js');
const result = spawnSync(process.execPath, [vite, 'build', '--logLevel', 'warn'], { cwd: here, stdio: 'inherit' });
if (result.status !== 0) {
  console.error(`console: vite build failed (exit ${result.status ?? result.signal})`);
  process.exit(result.status ?? 1);
}
console.log('console: built into dist/');
