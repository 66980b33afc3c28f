/**
 * KubeSphere 4's generic `/kapis` CRUD: any path no platform route claims,
 * `/kapis/<group>/<version>/[workspaces/<ws>/][namespaces/<ns>/]<resource>[/<name>]`, is served
 * for the resource the cluster serves under that group and version — this is how roles,
 * bindings, role templates and categories of iam.kubesphere.io are listed and edited.
 *
 * - Lists answer `{items, totalItems}` with KubeSphere's filters, sorting and paging.
 * - Under `workspaces/<ws>` objects carry `kubesphere.io/workspace=<ws>`: lists are filtered by
 *   it, creates and updates get it, and an object of another workspace is not found — nor may a
 *   write move an object to another workspace. A namespace under a workspace must be one of its
 *   projects.
 * - Writes are made as the platform after the front has authorized the caller, and pass the same
 *   admission as proxied writes (workspace quotas, protected resources).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors, StatusError, type KubeObject } from '@canopy/apimachinery';
import { types, type ResourceType } from '@canopy/client';
import type { ServedResources } from '../controllers/served-resources.js';
import { WORKSPACE_LABEL } from '../iam/types.js';
import type { PlatformContext } from '../server/types.js';
import type { WriteAdmission } from '../tenant/admission.js';
import { listResult, objectBody, queryOf } from './support.js';

export interface GenericPath {
  group: string;
  version: string;
  workspace?: string;
  namespace?: string;
  resource: string;
  name?: string;
}

/** Reads a `/kapis/...` path; undefined when it is not of the generic shape. */
export function parseGenericPath(path: string): GenericPath | undefined {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  if (parts[0] !== 'kapis' || parts.length < 4) return undefined;
  const out: GenericPath = { group: parts[1], version: parts[2], resource: '' };
  let rest = parts.slice(3);
  if (rest[0] === 'workspaces' && rest.length > 2) {
    out.workspace = rest[1];
    rest = rest.slice(2);
  }
  if (rest[0] === 'namespaces' && rest.length > 2) {
    out.namespace = rest[1];
    rest = rest.slice(2);
  }
  if (rest.length < 1 || rest.length > 2) return undefined;
  out.resource = rest[0];
  out.name = rest[1];
  return out;
}

const PATCH_TYPES: Record<string, 'json' | 'merge' | 'strategic' | 'apply'> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/apply-patch+yaml': 'apply',
};

