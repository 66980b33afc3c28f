/**
 * A real OpenLDAP server (Debian's slapd) for the LDAP tests: its own cn=config built with slapadd in
 * a temporary directory, an mdb database with a few people, ACLs as a directory would have them
 * (anonymous users may only bind; a read-only manager account searches), listening on free ports
 * for ldap:// (with StartTLS) and ldaps:// with a certificate from a test CA made with openssl.
 *
 * slapd, slapadd and openssl come from Debian packages (slapd, ldap-utils, openssl). When they are
 * missing this installs them with apt-get (through sudo when not root), and fails loudly when that
 * is impossible: the LDAP tests are never skipped.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SLAPD = '/usr/sbin/slapd';
const SLAPADD = '/usr/sbin/slapadd';

export const BASE_DN = 'dc=canopy,dc=test';
export const PEOPLE_DN = `ou=people,${BASE_DN}`;
export const READER_DN = `cn=reader,${BASE_DN}`;
export const READER_PASSWORD = 'Reader-Passw0rd';

export interface LdapPerson {
  uid: string;
  password: string;
  cn: string;
  mail?: string;
  displayName?: string;
  /** Under ou=<ou> instead of ou=people. */
  ou?: string;
  /** objectClass account instead of inetOrgPerson (not a person: filtered out by (objectClass=inetOrgPerson)). */
  account?: boolean;
}

export interface Slapd {
  ldapPort: number;
  ldapsPort: number;
  /** PEM of the CA that signed the server certificate (for 127.0.0.1 and localhost). */
  caPem: string;
  stop(): Promise<void>;
}

function run(cmd: string, args: string[], input?: string): void {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stderr}${r.stdout}`);
}

/** Installs slapd, ldap-utils and openssl if any of their programs is missing; throws if that fails. */
export function ensureLdapPackages(): void {
  if (existsSync(SLAPD) && existsSync(SLAPADD) && existsSync('/usr/bin/ldapsearch') && existsSync('/usr/bin/openssl')) return;
  const root = process.getuid?.() === 0;
  const sudo = (args: string[]) => (root ? args : ['sudo', '-n', ...args]);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // No default database from the package's postinst: the tests bring their own configuration.
  const preseed = spawnSync(sudo(['debconf-set-selections'])[0], sudo(['debconf-set-selections']).slice(1), {
    input: 'slapd slapd/no_configuration boolean true\n',
    env,
  });
  const steps = [sudo(['apt-get', 'update', '-qq']), sudo(['apt-get', 'install', '-y', '-qq', 'slapd', 'ldap-utils', 'openssl'])];
  const failures: string[] = preseed.status === 0 ? [] : [`debconf-set-selections: ${preseed.stderr}`];
  for (const [cmd, ...args] of steps) {
    const r = spawnSync(cmd, args, { env, encoding: 'utf8' });
    if (r.status !== 0) failures.push(`${cmd} ${args.join(' ')}: exit ${r.status ?? r.signal}\n${r.stderr}`);
  }
  if (!existsSync(SLAPD) || !existsSync(SLAPADD) || !existsSync('/usr/bin/openssl'))
    throw new Error(
      `The LDAP tests need Debian's slapd, ldap-utils and openssl, and installing them failed:\n${failures.join('\n')}`,
    );
}

