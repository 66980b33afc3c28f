/** The built-in admission plug-ins of the embedded API server. */
import { errors } from '@canopy/apimachinery';
import { listPrefix, objectKey } from '../storage/keys.js';
import type { RevisionStore } from '../storage/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';

/**
 * NamespaceLifecycle: namespaced objects are created only in namespaces that exist and are not
 * terminating. Runs in the mutating phase, as kube's does, so a missing namespace is reported
 * before any validation error.
 */
export function namespaceLifecycle(store: RevisionStore): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    admit(a: AdmissionAttributes) {
      if (a.operation !== 'CREATE' || !a.def.namespaced) return;
      if (!a.namespace) throw errors.badRequest('the server could not find the requested resource: namespace is required');
      const ns = store.get(objectKey('', 'namespaces', '', a.namespace));
      if (!ns) throw errors.notFound({ group: '', resource: 'namespaces' }, a.namespace);
      if (ns.object.metadata.deletionTimestamp) {
        const err = errors.forbidden(
          { group: a.def.group, resource: a.def.resource },
          a.name,
          `unable to create new content in namespace ${a.namespace} because it is being terminated`,
        );
        err.status.details = {
          ...err.status.details,
          causes: [{ reason: 'NamespaceTerminating', message: `namespace ${a.namespace} is being terminated`, field: 'metadata.namespace' }],
        };
        throw err;
      }
    },
  };
}

const DEFAULT_CLASS_ANNOTATIONS = ['storageclass.kubernetes.io/is-default-class', 'storageclass.beta.kubernetes.io/is-default-class'];

/**
 * DefaultStorageClass: a claim created without `spec.storageClassName` (unset, not "") and
 * without the legacy class annotation gets the default StorageClass; of several defaults, the
 * newest, as kube chooses since 1.26.
 */
export function defaultStorageClass(store: RevisionStore): AdmissionPlugin {
  return {
    name: 'DefaultStorageClass',
    admit(a: AdmissionAttributes) {
      if (a.operation !== 'CREATE' || a.subresource || a.def.group !== '' || a.def.resource !== 'persistentvolumeclaims' || !a.object) return;
      const spec = (a.object.spec ?? (a.object.spec = {})) as Record<string, unknown>;
      if (spec.storageClassName !== undefined && spec.storageClassName !== null) return;
      if (a.object.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'] !== undefined) return;
      let chosen: { name: string; created: string } | undefined;
      for (const { object } of store.list(listPrefix('storage.k8s.io', 'storageclasses', '')).items) {
        const annotations = object.metadata.annotations ?? {};
        if (!DEFAULT_CLASS_ANNOTATIONS.some((k) => annotations[k] === 'true')) continue;
        const created = object.metadata.creationTimestamp ?? '';
        const name = object.metadata.name ?? '';
        if (!chosen || created > chosen.created || (created === chosen.created && name < chosen.name)) chosen = { name, created };
      }
      if (chosen) spec.storageClassName = chosen.name;
    },
  };
}

/** kube's defaultNotReadyTolerationSeconds and defaultUnreachableTolerationSeconds. */
const DEFAULT_TOLERATION_SECONDS = 300;

/**
 * DefaultTolerationSeconds: a pod that does not tolerate the `node.kubernetes.io/not-ready` and
 * `node.kubernetes.io/unreachable` NoExecute taints gets tolerations for them of 300 seconds, so
 * it is evicted five minutes after its node is lost rather than at once.
 */
export function defaultTolerationSeconds(): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    admit(a: AdmissionAttributes) {
      if (a.operation !== 'CREATE' || a.subresource || a.def.group !== '' || a.def.resource !== 'pods' || !a.object) return;
      const spec = (a.object.spec ?? (a.object.spec = {})) as Record<string, unknown>;
      const tolerations = Array.isArray(spec.tolerations) ? (spec.tolerations as Array<Record<string, unknown>>) : [];
      const tolerates = (key: string) =>
        tolerations.some((t) => (t?.key === key || !t?.key) && (t?.effect === 'NoExecute' || !t?.effect));
      const added = ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']
        .filter((key) => !tolerates(key))
        .map((key) => ({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: DEFAULT_TOLERATION_SECONDS }));
      if (added.length) spec.tolerations = [...tolerations, ...added];
    },
  };
}
