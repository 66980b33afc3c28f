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

/** Allows only `system:masters` (the admin client certificate); for tests and as a fallback. */
export const mastersOnlyAuthorizer: Authorizer = {
  authorize: (a) => (a.user.groups.includes('system:masters') ? { allowed: true } : { allowed: false }),
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
    // As kube's RequestInfo: a namespace object's own namespace is itself, so a RoleBinding in it
    // can grant reading it.
    namespace: info.resource === 'namespaces' && info.group === '' && info.name && !info.namespace ? info.name : info.namespace,
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

/**
 * Impersonation (`kubectl --as`, `--as-group`, client-go's ImpersonationConfig): the headers
 * name another identity; the caller needs `impersonate` on each part of it, as in kube.
 * Returns the identity to act as, or undefined when the request does not impersonate.
 */
export function impersonatedUser(user: UserInfo, headers: Record<string, string | string[] | undefined>, authorizer: Authorizer): UserInfo | undefined {
  const values = (name: string): string[] => {
    const v = headers[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  const name = values('impersonate-user')[0];
  const groups = values('impersonate-group');
  const uid = values('impersonate-uid')[0];
  const extra: Record<string, string[]> = {};
  for (const [header, value] of Object.entries(headers)) {
    if (!header.startsWith('impersonate-extra-') || value === undefined) continue;
    const key = decodeURIComponent(header.slice('impersonate-extra-'.length));
    extra[key] = Array.isArray(value) ? value : [value];
  }
  if (name === undefined) {
    if (groups.length || uid !== undefined || Object.keys(extra).length) {
      throw new StatusError(400, 'BadRequest', 'requested impersonation of groups, uid or extra without impersonating a user', {});
    }
    return undefined;
  }
  const check = (resource: string, target: string, namespace = '', subresource = '') => {
    const attributes: AuthorizationAttributes = {
      user,
      verb: 'impersonate',
      resourceRequest: true,
      apiGroup: resource === 'serviceaccounts' ? '' : resource === 'uids' || resource === 'userextras' ? 'authentication.k8s.io' : '',
      apiVersion: '',
      resource,
      subresource,
      namespace,
      name: target,
      path: '',
    };
    if (!authorizer.authorize(attributes).allowed) {
      const what = resource === 'serviceaccounts' ? 'serviceaccounts' : resource;
      throw new StatusError(403, 'Forbidden', `${what} "${target}" is forbidden: User "${user.name}" cannot impersonate resource "${subresource ? `${resource}/${subresource}` : resource}" in API group "${attributes.apiGroup}"${namespace ? ` in the namespace "${namespace}"` : ' at the cluster scope'}`, { name: target, group: attributes.apiGroup, kind: resource });
    }
  };
  const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(name);
  if (sa) check('serviceaccounts', sa[2], sa[1]);
  else check('users', name);
  for (const g of groups) check('groups', g);
  if (uid !== undefined) check('uids', uid);
  for (const [key, list] of Object.entries(extra)) for (const v of list) check('userextras', v, '', key);
  const resultGroups = [...groups];
  if (sa) resultGroups.push('system:serviceaccounts', `system:serviceaccounts:${sa[1]}`);
  if (name !== 'system:anonymous' && !resultGroups.includes('system:authenticated')) resultGroups.push('system:authenticated');
  return { name, groups: resultGroups, ...(uid !== undefined ? { uid } : {}), ...(Object.keys(extra).length ? { extra } : {}) };
}
