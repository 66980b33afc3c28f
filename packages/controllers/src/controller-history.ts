/**
 * ControllerRevisions, as StatefulSets and DaemonSets record their pod templates
 * (k8s.io/kubernetes/pkg/controller/history): a revision's data is a strategic merge patch that
 * replaces `spec.template`; revisions are named `<parent>-<hash>` and numbered; an update back to
 * an earlier template re-numbers that revision instead of creating a new one (a rollback).
 * Also the template hash kube computes for `controller-revision-hash` / `pod-template-hash`.
 */
import type { KubeObject, OwnerReference } from '@canopy/apimachinery';
import { isAlreadyExists, types, type KubeClient } from '@canopy/client';

export const CONTROLLER_REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** The label pods (and a DaemonSet's revisions) carry with their revision: apps.ControllerRevisionHashLabelKey. */
export const POD_REVISION_LABEL = 'controller-revision-hash';

export interface ControllerRevision extends KubeObject {
  data?: unknown;
  revision: number;
}

/** JSON with object keys sorted, so equal values hash and compare equal whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnv32(bytes: Uint8Array, variantA: boolean, seed = FNV_OFFSET): number {
  let h = seed >>> 0;
  for (const b of bytes) {
    if (variantA) {
      h ^= b;
      h = Math.imul(h, FNV_PRIME) >>> 0;
    } else {
      h = Math.imul(h, FNV_PRIME) >>> 0;
      h ^= b;
    }
  }
  return h >>> 0;
}

const SAFE_ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';

/** rand.SafeEncodeString: maps each character to one without vowels or look-alikes, so hashes never spell words. */
export function safeEncode(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) out += SAFE_ALPHANUMS[text.charCodeAt(i) % SAFE_ALPHANUMS.length];
  return out;
}

const encoder = new TextEncoder();

/**
 * controller.ComputeHash: FNV-32a of the pod template (canonical JSON standing in for Go's
 * deep-hash printer) and, when set, the collision count as 8 little-endian bytes.
 */
export function computeTemplateHash(template: unknown, collisionCount?: number | null): string {
  let h = fnv32(encoder.encode(canonicalJson(template ?? {})), true);
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv32(bytes, true, h);
  }
  return safeEncode(String(h));
}

/** history.HashControllerRevision: FNV-32 of the data and the collision count's decimal text. */
export function hashControllerRevision(data: unknown, collisionCount?: number | null): string {
  let h = fnv32(encoder.encode(canonicalJson(data ?? null)), false);
  if (collisionCount !== undefined && collisionCount !== null) h = fnv32(encoder.encode(String(collisionCount)), false, h);
  return safeEncode(String(h));
}

/** history.ControllerRevisionName: `<prefix>-<hash>`, the prefix cut so the name stays a valid object name. */
export function controllerRevisionName(prefix: string, hash: string): string {
  return `${prefix.length > 223 ? prefix.slice(0, 223) : prefix}-${hash}`;
}

/** The revision data both StatefulSets and DaemonSets record: a patch replacing `spec.template`. */
export function templatePatch(parent: KubeObject): { spec: { template: Record<string, unknown> } } {
  const template = structuredClone(((parent.spec as Record<string, unknown> | undefined)?.template ?? {}) as Record<string, unknown>);
  return { spec: { template: { ...template, $patch: 'replace' } } };
}

/** ApplyRevision for template-replacing revisions: the parent with the revision's template. */
export function applyTemplateRevision<T extends KubeObject>(parent: T, revision: ControllerRevision): T {
  const clone = structuredClone(parent);
  const template = (revision.data as { spec?: { template?: Record<string, unknown> } } | undefined)?.spec?.template;
  if (template) {
    const { $patch: _patch, ...rest } = template;
    (clone.spec as Record<string, unknown>).template = structuredClone(rest);
  }
  return clone;
}

export function equalRevisionData(a: ControllerRevision | undefined, b: ControllerRevision | undefined): boolean {
  if (!a || !b) return a === b;
  return canonicalJson(a.data ?? null) === canonicalJson(b.data ?? null);
}

/** history.SortControllerRevisions: by revision number, then creation time, then name. */
export function sortControllerRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions.sort(
    (a, b) =>
      (a.revision ?? 0) - (b.revision ?? 0) ||
      (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') ||
      (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''),
  );
}

export function nextRevisionNumber(sorted: ControllerRevision[]): number {
  return sorted.length ? (sorted[sorted.length - 1].revision ?? 0) + 1 : 1;
}

/** history.NewControllerRevision: named after the parent and the data's hash, labelled with the template's labels. */
export function newControllerRevision(
  parent: KubeObject,
  ownerRef: OwnerReference,
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount: number,
): ControllerRevision {
  const hash = hashControllerRevision(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata.name ?? '', hash),
      namespace: parent.metadata.namespace,
      labels: { ...(templateLabels ?? {}), [CONTROLLER_REVISION_HASH_LABEL]: hash },
      ownerReferences: [ownerRef],
    },
    data,
    revision,
  };
}

/**
 * history.CreateControllerRevision: creates the revision, re-hashing with a bumped collision count
 * while the name is taken by a revision with different data. Returns the stored revision and the
 * collision count used (the caller records it in the parent's status).
 */
export async function createControllerRevision(
  client: KubeClient,
  parent: KubeObject,
  revision: ControllerRevision,
  collisionCount: number,
): Promise<{ revision: ControllerRevision; collisionCount: number }> {
  let count = collisionCount;
  for (let attempt = 0; attempt < 100; attempt++) {
    const clone = structuredClone(revision);
    clone.metadata.name = controllerRevisionName(parent.metadata.name ?? '', hashControllerRevision(revision.data, count));
    try {
      const created = await client.create<ControllerRevision>(types.controllerRevisions, clone, { namespace: parent.metadata.namespace });
      return { revision: created, collisionCount: count };
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await client.get<ControllerRevision>(types.controllerRevisions, clone.metadata.name!, parent.metadata.namespace);
      if (equalRevisionData(existing, clone)) return { revision: existing, collisionCount: count };
      count++;
    }
  }
  throw new Error(`could not find a free ControllerRevision name for ${parent.metadata.name}`);
}

/** history.UpdateControllerRevision: gives an existing revision a new number (rollback to it). */
export async function renumberControllerRevision(client: KubeClient, revision: ControllerRevision, number: number): Promise<ControllerRevision> {
  if (revision.revision === number) return revision;
  return client.patch<ControllerRevision>(types.controllerRevisions, revision.metadata.name!, { revision: number }, 'merge', {
    namespace: revision.metadata.namespace,
  });
}
