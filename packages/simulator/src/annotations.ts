/**
 * Per-pod behaviour chosen by annotations (documented in docs/simulator.md). Every annotation
 * takes either one value for every regular container (`30s`) or values per container by name
 * (`app=30s,sidecar=2m`, which may also name init containers). Malformed values are ignored, as
 * a kubelet ignores annotations it does not understand; the pod then behaves by default.
 */
import { parseQuantity, type KubeObject } from '@canopy/apimachinery';

export const ANNOTATION_PREFIX = 'simulator.canopy.io/';

export const Annotations = {
  /** The main process exits with `exit-code` (default 1, reason Error) this long after each start. */
  crashAfter: `${ANNOTATION_PREFIX}crash-after`,
  /** Only the first N runs crash; later runs keep running (a crash loop that recovers). */
  crashCount: `${ANNOTATION_PREFIX}crash-count`,
  /** The main process exits 0 (reason Completed) this long after starting. */
  completeAfter: `${ANNOTATION_PREFIX}complete-after`,
  /** Exit code of `crash-after` (1–255). */
  exitCode: `${ANNOTATION_PREFIX}exit-code`,
  /** Time from start to Ready (overrides readinessProbe.initialDelaySeconds). */
  readyAfter: `${ANNOTATION_PREFIX}ready-after`,
  /** Once ready, readiness toggles with this period (Unhealthy events when it fails). */
  readinessFlap: `${ANNOTATION_PREFIX}readiness-flap`,
  /** How long creating and starting a container takes (after any image pull). */
  startupDelay: `${ANNOTATION_PREFIX}startup-delay`,
  /** How long each init container runs before completing. */
  initDuration: `${ANNOTATION_PREFIX}init-duration`,
  /** Image pulls fail: ErrImagePull, then ImagePullBackOff (value `true`). */
  imagePullError: `${ANNOTATION_PREFIX}image-pull-error`,
  /** Working set the container settles at (a quantity); above the memory limit it is OOMKilled. */
  memoryUsage: `${ANNOTATION_PREFIX}memory-usage`,
  /** Mean CPU usage (a quantity, e.g. `250m`); throttled at the CPU limit. */
  cpuUsage: `${ANNOTATION_PREFIX}cpu-usage`,
  /** How long containers take to stop after SIGTERM (bounded by the grace period). */
  terminationDelay: `${ANNOTATION_PREFIX}termination-delay`,
} as const;

/** Go's time.ParseDuration subset (`1h2m3.5s`, `500ms`), or a bare number of seconds. Milliseconds. */
export function parseDuration(text: string): number | undefined {
  const value = text.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  if (!/^(\d+(\.\d+)?(h|m|s|ms|us|µs|ns))+$/.test(value)) return undefined;
  const units: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  let total = 0;
  for (const match of value.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) total += Number(match[1]) * units[match[2]];
  return Math.round(total);
}

function splitValues(raw: string): { all?: string; named: Map<string, string> } {
  const named = new Map<string, string>();
  let all: string | undefined;
  for (const part of raw.split(',')) {
    const piece = part.trim();
    if (!piece) continue;
    const eq = piece.indexOf('=');
    if (eq > 0) named.set(piece.slice(0, eq).trim(), piece.slice(eq + 1).trim());
    else all = piece;
  }
  return { all, named };
}

/**
 * The annotation's value for one container: its own entry, or the unnamed value when the
 * container is a regular one (init containers must be named).
 */
export function containerValue(pod: KubeObject, annotation: string, container: string, init: boolean): string | undefined {
  const raw = pod.metadata.annotations?.[annotation];
  if (raw === undefined) return undefined;
  const { all, named } = splitValues(raw);
  if (named.has(container)) return named.get(container);
  return init ? undefined : all;
}

export function containerDuration(pod: KubeObject, annotation: string, container: string, init: boolean): number | undefined {
  const raw = containerValue(pod, annotation, container, init);
  return raw === undefined ? undefined : parseDuration(raw);
}

export function containerInteger(pod: KubeObject, annotation: string, container: string, init: boolean): number | undefined {
  const raw = containerValue(pod, annotation, container, init);
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  return Number(raw);
}

/** A quantity annotation as a number (cores for CPU, bytes for memory). */
export function containerQuantity(pod: KubeObject, annotation: string, container: string, init: boolean): number | undefined {
  const raw = containerValue(pod, annotation, container, init);
  if (raw === undefined) return undefined;
  try {
    return parseQuantity(raw).asApproximateNumber();
  } catch {
    return undefined;
  }
}

export function containerFlag(pod: KubeObject, annotation: string, container: string, init: boolean): boolean {
  const raw = containerValue(pod, annotation, container, init);
  return raw !== undefined && /^(true|yes|1)$/i.test(raw);
}
