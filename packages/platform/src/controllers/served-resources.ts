/**
 * Which (group, version, resource) the cluster serves, from its discovery documents, so the
 * generic `/kapis` CRUD and the workspace quota can reach any kind — built-in, platform or CRD —
 * by group and plural. Group versions are fetched on first use; a miss refetches at most once a
 * second (a CRD may just have been added).
 */
import type { KubeClient, ResourceType } from '@canopy/client';

interface ApiResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

interface GroupList {
  groups: { name: string; preferredVersion: { version: string }; versions: { version: string }[] }[];
}

export class ServedResources {
  private groups?: Map<string, { preferred: string; versions: string[] }>;
  private groupsAt = 0;
  private readonly versions = new Map<string, { at: number; types: Map<string, ResourceType> }>();

  constructor(private readonly client: KubeClient) {}

  /** The type of `resource` in `group` (at `version`, else the group's preferred version). */
  async resolve(group: string, resource: string, version?: string): Promise<ResourceType | undefined> {
    if (group === '') return (await this.groupVersion('', version ?? 'v1'))?.get(resource);
    let groups = await this.groupList(false);
    if (!groups.has(group)) groups = await this.groupList(true);
    const known = groups.get(group);
    if (!known) return undefined;
    const v = version ?? known.preferred;
    if (!known.versions.includes(v)) return undefined;
    let found = (await this.groupVersion(group, v))?.get(resource);
    if (!found) found = (await this.groupVersion(group, v, true))?.get(resource);
    return found;
  }

  private async groupList(refresh: boolean): Promise<Map<string, { preferred: string; versions: string[] }>> {
    if (this.groups && (!refresh || Date.now() - this.groupsAt < 1000)) return this.groups;
    const list = await this.client.request<GroupList>({ method: 'GET', path: '/apis' });
    this.groups = new Map(
      list.groups.map((g) => [g.name, { preferred: g.preferredVersion.version, versions: g.versions.map((v) => v.version) }]),
    );
    this.groupsAt = Date.now();
    return this.groups;
  }

  private async groupVersion(group: string, version: string, refresh = false): Promise<Map<string, ResourceType> | undefined> {
    const key = `${group}/${version}`;
    const cached = this.versions.get(key);
    if (cached && (!refresh || Date.now() - cached.at < 1000)) return cached.types;
    let list: ApiResourceList;
    try {
      list = await this.client.request<ApiResourceList>({
        method: 'GET',
        path: group ? `/apis/${group}/${version}` : `/api/${version}`,
      });
    } catch {
      return undefined;
    }
    const types = new Map<string, ResourceType>();
    for (const r of list.resources) {
      if (r.name.includes('/')) continue;
      types.set(r.name, { group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced });
    }
    this.versions.set(key, { at: Date.now(), types });
    return types;
  }
}
