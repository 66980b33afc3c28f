/**
 * The scale subresource of custom resources (apiextensions-apiserver's scaleFromCustomResource
 * and its update path): an autoscaling/v1 Scale read from, and written to, the JSON paths the
 * CRD's `subresources.scale` names, rather than the `.spec.replicas` of built-in kinds.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { CustomResourceSubresourceScale } from './definitions.js';

function segmentsOf(path: string): string[] {
  return path.replace(/^\./, '').split('.').filter(Boolean);
}

function readPath(object: unknown, path: string): unknown {
  let current: unknown = object;
  for (const segment of segmentsOf(path)) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** An integer at `path`, or 0 when absent (as unstructured.NestedInt64 is read by kube). */
function replicasAt(object: KubeObject, path: string): number {
  const value = path ? readPath(object, path) : undefined;
  return typeof value === 'number' && Number.isInteger(value) ? value : 0;
}

/** The Scale of a custom resource. */
export function customResourceScale(scale: CustomResourceSubresourceScale, object: KubeObject): Record<string, unknown> {
  const selector = scale.labelSelectorPath ? readPath(object, scale.labelSelectorPath) : undefined;
  const m = object.metadata;
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      uid: m.uid,
      resourceVersion: m.resourceVersion,
      creationTimestamp: m.creationTimestamp,
    },
    spec: { replicas: replicasAt(object, scale.specReplicasPath) },
    status: {
      replicas: replicasAt(object, scale.statusReplicasPath),
      ...(typeof selector === 'string' && selector ? { selector } : {}),
    },
  };
}

/**
 * A copy of `object` with `replicas` at the spec replicas path; missing parents are created
 * (unstructured.SetNestedField). Only the path's own objects are copied.
 */
export function withCustomResourceReplicas(
  scale: CustomResourceSubresourceScale,
  object: KubeObject,
  replicas: number,
): KubeObject {
  const segments = segmentsOf(scale.specReplicasPath);
  const out: KubeObject = { ...object, metadata: { ...object.metadata } };
  let target = out as Record<string, unknown>;
  segments.forEach((segment, i) => {
    if (i === segments.length - 1) {
      target[segment] = replicas;
      return;
    }
    const next = target[segment];
    const copy =
      typeof next === 'object' && next !== null && !Array.isArray(next) ? { ...(next as Record<string, unknown>) } : {};
    target[segment] = copy;
    target = copy;
  });
  return out;
}
