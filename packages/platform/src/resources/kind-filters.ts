/** The per-kind filters of ks-apiserver's resources API (models/resources/v1alpha3/<kind>). */
import type { KubeObject } from '@canopy/apimachinery';
import { matchesLabels, parseLabelSelector } from '@canopy/apimachinery';
import type { KindFilter } from './query.js';

type Any = any;

/** Workload status as the console's filter tabs name it: stopped, running, updating. */
function workloadStatus(ready: number, desired: number): string {
  if (ready === 0 && desired === 0) return 'stopped';
  return ready === desired ? 'running' : 'updating';
}

function nodeStatus(node: Any): string {
  if (node.spec?.unschedulable) return 'unschedulable';
  for (const c of node.status?.conditions ?? []) {
    if (c.type === 'Ready' ? c.status !== 'True' : c.status === 'True') return 'warning';
  }
  return 'running';
}

export interface KindFilterContext {
  /** Services of a namespace (for the pods `serviceName` filter). */
  service(namespace: string, name: string): KubeObject | undefined;
}

export function kindFilterFor(kind: string, context: KindFilterContext): KindFilter | undefined {
  switch (kind) {
    case 'Pod':
      return (o: Any, key, value) => {
        switch (key) {
          case 'nodeName':
            return o.spec?.nodeName === value;
          case 'pvcName':
            return (o.spec?.volumes ?? []).some((v: Any) => v.persistentVolumeClaim?.claimName === value);
          case 'phase':
            return (o.status?.phase ?? '').toLowerCase() === value.toLowerCase();
          case 'podIP':
            return o.status?.podIP === value || (o.status?.podIPs ?? []).some((p: Any) => p.ip === value);
          case 'serviceName': {
            const svc: Any = context.service(o.metadata.namespace, value);
            const selector = svc?.spec?.selector;
            if (!selector || !Object.keys(selector).length) return false;
            return Object.entries(selector).every(([k, v]) => o.metadata.labels?.[k] === v);
          }
          default:
            return undefined;
        }
      };
    case 'Deployment':
    case 'StatefulSet':
      return (o: Any, key, value) => (key === 'status' ? workloadStatus(o.status?.readyReplicas ?? 0, o.spec?.replicas ?? o.status?.replicas ?? 0) === value : undefined);
    case 'DaemonSet':
      return (o: Any, key, value) => (key === 'status' ? workloadStatus(o.status?.numberReady ?? 0, o.status?.desiredNumberScheduled ?? 0) === value : undefined);
    case 'Node':
      return (o: Any, key, value) => (key === 'status' ? nodeStatus(o) === value : undefined);
    case 'Namespace':
      return (o: Any, key, value) => (key === 'status' ? (o.status?.phase ?? '').toLowerCase() === value.toLowerCase() : undefined);
    case 'PersistentVolumeClaim':
      return (o: Any, key, value) => {
        if (key === 'status') return (o.metadata.deletionTimestamp ? 'terminating' : (o.status?.phase ?? '').toLowerCase()) === value.toLowerCase();
        if (key === 'storageClassName') return o.spec?.storageClassName === value;
        return undefined;
      };
    case 'Job':
      return (o: Any, key, value) => {
        if (key !== 'status') return undefined;
        const conditions: Any[] = o.status?.conditions ?? [];
        const state = conditions.some((c) => c.type === 'Complete' && c.status === 'True') ? 'completed' : conditions.some((c) => c.type === 'Failed' && c.status === 'True') ? 'failed' : 'running';
        return state === value;
      };
    case 'User':
      return (o: Any, key, value) => {
        switch (key) {
          case 'email':
            return o.spec?.email === value;
          case 'ingroup':
            return (o.spec?.groups ?? []).includes(value);
          case 'notingroup':
            return !(o.spec?.groups ?? []).includes(value);
          case 'status':
            return (o.status?.state ?? 'Active') === value;
          default:
            return undefined;
        }
      };
    case 'Service':
      return (o: Any, key, value) => {
        if (key !== 'selector') return undefined;
        try {
          return matchesLabels(parseLabelSelector(value), o.spec?.selector);
        } catch {
          return false;
        }
      };
    default:
      return undefined;
  }
}
