/**
 * Authorization of every request, as kube-apiserver's filter: the request's attributes (user,
 * verb, API group, resource, subresource, namespace, name — or a non-resource path) go to an
 * Authorizer; a denial is a 403 worded as kube words it.
 */
import { StatusError } from '@canopy/apimachinery';
import type { ResourceRequestInfo } from './request-info.js';
import type { UserInfo } from './types.js';

export interface AuthorizationAttributes {
  user: UserInfo;
  verb: string;
  resourceRequest: boolean;
  apiGroup: string;
  apiVersion: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
  /** For non-resource requests. */
  path: string;
}

export interface AuthorizationDecision {
  allowed: boolean;
  reason?: string;
}

export interface Authorizer {
  authorize(attributes: AuthorizationAttributes): AuthorizationDecision;
}

/**
 * Until RBAC is configured, only members of `system:masters` (the admin client certificate) may
 * do anything: an authenticated identity alone grants nothing.
 */
export const mastersOnlyAuthorizer: Authorizer = {
  authorize: (a) => (a.user.groups.includes('system:masters') ? { allowed: true } : { allowed: false, reason: 'no RBAC policy matched' }),
};

export function resourceAttributes(user: UserInfo, info: ResourceRequestInfo): AuthorizationAttributes {
  return {
    user,
    verb: info.verb,
    resourceRequest: true,
    apiGroup: info.group,
    apiVersion: info.version,
    resource: info.resource,
    subresource: info.subresource,
    namespace: info.namespace,
    name: info.name,
    path: '',
  };
}

export function nonResourceAttributes(user: UserInfo, method: string, path: string): AuthorizationAttributes {
  const verb = { GET: 'get', HEAD: 'head', POST: 'post', PUT: 'put', PATCH: 'patch', DELETE: 'delete' }[method] ?? method.toLowerCase();
  return { user, verb, resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path };
}

/** kube-apiserver's Forbidden for a denied request. */
export function forbidden(a: AuthorizationAttributes, reason?: string): StatusError {
  const who = `User "${a.user.name}"`;
  const suffix = reason ? `: ${reason}` : '';
  if (!a.resourceRequest) {
    return new StatusError(403, 'Forbidden', `forbidden: ${who} cannot ${a.verb} path "${a.path}"${suffix}`, {});
  }
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const qualified = a.apiGroup ? `${a.resource}.${a.apiGroup}` : a.resource;
  const subject = a.name ? `${qualified} "${a.name}"` : qualified;
  const scope = a.namespace ? `in the namespace "${a.namespace}"` : 'at the cluster scope';
  return new StatusError(
    403,
    'Forbidden',
    `${subject} is forbidden: ${who} cannot ${a.verb} resource "${resource}" in API group "${a.apiGroup}" ${scope}${suffix}`,
    { ...(a.name ? { name: a.name } : {}), group: a.apiGroup, kind: a.resource },
  );
}
