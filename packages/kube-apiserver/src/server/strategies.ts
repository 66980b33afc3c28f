/**
 * Per-kind behaviour of the generic pipeline, looked up by `group/Kind`: defaults and validation
 * from the semantics tables, plus the few stateful strategies kube-apiserver has (Service IP and
 * NodePort allocation, namespace termination, graceful pod deletion). Kinds without an entry
 * (CRDs) get the generic behaviour.
 */
import { validateObjectMeta, validateObjectMetaUpdate, type KubeObject, type StatusCause } from '@canopy/apimachinery';
import { apiextensionsSemantics, CRD_KIND_KEY } from '../crd/semantics.js';
import { prepareCustomResourceDefinitionForUpdate } from '../crd/definitions.js';
import { builtinSemantics, prepareForCreate as prepareBuiltinForCreate } from '../registry/semantics.js';
import type { ResourceDefinition } from '../registry/types.js';
import { resourcePrefix } from '../storage/keys.js';
import type { RevisionStore } from '../storage/types.js';
import { asRecord } from './object-utils.js';
import { ServiceAllocator } from './service-allocator.js';

/** What kube's CRD storage adds on the first delete: custom objects go before the CRD does. */
export const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export function kindKey(def: { group: string; kind: string }): string {
  return `${def.group}/${def.kind}`;
}

export class KindStrategies {
  private readonly services: ServiceAllocator;

  constructor(store: RevisionStore) {
    this.services = new ServiceAllocator(() => store.list(resourcePrefix('', 'services')).items.map((s) => s.object));
  }

  private semantics(def: ResourceDefinition) {
    if (!def.schemaName) return undefined;
    // A version whose fields differ from the kind's other versions has its own (autoscaling/v1).
    return builtinSemantics[`${def.group}/${def.version}/${def.kind}`] ?? builtinSemantics[kindKey(def)] ?? apiextensionsSemantics[kindKey(def)];
  }

  defaults(def: ResourceDefinition, object: KubeObject): void {
    this.semantics(def)?.defaults?.(object);
    // A definition's own defaults (custom resources: their schema's `default:` values).
    def.defaults?.(object);
  }

  /** Create-time state the server owns (status phase, generated selectors). */
  prepareForCreate(def: ResourceDefinition, object: KubeObject): void {
    if (isCrd(def)) apiextensionsSemantics[CRD_KIND_KEY].prepareForCreate?.(object);
    else if (def.schemaName) prepareBuiltinForCreate(kindKey(def), object);
  }

  /** Allocations that must not happen for a dry run's sake only once validation passed. */
  beforeCreate(def: ResourceDefinition, object: KubeObject, dryRun: boolean): void {
    if (kindKey(def) === '/Service') this.services.allocate(object, dryRun);
  }

  prepareForUpdate(def: ResourceDefinition, object: KubeObject, old: KubeObject): void {
    // kube keeps allocated values a client omitted (a PUT of a manifest without clusterIP).
    if (kindKey(def) === '/Service') this.services.carryOver(object, old);
    else if (isCrd(def)) prepareCustomResourceDefinitionForUpdate(object, old);
  }

  validate(def: ResourceDefinition, object: KubeObject, old: KubeObject | undefined, subresource?: 'status'): StatusCause[] {
    const semantics = this.semantics(def);
    const causes: StatusCause[] = [];
    if (!subresource) {
      // On update kube runs only the update check, which re-validates labels and annotations itself.
      if (old) causes.push(...validateObjectMetaUpdate(object.metadata, old.metadata, 'metadata'));
      else {
        causes.push(
          ...validateObjectMeta(object.metadata, {
            namespaced: def.namespaced,
            nameValidator: semantics?.nameValidation ?? (def.kind === 'Namespace' ? 'label' : 'subdomain'),
            path: 'metadata',
          }),
        );
      }
    }
    const context = old ? { old, ...(subresource ? { subresource } : {}) } : {};
    if (semantics?.validate) causes.push(...semantics.validate(object, context));
    if (def.validate) causes.push(...def.validate(object, context));
    // Kinds whose validation covers ObjectMeta itself (CRDs, as kube's) report each problem once.
    return uniqueCauses(causes);
  }

  /** Finalizers that keep a deleted object in storage (namespaces also wait on spec.finalizers). */
  pendingFinalizers(def: ResourceDefinition, object: KubeObject): string[] {
    const pending = [...(object.metadata.finalizers ?? [])];
    if (kindKey(def) === '/Namespace') {
      const spec = asRecord(object.spec);
      if (Array.isArray(spec?.finalizers)) pending.push(...(spec.finalizers as string[]));
    }
    if (isCrd(def) && !object.metadata.deletionTimestamp && !pending.includes(CRD_CLEANUP_FINALIZER))
      pending.push(CRD_CLEANUP_FINALIZER);
    return pending;
  }

  /** Seconds a deletion waits before the object may be removed (kube's CheckGracefulDelete). */
  gracePeriod(def: ResourceDefinition, object: KubeObject, requested: number | undefined): number {
    if (kindKey(def) !== '/Pod') return 0;
    const spec = asRecord(object.spec);
    const status = asRecord(object.status);
    // Nothing runs an unscheduled or finished pod, so nobody would confirm its termination.
    if (!spec?.nodeName || status?.phase === 'Succeeded' || status?.phase === 'Failed') return 0;
    if (requested !== undefined) return Math.max(0, requested);
    const fromSpec = spec.terminationGracePeriodSeconds;
    return typeof fromSpec === 'number' && fromSpec >= 0 ? fromSpec : 30;
  }

  onDeletionMarked(def: ResourceDefinition, object: KubeObject): void {
    if (kindKey(def) === '/Namespace') {
      object.status = { ...(asRecord(object.status) ?? {}), phase: 'Terminating' };
    }
    if (isCrd(def) && !(object.metadata.finalizers ?? []).includes(CRD_CLEANUP_FINALIZER)) {
      object.metadata.finalizers = [...(object.metadata.finalizers ?? []), CRD_CLEANUP_FINALIZER];
    }
  }
}

function isCrd(def: ResourceDefinition): boolean {
  return !!def.schemaName && kindKey(def) === CRD_KIND_KEY;
}

function uniqueCauses(causes: StatusCause[]): StatusCause[] {
  if (causes.length < 2) return causes;
  const seen = new Set<string>();
  return causes.filter((c) => {
    const id = `${c.reason ?? ''}\u0000${c.field ?? ''}\u0000${c.message ?? ''}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
