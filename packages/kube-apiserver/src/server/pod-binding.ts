/**
 * `POST pods/NAME/binding`: how a scheduler assigns a pod to a node (kube's BindingREST). The
 * write bypasses the pod update strategy on purpose — `spec.nodeName` is immutable to ordinary
 * updates — and goes straight to storage as kube's GuaranteedUpdate does: it sets the node name,
 * merges the binding's annotations and marks the pod `PodScheduled=True`.
 */
import { errors, fieldErrors, isPlainObject, type KubeObject } from '@canopy/apimachinery';
import { StorageError, type RevisionStore } from '../storage/types.js';
import type { ObjectService } from './objects.js';
import { clone, rfc3339 } from './object-utils.js';
import type { ActionHandler } from './rest.js';

const BINDING_REF = { group: '', resource: 'pods/binding', kind: 'Binding' };
const PODS_REF = { group: '', resource: 'pods', kind: 'Pod' };

export function podBindingAction(store: RevisionStore, objects: ObjectService): ActionHandler {
  return {
    verbs: ['create'],
    handle({ info, def, body, writeOptions, respond }) {
      if (!isPlainObject(body)) throw errors.badRequest('the body of the request must be a JSON object');
      if (body.kind !== undefined && body.kind !== 'Binding') {
        throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Binding)`);
      }
      const metadata = isPlainObject(body.metadata) ? body.metadata : {};
      if (metadata.name !== info.name) throw errors.badRequest('name in URL does not match name in Binding object');
      if (metadata.namespace !== undefined && metadata.namespace !== '' && metadata.namespace !== info.namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const target = isPlainObject(body.target) ? body.target : {};
      // ValidatePodBinding (kube answers its aggregate as a 500; a 422 names the field instead).
      const causes = [];
      if (target.kind !== undefined && target.kind !== '' && target.kind !== 'Node') {
        causes.push(fieldErrors.notSupported('target.kind', target.kind, ['Node', '<empty>']));
      }
      if (typeof target.name !== 'string' || !target.name) causes.push(fieldErrors.required('target.name'));
      if (causes.length) throw errors.invalid(BINDING_REF, info.name, causes);
      const annotations = isPlainObject(metadata.annotations) ? metadata.annotations : {};

      const key = objects.key(def, info.namespace, info.name);
      const stored = store.get(key);
      if (!stored) throw errors.notFound(PODS_REF, info.name);
      const current = stored.object;
      const uid = typeof metadata.uid === 'string' ? metadata.uid : '';
      if (uid && uid !== current.metadata.uid) {
        throw errors.conflict(PODS_REF, info.name, `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
      }
      const resourceVersion = typeof metadata.resourceVersion === 'string' ? metadata.resourceVersion : '';
      if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
        throw errors.conflict(
          PODS_REF,
          info.name,
          `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`,
        );
      }
      const spec = (isPlainObject(current.spec) ? current.spec : {}) as Record<string, unknown>;
      if (current.metadata.deletionTimestamp) {
        throw errors.conflict(BINDING_REF, info.name, `pod ${info.name} is being deleted, cannot be assigned to a host`);
      }
      if (typeof spec.nodeName === 'string' && spec.nodeName) {
        throw errors.conflict(BINDING_REF, info.name, `pod ${info.name} is already assigned to node "${spec.nodeName}"`);
      }
      if (Array.isArray(spec.schedulingGates) && spec.schedulingGates.length) {
        throw errors.conflict(BINDING_REF, info.name, `pod ${info.name} has non-empty .spec.schedulingGates`);
      }
      const next: KubeObject = clone(current);
      (next.spec as Record<string, unknown>).nodeName = target.name;
      if (Object.keys(annotations).length) {
        next.metadata.annotations = { ...(next.metadata.annotations ?? {}) };
        for (const [k, v] of Object.entries(annotations)) next.metadata.annotations[k] = String(v);
      }
      setScheduledCondition(next);
      delete next.metadata.resourceVersion;
      if (!writeOptions().dryRun) {
        try {
          store.update(key, next, stored.modRevision);
        } catch (err) {
          if (err instanceof StorageError) throw objects.storageError(err, def, info.name);
          throw err;
        }
      }
      return respond(201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    },
  };
}

/** podutil.UpdatePodCondition with {PodScheduled, True}: the transition time moves only when the status changes. */
function setScheduledCondition(pod: KubeObject): void {
  const status = (isPlainObject(pod.status) ? pod.status : (pod.status = {})) as Record<string, unknown>;
  const conditions = Array.isArray(status.conditions) ? (status.conditions as Array<Record<string, unknown>>) : [];
  const index = conditions.findIndex((c) => c?.type === 'PodScheduled');
  const previous = index >= 0 ? conditions[index] : undefined;
  const condition: Record<string, unknown> = {
    type: 'PodScheduled',
    status: 'True',
    lastTransitionTime: previous?.status === 'True' && previous.lastTransitionTime ? previous.lastTransitionTime : rfc3339(),
  };
  if (index >= 0) conditions[index] = condition;
  else conditions.push(condition);
  status.conditions = conditions;
}
