/**
 * Conversions between served representations that share storage. events.k8s.io/v1 Events are
 * stored as core/v1 Events, as kube-apiserver does, so `kubectl get events` and
 * `kubectl events` see the same objects whichever API wrote them.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { StorageBinding } from './types.js';

/** events.k8s.io/v1 field ↔ core/v1 field, for the fields whose names differ. */
const RENAMED: Array<[string, string]> = [
  ['regarding', 'involvedObject'],
  ['note', 'message'],
  ['reportingController', 'reportingComponent'],
  ['deprecatedSource', 'source'],
  ['deprecatedFirstTimestamp', 'firstTimestamp'],
  ['deprecatedLastTimestamp', 'lastTimestamp'],
  ['deprecatedCount', 'count'],
];

function rename(object: KubeObject, apiVersion: string, pairs: Array<[string, string]>): KubeObject {
  const out: KubeObject = { ...object, apiVersion, kind: 'Event' };
  for (const [from, to] of pairs) {
    delete out[from];
    if (object[from] !== undefined) out[to] = object[from];
  }
  return out;
}

export const eventsV1Storage: StorageBinding = {
  group: '',
  resource: 'events',
  toStorage: (object) => rename(object, 'v1', RENAMED),
  fromStorage: (object) => rename(object, 'events.k8s.io/v1', RENAMED.map(([a, b]) => [b, a])),
};
