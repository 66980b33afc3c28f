/**
 * Container images as a container runtime reports them: references normalised the way
 * containerd shows them in container statuses (`docker.io/library/nginx:latest`), digests and
 * sizes made up deterministically from the name (the same on every node), and the family of
 * software an image holds, which picks its log style, its shells and its HTTP server banner.
 */
import { hexId, intBetween } from './random.js';

/** `nginx` → `docker.io/library/nginx:latest`; registries, tags and digests are kept. */
export function normalizeImage(reference: string): string {
  let ref = reference.trim();
  const firstSlash = ref.indexOf('/');
  const first = firstSlash < 0 ? '' : ref.slice(0, firstSlash);
  const hasRegistry = first !== '' && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (!hasRegistry) ref = `docker.io/${firstSlash < 0 ? `library/${ref}` : ref}`;
  const lastSlash = ref.lastIndexOf('/');
  const name = ref.slice(lastSlash + 1);
  if (!name.includes(':') && !name.includes('@')) ref += ':latest';
  return ref;
}

/** The repository part of a normalised reference (without tag or digest). */
function repository(normalized: string): string {
  const at = normalized.indexOf('@');
  if (at >= 0) return normalized.slice(0, at);
  const lastSlash = normalized.lastIndexOf('/');
  const colon = normalized.indexOf(':', lastSlash + 1);
  return colon >= 0 ? normalized.slice(0, colon) : normalized;
}

/** `imageID` of a container status: the repository with the (made-up) content digest. */
export function imageId(reference: string): string {
  const normalized = normalizeImage(reference);
  const at = normalized.indexOf('@');
  if (at >= 0) return normalized;
  return `${repository(normalized)}@sha256:${hexId(64, 'image', normalized)}`;
}

/** Compressed size in bytes, plausible for the family (alpine ~3 MB, JVM images ~200 MB). */
export function imageSize(reference: string): number {
  const family = imageFamily(reference);
  const [min, max] = SIZE_RANGES[family];
  return intBetween(min, max, 'size', normalizeImage(reference));
}

const SIZE_RANGES: Record<ImageFamily, [number, number]> = {
  nginx: [40_000_000, 75_000_000],
  httpd: [50_000_000, 60_000_000],
  redis: [40_000_000, 50_000_000],
  postgres: [150_000_000, 160_000_000],
  mysql: [160_000_000, 180_000_000],
  busybox: [2_000_000, 2_300_000],
  alpine: [3_000_000, 3_800_000],
  pause: [300_000, 330_000],
  generic: [20_000_000, 250_000_000],
};

export type ImageFamily = 'nginx' | 'httpd' | 'redis' | 'postgres' | 'mysql' | 'busybox' | 'alpine' | 'pause' | 'generic';

export function imageFamily(reference: string): ImageFamily {
  const normalized = normalizeImage(reference);
  const name = repository(normalized).split('/').pop() ?? '';
  for (const family of ['nginx', 'httpd', 'redis', 'postgres', 'mysql', 'busybox', 'alpine', 'pause'] as const) {
    if (name === family || name.startsWith(`${family}-`) || (family === 'nginx' && name.includes('nginx'))) return family;
  }
  if (name === 'apache' || name === 'apache2') return 'httpd';
  if (name === 'mariadb') return 'mysql';
  return 'generic';
}

/** Shells an image has: busybox and alpine ship `sh` (ash) only; most others also ship bash. */
export function imageShells(reference: string): string[] {
  const family = imageFamily(reference);
  if (family === 'busybox' || family === 'alpine') return ['sh', 'ash'];
  if (family === 'pause') return [];
  return ['sh', 'bash', 'dash'];
}

/** The image's tag (or `latest`), used in version banners. */
export function imageTag(reference: string): string {
  const normalized = normalizeImage(reference);
  const at = normalized.indexOf('@');
  const withoutDigest = at >= 0 ? normalized.slice(0, at) : normalized;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon >= 0 ? withoutDigest.slice(colon + 1) : 'latest';
}

/** A version number for banners: the tag when it looks like one, else a plausible current release. */
export function imageVersion(reference: string, fallback: string): string {
  const tag = imageTag(reference);
  const match = /^v?(\d+(?:\.\d+){0,2})/.exec(tag);
  return match ? match[1] : fallback;
}
