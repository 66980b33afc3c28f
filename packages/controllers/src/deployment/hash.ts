/**
 * The pod-template-hash: kube's controller.ComputeHash — FNV-32a over the pod template, then the
 * collision count as 8 little-endian bytes when set, printed as a decimal number and encoded with
 * SafeEncodeString (digits mapped to consonants and digits that never spell words). ReplicaSet
 * names are `<deployment>-<hash>`.
 *
 * kube hashes a go-spew dump of its Go struct; Canopy hashes the template's canonical JSON (keys
 * sorted), so the same template gives the same hash on every Canopy server, though not the same
 * value kube-controller-manager would print. Nothing compares hashes across clusters: they only
 * name ReplicaSets and label their pods, and templates are matched by content, never by hash.
 */

const FNV_OFFSET_32 = 0x811c9dc5;
const FNV_PRIME_32 = 0x01000193;

export function fnv32a(data: Uint8Array, hash = FNV_OFFSET_32): number {
  let h = hash >>> 0;
  for (let i = 0; i < data.length; i++) {
    h ^= data[i];
    h = Math.imul(h, FNV_PRIME_32) >>> 0;
  }
  return h >>> 0;
}

/** k8s.io/apimachinery/pkg/util/rand's alphabet: no vowels, no 0, 1 or 3. */
const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: each character replaced by the alphabet entry at its code modulo 27. */
export function safeEncodeString(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) out += SAFE_ALPHANUMS[s.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

/** JSON with object keys sorted at every level, so equal templates serialize identically. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(',')}}`;
}

export function computeHash(template: unknown, collisionCount?: number): string {
  let hash = fnv32a(new TextEncoder().encode(canonicalJson(template)));
  if (collisionCount !== undefined && collisionCount !== null) {
    // kube writes an 8-byte buffer holding the count as a little-endian uint32.
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    hash = fnv32a(bytes, hash);
  }
  return safeEncodeString(String(hash));
}
