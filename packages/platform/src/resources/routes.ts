/**
 * `resources.kubesphere.io/v1alpha3`: any served resource listed from an informer cache with
 * KubeSphere's filters, sorting and paging (`{items, totalItems}`). Informers start on first use
 * of a type and stay; the first request for a type waits for its initial list.
 */
import type { FastifyInstance } from 'fastify';
import { StatusError, type KubeObject } from '@canopy/apimachinery';
import { types, type Informer, type ResourceType } from '@canopy/client';
import type { PlatformContext, PlatformUser } from '../server/types.js';
import { ResourceCatalog } from './catalog.js';
import { kindFilterFor } from './kind-filters.js';
import { applyListQuery, parseListQuery } from './query.js';

export interface ResourcesApiOptions {
  /**
   * Whether the user may see one object of a cluster-wide answer. The request itself is already
   * authorized; this narrows lists such as namespaces or workspaces to the caller's own.
   */
  visible?(user: PlatformUser, type: ResourceType, object: KubeObject): boolean;
}

const PREFIX = '/kapis/resources.kubesphere.io/v1alpha3';

export function resourcesApi(options: ResourcesApiOptions = {}) {
  return (app: FastifyInstance, context: PlatformContext): void => {
    const catalog = new ResourceCatalog(context.client);
    const started = new Map<string, Informer>();

    const informerFor = async (plural: string): Promise<Informer> => {
      const type = await catalog.resolve(plural);
      if (!type) throw new StatusError(404, 'NotFound', `the server could not find the requested resource (resources "${plural}")`);
      const key = `${type.group}/${type.resource}`;
      let informer = started.get(key);
      if (!informer) {
        informer = context.informers.for(type);
        started.set(key, informer);
      }
      await informer.start();
      return informer;
    };
    const services = () => context.informers.for(types.services);

    const list = async (plural: string, namespace: string | undefined, query: URLSearchParams, user: PlatformUser) => {
      const q = parseListQuery(query);
      const informer = await informerFor(plural);
      if (namespace !== undefined && !informer.type.namespaced) throw new StatusError(404, 'NotFound', `${plural} is not a namespaced resource`);
      if (informer.type.kind === 'Pod' && q.filters.has('serviceName')) await services().start();
      const filter = kindFilterFor(informer.type.kind, { service: (ns, name) => services().get(name, ns) });
      let items: KubeObject[] = informer.list(namespace);
      if (options.visible && namespace === undefined) items = items.filter((o) => options.visible!(user, informer.type, o));
      const result = applyListQuery(items, q, filter);
      const apiVersion = informer.type.group ? `${informer.type.group}/${informer.type.version}` : informer.type.version;
      return { items: result.items.map((o) => ({ apiVersion, kind: informer.type.kind, ...o })), totalItems: result.totalItems };
    };

    const get = async (plural: string, namespace: string | undefined, name: string) => {
      const informer = await informerFor(plural);
      const object = informer.get(name, informer.type.namespaced ? namespace : undefined);
      if (!object) throw new StatusError(404, 'NotFound', `${plural} "${name}" not found`, { name, kind: plural });
      const apiVersion = informer.type.group ? `${informer.type.group}/${informer.type.version}` : informer.type.version;
      return { apiVersion, kind: informer.type.kind, ...object };
    };

    const query = (url: string) => new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
    app.get<{ Params: { resources: string } }>(`${PREFIX}/:resources`, async (req) => list(req.params.resources, undefined, query(req.url), context.userOf(req)));
    app.get<{ Params: { resources: string; name: string } }>(`${PREFIX}/:resources/:name`, async (req) => get(req.params.resources, undefined, req.params.name));
    app.get<{ Params: { namespace: string; resources: string } }>(`${PREFIX}/namespaces/:namespace/:resources`, async (req) =>
      list(req.params.resources, req.params.namespace, query(req.url), context.userOf(req)),
    );
    app.get<{ Params: { namespace: string; resources: string; name: string } }>(`${PREFIX}/namespaces/:namespace/:resources/:name`, async (req) =>
      get(req.params.resources, req.params.namespace, req.params.name),
    );
  };
}
