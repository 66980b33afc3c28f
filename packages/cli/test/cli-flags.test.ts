/**
 * `canopy server` flag handling: a bad value is refused with exit code 2 and a message naming the
 * flag, before anything starts (no data directory is created).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../bin/canopy.js', import.meta.url));

function canopy(...args: string[]) {
  return spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 30_000 });
}

test('help lists the server flags, --heap-growth among them', () => {
  const help = canopy('--help');
  assert.equal(help.status, 0, help.stderr);
  for (const flag of ['--data-dir', '--nodes', '--kubeconfig', '--heap-growth']) assert.match(help.stdout, new RegExp(`${flag}\\b`));
});

test('bad flag values exit 2 with the flag named, and start nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'canopy-flags-'));
  try {
    const dataDir = join(dir, 'state');
    for (const [flag, value] of [
      ['--heap-growth', 'lots'],
      ['--heap-growth', '-5'],
      ['--heap-growth', '401'],
      ['--nodes', '5001'],
      ['--port', '70000'],
      ['--controllers', 'some'],
      ['--node-monitor-grace-period', '1s'],
    ]) {
      const run = canopy('server', '--data-dir', dataDir, flag, value);
      assert.equal(run.status, 2, `${flag} ${value}: ${run.stderr}`);
      assert.match(run.stderr, new RegExp(`${flag}\\b`), `${flag} ${value}: ${run.stderr}`);
      assert.equal(existsSync(dataDir), false, `${flag} ${value} created the data directory`);
    }
    const unknown = canopy('server', '--no-such-flag');
    assert.equal(unknown.status, 2);
    assert.match(unknown.stderr, /no-such-flag/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