/** RFC 2307 {SSHA}: base64(SHA-1(password ‖ salt) ‖ salt). */
export function ssha(password: string): string {
  const salt = randomBytes(8);
  return `{SSHA}${Buffer.concat([createHash('sha1').update(password).update(salt).digest(), salt]).toString('base64')}`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`slapd exited with ${child.exitCode}:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`slapd did not listen on ${port} within ${timeoutMs}ms:\n${output()}`);
}

function makeCertificates(dir: string): void {
  const subj = (cn: string) => ['-subj', `/CN=${cn}`];
  run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    ...subj('Canopy Test LDAP CA'),
    '-keyout',
    join(dir, 'ca.key'),
    '-out',
    join(dir, 'ca.pem'),
  ]);
  run('openssl', [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    ...subj('localhost'),
    '-keyout',
    join(dir, 'server.key'),
    '-out',
    join(dir, 'server.csr'),
  ]);
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  run('openssl', [
    'x509',
    '-req',
    '-in',
    join(dir, 'server.csr'),
    '-CA',
    join(dir, 'ca.pem'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    join(dir, 'server.ext'),
    '-out',
    join(dir, 'server.pem'),
  ]);
}

function configLdif(dir: string): string {
  return `dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: ${dir}/slapd.pid
olcArgsFile: ${dir}/slapd.args
olcTLSCACertificateFile: ${dir}/ca.pem
olcTLSCertificateFile: ${dir}/server.pem
olcTLSCertificateKeyFile: ${dir}/server.key

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: /usr/lib/ldap
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file:///etc/ldap/schema/core.ldif

include: file:///etc/ldap/schema/cosine.ldif

include: file:///etc/ldap/schema/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcAccess: {0}to dn.base="" by * read
olcAccess: {1}to dn.base="cn=Subschema" by * read

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcSuffix: ${BASE_DN}
olcRootDN: cn=admin,${BASE_DN}
olcRootPW: ${ssha(randomBytes(16).toString('hex'))}
olcDbDirectory: ${dir}/data
olcDbMaxSize: 16777216
olcAccess: {0}to attrs=userPassword by self read by anonymous auth by * none
olcAccess: {1}to * by dn.exact="${READER_DN}" read by self read by * none
`;
}

function dataLdif(people: LdapPerson[]): string {
  const ous = [...new Set(['people', ...people.map((p) => p.ou ?? 'people')])];
  const entries = [
    `dn: ${BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\ndc: canopy\no: Canopy Test`,
    `dn: ${READER_DN}\nobjectClass: organizationalRole\nobjectClass: simpleSecurityObject\ncn: reader\nuserPassword: ${ssha(READER_PASSWORD)}`,
    ...ous.map((ou) => `dn: ou=${ou},${BASE_DN}\nobjectClass: organizationalUnit\nou: ${ou}`),
    ...people.map((p) => {
      const dn = `uid=${p.uid},ou=${p.ou ?? 'people'},${BASE_DN}`;
      const lines = [`dn: ${dn}`];
      if (p.account) lines.push('objectClass: account', 'objectClass: simpleSecurityObject', `uid: ${p.uid}`);
      else {
        lines.push('objectClass: inetOrgPerson', `uid: ${p.uid}`, `cn: ${p.cn}`, `sn: ${p.cn.split(' ').pop()}`);
        if (p.mail) lines.push(`mail: ${p.mail}`);
        if (p.displayName) lines.push(`displayName: ${p.displayName}`);
      }
      lines.push(`userPassword: ${ssha(p.password)}`);
      return lines.join('\n');
    }),
  ];
  return `${entries.join('\n\n')}\n`;
}

export async function startSlapd(people: LdapPerson[]): Promise<Slapd> {
  ensureLdapPackages();
  const dir = mkdtempSync(join(tmpdir(), 'canopy-slapd-'));
  const confDir = join(dir, 'slapd.d');
  mkdirSync(confDir);
  mkdirSync(join(dir, 'data'));
  makeCertificates(dir);
  writeFileSync(join(dir, 'config.ldif'), configLdif(dir));
  writeFileSync(join(dir, 'data.ldif'), dataLdif(people));
  run(SLAPADD, ['-n', '0', '-F', confDir, '-l', join(dir, 'config.ldif')]);
  run(SLAPADD, ['-n', '1', '-F', confDir, '-l', join(dir, 'data.ldif')]);

  const ldapPort = await freePort();
  const ldapsPort = await freePort();
  // -d keeps slapd in the foreground, so it is our child and ends with the test.
  const child = spawn(SLAPD, ['-d', '0', '-h', `ldap://127.0.0.1:${ldapPort}/ ldaps://127.0.0.1:${ldapsPort}/`, '-F', confDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(ldapPort, child, () => output);
    await waitForPort(ldapsPort, child, () => output);
  } catch (err) {
    await stop();
    throw err;
  }
  const { readFileSync } = await import('node:fs');
  return { ldapPort, ldapsPort, caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'), stop };
}
