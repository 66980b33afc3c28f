/**
 * The cluster's PKI, generated into the data directory on first start: a CA, the serving
 * certificate and the admin client certificate (CN=admin, O=system:masters) that the admin
 * kubeconfig carries. ECDSA P-256 keys: fast to generate, accepted by kubectl, helm and Node.
 * Later starts reuse the files, so kubeconfigs handed out stay valid across restarts.
 */
import { webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync, existsSync, chmodSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
// @peculiar/x509 resolves its ASN.1 codecs through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as never);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 24 * 3600 * 1000;

export interface KeyPairPem {
  cert: string;
  key: string;
}

export interface ClusterPki {
  ca: KeyPairPem;
  server: KeyPairPem;
  admin: KeyPairPem;
}

async function generateKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decode(pem)[0];
  return webcrypto.subtle.importKey('pkcs8', der, EC, true, ['sign']);
}

function serial(): string {
  // Positive 16-byte serial, as RFC 5280 asks.
  const bytes = webcrypto.getRandomValues(new Uint8Array(16));
  bytes[0] &= 0x7f;
  return Buffer.from(bytes).toString('hex');
}

export async function createCa(commonName: string): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${commonName}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 10 * YEAR_MS),
    keys: keys as never,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as never),
    ],
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

export interface LeafOptions {
  commonName: string;
  organizations?: string[];
  usage: 'server' | 'client';
  dnsNames?: string[];
  ipAddresses?: string[];
  validityMs?: number;
}

/** Issues a certificate signed by `ca`. */
export async function issueCertificate(ca: KeyPairPem, options: LeafOptions): Promise<KeyPairPem> {
  const keys = await generateKeys();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importPrivateKey(ca.key);
  const subject = [`CN=${escapeRdn(options.commonName)}`, ...(options.organizations ?? []).map((o) => `O=${escapeRdn(o)}`)].join(', ');
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
    new x509.ExtendedKeyUsageExtension([options.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth]),
    await x509.AuthorityKeyIdentifierExtension.create(caCert),
  ];
  const names = [
    ...(options.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(options.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length) extensions.push(new x509.SubjectAlternativeNameExtension(names));
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + (options.validityMs ?? 5 * YEAR_MS)),
    publicKey: keys.publicKey as never,
    signingKey: caKey as never,
    signingAlgorithm: SIGN,
    extensions,
  });
  return { cert: cert.toString('pem'), key: await privateKeyPem(keys.privateKey) };
}

function escapeRdn(value: string): string {
  return value.replace(/([,+"\\<>;=])/g, '\\$1');
}

function writePair(dir: string, name: string, pair: KeyPairPem): void {
  writeFileSync(join(dir, `${name}.crt`), pair.cert);
  writeFileSync(join(dir, `${name}.key`), pair.key, { mode: 0o600 });
  chmodSync(join(dir, `${name}.key`), 0o600);
}

function readPair(dir: string, name: string): KeyPairPem | undefined {
  const certPath = join(dir, `${name}.crt`);
  const keyPath = join(dir, `${name}.key`);
  if (!existsSync(certPath) || !existsSync(keyPath)) return undefined;
  return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8') };
}

/** Whether a certificate still covers the next day (regenerate leaves that are about to expire). */
function fresh(pair: KeyPairPem | undefined): pair is KeyPairPem {
  if (!pair) return false;
  try {
    return new Date(new NodeX509(pair.cert).validTo).getTime() > Date.now() + 24 * 3600 * 1000;
  } catch {
    return false;
  }
}

/** Loads the PKI from `<dataDir>/pki`, creating whatever is missing or expiring. */
export async function ensurePki(dataDir: string, extraServerNames: string[] = []): Promise<ClusterPki> {
  const dir = join(dataDir, 'pki');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  let ca = readPair(dir, 'ca');
  let caRenewed = false;
  if (!fresh(ca)) {
    ca = await createCa('canopy-ca');
    writePair(dir, 'ca', ca);
    caRenewed = true;
  }
  let server = readPair(dir, 'server');
  if (caRenewed || !fresh(server)) {
    const ips = ['127.0.0.1', '::1', ...extraServerNames.filter(isIp)];
    const dns = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', hostname(), ...extraServerNames.filter((n) => !isIp(n))];
    server = await issueCertificate(ca, { commonName: 'canopy-apiserver', usage: 'server', dnsNames: dns, ipAddresses: ips });
    writePair(dir, 'server', server);
  }
  let admin = readPair(dir, 'admin');
  if (caRenewed || !fresh(admin)) {
    admin = await issueCertificate(ca, { commonName: 'admin', organizations: ['system:masters'], usage: 'client' });
    writePair(dir, 'admin', admin);
  }
  return { ca, server, admin };
}

function isIp(name: string): boolean {
  return /^[0-9.]+$/.test(name) || name.includes(':');
}
