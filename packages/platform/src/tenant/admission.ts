/**
 * The admission checks the platform enforces, in two places:
 *
 * - in its front, on every create, update, patch and delete proxied to the cluster through
 *   `/api` and `/apis` (and the generic `/kapis` CRUD), so they hold against any cluster;
 * - as API-server admission plug-ins (`platformAdmissionPlugins`) that all-in-one registers on
 *   the embedded API server, so they also hold for writes that bypass the platform (kubectl
 *   with a user's own kubeconfig, controllers). These read the API server's own storage
 *   synchronously inside the write, so concurrent writers cannot both take the last unit of a
 *   quota; the front's check reads informers and can race with another writer.
 *
 * The checks: workspace quotas (`checkWorkspaceQuota`), and protected resources — an object
 * labelled `kubesphere.io/protected-resource=true` cannot be deleted (KubeSphere's
 * resource-protection webhook).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors, StatusError, type KubeObject, type ResourceRef } from '@canopy/apimachinery';
import type { KubeClient } from '@canopy/client';
import { newRequestInfo } from '../iam/request-info.js';
import { PROTECTED_RESOURCE_LABEL } from '../iam/types.js';
import { forwardedHeaders } from '../server/kube-proxy.js';
import { evaluatorFor, quotaHard, quotaUsed } from '@canopy/apimachinery';
import {
  asNamespaceQuota,
  checkWorkspaceQuota,
  quotaSelects,
  type WorkspaceQuota,
  type WorkspaceQuotaTracker,
} from './workspace-quota.js';

const QUOTA_GROUP = 'quota.kubesphere.io';

/** The refusal to delete a protected object, or undefined. */
export function checkProtectedDeletion(ref: ResourceRef, object: KubeObject | undefined): StatusError | undefined {
  if (object?.metadata?.labels?.[PROTECTED_RESOURCE_LABEL] !== 'true') return undefined;
  return errors.forbidden(
    ref,
    object.metadata.name ?? '',
    `this resource may not be deleted: it is labelled ${PROTECTED_RESOURCE_LABEL}=true (remove the label first)`,
  );
}

// --- the API server's plug-in interface, structurally (the platform does not depend on the API server) ---

/** What the embedded API server's admission chain passes (kube-apiserver's AdmissionAttributes). */
export interface AdmissionAttributesLike {
  operation: 'CREATE' | 'UPDATE' | 'DELETE';
  def: { group: string; resource: string; namespaced: boolean; storage?: { group: string; resource: string } };
  namespace: string;
  name: string;
  subresource?: string;
  object?: KubeObject;
  oldObject?: KubeObject;
  dryRun: boolean;
}

export interface AdmissionPluginLike {
  readonly name: string;
  validate?(attributes: AdmissionAttributesLike): void;
}

/**
 * Synchronous reads of what the API server stores (as its own ResourceQuota plug-in reads):
 * the objects of a resource, named by group and plural, in a namespace or cluster-wide ('').
 */
export interface StoredObjects {
  list(group: string, resource: string, namespace?: string): KubeObject[];
}

/**
 * The platform's checks as validating plug-ins of the embedded API server: register each with
 * `apiServer.admission.add(plugin)`, giving them the server's storage to read.
 */
export function platformAdmissionPlugins(stored: StoredObjects): AdmissionPluginLike[] {
  return [
    {
      name: 'WorkspaceResourceQuota',
      validate(a) {
        if (a.subresource || !a.def.namespaced || !a.object || !a.namespace) return;
        if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
        const allQuotas = stored.list(QUOTA_GROUP, 'resourcequotas') as WorkspaceQuota[];
        if (!allQuotas.length) return;
        const namespaces = stored.list('', 'namespaces');
        const labels = namespaces.find((ns) => ns.metadata.name === a.namespace)?.metadata.labels;
        const quotas = allQuotas.filter((q) => !q.metadata.deletionTimestamp && quotaSelects(q, labels));
        if (!quotas.length) return;
        const where = a.def.storage ?? a.def;
        const usage = (quota: WorkspaceQuota, names: Set<string>) => {
          const selected = namespaces.filter((ns) => quotaSelects(quota, ns.metadata.labels)).map((ns) => ns.metadata.name!);
          return quotaUsed(
            asNamespaceQuota(quota),
            (source) => selected.flatMap((ns) => stored.list(source.group, source.resource, ns)),
            new Date(),
            names,
          );
        };
        const refusal = checkWorkspaceQuota(quotas, usage, {
          operation: a.operation,
          group: where.group,
          resource: where.resource,
          namespace: a.namespace,
          name: a.name,
          object: a.object,
          oldObject: a.oldObject,
        });
        if (refusal) throw refusal;
      },
    },
    {
      name: 'ProtectedResource',
      validate(a) {
        if (a.operation !== 'DELETE' || a.subresource) return;
        const refusal = checkProtectedDeletion({ group: a.def.group, resource: a.def.resource }, a.oldObject);
        if (refusal) throw refusal;
      },
    },
  ];
}

