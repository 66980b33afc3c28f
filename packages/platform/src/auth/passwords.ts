/**
 * Passwords as KubeSphere keeps them: bcrypt hashes (cost 10) in `User.spec.password`, a policy of
 * 8 to 64 characters with a lowercase letter, an uppercase letter and a digit, and, unlike KubeSphere
 * (which ships a fixed default), a random first-start admin password that satisfies the policy.
 */
import { randomInt } from 'node:crypto';
import bcrypt from 'bcryptjs';

/** bcrypt cost KubeSphere uses (Go's bcrypt.DefaultCost). */
export const BCRYPT_COST = 10;

/** The console's wording of the policy (KubeSphere console, PASSWORD_DESC). */
export const PASSWORD_POLICY_MESSAGE =
  'The password must contain at least one number, one lowercase letter, and one uppercase letter. The length must be 8 to 64 characters.';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 64;
/** bcrypt ignores every byte after the 72nd: a longer password would be accepted by any string sharing its first 72 bytes. */
export const BCRYPT_MAX_BYTES = 72;

/**
 * A bcrypt hash as the User CRD's pattern admits it (`^(\$2[ayb]\$.{56})$`), checked more tightly:
 * two-digit cost, then 53 characters of bcrypt's base64 (22 of salt, 31 of digest).
 */
const BCRYPT_HASH = /^\$2[aby]\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

export function isBcryptHash(value: string): boolean {
  return BCRYPT_HASH.test(value);
}

export async function hashPassword(password: string, cost: number = BCRYPT_COST): Promise<string> {
  return bcrypt.hash(password, await bcrypt.genSalt(cost));
}

/**
 * Compares a password with a stored bcrypt hash ($2a$ from KubeSphere's Go code, $2b$ from ours, $2y$
 * from PHP tools: the same algorithm for passwords under 255 bytes). A malformed hash never matches.
 */
export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  if (!isBcryptHash(hash)) return false;
  return bcrypt.compare(password, hash);
}

export type PasswordCheck = { valid: true } | { valid: false; message: string; violations: string[] };

/**
 * KubeSphere's rule: the User CRD's minLength 8, maxLength 64 (counted in characters, as JSON Schema
 * counts) and its pattern (a lowercase ASCII letter, an uppercase ASCII letter and a digit, in any
 * order). Canopy adds the bcrypt byte limit, so that no two passwords hash alike.
 */
export function checkPasswordPolicy(password: string): PasswordCheck {
  const violations: string[] = [];
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) violations.push(`must be at least ${PASSWORD_MIN_LENGTH} characters`);
  if (length > PASSWORD_MAX_LENGTH) violations.push(`must be at most ${PASSWORD_MAX_LENGTH} characters`);
  if (!/[a-z]/.test(password)) violations.push('must contain a lowercase letter');
  if (!/[A-Z]/.test(password)) violations.push('must contain an uppercase letter');
  if (!/[0-9]/.test(password)) violations.push('must contain a number');
  if (Buffer.byteLength(password, 'utf8') > BCRYPT_MAX_BYTES)
    violations.push(`must not exceed ${BCRYPT_MAX_BYTES} bytes in UTF-8`);
  if (violations.length === 0) return { valid: true };
  const message =
    violations.length === 1 && violations[0].includes('bytes') ? `The password ${violations[0]}.` : PASSWORD_POLICY_MESSAGE;
  return { valid: false, message, violations };
}

/**
 * What the users controller (and admission) do with `spec.password`: a bcrypt hash is kept as is,
 * a plain password must satisfy the policy and is replaced by its hash. Throws with the policy
 * message when it does not.
 */
export async function encryptPasswordIfPlain(value: string, cost: number = BCRYPT_COST): Promise<string> {
  if (isBcryptHash(value)) return value;
  const check = checkPasswordPolicy(value);
  if (!check.valid) throw new PasswordPolicyError(check.message, check.violations);
  return hashPassword(value, cost);
}

export class PasswordPolicyError extends Error {
  constructor(
    message: string,
    readonly violations: string[],
  ) {
    super(message);
    this.name = 'PasswordPolicyError';
  }
}

// Ambiguous glyphs (0/O, 1/l/I) are left out: the first-start password is read off a terminal and typed.
const LOWER = 'abcdefghijkmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const DIGITS = '23456789';
const ALPHABET = LOWER + UPPER + DIGITS;

/**
 * A random password for the first-start `admin` user: `length` characters (default 20, about 116
 * bits) drawn uniformly with crypto.randomInt, with one of each class the policy requires placed at
 * random positions.
 */
export function generatePassword(length = 20): string {
  if (!Number.isInteger(length) || length < PASSWORD_MIN_LENGTH || length > PASSWORD_MAX_LENGTH)
    throw new RangeError(`password length must be an integer from ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH}`);
  const chars = Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]);
  const positions = Array.from({ length }, (_, i) => i);
  // Fisher-Yates over positions, then the first three get one character of each required class.
  for (let i = positions.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [positions[i], positions[j]] = [positions[j], positions[i]];
  }
  chars[positions[0]] = LOWER[randomInt(LOWER.length)];
  chars[positions[1]] = UPPER[randomInt(UPPER.length)];
  chars[positions[2]] = DIGITS[randomInt(DIGITS.length)];
  return chars.join('');
}
