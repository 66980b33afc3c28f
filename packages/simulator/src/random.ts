/**
 * Deterministic randomness. Everything the simulator invents (usage noise, log lines, container
 * IDs, pull times) is a pure function of the simulator's seed and stable names (pod uid,
 * container name, instance number, time slot), so two runs with the same seed and the same clock
 * produce the same cluster, and a value can be recomputed instead of stored.
 */
import { createHash } from 'node:crypto';

/** 32-bit FNV-1a over the parts joined by a separator. */
export function hash32(...parts: Array<string | number>): number {
  let h = 0x811c9dc5;
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // A final avalanche (murmur3 fmix32): FNV alone leaves nearby inputs correlated.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A number in [0, 1) determined by the parts. */
export function unit(...parts: Array<string | number>): number {
  return hash32(...parts) / 0x1_0000_0000;
}

/** A number in [min, max) determined by the parts. */
export function between(min: number, max: number, ...parts: Array<string | number>): number {
  return min + (max - min) * unit(...parts);
}

/** An integer in [min, max] determined by the parts. */
export function intBetween(min: number, max: number, ...parts: Array<string | number>): number {
  return min + Math.floor((max - min + 1) * unit(...parts));
}

/** Picks one element determined by the parts. */
export function pick<T>(items: readonly T[], ...parts: Array<string | number>): T {
  return items[Math.floor(items.length * unit(...parts))];
}

/** Hex digest (sha256) of the parts: IDs that look like the runtime's (container IDs, image digests). */
export function hexId(length: number, ...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, length);
}

/** A UUID-shaped identifier (machine IDs, boot IDs) determined by the parts. */
export function uuidFrom(...parts: Array<string | number>): string {
  const h = hexId(32, ...parts);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${'89ab'[parseInt(h[16], 16) & 3]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** A small seeded generator for sequences (mulberry32). */
export class SeededRandom {
  private state: number;

  constructor(...seed: Array<string | number>) {
    this.state = hash32(...seed) || 1;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  }

  int(min: number, max: number): number {
    return min + Math.floor((max - min + 1) * this.next());
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(items.length * this.next())];
  }
}
