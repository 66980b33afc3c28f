/**
 * Shared set-up of the authentication tests: an OAuthServer over in-memory stores with an injected
 * clock, real bcrypt hashes and real keys, and readers for the shared KubeSphere reference.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import {
  DEFAULT_OAUTH_CLIENT,
  IdTokenKeys,
  MemoryLoginRecordStore,
  MemoryOAuthClientSource,
  MemoryTokenStore,
  MemoryUserStore,
  OAuthServer,
  TokenManager,
  hashPassword,
  type IdentityProviderRegistry,
  type OAuthClient,
  type SecretObject,
  type UserObject,
} from '../src/auth/index.js';

export const ISSUER = 'http://console.canopy.test';

/** A file of the shared reference (../shared beside the checkout); the tests need it and fail without it. */
export function readReference(path: string): string {
  return readFileSync(fileURLToPath(new URL(`../../../../shared/reference/${path}`, import.meta.url)), 'utf8');
}

/** KubeSphere's default OAuth client Secret from its Helm chart, with the template lines dropped. */
export function chartOAuthClientSecret(): SecretObject {
  const text = readReference('kubesphere-chart/oauthclient-config.yaml')
    .split('\n')
    .filter((line) => !/^\s*\{\{.*\}\}\s*$/.test(line))
    .join('\n')
    .replace(/\{\{.*?\}\}/g, '');
  return parseYaml(text) as SecretObject;
}

export function testClock(start = Date.parse('2025-06-01T08:00:00Z')) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms), set: (ms: number) => (t = ms) };
}

let keys: Promise<IdTokenKeys> | undefined;
/** One RSA key for all tests of a process: generating 2048-bit keys is slow. */
export function idTokenKeys(): Promise<IdTokenKeys> {
  return (keys ??= IdTokenKeys.generate('RS256'));
}

export const THIRD_PARTY: OAuthClient = {
  name: 'grafana',
  secret: 'grafana-secret',
  trusted: false,
  grantMethod: 'auto',
  scopeRestrictions: ['openid', 'email', 'profile'],
  redirectURIs: ['https://grafana.example.com/login/generic_oauth'],
};

export const DENIED: OAuthClient = { ...THIRD_PARTY, name: 'blocked', secret: 'blocked-secret', grantMethod: 'deny' };

export interface Harness {
  clock: ReturnType<typeof testClock>;
  users: MemoryUserStore;
  records: MemoryLoginRecordStore;
  clients: MemoryOAuthClientSource;
  tokens: TokenManager;
  keys: IdTokenKeys;
  oauth: OAuthServer;
  errors: string[];
}

export const PASSWORDS: Record<string, string> = { admin: 'Adm1nFirstStart', alice: 'Al1ceWonder', carol: 'Car0lDisabled' };

let hashes: Promise<Record<string, string>> | undefined;
function passwordHashes(): Promise<Record<string, string>> {
  return (hashes ??= (async () =>
    Object.fromEntries(await Promise.all(Object.entries(PASSWORDS).map(async ([u, p]) => [u, await hashPassword(p)]))))());
}

export async function harness(
  options: { multipleLogin?: boolean; identityProviders?: IdentityProviderRegistry } = {},
): Promise<Harness> {
  const clock = testClock();
  const h = await passwordHashes();
  const user = (name: string, extra: Partial<UserObject['metadata']> = {}, state = 'Active'): UserObject => ({
    apiVersion: 'iam.kubesphere.io/v1beta1',
    kind: 'User',
    metadata: { name, ...extra },
    spec: { email: `${name}@example.com`, password: h[name], lang: 'en' },
    status: { state },
  });
  const users = new MemoryUserStore(
    [
      user('admin', {
        annotations: { 'iam.kubesphere.io/uninitialized': 'true', 'iam.kubesphere.io/globalrole': 'platform-admin' },
      }),
      user('alice'),
      user('carol', {}, 'Disabled'),
    ],
    clock.now,
  );
  const records = new MemoryLoginRecordStore(clock.now);
  const clients = new MemoryOAuthClientSource([DEFAULT_OAUTH_CLIENT, THIRD_PARTY, DENIED]);
  const tokens = new TokenManager({
    issuer: ISSUER,
    secret: 'test-installation-secret-0123456789',
    store: new MemoryTokenStore(),
    now: clock.now,
    multipleLogin: options.multipleLogin,
    userLookup: (name) => users.get(name),
  });
  const keys = await idTokenKeys();
  const errors: string[] = [];
  const oauth = new OAuthServer({
    issuer: ISSUER,
    tokens,
    idTokens: keys,
    users,
    loginRecords: records,
    clients,
    identityProviders: options.identityProviders,
    onError: (message, err) => errors.push(`${message}: ${(err as Error)?.message}`),
  });
  return { clock, users, records, clients, tokens, keys, oauth, errors };
}

export const CTX = { sourceIP: '203.0.113.9', userAgent: 'canopy-test/1.0' };

/** The console's sign-in: the password grant with the default client. */
export function passwordForm(username: string, password: string, extra: Record<string, string> = {}) {
  return { grant_type: 'password', client_id: 'kubesphere', client_secret: 'kubesphere', username, password, ...extra };
}
