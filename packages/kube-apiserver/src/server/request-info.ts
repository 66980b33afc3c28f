/**
 * Parses an API path into what is being asked, as kube-apiserver's RequestInfoFactory does:
 * `/api/v1/namespaces/ns/pods/name/log` → resource pods, namespace ns, name, subresource log.
 */
export type RequestVerb =
  | 'get'
  | 'list'
  | 'watch'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | 'deletecollection'
  | 'connect';

export interface ResourceRequestInfo {
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
  verb: RequestVerb;
  /** Segments after the subresource (e.g. proxy paths). */
  rest: string[];
}

/** Namespace subresources that are addressed as /namespaces/<name>/<subresource>. */
const NAMESPACE_SUBRESOURCES = new Set(['status', 'finalize']);

/** Returns undefined when the path is not a resource path (discovery documents and the like). */
export function parseResourcePath(method: string, pathname: string, watchParam: boolean): ResourceRequestInfo | undefined {
  const parts = pathname.split('/').filter((p) => p !== '').map(safeDecode);
  if (parts.some((p) => p === undefined)) return undefined;
  const segs = parts as string[];
  let group: string;
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    if (segs.length < 3) return undefined;
    group = '';
    version = segs[1];
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    if (segs.length < 4) return undefined;
    group = segs[1];
    version = segs[2];
    rest = segs.slice(3);
  } else {
    return undefined;
  }
  let namespace = '';
  let legacyWatch = false;
  if (rest[0] === 'watch') {
    // Deprecated /watch/ path prefix, still sent by some clients.
    legacyWatch = true;
    rest = rest.slice(1);
  }
  if (rest[0] === 'namespaces' && rest.length > 1) {
    namespace = rest[1];
    if (rest.length > 2 && !NAMESPACE_SUBRESOURCES.has(rest[2])) rest = rest.slice(2);
  }
  const [resource = '', name = '', subresource = '', ...remaining] = rest;
  if (!resource) return undefined;
  // The namespace object itself: /api/v1/namespaces/<name>[/status].
  if (resource === 'namespaces' && name && namespace === name) namespace = '';
  let verb: RequestVerb;
  switch (method) {
    case 'GET':
    case 'HEAD':
      verb = name ? 'get' : 'list';
      if (watchParam || legacyWatch) verb = 'watch';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = 'connect';
  }
  return { group, version, namespace, resource, name, subresource, verb, rest: remaining };
}

function safeDecode(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
