/**
 * The console's navigation at KubeSphere's four levels, as data: each entry is a page segment
 * under the level's base path. A segment names a special page (overview, members, roles, quota)
 * or a resource model key; `pageModel` maps the level-dependent segments to their models.
 */
import type { Level, Scope } from '../models/types';

export interface NavEntry {
  /** Path segment under the level's base (also the id). */
  page: string;
  /** i18n key of the label. */
  title: string;
}

export interface NavGroup {
  group: string;
  title: string;
  entries: NavEntry[];
}

export type NavItem = NavEntry | NavGroup;

const entry = (page: string, title: string): NavEntry => ({ page, title });

export const navigation: Record<Level, NavItem[]> = {
  platform: [
    entry('', 'nav.workbench'),
    entry('clusters', 'nav.clusters'),
    {
      group: 'access',
      title: 'nav.accessControl',
      entries: [
        entry('access/workspaces', 'nav.workspaces'),
        entry('access/users', 'nav.users'),
        entry('access/roles', 'nav.platformRoles'),
      ],
    },
  ],
  cluster: [
    entry('overview', 'nav.overview'),
    entry('nodes', 'nav.nodes'),
    entry('projects', 'nav.projects'),
    {
      group: 'workloads',
      title: 'nav.workloads',
      entries: [
        entry('deployments', 'kinds.deployments'),
        entry('statefulsets', 'kinds.statefulsets'),
        entry('daemonsets', 'kinds.daemonsets'),
        entry('jobs', 'kinds.jobs'),
        entry('cronjobs', 'kinds.cronjobs'),
      ],
    },
    entry('pods', 'nav.pods'),
    entry('services', 'nav.services'),
    entry('ingresses', 'nav.ingresses'),
    {
      group: 'configuration',
      title: 'nav.configuration',
      entries: [
        entry('secrets', 'kinds.secrets'),
        entry('configmaps', 'kinds.configmaps'),
        entry('serviceaccounts', 'kinds.serviceaccounts'),
      ],
    },
    entry('customresourcedefinitions', 'nav.crds'),
    {
      group: 'storage',
      title: 'nav.storage',
      entries: [
        entry('persistentvolumeclaims', 'kinds.persistentvolumeclaims'),
        entry('persistentvolumes', 'kinds.persistentvolumes'),
        entry('storageclasses', 'kinds.storageclasses'),
      ],
    },
    { group: 'settings', title: 'nav.clusterSettings', entries: [entry('members', 'nav.members'), entry('roles', 'nav.roles')] },
  ],
  workspace: [
    entry('overview', 'nav.overview'),
    entry('projects', 'nav.projects'),
    {
      group: 'settings',
      title: 'nav.workspaceSettings',
      entries: [entry('quota', 'nav.quota'), entry('members', 'nav.members'), entry('roles', 'nav.roles')],
    },
  ],
  project: [
    entry('overview', 'nav.overview'),
    {
      group: 'workloads',
      title: 'nav.workloads',
      entries: [
        entry('deployments', 'kinds.deployments'),
        entry('statefulsets', 'kinds.statefulsets'),
        entry('daemonsets', 'kinds.daemonsets'),
      ],
    },
    entry('services', 'nav.services'),
    { group: 'jobs', title: 'nav.jobs', entries: [entry('jobs', 'kinds.jobs'), entry('cronjobs', 'kinds.cronjobs')] },
    entry('ingresses', 'nav.ingresses'),
    entry('pods', 'nav.pods'),
    entry('persistentvolumeclaims', 'nav.volumes'),
    {
      group: 'configuration',
      title: 'nav.configuration',
      entries: [
        entry('secrets', 'kinds.secrets'),
        entry('configmaps', 'kinds.configmaps'),
        entry('serviceaccounts', 'kinds.serviceaccounts'),
      ],
    },
    { group: 'settings', title: 'nav.projectSettings', entries: [entry('members', 'nav.members'), entry('roles', 'nav.roles')] },
  ],
};

/** Segments whose model depends on the level. */
const levelModels: Record<Level, Record<string, string>> = {
  platform: { workspaces: 'workspaces', users: 'users', roles: 'globalroles' },
  cluster: { members: 'clustermembers', roles: 'clusterroles' },
  workspace: { members: 'workspacemembers', roles: 'workspaceroles', projects: 'projects' },
  project: { members: 'namespacemembers', roles: 'roles' },
};

/** The model key a page segment names at a level (the segment itself for resource pages). */
export function pageModel(level: Level, page: string): string {
  return levelModels[level][page] ?? page;
}

/** The base path of a level's pages. */
export function levelBase(scope: Scope): string {
  const cluster = encodeURIComponent(scope.cluster || 'host');
  switch (scope.level) {
    case 'platform':
      return '';
    case 'cluster':
      return `/clusters/${cluster}`;
    case 'workspace':
      return `/workspaces/${encodeURIComponent(scope.workspace ?? '')}`;
    case 'project':
      return scope.workspace
        ? `/workspaces/${encodeURIComponent(scope.workspace)}/clusters/${cluster}/projects/${encodeURIComponent(scope.namespace ?? '')}`
        : `/clusters/${cluster}/projects/${encodeURIComponent(scope.namespace ?? '')}`;
  }
}

export function isGroup(item: NavItem): item is NavGroup {
  return 'group' in item;
}
