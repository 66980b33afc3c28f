/**
 * KubeSphere's request info (pkg/apiserver/request/requestinfo.go, 4.1): from a method and URL to
 * what the authorizer needs — group, version, resource, subresource, name, verb, cluster,
 * workspace, namespace and the resource scope.
 *
 * - `/clusters/<c>/…` (and the legacy `/<prefix>/clusters/<c>/…`) name the cluster; the rest of
 *   the path is read as if the prefix were absent.
 * - `/api/<v>/…` (core group), `/apis/<g>/<v>/…` and `/kapis/<g>/<v>/…` are resource requests;
 *   anything else (and paths too short to name a resource) is a non-resource request whose verb
 *   is the HTTP method.
 * - After the version, `watch` or `proxy` may name the verb; `workspaces/<ws>` and
 *   `workspacetemplates/<ws>` set the workspace, `namespaces/<ns>` the namespace.
 * - Scope: global for the global resources (users, globalroles, globalrolebindings, workspaces,
 *   clusters…) unless a workspace is named (`GET …/workspaces/ws1` is workspace scope); namespace
 *   when a namespace is named; workspace when a workspace is; cluster otherwise.
 * - GET without a name is list, or watch with `?watch=true`; a `metadata.name=<n>` field selector
 *   names the object; a watch with `labelSelector=kubesphere.io/workspace=<ws>` is scoped to that
 *   workspace. DELETE without a name is deletecollection.
 */
import type { AuthorizationAttributes, ResourceScope } from './authorizer.js';
import type { UserInfo } from './types.js';

export interface GroupResource {
  group: string;
  resource: string;
}

/** The resources KubeSphere 4.1 treats as global (its apiserver's GlobalResources). */
export const DEFAULT_GLOBAL_RESOURCES: readonly GroupResource[] = [
  { group: 'iam.kubesphere.io', resource: 'users' },
  { group: 'iam.kubesphere.io', resource: 'globalroles' },
  { group: 'iam.kubesphere.io', resource: 'globalrolebindings' },
  { group: 'tenant.kubesphere.io', resource: 'workspaces' },
  { group: 'tenant.kubesphere.io', resource: 'clusters' },
  { group: 'cluster.kubesphere.io', resource: 'clusters' },
  { group: 'cluster.kubesphere.io', resource: 'labels' },
  { group: 'resources.kubesphere.io', resource: 'clusters' },
  { group: 'resources.kubesphere.io', resource: 'labels' },
];

export interface RequestInfoOptions {
  /** Path prefixes of resource APIs. Default api, apis, kapis, kapi. */
  apiPrefixes?: readonly string[];
  /** Prefixes whose paths carry no group segment. Default api, kapi. */
  grouplessApiPrefixes?: readonly string[];
  globalResources?: readonly GroupResource[];
}

export interface RequestInfo {
  /** The path with any `/clusters/<c>` prefix removed (what is proxied and matched by nonResourceURLs). */
  path: string;
  verb: string;
  isResourceRequest: boolean;
  /** The request is for the Kubernetes API (/api, /apis), not the platform's (/kapis). */
  isKubernetesRequest: boolean;
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** The path segments from the resource on. */
  parts: string[];
  workspace: string;
  cluster: string;
  /** '' for non-resource requests (they are evaluated against global and cluster bindings). */
  resourceScope: ResourceScope;
  /** Set when the path could not be fully interpreted (e.g. `/api/v1/watch`); the info is best effort. */
  error?: string;
}

const SPECIAL_VERBS = new Set(['proxy', 'watch']);
const SPECIAL_VERBS_NO_SUBRESOURCES = new Set(['proxy']);
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);
const KUBERNETES_PREFIXES = new Set(['api', 'apis']);
const WORKSPACE_SELECTOR_PREFIX = 'kubesphere.io/workspace=';

const METHOD_VERBS: Record<string, string> = {
  POST: 'create',
  GET: 'get',
  HEAD: 'get',
  PUT: 'update',
  PATCH: 'patch',
  DELETE: 'delete',
};

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? [] : trimmed.split('/');
}

/** strconv.ParseBool. */
function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** path.IsValidPathSegmentName: not '.' or '..', no '/' or '%'. */
function isValidPathSegmentName(name: string): boolean {
  return name !== '.' && name !== '..' && !name.includes('/') && !name.includes('%');
}

