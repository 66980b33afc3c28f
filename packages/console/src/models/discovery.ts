/**
 * Models for kinds the registry does not know: resolved from the cluster's discovery documents
 * (`/api/v1`, `/apis`, `/apis/<group>/<version>`) by a URL key `plural` or `plural.group`, with the
 * columns of a CRD's additionalPrinterColumns when the user may read the CRD. This is what gives
 * any CRD list, detail and YAML pages with no code of its own.
 */
import { api } from '../api/http';
import { printable } from './jsonpath';
import { clusterPrefix, registeredModel } from './registry';
import type { Column, K8sObject, ResourceModel } from './types';

interface ApiResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

interface ApiGroupList {
  groups: { name: string; preferredVersion: { groupVersion: string; version: string } }[];
}

/** Groups searched first for a bare plural, as kubectl resolves short names: built-in kinds win. */
const GROUP_PRIORITY = [
  '',
  'apps',
  'batch',
  'autoscaling',
  'networking.k8s.io',
  'policy',
  'storage.k8s.io',
  'rbac.authorization.k8s.io',
];

const cache = new Map<string, Promise<unknown>>();
function cached<T>(path: string): Promise<T> {
  let hit = cache.get(path) as Promise<T> | undefined;
  if (!hit) {
    hit = api<T>(path);
    cache.set(path, hit);
    // A failure (or a CRD added later) should be retried on the next visit.
    hit.catch(() => cache.delete(path));
  }
  return hit;
}

/** Forget discovery answers (a CRD was created or removed). */
export function refreshDiscovery(): void {
  cache.clear();
}

async function resourcesOf(cluster: string, group: string, version: string): Promise<ApiResourceList | undefined> {
  const path = group ? `${clusterPrefix(cluster)}/apis/${group}/${version}` : `${clusterPrefix(cluster)}/api/${version}`;
  return cached<ApiResourceList>(path).catch(() => undefined);
}

async function crdColumns(cluster: string, plural: string, group: string, version: string): Promise<Column[]> {
  try {
    const crd = await cached<K8sObject>(
      `${clusterPrefix(cluster)}/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${plural}.${group}`,
    );
    const served = ((crd.spec?.versions ?? []) as any[]).find((v) => v.name === version);
    const printer = (served?.additionalPrinterColumns ?? crd.spec?.additionalPrinterColumns ?? []) as {
      name: string;
      jsonPath: string;
      type?: string;
      priority?: number;
    }[];
    return printer
      .filter((c) => !c.priority && c.jsonPath !== '.metadata.creationTimestamp')
      .map((c, i) => ({
        id: `printer-${i}`,
        title: c.name,
        literal: true,
        format: c.type === 'date' ? 'age' : 'text',
        value: (o: K8sObject) => printable(o, c.jsonPath),
      }));
  } catch {
    // Users who may not read CRDs still get the instances, without the printer columns.
    return [];
  }
}

function discoveredModel(
  key: string,
  group: string,
  version: string,
  resource: ApiResourceList['resources'][number],
  columns: Column[],
): ResourceModel {
  return {
    key,
    group,
    version,
    plural: resource.name,
    kind: resource.kind,
    namespaced: resource.namespaced,
    module: group === '' || group.endsWith('.k8s.io') || !group.includes('.') ? resource.name : 'customresources',
    columns,
    actions: ['editYaml', 'delete'],
    discovered: true,
    watch: (resource.verbs ?? []).includes('watch'),
  };
}

/**
 * The model for a URL key: a registered one, or one discovered from the server. Undefined when
 * the cluster serves no such resource.
 */
export async function resolveModel(key: string, cluster = 'host'): Promise<ResourceModel | undefined> {
  const registered = registeredModel(key);
  if (registered) return registered;
  const dot = key.indexOf('.');
  const plural = dot < 0 ? key : key.slice(0, dot);
  const wantedGroup = dot < 0 ? undefined : key.slice(dot + 1);
  const groups = await cached<ApiGroupList>(`${clusterPrefix(cluster)}/apis`);
  const candidates: { group: string; version: string }[] = [];
  if (wantedGroup !== undefined) {
    const g = groups.groups.find((x) => x.name === wantedGroup);
    if (g) candidates.push({ group: g.name, version: g.preferredVersion.version });
  } else {
    candidates.push({ group: '', version: 'v1' });
    const rank = (name: string) => (GROUP_PRIORITY.includes(name) ? GROUP_PRIORITY.indexOf(name) : GROUP_PRIORITY.length);
    for (const g of [...groups.groups].sort((a, b) => rank(a.name) - rank(b.name)))
      candidates.push({ group: g.name, version: g.preferredVersion.version });
  }
  for (const { group, version } of candidates) {
    const list = await resourcesOf(cluster, group, version);
    const resource = list?.resources.find((r) => r.name === plural);
    if (!resource) continue;
    const columns =
      group && group.includes('.') && !group.endsWith('.k8s.io') ? await crdColumns(cluster, plural, group, version) : [];
    return discoveredModel(key, group, version, resource, columns);
  }
  return undefined;
}
