/**
 * API discovery, legacy (APIVersions, APIGroupList, APIResourceList) and aggregated
 * (apidiscovery.k8s.io v2 and v2beta1, served only to clients that list that exact version).
 * Documents are rebuilt when the registry changes (CRDs).
 */
import { apiVersionOf } from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import type { ResourceDefinition } from '../registry/types.js';

export function apiVersions(serverAddress: string) {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }] };
}

function groupEntry(name: string, versions: string[]) {
  const list = versions.map((version) => ({ groupVersion: `${name}/${version}`, version }));
  return { name, versions: list, preferredVersion: list[0] };
}

export function apiGroupList(registry: ResourceRegistry) {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: registry.groups().map((g) => groupEntry(g.name, g.versions)) };
}

export function apiGroup(registry: ResourceRegistry, group: string) {
  const entry = registry.groups().find((g) => g.name === group);
  return entry ? { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(entry.name, entry.versions) } : undefined;
}

function resourceEntries(def: ResourceDefinition) {
  const main: Record<string, unknown> = {
    name: def.resource,
    singularName: def.singular,
    namespaced: def.namespaced,
    kind: def.kind,
    verbs: def.virtual ? ['create'] : def.verbs,
  };
  if (def.shortNames?.length) main.shortNames = def.shortNames;
  if (def.categories?.length) main.categories = def.categories;
  const out = [main];
  if (def.subresources?.status) out.push({ name: `${def.resource}/status`, singularName: '', namespaced: def.namespaced, kind: def.kind, verbs: ['get', 'patch', 'update'] });
  if (def.subresources?.scale) {
    out.push({ name: `${def.resource}/scale`, singularName: '', namespaced: def.namespaced, group: 'autoscaling', version: 'v1', kind: 'Scale', verbs: ['get', 'patch', 'update'] });
  }
  if (def.kind === 'Namespace' && !def.group) out.push({ name: 'namespaces/finalize', singularName: '', namespaced: false, kind: 'Namespace', verbs: ['update'] });
  for (const a of def.actionSubresources ?? []) {
    out.push({ name: `${def.resource}/${a.name}`, singularName: '', namespaced: def.namespaced, ...(a.group !== undefined ? { group: a.group, version: a.version } : {}), kind: a.kind, verbs: a.verbs });
  }
  return out;
}

export function apiResourceList(registry: ResourceRegistry, group: string, version: string) {
  const resources = registry
    .resourcesOf(group, version)
    .sort((a, b) => a.resource.localeCompare(b.resource))
    .flatMap(resourceEntries);
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: apiVersionOf(group, version), resources };
}

function discoveryResource(def: ResourceDefinition) {
  const entry: Record<string, unknown> = {
    resource: def.resource,
    responseKind: { group: def.group, version: def.version, kind: def.kind },
    scope: def.namespaced ? 'Namespaced' : 'Cluster',
    singularResource: def.singular,
    verbs: def.virtual ? ['create'] : def.verbs,
  };
  if (def.shortNames?.length) entry.shortNames = def.shortNames;
  if (def.categories?.length) entry.categories = def.categories;
  const subresources: Record<string, unknown>[] = [];
  if (def.subresources?.status) subresources.push({ subresource: 'status', responseKind: { group: def.group, version: def.version, kind: def.kind }, verbs: ['get', 'patch', 'update'] });
  if (def.subresources?.scale) subresources.push({ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' }, verbs: ['get', 'patch', 'update'] });
  if (def.kind === 'Namespace' && !def.group) subresources.push({ subresource: 'finalize', responseKind: { group: '', version: 'v1', kind: 'Namespace' }, verbs: ['update'] });
  for (const a of def.actionSubresources ?? []) {
    subresources.push({ subresource: a.name, responseKind: { group: a.group ?? def.group, version: a.version ?? def.version, kind: a.kind }, verbs: a.verbs });
  }
  if (subresources.length) entry.subresources = subresources;
  return entry;
}

function discoveryGroup(registry: ResourceRegistry, name: string, versions: string[]) {
  return {
    metadata: name ? { name } : { creationTimestamp: null },
    versions: versions.map((version) => ({
      version,
      resources: registry
        .resourcesOf(name, version)
        .sort((a, b) => a.resource.localeCompare(b.resource))
        .map(discoveryResource),
      freshness: 'Current',
    })),
  };
}

/** Aggregated discovery document for `/api` (core) or `/apis` (named groups). */
export function aggregatedDiscovery(registry: ResourceRegistry, legacy: boolean, version: 'v2' | 'v2beta1') {
  const items = legacy ? [discoveryGroup(registry, '', ['v1'])] : registry.groups().map((g) => discoveryGroup(registry, g.name, g.versions));
  return { kind: 'APIGroupDiscoveryList', apiVersion: `apidiscovery.k8s.io/${version}`, metadata: {}, items };
}

export function discoveryContentType(version: 'v2' | 'v2beta1'): string {
  return `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
}
