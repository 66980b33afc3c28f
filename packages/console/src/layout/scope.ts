/** The level, cluster, workspace and project of the current route, from its parameters. */
import { useMatch, useParams } from 'react-router';
import type { Scope } from '../models/types';

export function useScope(): Scope {
  const params = useParams();
  const workspaceLevel = useMatch('/workspaces/:workspace/*');
  const cluster = params.cluster ?? 'host';
  if (params.namespace) return { level: 'project', cluster, workspace: params.workspace, namespace: params.namespace };
  if (params.cluster) return { level: 'cluster', cluster };
  if (params.workspace && workspaceLevel) return { level: 'workspace', cluster, workspace: params.workspace };
  return { level: 'platform', cluster };
}
