/**
 * Which actions the user may take, as KubeSphere's console decides: the role templates of the
 * user's roles at each scope (`/users/<u>/roletemplates?scope=…`), whose
 * `iam.kubesphere.io/role-template-rules` annotation maps console modules to `view`, `create` or
 * `manage`. A module's actions at a scope are those granted there or at any enclosing scope;
 * `manage` means every action; platform administrators may do everything. The server authorizes
 * every request regardless: this only decides what the console shows.
 */
import { useQueries } from '@tanstack/react-query';
import { api, isApiError } from './http';
import { IAM_API, isPlatformAdmin, useCurrentUser } from './user';
import { clusterPrefix } from '../models/registry';
import type { K8sObject, ListResult, Scope } from '../models/types';

export const RULES_ANNOTATION = 'iam.kubesphere.io/role-template-rules';
export type Action = 'view' | 'create' | 'edit' | 'delete';
const ALL: Action[] = ['view', 'create', 'edit', 'delete'];

/** module → granted rule words, merged over templates (unparseable annotations are skipped). */
export function mergeRules(templates: K8sObject[]): Record<string, Set<string>> {
  const rules: Record<string, Set<string>> = {};
  for (const t of templates) {
    const raw = t.metadata.annotations?.[RULES_ANNOTATION];
    if (!raw) continue;
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>;
      for (const [module, word] of Object.entries(parsed)) if (typeof word === 'string') (rules[module] ??= new Set()).add(word);
    } catch {
      continue;
    }
  }
  return rules;
}

export function actionsOf(words: Iterable<string>): Set<Action> {
  const out = new Set<Action>();
  for (const w of words) {
    if (w === 'manage') ALL.forEach((a) => out.add(a));
    else if (w === 'view' || w === 'create' || w === 'edit' || w === 'delete') out.add(w);
  }
  return out;
}

interface ScopeQuery {
  scope: 'global' | 'cluster' | 'workspace' | 'namespace';
  path: string;
}

/** The scopes enclosing a page, each with the request for the user's role templates there. */
export function scopeChain(username: string, scope: Scope): ScopeQuery[] {
  const base = `${IAM_API}/users/${encodeURIComponent(username)}/roletemplates`;
  const chain: ScopeQuery[] = [{ scope: 'global', path: `${base}?scope=global` }];
  if (scope.level === 'cluster' || scope.level === 'project')
    chain.push({ scope: 'cluster', path: `${clusterPrefix(scope.cluster)}${base}?scope=cluster` });
  if (scope.workspace)
    chain.push({ scope: 'workspace', path: `${base}?scope=workspace&workspace=${encodeURIComponent(scope.workspace)}` });
  if (scope.namespace)
    chain.push({
      scope: 'namespace',
      path: `${clusterPrefix(scope.cluster)}${base}?scope=namespace&namespace=${encodeURIComponent(scope.namespace)}`,
    });
  return chain;
}

export interface Permissions {
  loading: boolean;
  can(module: string, action: Action): boolean;
}

export function usePermissions(scope: Scope): Permissions {
  const user = useCurrentUser();
  const username = user.data?.metadata.name ?? '';
  const admin = isPlatformAdmin(user.data);
  const chain = username && !admin ? scopeChain(username, scope) : [];
  const results = useQueries({
    queries: chain.map((c) => ({
      queryKey: ['roletemplates', c.path],
      queryFn: async () => {
        try {
          return (await api<ListResult>(c.path)).items ?? [];
        } catch (err) {
          // Not served yet, or no role at this scope: nothing granted here.
          if (isApiError(err) && (err.notFound || err.forbidden)) return [];
          throw err;
        }
      },
      staleTime: 30_000,
    })),
  });
  const loading = user.isLoading || results.some((r) => r.isLoading);
  const rules = mergeRules(results.flatMap((r) => r.data ?? []));
  return {
    loading,
    can: (module, action) => admin || actionsOf(rules[module] ?? []).has(action),
  };
}
