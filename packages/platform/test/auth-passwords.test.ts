/**
 * Passwords: real bcrypt (bcryptjs) hashes that KubeSphere's Go code would accept and the other way
 * round, the policy with KubeSphere's rule and wording, and the first-start password generator.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PASSWORD_POLICY_MESSAGE,
  PasswordPolicyError,
  checkPasswordPolicy,
  encryptPasswordIfPlain,
  generatePassword,
  hashPassword,
  isBcryptHash,
  verifyPassword,
} from '../src/auth/index.js';

test('hashes are bcrypt at cost 10 and verify only the right password', async () => {
  const hash = await hashPassword('P@88w0rd-Canopy');
  assert.match(hash, /^\$2[ab]\$10\$[./A-Za-z0-9]{53}$/);
  assert.equal(await verifyPassword('P@88w0rd-Canopy', hash), true);
  assert.equal(await verifyPassword('P@88w0rd-canopy', hash), false);
  assert.equal(await verifyPassword('', hash), false);
  // Salted: the same password hashes differently every time.
  assert.notEqual(await hashPassword('P@88w0rd-Canopy'), hash);
});

test('$2a$ hashes as KubeSphere (Go x/crypto/bcrypt) writes them verify', async () => {
  // Published bcrypt test vectors (OpenBSD / jBCrypt), written with the $2a$ prefix Go emits.
  assert.equal(await verifyPassword('abc', '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i'), true);
  assert.equal(
    await verifyPassword('abcdefghijklmnopqrstuvwxyz', '$2a$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq'),
    true,
  );
  assert.equal(await verifyPassword('abd', '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i'), false);
});

test('malformed hashes never match', async () => {
  assert.equal(isBcryptHash('plain-text'), false);
  assert.equal(isBcryptHash('$2a$10$short'), false);
  assert.equal(isBcryptHash('$2x$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq'), false);
  assert.equal(await verifyPassword('plain-text', 'plain-text'), false);
});

test('policy: 8 to 64 characters with a lowercase letter, an uppercase letter and a digit, in the console wording', () => {
  for (const good of ['Passw0rd', 'aB3aaaaa', '3Ba-----', 'ünïcodé9A', 'A1a'.padEnd(64, 'x')])
    assert.deepEqual(checkPasswordPolicy(good), { valid: true }, good);
  const cases: [string, string][] = [
    ['Pass0rd', 'must be at least 8 characters'],
    ['password1', 'must contain an uppercase letter'],
    ['PASSWORD1', 'must contain a lowercase letter'],
    ['Password', 'must contain a number'],
    ['A1a'.padEnd(65, 'x'), 'must be at most 64 characters'],
  ];
  for (const [bad, violation] of cases) {
    const check = checkPasswordPolicy(bad);
    assert.equal(check.valid, false, bad);
    if (!check.valid) {
      assert.ok(check.violations.includes(violation), `${bad}: ${check.violations.join(', ')}`);
      assert.equal(check.message, PASSWORD_POLICY_MESSAGE);
    }
  }
  assert.equal(
    PASSWORD_POLICY_MESSAGE,
    'The password must contain at least one number, one lowercase letter, and one uppercase letter. The length must be 8 to 64 characters.',
  );
  // 64 characters but 128 bytes: bcrypt would ignore everything past byte 72.
  const wide = checkPasswordPolicy('Aa1' + 'é'.repeat(61));
  assert.equal(wide.valid, false);
});

test('the policy agrees with the User CRD pattern of the shared reference', async () => {
  const { readFileSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const crd = readFileSync(
    fileURLToPath(new URL('../../../../shared/reference/kubesphere-crds/iam.kubesphere.io_users.yaml', import.meta.url)),
    'utf8',
  );
  const pattern = /pattern: (\^\(\.\*\[a-z\].*)$/m.exec(crd)?.[1];
  assert.ok(pattern, 'the users CRD carries the password pattern');
  const re = new RegExp(pattern);
  for (const sample of ['Passw0rd', 'password1', 'PASSWORD1', 'Password', '12345678aA', 'zzzzzzzzZ9', 'pass word 9X']) {
    const crdValid = re.test(sample) && sample.length >= 8 && sample.length <= 64;
    assert.equal(checkPasswordPolicy(sample).valid, crdValid, sample);
  }
});

test('encryptPasswordIfPlain keeps hashes, hashes valid passwords and refuses weak ones', async () => {
  const hash = '$2a$10$fVH8e28OQRj9tqiDXs1e1uxpsjN0c7II7YPKXua2NAKYvM6iQk7dq';
  assert.equal(await encryptPasswordIfPlain(hash), hash);
  const encrypted = await encryptPasswordIfPlain('Secr3tPass');
  assert.equal(await verifyPassword('Secr3tPass', encrypted), true);
  await assert.rejects(
    encryptPasswordIfPlain('weak'),
    (err: unknown) => err instanceof PasswordPolicyError && err.message === PASSWORD_POLICY_MESSAGE,
  );
});

test('generated first-start passwords satisfy the policy, are long and do not repeat', () => {
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const p = generatePassword();
    assert.equal(p.length, 20);
    assert.deepEqual(checkPasswordPolicy(p), { valid: true }, p);
    assert.doesNotMatch(p, /[0O1lI]/, 'no ambiguous characters');
    seen.add(p);
  }
  assert.equal(seen.size, 500);
  assert.deepEqual(checkPasswordPolicy(generatePassword(8)), { valid: true });
  assert.throws(() => generatePassword(7), RangeError);
});