/** fields.Selector.RequiresExactMatch("metadata.name") over a field selector string. */
function exactNameFromFieldSelector(selector: string): string | undefined | null {
  // Split on unescaped commas; each term is key=value, key==value or key!=value.
  const terms: string[] = [];
  let current = '';
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (c === '\\' && i + 1 < selector.length) {
      current += c + selector[++i];
      continue;
    }
    if (c === ',') {
      terms.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  terms.push(current);
  let name: string | undefined;
  for (const term of terms) {
    if (term === '') continue;
    const match = /^([^=!]*)(==|=|!=)(.*)$/.exec(term);
    if (!match) return null; // not a valid selector
    const [, key, op, rawValue] = match;
    const value = rawValue.replace(/\\(.)/g, '$1');
    if (key.trim() === 'metadata.name' && op !== '!=') name = value;
  }
  return name;
}

export function newRequestInfo(
  method: string,
  url: string | URL,
  options: RequestInfoOptions = {},
): RequestInfo {
  const apiPrefixes = new Set(options.apiPrefixes ?? ['api', 'apis', 'kapis', 'kapi']);
  const grouplessPrefixes = new Set(options.grouplessApiPrefixes ?? ['api', 'kapi']);
  const globalResources = options.globalResources ?? DEFAULT_GLOBAL_RESOURCES;
  const parsed = typeof url === 'string' ? new URL(url, 'http://localhost') : url;
  const query = parsed.searchParams;

  const info: RequestInfo = {
    path: parsed.pathname,
    verb: method,
    isResourceRequest: false,
    isKubernetesRequest: false,
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
    workspace: '',
    cluster: '',
    resourceScope: '',
  };

  const finish = (): RequestInfo => {
    let prefix = info.apiPrefix;
    if (prefix === '') {
      // Discovery (/api, /apis, /api/v1) goes to Kubernetes too.
      const parts = splitPath(info.path);
      if (parts.length > 0 && parts.length < 3) prefix = parts[0];
    }
    info.isKubernetesRequest = KUBERNETES_PREFIXES.has(prefix);
    return info;
  };

  let parts = splitPath(parsed.pathname);
  if (parts.length < 3) return finish();

  if (parts[0] === 'clusters') {
    if (parts.length > 1) {
      info.cluster = parts[1];
      info.path = info.path.startsWith(`/clusters/${info.cluster}`) ? info.path.slice(`/clusters/${info.cluster}`.length) : info.path;
    }
    if (parts.length > 2) parts = parts.slice(2);
  }

  if (!apiPrefixes.has(parts[0])) return finish();
  info.apiPrefix = parts[0];
  parts = parts.slice(1);

  // Legacy form: /<prefix>/clusters/<cluster>/…
  if (info.cluster === '' && parts[0] === 'clusters') {
    if (parts.length > 1) {
      info.cluster = parts[1];
      info.path = info.path.replace(`/clusters/${info.cluster}`, '');
    }
    if (parts.length > 2) parts = parts.slice(2);
  }

  if (!grouplessPrefixes.has(info.apiPrefix)) {
    if (parts.length < 3) return finish();
    info.apiGroup = parts[0];
    parts = parts.slice(1);
  }

  info.isResourceRequest = true;
  info.apiVersion = parts[0] ?? '';
  parts = parts.slice(1);

  if (parts.length > 0 && SPECIAL_VERBS.has(parts[0])) {
    if (parts.length < 2) {
      info.error = `unable to determine kind and namespace from url: ${parsed.pathname}`;
      return finish();
    }
    info.verb = parts[0];
    parts = parts.slice(1);
  } else {
    info.verb = METHOD_VERBS[method.toUpperCase()] ?? '';
  }

  if (parts[0] === 'workspaces' || parts[0] === 'workspacetemplates') {
    if (parts.length > 1) info.workspace = parts[1];
    if (parts.length > 2) parts = parts.slice(2);
  }

  if (parts[0] === 'namespaces' && parts.length > 1) {
    info.namespace = parts[1];
    // Another step after the namespace that is not a namespace subresource is a resource in it.
    if (parts.length > 2 && !NAMESPACE_SUBRESOURCES.has(parts[2])) parts = parts.slice(2);
  }

  info.parts = parts;
  if (parts.length >= 3 && !SPECIAL_VERBS_NO_SUBRESOURCES.has(info.verb)) info.subresource = parts[2];
  if (parts.length >= 2) info.name = parts[1];
  if (parts.length >= 1) info.resource = parts[0];

  const isGlobal = globalResources.some((gr) => gr.group === info.apiGroup && gr.resource === info.resource);
  if (isGlobal) info.resourceScope = info.workspace ? 'Workspace' : 'Global';
  else if (info.namespace) info.resourceScope = 'Namespace';
  else if (info.workspace) info.resourceScope = 'Workspace';
  else info.resourceScope = 'Cluster';

  if (info.name === '' && info.verb === 'get') {
    let watch = false;
    let name: string | undefined;
    const watchValue = query.get('watch');
    const fieldSelector = query.get('fieldSelector');
    const selectorName = fieldSelector !== null ? exactNameFromFieldSelector(fieldSelector) : undefined;
    const watchParsed = watchValue !== null ? parseGoBool(watchValue) : false;
    if (watchParsed === undefined || selectorName === null) {
      // Undecodable list options: KubeSphere falls back to "watch unless watch=false/0" and no name.
      watch = watchValue !== null && !['false', '0'].includes(watchValue.toLowerCase());
    } else {
      watch = watchParsed;
      name = selectorName;
    }
    info.verb = watch ? 'watch' : 'list';
    if (name !== undefined && isValidPathSegmentName(name) && name !== '') info.name = name;
  }

  if (info.verb === 'watch') {
    const selector = query.get('labelSelector') ?? '';
    if (selector.startsWith(WORKSPACE_SELECTOR_PREFIX)) {
      info.workspace = selector.slice(WORKSPACE_SELECTOR_PREFIX.length);
      info.resourceScope = 'Workspace';
    }
  }

  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return finish();
}

/** The authorizer's attributes for a parsed request made by `user`. */
export function authorizationAttributes(user: UserInfo, info: RequestInfo): AuthorizationAttributes {
  return {
    user,
    verb: info.verb,
    resourceRequest: info.isResourceRequest,
    kubernetesRequest: info.isKubernetesRequest,
    path: info.path,
    apiGroup: info.apiGroup,
    apiVersion: info.apiVersion,
    resource: info.resource,
    subresource: info.subresource,
    name: info.name,
    resourceScope: info.resourceScope,
    cluster: info.cluster,
    workspace: info.workspace,
    namespace: info.namespace,
  };
}