// --- the front ---------------------------------------------------------------------------------

export interface ProxiedWrite {
  method: string;
  /** A Kubernetes API path (`/api/...`, `/apis/...`). */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string>;
  body?: Buffer | string;
}

function parse(body: string): KubeObject | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as KubeObject) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The checks on a write about to be forwarded to the cluster. Throws the refusal; returns when
 * the write may go (including when it would fail anyway: the cluster then answers it).
 */
export class WriteAdmission {
  constructor(
    private readonly client: KubeClient,
    private readonly tracker: WorkspaceQuotaTracker,
  ) {}

  async admit(write: ProxiedWrite): Promise<void> {
    const method = write.method.toUpperCase();
    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) return;
    const q = write.query.toString();
    const info = newRequestInfo(method, `${write.path}${q ? `?${q}` : ''}`);
    if (!info.isResourceRequest || info.subresource || !info.resource) return;
    if (method === 'DELETE') return this.admitDelete(write, info.apiGroup, info.resource, info.name);
    if (!info.namespace || info.resource === 'namespaces') return;
    await this.admitQuota(write, method, info.apiGroup, info.resource, info.namespace, info.name);
  }

  private async get(path: string, query?: URLSearchParams): Promise<{ status: number; body: string }> {
    return this.client.transport.request({ method: 'GET', path, query, headers: { accept: 'application/json' } });
  }

  private async admitDelete(write: ProxiedWrite, group: string, resource: string, name: string): Promise<void> {
    const ref = { group, resource };
    if (name) {
      const res = await this.get(write.path);
      if (res.status !== 200) return;
      const refusal = checkProtectedDeletion(ref, parse(res.body));
      if (refusal) throw refusal;
      return;
    }
    // A collection delete removes each object: it is refused if it would remove a protected one.
    const query = new URLSearchParams();
    for (const key of ['labelSelector', 'fieldSelector']) {
      const v = write.query.get(key);
      if (v) query.set(key, v);
    }
    const res = await this.get(write.path, query);
    if (res.status !== 200) return;
    for (const item of (parse(res.body) as { items?: KubeObject[] } | undefined)?.items ?? []) {
      const refusal = checkProtectedDeletion(ref, item);
      if (refusal) throw refusal;
    }
  }

  private async admitQuota(
    write: ProxiedWrite,
    method: string,
    group: string,
    resource: string,
    namespace: string,
    name: string,
  ): Promise<void> {
    const evaluator = evaluatorFor(group, resource);
    const quotas = this.tracker
      .quotasOf(namespace)
      .filter((quota) => [...quotaHard(asNamespaceQuota(quota)).keys()].some((n) => evaluator.matches(n)));
    if (!quotas.length) return;
    await Promise.all(quotas.map((quota) => this.tracker.track(quota)));
    // The object as the cluster would store it (defaults, limit ranges, patches applied).
    const query = new URLSearchParams(write.query);
    query.set('dryRun', 'All');
    const res = await this.client.transport.request({
      method,
      path: write.path,
      query,
      headers: { ...write.headers, accept: 'application/json' },
      body: write.body,
    });
    if (res.status < 200 || res.status > 299) return;
    const object = parse(res.body);
    if (!object) return;
    const objectName = name || object.metadata?.name || '';
    let oldObject: KubeObject | undefined;
    if (method !== 'POST') {
      oldObject = this.tracker.cached(group, resource, objectName, namespace);
      if (!oldObject) {
        const current = await this.get(write.path);
        if (current.status === 200) oldObject = parse(current.body);
      }
    }
    const refusal = checkWorkspaceQuota(quotas, (q, names) => this.tracker.used(q, names), {
      operation: oldObject ? 'UPDATE' : 'CREATE',
      group,
      resource,
      namespace,
      name: objectName,
      object,
      oldObject,
    });
    if (refusal) throw refusal;
  }
}

/** The front's hook: admission of every write proxied to `/api` and `/apis`. */
export function frontAdmission(admission: WriteAdmission) {
  return (app: FastifyInstance): void => {
    app.addHook('preHandler', async (req: FastifyRequest) => {
      const request = req.platform;
      if (!request || !/^\/apis?(\/|$)/.test(request.path)) return;
      if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(request.method.toUpperCase())) return;
      try {
        await admission.admit({
          method: request.method,
          path: request.path,
          query: request.query,
          headers: forwardedHeaders(req.headers),
          body: Buffer.isBuffer(req.body) ? req.body : undefined,
        });
      } catch (err) {
        if (err instanceof StatusError) throw err;
        throw errors.internal(`admission: ${(err as Error).message}`);
      }
    });
  };
}
