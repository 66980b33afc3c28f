/**
 * Which resource types the cluster serves, from its discovery documents, so the resources API
 * can serve any kind — built-in, platform or CRD — by its plural name. Refreshed when a name is
 * not found (a CRD may have just been added), at most once per second.
 */
import type { KubeClient, ResourceType } from '@canopy/client';

interface ApiResourceList {
  groupVersion: string;
  resources: { name: string; kind: string; namespaced: boolean; verbs?: string[] }[];
}

/** Plural names several groups serve, and the group KubeSphere's resources API means by them. */
const PREFERRED_GROUP: Record<string, string> = {
  clusterroles: 'iam.kubesphere.io',
  clusterrolebindings: 'iam.kubesphere.io',
  roles: 'iam.kubesphere.io',
  rolebindings: 'iam.kubesphere.io',
  resourcequotas: '',
  events: '',
};

/** Groups whose resources win a name clash, in order (built-in kinds first, as kubectl resolves). */
const GROUP_PRIORITY = ['', 'apps', 'batch', 'autoscaling', 'networking.k8s.io', 'policy', 'storage.k8s.io', 'rbac.authorization.k8s.io'];

export class ResourceCatalog {
  private byName = new Map<string, ResourceType>();
  private loadedAt = 0;
  private loading?: Promise<void>;

  constructor(private readonly client: KubeClient) {}

  async resolve(plural: string): Promise<ResourceType | undefined> {
    if (!this.loadedAt) await this.refresh();
    let found = this.byName.get(plural);
    if (!found && Date.now() - this.loadedAt > 1000) {
      await this.refresh();
      found = this.byName.get(plural);
    }
    return found;
  }

  refresh(): Promise<void> {
    this.loading ??= this.load().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async load(): Promise<void> {
    const lists: ApiResourceList[] = [await this.client.request<ApiResourceList>({ method: 'GET', path: '/api/v1' })];
    const groups = await this.client.request<{ groups: { name: string; preferredVersion: { version: string } }[] }>({ method: 'GET', path: '/apis' });
    const fetched = await Promise.all(
      groups.groups.map((g) => this.client.request<ApiResourceList>({ method: 'GET', path: `/apis/${g.name}/${g.preferredVersion.version}` }).catch(() => undefined)),
    );
    for (const l of fetched) if (l) lists.push(l);
    const candidates = new Map<string, ResourceType[]>();
    for (const list of lists) {
      const [group, version] = list.groupVersion.includes('/') ? list.groupVersion.split('/') : ['', list.groupVersion];
      for (const r of list.resources) {
        if (r.name.includes('/') || !(r.verbs ?? []).includes('list')) continue;
        const type: ResourceType = { group, version, resource: r.name, kind: r.kind, namespaced: r.namespaced };
        const all = candidates.get(r.name) ?? [];
        all.push(type);
        candidates.set(r.name, all);
      }
    }
    const byName = new Map<string, ResourceType>();
    for (const [name, all] of candidates) {
      const preferred = PREFERRED_GROUP[name];
      const rank = (t: ResourceType) => (t.group === preferred ? -1 : GROUP_PRIORITY.indexOf(t.group) >= 0 ? GROUP_PRIORITY.indexOf(t.group) : 100);
      byName.set(name, [...all].sort((a, b) => rank(a) - rank(b))[0]);
    }
    this.byName = byName;
    this.loadedAt = Date.now();
  }
}
