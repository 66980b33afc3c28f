/** The built-in admission plug-ins of the embedded API server. */
import { errors } from '@canopy/apimachinery';
import { objectKey } from '../storage/keys.js';
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
