/** Where the console shows an object: its model's own page, or the generic detail page. */
import { projectBase } from '../models/registry';
import type { K8sObject, ResourceModel, Scope } from '../models/types';

export function detailHref(model: ResourceModel, scope: Scope, object: K8sObject): string {
  if (model.href) return model.href(object, scope);
  const name = encodeURIComponent(object.metadata.name);
  if (model.namespaced && object.metadata.namespace)
    return `${projectBase(scope.level === 'project' ? scope : { ...scope, workspace: undefined }, object.metadata.namespace)}/${model.key}/${name}`;
  if (scope.level === 'workspace' && scope.workspace)
    return `/workspaces/${encodeURIComponent(scope.workspace)}/${model.key}/${name}`;
  if (scope.level === 'platform') return `/access/${model.key}/${name}`;
  return `/clusters/${encodeURIComponent(scope.cluster || 'host')}/${model.key}/${name}`;
}

/** The list page of a model at a scope (detail pages link back to it). */
export function listHref(model: ResourceModel, scope: Scope): string {
  const cluster = encodeURIComponent(scope.cluster || 'host');
  if (scope.level === 'project' && scope.namespace) return `${projectBase(scope, scope.namespace)}/${model.key}`;
  if (scope.level === 'workspace' && scope.workspace) return `/workspaces/${encodeURIComponent(scope.workspace)}/${model.key}`;
  if (scope.level === 'platform') return `/access/${model.key}`;
  return `/clusters/${cluster}/${model.key}`;
}
