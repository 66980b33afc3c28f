/**
 * API discovery for controllers that act on every kind (the garbage collector, the namespace
 * controller, the resource quota controller): the served resources of each group's preferred
 * version (client-go's ServerPreferredResources), read from aggregated discovery, and the
 * mapping from an object's apiVersion and kind to its resource (a RESTMapper).
 */
import { parseApiVersion } from '@canopy/apimachinery';
import type { KubeClient, ResourceType } from '@canopy/client';

export interface ServedResource extends ResourceType {
  verbs: string[];
}

export interface DiscoveryResult {
  /** The resources of each group's preferred version. */
  preferred: ServedResource[];
  /** Every served version of every resource (to map owner references written in any version). */
  all: ServedResource[];
  /** Groups whose discovery failed, with the error (kube's ErrGroupDiscoveryFailed). */
  failedGroups: Map<string, string>;
}

const AGGREGATED = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';

interface DiscoveryGroup {
  metadata?: { name?: string };
  versions?: Array<{
    version: string;
    freshness?: string;
    resources?: Array<{ resource: string; scope: string; verbs?: string[]; responseKind?: { kind?: string } }>;
  }>;
}

/** Reads `/api` and `/apis` as aggregated discovery (versions listed in order of preference). */
export async function discoverResources(client: KubeClient): Promise<DiscoveryResult> {
  const preferred: ServedResource[] = [];
  const all: ServedResource[] = [];
  const failedGroups = new Map<string, string>();
  for (const path of ['/api', '/apis']) {
    const list = await client.request<{ items?: DiscoveryGroup[] }>({ method: 'GET', path, headers: { accept: AGGREGATED } });
    for (const group of list.items ?? []) {
      const name = group.metadata?.name ?? '';
      let first = true;
      for (const version of group.versions ?? []) {
        if (version.freshness === 'Stale') {
          failedGroups.set(`${name ? `${name}/` : ''}${version.version}`, 'stale discovery document');
          continue;
        }
        for (const r of version.resources ?? []) {
          const served: ServedResource = {
            group: name,
            version: version.version,
            resource: r.resource,
            kind: r.responseKind?.kind ?? '',
            namespaced: r.scope === 'Namespaced',
            verbs: r.verbs ?? [],
          };
          all.push(served);
          if (first) preferred.push(served);
        }
        first = false;
      }
    }
  }
  return { preferred, all, failedGroups };
}

export function supportsVerbs(resource: ServedResource, verbs: string[]): boolean {
  return verbs.every((v) => resource.verbs.includes(v));
}

export function typeKey(type: Pick<ResourceType, 'group' | 'version' | 'resource'>): string {
  return `${type.group}/${type.version}/${type.resource}`;
}

export function groupResourceKey(type: Pick<ResourceType, 'group' | 'resource'>): string {
  return type.group ? `${type.resource}.${type.group}` : type.resource;
}

/** apiVersion + kind → resource, over every served version (kube's RESTMapper). */
export class ResourceMapper {
  private readonly byKind = new Map<string, ServedResource>();
  private readonly preferredByGroupKind = new Map<string, ServedResource>();

  constructor(discovery: DiscoveryResult) {
    for (const r of discovery.all) {
      const key = `${r.group}/${r.version}/${r.kind}`;
      // The main resource of a kind, not a subresource listed under the same kind.
      if (!r.resource.includes('/') && !this.byKind.has(key)) this.byKind.set(key, r);
    }
    for (const r of discovery.preferred) if (!r.resource.includes('/')) this.preferredByGroupKind.set(`${r.group}/${r.kind}`, r);
  }

  /** The resource serving `kind` at `apiVersion`, else the group's preferred version of the kind. */
  forKind(apiVersion: string, kind: string): ServedResource | undefined {
    const { group, version } = parseApiVersion(apiVersion);
    return this.byKind.get(`${group}/${version}/${kind}`) ?? this.preferredByGroupKind.get(`${group}/${kind}`);
  }
}
