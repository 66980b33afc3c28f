/**
 * What the tenant and IAM route modules share: authorization questions asked inside a handler
 * (the front has already authorized the request itself; handlers narrow answers to what the
 * caller may see, as KubeSphere's handlers do), JSON bodies, list queries and KubeSphere's
 * `{"message": "success"}` answer.
 */
import type { FastifyRequest } from 'fastify';
import { errors, type KubeObject } from '@canopy/apimachinery';
import type { AuthorizationAttributes, IamAuthorizer, ResourceScope } from '../iam/authorizer.js';
import type { InMemoryIamPolicy } from '../iam/memory-policy.js';
import type { PlatformUser } from '../server/types.js';
import { applyListQuery, parseListQuery } from '../resources/query.js';

/** The platform's authorization state, handed to route modules that need to ask it. */
export interface PlatformAccess {
  policy: InMemoryIamPolicy;
  authorizer: IamAuthorizer;
}

export interface AccessQuestion {
  verb: string;
  scope: ResourceScope;
  apiGroup?: string;
  resource?: string;
  subresource?: string;
  name?: string;
  workspace?: string;
  namespace?: string;
}

/** Whether the user may do this (the platform's three-scope evaluation). */
export function can(access: PlatformAccess, user: PlatformUser, q: AccessQuestion): boolean {
  const attributes: AuthorizationAttributes = {
    user,
    verb: q.verb,
    resourceRequest: true,
    apiGroup: q.apiGroup ?? '',
    apiVersion: '',
    resource: q.resource ?? '',
    subresource: q.subresource ?? '',
    name: q.name ?? '',
    resourceScope: q.scope,
    workspace: q.workspace ?? '',
    namespace: q.namespace ?? '',
    kubernetesRequest: false,
  };
  return access.authorizer.authorize(attributes).allowed;
}

/** KubeSphere's success answer (`errors.None`). */
export const SUCCESS = { message: 'success' } as const;

/** The request body as JSON (the front hands bodies over raw), or a 400 worded like kube's decoder. */
export function jsonBody<T = unknown>(req: FastifyRequest): T {
  const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : typeof req.body === 'string' ? req.body : '';
  if (!raw.trim()) throw errors.badRequest('the request body is empty: a JSON object is required');
  try {
    return JSON.parse(raw) as T;
  } catch (err) {
    throw errors.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
}

/** A JSON object body (the kind every create, update and patch of an object takes). */
export function objectBody(req: FastifyRequest): KubeObject {
  const body = jsonBody<unknown>(req);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw errors.badRequest('the request body must be a JSON object');
  const object = body as KubeObject;
  if (
    object.metadata !== undefined &&
    (typeof object.metadata !== 'object' || object.metadata === null || Array.isArray(object.metadata))
  ) {
    throw errors.badRequest('metadata must be an object');
  }
  object.metadata ??= {};
  return object;
}

export function queryOf(req: FastifyRequest): URLSearchParams {
  const at = req.url.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : req.url.slice(at + 1));
}

/** KubeSphere's `{items, totalItems}` after its filters, sorting and paging. */
export function listResult(
  objects: Iterable<KubeObject>,
  query: URLSearchParams,
  apiVersion?: string,
  kind?: string,
): { items: KubeObject[]; totalItems: number } {
  const result = applyListQuery(objects, parseListQuery(query));
  const items = apiVersion && kind ? result.items.map((o) => ({ apiVersion, kind, ...o })) : result.items;
  return { items, totalItems: result.totalItems };
}

/** A stored User as the API shows it: never its password hash. */
export function publicUser(user: KubeObject): KubeObject {
  const copy = structuredClone(user) as KubeObject & { spec?: Record<string, unknown> };
  if (copy.spec) delete copy.spec.password;
  return copy;
}
