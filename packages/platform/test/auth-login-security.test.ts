/**
 * Sign-in history and lockout as pure functions of records, user and an injected clock:
 * LoginRecords as KubeSphere writes them, 168h retention and 100 records per user, and
 * N failures within the window → AuthLimitExceeded, lifted once the window has passed.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AUTHENTICATED_SUCCESSFULLY,
  DEFAULT_LOGIN_SECURITY,
  MemoryLoginRecordStore,
  buildLoginRecord,
  countRecentFailures,
  formatGoDuration,
  isLocked,
  lockExpiry,
  loginRecordsToDelete,
  nextUserStatus,
  parseGoDuration,
  type LoginRecordObject,
  type UserObject,
} from '../src/auth/index.js';

const T0 = Date.parse('2025-03-01T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;

function record(user: string, at: number, success: boolean, name = `${user}-${at}`): LoginRecordObject {
  const r = buildLoginRecord({
    username: user,
    type: 'Token',
    sourceIP: '10.0.0.1',
    userAgent: 'curl/8',
    ...(success ? {} : { failure: 'incorrect password' }),
  });
  r.metadata.name = name;
  r.metadata.creationTimestamp = new Date(at).toISOString();
  return r;
}

function user(name: string, status: UserObject['status'] = { state: 'Active' }): UserObject {
  return { metadata: { name }, spec: { email: `${name}@example.com` }, status };
}

test('login records have KubeSphere shape: generateName, user-ref label, spec fields', () => {
  const ok = buildLoginRecord({
    username: 'alice',
    type: 'Token',
    provider: '',
    sourceIP: '192.0.2.7',
    userAgent: 'Mozilla/5.0',
  });
  assert.deepEqual(ok, {
    apiVersion: 'iam.kubesphere.io/v1beta1',
    kind: 'LoginRecord',
    metadata: { generateName: 'alice-', labels: { 'iam.kubesphere.io/user-ref': 'alice' } },
    spec: {
      type: 'Token',
      provider: '',
      sourceIP: '192.0.2.7',
      userAgent: 'Mozilla/5.0',
      success: true,
      reason: AUTHENTICATED_SUCCESSFULLY,
    },
  });
  const failed = buildLoginRecord({
    username: 'alice',
    type: 'Basic',
    provider: 'ldap',
    sourceIP: '192.0.2.7',
    failure: 'incorrect password',
  });
  assert.equal(failed.spec.success, false);
  assert.equal(failed.spec.reason, 'incorrect password');
  assert.equal(failed.spec.provider, 'ldap');
  assert.equal('userAgent' in failed.spec, false);
});

test('records older than 168h and all but the newest 100 of a user are deleted', () => {
  const now = T0 + 200 * HOUR;
  const records: LoginRecordObject[] = [];
  // alice: 120 records one minute apart, all recent → the 20 oldest go.
  for (let i = 0; i < 120; i++) records.push(record('alice', now - (120 - i) * MIN, i % 3 === 0));
  // bob: 3 records, one of them 169h old → that one goes.
  records.push(
    record('bob', now - 169 * HOUR, true, 'bob-old'),
    record('bob', now - HOUR, false, 'bob-1'),
    record('bob', now - MIN, true, 'bob-2'),
  );
  // An orphan without the user-ref label goes too.
  const orphan = record('carol', now, true, 'orphan');
  delete orphan.metadata.labels;
  records.push(orphan);

  const doomed = new Set(loginRecordsToDelete(records, now));
  const aliceDoomed = records.filter((r) => r.metadata.name!.startsWith('alice-') && doomed.has(r.metadata.name!));
  assert.equal(aliceDoomed.length, 20);
  const oldestKept = Math.min(
    ...records
      .filter((r) => r.metadata.name!.startsWith('alice-') && !doomed.has(r.metadata.name!))
      .map((r) => Date.parse(r.metadata.creationTimestamp!)),
  );
  assert.ok(
    aliceDoomed.every((r) => Date.parse(r.metadata.creationTimestamp!) < oldestKept),
    'the oldest are the ones deleted',
  );
  assert.ok(doomed.has('bob-old'));
  assert.ok(!doomed.has('bob-1') && !doomed.has('bob-2'));
  assert.ok(doomed.has('orphan'));
  assert.equal(doomed.size, 22);
  // Exactly at the limits nothing goes.
  assert.deepEqual(loginRecordsToDelete(records.slice(20, 120), now), []);
});

test('10 failures within 10 minutes lock the user with KubeSphere reason; 9 do not', () => {
  const alice = user('alice', { state: 'Active', lastTransitionTime: new Date(T0 - HOUR).toISOString() });
  const records: LoginRecordObject[] = [];
  for (let i = 0; i < 9; i++) records.push(record('alice', T0 + i * MIN, false));
  const now = T0 + 9 * MIN;
  assert.equal(nextUserStatus(alice, records, now), undefined);
  records.push(record('alice', now, false));
  const locked = nextUserStatus(alice, records, now);
  assert.deepEqual(locked, {
    state: 'AuthLimitExceeded',
    reason: 'Failed login attempts exceed 10 in last 10m0s',
    lastTransitionTime: new Date(now).toISOString(),
  });
});

test('failures outside the window, before the last state change, successes and other users do not count', () => {
  const since = T0;
  const alice = user('alice', { state: 'Active', lastTransitionTime: new Date(since).toISOString() });
  const now = T0 + 30 * MIN;
  const records = [
    ...Array.from({ length: 5 }, (_, i) => record('alice', now - 11 * MIN - i * 1000, false)), // too old for the window
    ...Array.from({ length: 3 }, (_, i) => record('alice', since - i * 1000 - 1, false, `before-${i}`)), // before the transition
    ...Array.from({ length: 4 }, (_, i) => record('alice', now - i * 1000, true, `ok-${i}`)),
    ...Array.from({ length: 10 }, (_, i) => record('bob', now - i * 1000, false, `bob-${i}`)),
    ...Array.from({ length: 6 }, (_, i) => record('alice', now - i * 1000, false, `recent-${i}`)),
  ];
  assert.equal(countRecentFailures(alice, records, now), 6);
  assert.equal(nextUserStatus(alice, records, now), undefined);
});

test('a lock holds for the window and is lifted after it', () => {
  const lockedAt = T0;
  const alice = user('alice', {
    state: 'AuthLimitExceeded',
    reason: 'Failed login attempts exceed 10 in last 10m0s',
    lastTransitionTime: new Date(lockedAt).toISOString(),
  });
  const failures = Array.from({ length: 10 }, (_, i) => record('alice', lockedAt - i * 1000, false));
  assert.equal(isLocked(alice, lockedAt + 10 * MIN), true);
  assert.equal(nextUserStatus(alice, failures, lockedAt + 10 * MIN), undefined);
  assert.equal(lockExpiry(alice), lockedAt + 10 * MIN);
  const later = lockedAt + 10 * MIN + 1;
  assert.equal(isLocked(alice, later), false);
  const lifted = nextUserStatus(alice, failures, later);
  assert.deepEqual(lifted, { state: 'Active', reason: '', lastTransitionTime: new Date(later).toISOString() });
  // The failures that caused the lock came before the new transition: they do not lock again.
  const unlocked = user('alice', { ...alice.status, ...lifted });
  assert.equal(nextUserStatus(unlocked, failures, later), undefined);
});

test('disabled users are never locked or unlocked by failures', () => {
  const bob = user('bob', { state: 'Disabled' });
  const failures = Array.from({ length: 20 }, (_, i) => record('bob', T0 - i * 1000, false));
  assert.equal(nextUserStatus(bob, failures, T0), undefined);
});

test('custom limits: 3 tries in 1 minute', () => {
  const options = { ...DEFAULT_LOGIN_SECURITY, rateLimiterMaxTries: 3, rateLimiterDuration: MIN };
  const alice = user('alice');
  const failures = [record('alice', T0 - 50_000, false), record('alice', T0 - 20_000, false), record('alice', T0, false)];
  assert.equal(nextUserStatus(alice, failures, T0, options)?.reason, 'Failed login attempts exceed 3 in last 1m0s');
  assert.equal(nextUserStatus(alice, failures, T0 + 15_000, options), undefined, 'the first failure has left the window');
});

test('the memory record store names records from generateName with the clock as creationTimestamp', () => {
  const store = new MemoryLoginRecordStore(() => T0);
  const a = store.create(buildLoginRecord({ username: 'alice', type: 'Token', sourceIP: '::1' }));
  const b = store.create(buildLoginRecord({ username: 'alice', type: 'Token', sourceIP: '::1' }));
  assert.match(a.metadata.name!, /^alice-[a-z0-9]{5}$/);
  assert.notEqual(a.metadata.name, b.metadata.name);
  assert.equal(a.metadata.creationTimestamp, new Date(T0).toISOString());
  assert.equal(store.listForUser('alice').length, 2);
  assert.equal(store.listForUser('bob').length, 0);
});

test('Go durations as KubeSphere configures and prints them', () => {
  assert.equal(parseGoDuration('10m0s'), 10 * MIN);
  assert.equal(parseGoDuration('168h'), 168 * HOUR);
  assert.equal(parseGoDuration('1h30m'), 90 * MIN);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('0'), 0);
  assert.throws(() => parseGoDuration('10'));
  assert.throws(() => parseGoDuration('ten minutes'));
  assert.equal(formatGoDuration(10 * MIN), '10m0s');
  assert.equal(formatGoDuration(168 * HOUR), '168h0m0s');
  assert.equal(formatGoDuration(2 * HOUR + 30 * MIN), '2h30m0s');
  assert.equal(formatGoDuration(1500), '1.5s');
  assert.equal(formatGoDuration(250), '250ms');
  assert.equal(formatGoDuration(0), '0s');
});