export function genericKapis(options: { served: ServedResources; admission: WriteAdmission }) {
  return (app: FastifyInstance, context: PlatformContext): void => {
    const client = context.client;

    const resolve = async (p: GenericPath): Promise<ResourceType> => {
      const type = await options.served.resolve(p.group, p.resource, p.version);
      if (!type || (p.namespace && !type.namespaced)) throw errors.pathNotFound();
      return type;
    };

    /** A namespace named under a workspace must be one of its projects. */
    const checkProject = async (p: GenericPath) => {
      if (!p.workspace || !p.namespace) return;
      const ns = await client.tryGet(types.namespaces, p.namespace);
      if (ns?.metadata.labels?.[WORKSPACE_LABEL] !== p.workspace)
        throw errors.notFound({ group: '', resource: 'namespaces' }, p.namespace);
    };

    const inWorkspace = (p: GenericPath, type: ResourceType, object: KubeObject) => {
      if (p.workspace && object.metadata.labels?.[WORKSPACE_LABEL] !== p.workspace) {
        throw errors.notFound({ group: type.group, resource: type.resource }, object.metadata.name ?? '');
      }
    };

    /** The Kubernetes path of the object (or collection), for admission. */
    const apiPath = (type: ResourceType, namespace: string | undefined, name?: string) => client.path(type, namespace, name);

    const handle = async (req: FastifyRequest, reply: FastifyReply) => {
      const p = parseGenericPath(req.url.split('?')[0]);
      if (!p) throw errors.pathNotFound();
      const type = await resolve(p);
      await checkProject(p);
      const ref = { group: type.group, resource: type.resource };
      const method = req.method.toUpperCase();
      const apiVersion = type.group ? `${type.group}/${type.version}` : type.version;

      if (!p.name) {
        if (method === 'GET') {
          const labelSelector = p.workspace ? `${WORKSPACE_LABEL}=${p.workspace}` : undefined;
          const list = await client.listAll(type, { namespace: p.namespace, labelSelector });
          return listResult(list.items, queryOf(req), apiVersion, type.kind);
        }
        if (method === 'POST') {
          const object = objectBody(req);
          if (p.workspace) object.metadata.labels = { ...object.metadata.labels, [WORKSPACE_LABEL]: p.workspace };
          if (type.namespaced) {
            if (!p.namespace) throw errors.badRequest(`${type.resource} is namespaced: create it under namespaces/<namespace>`);
            object.metadata.namespace = p.namespace;
          }
          const body = JSON.stringify({ apiVersion, kind: type.kind, ...object });
          await options.admission.admit({
            method,
            path: apiPath(type, p.namespace),
            query: new URLSearchParams(),
            headers: { 'content-type': 'application/json' },
            body,
          });
          return reply.code(201).send(await client.create(type, object));
        }
        throw errors.methodNotAllowed(`${method} is not supported on a collection`);
      }

      const current = await client.get(type, p.name, p.namespace);
      inWorkspace(p, type, current);
      switch (method) {
        case 'GET':
          return { apiVersion, kind: type.kind, ...current };
        case 'PUT': {
          const object = objectBody(req);
          if (object.metadata.name !== p.name) {
            throw errors.badRequest(
              `the name of the object (${object.metadata.name ?? ''}) does not match the name on the URL (${p.name})`,
            );
          }
          if (p.workspace) object.metadata.labels = { ...object.metadata.labels, [WORKSPACE_LABEL]: p.workspace };
          if (type.namespaced) object.metadata.namespace = p.namespace;
          const body = JSON.stringify({ apiVersion, kind: type.kind, ...object });
          await options.admission.admit({
            method,
            path: apiPath(type, p.namespace, p.name),
            query: new URLSearchParams(),
            headers: { 'content-type': 'application/json' },
            body,
          });
          return client.update(type, object);
        }
        case 'PATCH': {
          const contentType = String(req.headers['content-type'] ?? '')
            .split(';')[0]
            .trim()
            .toLowerCase();
          const patchType = PATCH_TYPES[contentType];
          if (!patchType) throw errors.unsupportedMediaType(contentType);
          const raw = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
          const path = apiPath(type, p.namespace, p.name);
          await options.admission.admit({
            method,
            path,
            query: new URLSearchParams(),
            headers: { 'content-type': contentType },
            body: raw,
          });
          if (!p.workspace) return client.patch(type, p.name, raw.toString('utf8'), patchType, { namespace: p.namespace });
          // Under a workspace the result must stay in it: patch a dry run, check, then store
          // that result under the version it was computed from.
          const query = new URLSearchParams({ dryRun: 'All' });
          const res = await client.transport.request({
            method: 'PATCH',
            path,
            query,
            headers: { 'content-type': contentType, accept: 'application/json' },
            body: raw,
          });
          if (res.status < 200 || res.status > 299) throw statusOf(res.status, res.body);
          const patched = JSON.parse(res.body) as KubeObject;
          if (patched.metadata?.labels?.[WORKSPACE_LABEL] !== p.workspace) {
            throw errors.forbidden(
              ref,
              p.name,
              `the object must stay in the workspace "${p.workspace}" (label ${WORKSPACE_LABEL})`,
            );
          }
          return client.update(type, patched);
        }
        case 'DELETE': {
          await options.admission.admit({
            method,
            path: apiPath(type, p.namespace, p.name),
            query: new URLSearchParams(),
            headers: {},
          });
          return client.delete(type, p.name, { namespace: p.namespace });
        }
        default:
          throw errors.methodNotAllowed(`${method} is not supported`);
      }
    };

    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const)
      app.route({ method, url: '/kapis/*', handler: handle });
  };
}

function statusOf(code: number, body: string): StatusError {
  try {
    const status = JSON.parse(body) as { reason?: string; message?: string; details?: never };
    return new StatusError(code, status.reason ?? 'Unknown', status.message ?? body, status.details);
  } catch {
    return new StatusError(code, 'Unknown', body);
  }
}
