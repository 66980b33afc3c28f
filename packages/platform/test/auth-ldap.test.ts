/**
 * LDAP sign-in against a real OpenLDAP server (Debian's slapd, started here with its own
 * configuration): KubeSphere's search-then-bind with a manager account, the errors for wrong
 * passwords, unknown, filtered-out and ambiguous users, filter injection, TLS (ldaps as
 * KubeSphere's startTLS does it, and a real StartTLS upgrade), and the password grant with
 * `provider` through the OAuth server with mappingMethod auto, lookup and manual (confirm step).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  IdentityProviderUnauthorizedError,
  IdentityProviders,
  LdapIdentityProvider,
  buildIdentityProviderSecret,
  ldapEndpoint,
  parseIdentityProviderSecret,
  parseLdapOptions,
  publicIdentityProviderConfig,
  type IdentityProviderConfig,
} from '../src/auth/index.js';
import { CTX, harness, passwordForm } from './auth-support.js';
import { PEOPLE_DN, READER_DN, READER_PASSWORD, startSlapd, type Slapd } from './support-slapd.js';

const PEOPLE = [
  { uid: 'alice', password: 'Al1ce-in-LDAP', cn: 'Alice Liddell', mail: 'alice@ldap.canopy.test', displayName: 'Alice Liddell' },
  { uid: 'bob', password: 'B0b-in-LDAP', cn: 'Bob Builder', mail: 'bob@ldap.canopy.test' },
  { uid: 'Dave.Smith', password: 'D4ve-in-LDAP', cn: 'Dave Smith', mail: 'dave@ldap.canopy.test' },
  { uid: 'carol', password: 'C4rol-in-LDAP', cn: 'Carol Local' },
  { uid: 'twin', password: 'Tw1n-one', cn: 'Twin One' },
  { uid: 'twin', password: 'Tw1n-two', cn: 'Twin Two', ou: 'contractors' },
  { uid: 'svc-bot', password: 'Svc-b0t-pass', cn: 'svc', account: true },
];

let slapd: Slapd;
before(async () => {
  slapd = await startSlapd(PEOPLE);
});
after(async () => {
  await slapd?.stop();
});

function providerOptions(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    host: `127.0.0.1:${slapd.ldapPort}`,
    managerDN: READER_DN,
    managerPassword: READER_PASSWORD,
    userSearchBase: 'dc=canopy,dc=test',
    userSearchFilter: '(objectClass=inetOrgPerson)',
    loginAttribute: 'uid',
    mailAttribute: 'mail',
    ...extra,
  };
}

function config(name: string, mappingMethod: string, extra: Record<string, unknown> = {}): IdentityProviderConfig {
  // Through a Secret and back, as the server reads them.
  return parseIdentityProviderSecret(
    buildIdentityProviderSecret({
      name,
      type: 'LDAPIdentityProvider',
      mappingMethod: mappingMethod as never,
      hidden: false,
      disabled: false,
      provider: providerOptions(extra),
    }),
  );
}

async function unauthorized(p: Promise<unknown>, message: RegExp) {
  await assert.rejects(p, (err: unknown) => err instanceof IdentityProviderUnauthorizedError && message.test(err.message));
}

test('identity provider Secrets parse with KubeSphere fields; options are checked and credentials hidden', () => {
  const c = config('corp', 'auto');
  assert.equal(c.type, 'LDAPIdentityProvider');
  assert.equal(c.mappingMethod, 'auto');
  const options = parseLdapOptions(c.provider);
  assert.equal(options.readTimeout, 15000);
  assert.equal(options.displayNameAttribute, 'displayName');
  assert.equal(publicIdentityProviderConfig(c).provider.managerPassword, undefined);
  assert.equal(publicIdentityProviderConfig(c).provider.managerDN, READER_DN);
  assert.throws(() => parseLdapOptions({ ...c.provider, host: undefined }), /provider.host: required/);
  assert.throws(() => parseLdapOptions({ ...c.provider, userSearchFilter: 'objectClass=person' }), /userSearchFilter/);
  assert.throws(() => config('x', 'sometimes'), /invalid mapping method "sometimes"/);
  assert.deepEqual(ldapEndpoint({ host: 'ldap.example.com', startTLS: false }), {
    url: 'ldap://ldap.example.com:389',
    upgradeWithStartTLS: false,
  });
  assert.deepEqual(ldapEndpoint({ host: 'ldap.example.com', startTLS: true }), {
    url: 'ldaps://ldap.example.com:636',
    upgradeWithStartTLS: false,
  });
  assert.deepEqual(ldapEndpoint({ host: 'ldap://ldap.example.com', startTLS: true }), {
    url: 'ldap://ldap.example.com:389',
    upgradeWithStartTLS: true,
  });
});

test('search as the manager, bind as the user: identity with mail and display name', async () => {
  const ldap = new LdapIdentityProvider('corp', parseLdapOptions(providerOptions()));
  assert.deepEqual(await ldap.authenticate('alice', 'Al1ce-in-LDAP'), {
    uid: 'alice',
    username: 'alice',
    email: 'alice@ldap.canopy.test',
    displayName: 'Alice Liddell',
  });
  // LDAP matches uid case-insensitively; the identity keeps the directory's spelling.
  assert.equal((await ldap.authenticate('dave.smith', 'D4ve-in-LDAP')).uid, 'Dave.Smith');
  const bob = await ldap.authenticate('bob', 'B0b-in-LDAP');
  assert.equal(bob.displayName, undefined);
});

test('wrong passwords, unknown, filtered-out, ambiguous and injected user names are refused', async () => {
  const ldap = new LdapIdentityProvider('corp', parseLdapOptions(providerOptions()));
  await unauthorized(ldap.authenticate('alice', 'wrong-password'), /^ldap: incorrect password$/);
  await unauthorized(ldap.authenticate('alice', ''), /incorrect password/);
  await unauthorized(
    ldap.authenticate('nobody', 'whatever-1A'),
    /no results returned for filter: \(&\(uid=nobody\)\(objectClass=inetOrgPerson\)\)/,
  );
  await unauthorized(ldap.authenticate('svc-bot', 'Svc-b0t-pass'), /no results/);
  await unauthorized(ldap.authenticate('twin', 'Tw1n-one'), /filter returned multiple results/);
  await unauthorized(ldap.authenticate('*', 'Al1ce-in-LDAP'), /no results returned for filter: \(&\(uid=\\2a\)/);
  await unauthorized(ldap.authenticate('alice)(uid=*', 'Al1ce-in-LDAP'), /no results/);
  // Searching only under ou=people, the contractor twin is out of sight.
  const people = new LdapIdentityProvider('corp', parseLdapOptions(providerOptions({ userSearchBase: PEOPLE_DN })));
  assert.equal((await people.authenticate('twin', 'Tw1n-one')).uid, 'twin');
});

test('a wrong manager password or an unreachable server is a provider failure, not a wrong user password', async () => {
  const badManager = new LdapIdentityProvider('corp', parseLdapOptions(providerOptions({ managerPassword: 'nope' })));
  await assert.rejects(
    badManager.authenticate('alice', 'Al1ce-in-LDAP'),
    (err: unknown) => err instanceof Error && !(err instanceof IdentityProviderUnauthorizedError),
  );
  // Without a manager the search is anonymous, and the ACLs hide the whole tree from anonymous users.
  const anonymous = new LdapIdentityProvider(
    'corp',
    parseLdapOptions(providerOptions({ managerDN: undefined, managerPassword: undefined })),
  );
  await assert.rejects(
    anonymous.authenticate('alice', 'Al1ce-in-LDAP'),
    (err: unknown) => err instanceof Error && !(err instanceof IdentityProviderUnauthorizedError),
  );
  const down = new LdapIdentityProvider('corp', parseLdapOptions(providerOptions({ host: '127.0.0.1:1', readTimeout: 2000 })));
  await assert.rejects(
    down.authenticate('alice', 'Al1ce-in-LDAP'),
    (err: unknown) => err instanceof Error && !(err instanceof IdentityProviderUnauthorizedError),
  );
});

test('TLS: KubeSphere startTLS (ldaps) with rootCAData or insecureSkipVerify, and a StartTLS upgrade', async () => {
  const rootCAData = Buffer.from(slapd.caPem).toString('base64');
  const ldaps = new LdapIdentityProvider(
    'corp',
    parseLdapOptions(providerOptions({ host: `127.0.0.1:${slapd.ldapsPort}`, startTLS: true, rootCAData })),
  );
  assert.equal((await ldaps.authenticate('alice', 'Al1ce-in-LDAP')).uid, 'alice');
  const untrusted = new LdapIdentityProvider(
    'corp',
    parseLdapOptions(providerOptions({ host: `127.0.0.1:${slapd.ldapsPort}`, startTLS: true })),
  );
  await assert.rejects(untrusted.authenticate('alice', 'Al1ce-in-LDAP'), /certificate/i);
  const insecure = new LdapIdentityProvider(
    'corp',
    parseLdapOptions(providerOptions({ host: `127.0.0.1:${slapd.ldapsPort}`, startTLS: true, insecureSkipVerify: true })),
  );
  assert.equal((await insecure.authenticate('alice', 'Al1ce-in-LDAP')).uid, 'alice');
  const upgraded = new LdapIdentityProvider(
    'corp',
    parseLdapOptions(providerOptions({ host: `ldap://localhost:${slapd.ldapPort}`, startTLS: true, rootCAData })),
  );
  assert.equal((await upgraded.authenticate('bob', 'B0b-in-LDAP')).uid, 'bob');
});

test('password grant through LDAP, mappingMethod auto: the user is created, linked and signed in', async () => {
  const idps = new IdentityProviders([config('ldap', 'auto')]);
  const h = await harness({ identityProviders: idps });
  // The harness has a local alice; this platform's alice comes from LDAP.
  h.users.delete('alice');
  const r = await h.oauth.token(passwordForm('alice', 'Al1ce-in-LDAP', { provider: 'ldap' }), CTX);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const verified = await h.oauth.authenticateToken((r.body as { access_token: string }).access_token);
  assert.equal(verified.username, 'alice');
  const user = h.users.get('alice')!;
  assert.equal(user.metadata.annotations?.['iam.kubesphere.io/identity-provider.ldap'], 'alice');
  assert.equal(user.spec.email, 'alice@ldap.canopy.test');
  assert.equal(user.spec.displayName, 'Alice Liddell');
  assert.equal(user.spec.password, undefined, 'no local password for a mapped user');
  const [record] = h.records.listForUser('alice');
  assert.equal(record.spec.provider, 'ldap');
  assert.equal(record.spec.success, true);

  // Again: the same user, found by its link.
  assert.equal((await h.oauth.token(passwordForm('ALICE', 'Al1ce-in-LDAP', { provider: 'ldap' }), CTX)).meta?.username, 'alice');
  // Upper-case directory names become lower-case user names.
  assert.equal(
    (await h.oauth.token(passwordForm('Dave.Smith', 'D4ve-in-LDAP', { provider: 'ldap' }), CTX)).meta?.username,
    'dave.smith',
  );
  // A wrong LDAP password is KubeSphere's incorrect password.
  assert.deepEqual((await h.oauth.token(passwordForm('alice', 'Wrong-pass-1', { provider: 'ldap' }), CTX)).body, {
    error: 'invalid_grant',
    error_description: 'Invalid username or password.',
  });
  // carol exists on the platform without a link to LDAP: auto does not take her account over.
  const carol = await h.oauth.token(passwordForm('carol', 'C4rol-in-LDAP', { provider: 'ldap' }), CTX);
  assert.equal(carol.status, 400);
  assert.match(
    (carol.body as { error_description: string }).error_description,
    /already exists and is not linked to identity provider ldap/,
  );
  // Unknown provider.
  const unknown = await h.oauth.token(passwordForm('alice', 'Al1ce-in-LDAP', { provider: 'github' }), CTX);
  assert.equal(unknown.status, 400);
  assert.equal((unknown.body as { error: string }).error, 'invalid_request');
  // A disabled linked user is suspended.
  h.users.updateStatus('alice', { state: 'Disabled' });
  assert.deepEqual((await h.oauth.token(passwordForm('alice', 'Al1ce-in-LDAP', { provider: 'ldap' }), CTX)).body, {
    error: 'invalid_grant',
    error_description: 'Account suspended.',
  });
  assert.deepEqual(h.errors, []);
});

test('mappingMethod lookup: only users an administrator linked may sign in', async () => {
  const h = await harness({ identityProviders: new IdentityProviders([config('corp-ldap', 'lookup')]) });
  const refused = await h.oauth.token(passwordForm('bob', 'B0b-in-LDAP', { provider: 'corp-ldap' }), CTX);
  assert.equal(refused.status, 400);
  assert.deepEqual(refused.body, { error: 'invalid_grant', error_description: 'Authenticated user does not exist.' });
  assert.equal(h.users.get('bob'), undefined);

  h.users.put({
    metadata: { name: 'robert', annotations: { 'iam.kubesphere.io/identity-provider.corp-ldap': 'bob' } },
    spec: { email: 'robert@example.com' },
    status: { state: 'Active' },
  });
  const r = await h.oauth.token(passwordForm('bob', 'B0b-in-LDAP', { provider: 'corp-ldap' }), CTX);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal((await h.oauth.authenticateToken((r.body as { access_token: string }).access_token)).username, 'robert');
});

test('mappingMethod manual: a pre-registration token, then the confirm step creates the chosen user', async () => {
  const h = await harness({ identityProviders: new IdentityProviders([config('ldap', 'manual')]) });
  const r = await h.oauth.token(passwordForm('bob', 'B0b-in-LDAP', { provider: 'ldap' }), CTX);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  const pre = r.body as { access_token: string; refresh_token: string };
  const verified = await h.oauth.authenticateToken(pre.access_token);
  assert.equal(verified.username, 'system:pre-registration');
  assert.deepEqual(verified.extra, { idp: ['ldap'], uid: ['bob'], username: ['bob'], email: ['bob@ldap.canopy.test'] });
  assert.equal(h.users.get('bob'), undefined, 'no user until confirmed');

  // A taken name is refused with the console's wording; an invalid one too.
  const taken = await h.oauth.confirmRegistration(pre.access_token, { username: 'alice' }, CTX);
  assert.equal(taken.status, 409);
  assert.deepEqual(taken.body, {
    error: 'invalid_request',
    error_description: 'The username already exists. Please enter another username.',
  });
  assert.equal((await h.oauth.confirmRegistration(pre.access_token, { username: 'Bob Builder' }, CTX)).status, 400);

  const confirmed = await h.oauth.confirmRegistration(pre.access_token, { username: 'bobby' }, CTX);
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  const tokens = confirmed.body as { access_token: string };
  assert.equal((await h.oauth.authenticateToken(tokens.access_token)).username, 'bobby');
  const bobby = h.users.get('bobby')!;
  assert.equal(bobby.metadata.annotations?.['iam.kubesphere.io/identity-provider.ldap'], 'bob');
  assert.equal(bobby.spec.email, 'bob@ldap.canopy.test');
  // The pre-registration session is over.
  await assert.rejects(h.oauth.authenticateToken(pre.access_token));
  // Next time bob signs in straight as bobby.
  const again = await h.oauth.token(passwordForm('bob', 'B0b-in-LDAP', { provider: 'ldap' }), CTX);
  assert.equal(again.meta?.username, 'bobby');
  // A regular user's token confirms nothing.
  assert.equal((await h.oauth.confirmRegistration(tokens.access_token, { username: 'other' }, CTX)).status, 400);
});
