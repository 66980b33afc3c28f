/**
 * The identity state the platform keeps in its data directory, readable only by its owner (0600):
 * the HS256 secret that signs access, refresh and static tokens (KubeSphere's jwtSecret), the
 * private key that signs ID tokens, and the SQLite registry of issued tokens. They are created on
 * first start and reused after, so sessions and kubeconfigs survive restarts.
 */
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SqliteTokenStore } from '../auth/token-store.js';
import { IdTokenKeys, generateJwtSecret } from '../auth/tokens.js';

export const JWT_SECRET_FILE = 'jwt-secret';
export const ID_TOKEN_KEY_FILE = 'id-token-key.pem';
export const TOKEN_STORE_FILE = 'tokens.db';

const OWNER_ONLY = 0o600;

/** Reads `file`, or creates it with `make()` (exclusively: two processes cannot both write it). */
async function readOrCreate(file: string, make: () => string | Promise<string>): Promise<string> {
  if (!existsSync(file)) {
    const content = await make();
    try {
      writeFileSync(file, content, { mode: OWNER_ONLY, flag: 'wx' });
      return content;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  // A copy restored with wider permissions is narrowed again.
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, OWNER_ONLY);
  return readFileSync(file, 'utf8');
}

export async function loadJwtSecret(dataDir: string): Promise<string> {
  const secret = (await readOrCreate(join(dataDir, JWT_SECRET_FILE), () => `${generateJwtSecret()}\n`)).trim();
  if (Buffer.byteLength(secret) < 16) throw new Error(`${join(dataDir, JWT_SECRET_FILE)}: the JWT secret must be at least 16 bytes`);
  return secret;
}

export async function loadIdTokenKeys(dataDir: string): Promise<IdTokenKeys> {
  const pem = await readOrCreate(join(dataDir, ID_TOKEN_KEY_FILE), async () => (await IdTokenKeys.generate('RS256')).toPem());
  return IdTokenKeys.fromPem(pem);
}

/** The token registry; the database file is created 0600 before SQLite opens it (its WAL files take the same mode). */
export function openTokenStore(dataDir: string): SqliteTokenStore {
  const file = join(dataDir, TOKEN_STORE_FILE);
  writeFileSync(file, '', { flag: 'a', mode: OWNER_ONLY });
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, OWNER_ONLY);
  return new SqliteTokenStore(file);
}
