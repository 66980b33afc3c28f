/**
 * Service endpoints from pod readiness, as kube-controller-manager's endpoint and endpointslice
 * controllers publish them. Both follow the same inputs (Services with a selector, the pods the
 * selector matches in the Service's namespace, their IPs, readiness, ports and nodes):
 *  - `Endpoints` (core/v1): ready pods under `addresses`, unready ones under `notReadyAddresses`
 *    (all ready with `publishNotReadyAddresses`), terminating pods left out unless published,
 *    subsets grouped by the ports each pod resolves, at most 1,000 addresses;
 *  - `EndpointSlice` (discovery.k8s.io/v1): every pod with an IP, terminating ones included, with
 *    the `ready`, `serving` and `terminating` conditions, targetRef, nodeName and the node's zone,
 *    at most 100 endpoints per slice, one group of slices per port set, labelled
 *    `kubernetes.io/service-name` and `endpointslice.kubernetes.io/managed-by` and owned by the
 *    Service.
 */
import { jsonDeepEqual, type KubeObject } from '@canopy/apimachinery';
import { isAlreadyExists, isConflict, isNotFound, types, WorkQueue, type Informer } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';
import { isPodReady } from './controller-utils/pods.js';
import type { Pod } from './controller-utils/types.js';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const ENDPOINTSLICE_CONTROLLER_NAME = 'endpointslice-controller.k8s.io';
const HEADLESS_LABEL = 'service.kubernetes.io/headless';
const ZONE_LABEL = 'topology.kubernetes.io/zone';
/** kube-controller-manager's --max-endpoints-per-slice default. */
export const MAX_ENDPOINTS_PER_SLICE = 100;
/** Endpoints objects are truncated past this many addresses (kube's maxCapacity). */
const MAX_ENDPOINTS_ADDRESSES = 1000;
const OVER_CAPACITY_ANNOTATION = 'endpoints.kubernetes.io/over-capacity';

interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

interface ServiceSpec {
  selector?: Record<string, string>;
  ports?: ServicePort[];
  clusterIP?: string;
  type?: string;
  publishNotReadyAddresses?: boolean;
  ipFamilies?: string[];
}

interface PodSpec {
  nodeName?: string;
  hostname?: string;
  subdomain?: string;
  containers?: Array<{ ports?: Array<{ name?: string; containerPort: number; protocol?: string }> }>;
}

interface PodStatus {
  phase?: string;
  podIP?: string;
  podIPs?: Array<{ ip: string }>;
  conditions?: Array<{ type: string; status: string }>;
}

export interface EndpointPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

const specOf = (svc: KubeObject) => (svc.spec ?? {}) as ServiceSpec;
const podSpec = (pod: KubeObject) => (pod.spec ?? {}) as PodSpec;
const podStatus = (pod: KubeObject) => (pod.status ?? {}) as PodStatus;

function isTerminal(pod: KubeObject): boolean {
  const phase = podStatus(pod).phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** kube's ShouldPodBeInEndpoints. */
function shouldBeInEndpoints(pod: KubeObject, includeTerminating: boolean): boolean {
  if (isTerminal(pod)) return false;
  if (!podStatus(pod).podIP && !podStatus(pod).podIPs?.length) return false;
  return includeTerminating || !pod.metadata.deletionTimestamp;
}

function podIPv4(pod: KubeObject): string | undefined {
  const status = podStatus(pod);
  const ips = [status.podIP, ...(status.podIPs ?? []).map((p) => p.ip)].filter((ip): ip is string => !!ip);
  return ips.find((ip) => !ip.includes(':')) ?? ips[0];
}

/** kube's podutil.FindPort: a named target port resolves through the pod's container ports. */
function findPort(pod: KubeObject, port: ServicePort): number | undefined {
  const target = port.targetPort ?? port.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = port.protocol ?? 'TCP';
  for (const c of podSpec(pod).containers ?? []) {
    for (const p of c.ports ?? []) if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
  }
  return undefined;
}

/** The ports a pod serves for a Service (a port whose named target the pod lacks is left out). */
function endpointPorts(service: KubeObject, pod: KubeObject): EndpointPort[] {
  const out: EndpointPort[] = [];
  for (const sp of specOf(service).ports ?? []) {
    const port = findPort(pod, sp);
    if (port === undefined) continue;
    out.push({ ...(sp.name !== undefined ? { name: sp.name } : {}), port, protocol: sp.protocol ?? 'TCP', ...(sp.appProtocol ? { appProtocol: sp.appProtocol } : {}) });
  }
  return out;
}

function portsKey(ports: EndpointPort[]): string {
  return JSON.stringify([...ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port));
}

/** kube's ShouldSetHostname: the pod asked for a hostname under this Service's subdomain. */
function hostnameFor(pod: KubeObject, service: KubeObject): string | undefined {
  const spec = podSpec(pod);
  return spec.hostname && spec.subdomain === service.metadata.name && pod.metadata.namespace === service.metadata.namespace ? spec.hostname : undefined;
}

function targetRef(pod: KubeObject) {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

function selects(service: KubeObject, pod: KubeObject): boolean {
  const selector = specOf(service).selector;
  if (!selector || !Object.keys(selector).length) return false;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Services whose endpoints this layer manages: a non-empty selector, not ExternalName. */
function isManaged(service: KubeObject): boolean {
  const spec = specOf(service);
  return !!spec.selector && Object.keys(spec.selector).length > 0 && spec.type !== 'ExternalName';
}

/** What both controllers share: service and pod informers, and a queue of services to sync. */
abstract class ServiceEndpointsController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue<string>;
  protected readonly services: Informer;
  protected readonly pods: Informer;

  constructor(protected readonly context: ControllerContext) {
    // Retries run in real time; the controller's clock is for what the API's semantics time.
    this.queue = new WorkQueue({ log: context.log, name: this.constructor.name, maxDelayMs: 30_000 });
    this.services = context.informers.for(types.services);
    this.pods = context.informers.for(types.pods);
    const key = (o: KubeObject) => `${o.metadata.namespace}/${o.metadata.name}`;
    this.services.addHandler({
      onAdd: (s) => this.queue.add(key(s)),
      onUpdate: (_old, s) => this.queue.add(key(s)),
      onDelete: (s) => this.queue.add(key(s)),
    });
    const podChanged = (old: KubeObject | undefined, pod: KubeObject) => {
      for (const svc of this.services.list(pod.metadata.namespace)) {
        if (selects(svc, pod) || (old && selects(svc, old))) this.queue.add(key(svc));
      }
    };
    this.pods.addHandler({
      onAdd: (p) => podChanged(undefined, p),
      onUpdate: (old, p) => {
        // Only what endpoints are made of: labels, IPs, readiness, deletion, node, phase.
        if (old.metadata.resourceVersion === p.metadata.resourceVersion) return;
        podChanged(old, p);
      },
      onDelete: (p) => podChanged(undefined, p),
    });
  }

  /** Informers whose contents a sync reads; work starts once they have listed. */
  protected caches(): Array<Informer<any>> {
    return [this.services, this.pods];
  }

  start(): void {
    void Promise.all(this.caches().map((i) => i.waitForSync())).then(() =>
      this.queue.run(async (key) => {
        const slash = key.indexOf('/');
        await this.sync(key.slice(0, slash), key.slice(slash + 1));
      }, 2),
    );
  }

  stop(): void {
    this.queue.shutdown();
  }

  protected selectedPods(service: KubeObject): KubeObject[] {
    return this.pods.list(service.metadata.namespace).filter((p) => selects(service, p));
  }

  protected abstract sync(namespace: string, name: string): Promise<void>;
}

// ---- Endpoints ----------------------------------------------------------------------------------

interface Address {
  ip: string;
  hostname?: string;
  nodeName?: string;
  targetRef: ReturnType<typeof targetRef>;
}

interface Subset {
  addresses?: Address[];
  notReadyAddresses?: Address[];
  ports?: EndpointPort[];
}

/** kube's endpoints.RepackSubsets: one subset per distinct port set, addresses sorted. */
function repack(entries: Array<{ address: Address; ready: boolean; ports: EndpointPort[] }>): Subset[] {
  const groups = new Map<string, { ports: EndpointPort[]; ready: Address[]; notReady: Address[] }>();
  for (const e of entries) {
    const k = portsKey(e.ports);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = { ports: [...e.ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port), ready: [], notReady: [] }));
    (e.ready ? g.ready : g.notReady).push(e.address);
  }
  const byIp = (a: Address, b: Address) => compareIps(a.ip, b.ip) || (a.targetRef.uid ?? '').localeCompare(b.targetRef.uid ?? '');
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([, g]) => ({
      ...(g.ready.length ? { addresses: g.ready.sort(byIp) } : {}),
      ...(g.notReady.length ? { notReadyAddresses: g.notReady.sort(byIp) } : {}),
      ...(g.ports.length ? { ports: g.ports } : {}),
    }));
}

function compareIps(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isFinite) && pb.every(Number.isFinite)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
    return 0;
  }
  return a.localeCompare(b);
}

export class EndpointsController extends ServiceEndpointsController {
  readonly name = 'endpoint';
  private readonly endpoints: Informer;

  constructor(context: ControllerContext) {
    super(context);
    this.endpoints = context.informers.for(types.endpoints);
    // Someone else changed or deleted an Endpoints object of a managed Service: put it back.
    const changed = (ep: KubeObject) => {
      const svc = this.services.get(ep.metadata.name!, ep.metadata.namespace);
      if (svc && isManaged(svc)) this.queue.add(`${ep.metadata.namespace}/${ep.metadata.name}`);
    };
    // Its add event also brings back a Service whose sync met a cache without it.
    this.endpoints.addHandler({ onAdd: changed, onUpdate: (_old, ep) => changed(ep), onDelete: changed });
  }

  protected override caches(): Array<Informer<any>> {
    return [...super.caches(), this.endpoints];
  }

  protected async sync(namespace: string, name: string): Promise<void> {
    const client = this.context.client;
    const service = this.services.get(name, namespace);
    if (!service) {
      // The Service is gone: so are its endpoints (the API server does not own them).
      if (this.endpoints.get(name, namespace)) await client.tryDelete(types.endpoints, name, { namespace });
      return;
    }
    if (!isManaged(service)) return;
    const spec = specOf(service);
    const tolerateUnready = spec.publishNotReadyAddresses === true;
    const entries: Array<{ address: Address; ready: boolean; ports: EndpointPort[] }> = [];
    for (const pod of this.selectedPods(service)) {
      if (!shouldBeInEndpoints(pod, tolerateUnready)) continue;
      const ip = podIPv4(pod);
      if (!ip) continue;
      const hostname = hostnameFor(pod, service);
      const address: Address = {
        ip,
        ...(hostname ? { hostname } : {}),
        ...(podSpec(pod).nodeName ? { nodeName: podSpec(pod).nodeName } : {}),
        targetRef: targetRef(pod),
      };
      const ready = tolerateUnready || isPodReady(pod as Pod);
      if (!(spec.ports ?? []).length) {
        // A headless Service without ports still lists its pods.
        if (spec.clusterIP === 'None') entries.push({ address, ready, ports: [] });
        continue;
      }
      const ports = endpointPorts(service, pod);
      if (ports.length) entries.push({ address, ready, ports });
    }
    let subsets = repack(entries);
    const truncated = entries.length > MAX_ENDPOINTS_ADDRESSES;
    if (truncated) subsets = truncate(subsets, MAX_ENDPOINTS_ADDRESSES);
    const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
    if (spec.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
    else delete labels[HEADLESS_LABEL];
    const current = this.endpoints.get(name, namespace);
    const annotations: Record<string, string> = { ...(current?.metadata.annotations ?? {}) };
    if (truncated) annotations[OVER_CAPACITY_ANNOTATION] = 'truncated';
    else delete annotations[OVER_CAPACITY_ANNOTATION];
    const currentSubsets = (current as { subsets?: Subset[] } | undefined)?.subsets ?? [];
    if (current && jsonDeepEqual(currentSubsets, subsets) && jsonDeepEqual(current.metadata.labels ?? {}, labels) && jsonDeepEqual(current.metadata.annotations ?? {}, annotations)) return;
    const body = {
      metadata: { ...(current?.metadata ?? { name, namespace }), labels, annotations },
      subsets,
    } as KubeObject;
    try {
      if (current) await client.update(types.endpoints, body);
      else await client.create(types.endpoints, body);
    } catch (err) {
      // The cache was behind: the Endpoints' own event brings the Service back to the queue.
      if (isConflict(err) || isAlreadyExists(err)) return;
      // A terminating namespace refuses new content; its Endpoints go with it.
      if ((err as { code?: number }).code === 403 || isNotFound(err)) return;
      throw err;
    }
  }
}

/** kube's truncateEndpoints: keeps `max` addresses, ready ones first, spread over subsets. */
function truncate(subsets: Subset[], max: number): Subset[] {
  let left = max;
  const out: Subset[] = [];
  for (const s of subsets) {
    const addresses = (s.addresses ?? []).slice(0, left);
    left -= addresses.length;
    out.push({ ...s, ...(addresses.length ? { addresses } : { addresses: undefined }) });
  }
  for (const s of out) {
    const notReady = (subsets[out.indexOf(s)].notReadyAddresses ?? []).slice(0, Math.max(0, left));
    left -= notReady.length;
    if (notReady.length) s.notReadyAddresses = notReady;
    else delete s.notReadyAddresses;
    if (!s.addresses) delete s.addresses;
  }
  return out.filter((s) => s.addresses?.length || s.notReadyAddresses?.length);
}

// ---- EndpointSlices -----------------------------------------------------------------------------

interface SliceEndpoint {
  addresses: string[];
  conditions: { ready: boolean; serving: boolean; terminating: boolean };
  hostname?: string;
  targetRef: ReturnType<typeof targetRef>;
  nodeName?: string;
  zone?: string;
}

interface EndpointSlice extends KubeObject {
  addressType: string;
  endpoints?: SliceEndpoint[] | null;
  ports?: EndpointPort[] | null;
}

export class EndpointSliceController extends ServiceEndpointsController {
  readonly name = 'endpointslice';
  private readonly slices: Informer<EndpointSlice>;
  private readonly nodes: Informer;
  /**
   * kube's endpointSliceTracker: per Service, the slices this controller wrote (name →
   * resourceVersion, '' for deleted) that the informer has not shown yet. A sync on a stale cache
   * would create duplicate slices, so it waits until the cache has caught up.
   */
  private readonly written = new Map<string, Map<string, string>>();

  constructor(context: ControllerContext) {
    super(context);
    this.slices = context.informers.for<EndpointSlice>(types.endpointSlices);
    this.slices.addIndex('service', (s) =>
      s.metadata.labels?.[MANAGED_BY_LABEL] === ENDPOINTSLICE_CONTROLLER_NAME && s.metadata.labels?.[SERVICE_NAME_LABEL]
        ? [`${s.metadata.namespace}/${s.metadata.labels[SERVICE_NAME_LABEL]}`]
        : [],
    );
    this.nodes = context.informers.for(types.nodes);
    const sliceChanged = (s: EndpointSlice) => {
      if (s.metadata.labels?.[MANAGED_BY_LABEL] !== ENDPOINTSLICE_CONTROLLER_NAME) return;
      const svc = s.metadata.labels?.[SERVICE_NAME_LABEL];
      if (svc) this.queue.add(`${s.metadata.namespace}/${svc}`);
    };
    this.slices.addHandler({ onAdd: sliceChanged, onUpdate: (_old, s) => sliceChanged(s), onDelete: sliceChanged });
    // A node's zone label feeds the endpoints of its pods.
    this.nodes.addHandler({
      onUpdate: (old, node) => {
        if (old.metadata.labels?.[ZONE_LABEL] === node.metadata.labels?.[ZONE_LABEL]) return;
        const seen = new Set<string>();
        for (const pod of this.pods.list()) {
          if (podSpec(pod).nodeName !== node.metadata.name) continue;
          for (const svc of this.services.list(pod.metadata.namespace)) {
            const k = `${svc.metadata.namespace}/${svc.metadata.name}`;
            if (!seen.has(k) && selects(svc, pod)) {
              seen.add(k);
              this.queue.add(k);
            }
          }
        }
      },
    });
  }

  protected override caches(): Array<Informer<any>> {
    return [...super.caches(), this.slices, this.nodes];
  }

  private owned(namespace: string, name: string): EndpointSlice[] {
    return this.slices.byIndex('service', `${namespace}/${name}`);
  }

  /** kube's podToEndpoint. */
  private endpointOf(service: KubeObject, pod: KubeObject, ip: string): SliceEndpoint {
    const serving = isPodReady(pod as Pod);
    const terminating = !!pod.metadata.deletionTimestamp;
    const nodeName = podSpec(pod).nodeName;
    const zone = nodeName ? this.nodes.get(nodeName)?.metadata.labels?.[ZONE_LABEL] : undefined;
    const hostname = hostnameFor(pod, service);
    return {
      addresses: [ip],
      // "ready" is never true for a terminating pod unless the Service publishes unready addresses.
      conditions: { ready: specOf(service).publishNotReadyAddresses === true || (serving && !terminating), serving, terminating },
      ...(hostname ? { hostname } : {}),
      targetRef: targetRef(pod),
      ...(nodeName ? { nodeName } : {}),
      ...(zone ? { zone } : {}),
    };
  }

  /** Whether the informer shows every slice write made for the Service (forgetting those it does). */
  private cacheCaughtUp(serviceKey: string): boolean {
    const written = this.written.get(serviceKey);
    if (!written) return true;
    for (const [slice, rv] of written) {
      const seen = this.slices.get(slice, serviceKey.slice(0, serviceKey.indexOf('/')));
      const caught = rv === '' ? !seen : !!seen && Number(seen.metadata.resourceVersion) >= Number(rv);
      if (caught) written.delete(slice);
    }
    if (written.size) return false;
    this.written.delete(serviceKey);
    return true;
  }

  private recordWrite(serviceKey: string, slice: string, resourceVersion: string): void {
    let written = this.written.get(serviceKey);
    if (!written) this.written.set(serviceKey, (written = new Map()));
    written.set(slice, resourceVersion);
  }

  protected async sync(namespace: string, name: string): Promise<void> {
    const serviceKey = `${namespace}/${name}`;
    // The event of the write not seen yet brings the Service back.
    if (!this.cacheCaughtUp(serviceKey)) return;
    const service = this.services.get(name, namespace);
    const existing = this.owned(namespace, name);
    if (!service || !isManaged(service)) {
      // A Service without a selector keeps whatever slices its owner writes; ours go.
      if (!service || specOf(service).type === 'ExternalName') for (const s of existing) await this.deleteSlice(s);
      return;
    }
    const addressType = (specOf(service).ipFamilies ?? ['IPv4'])[0] === 'IPv6' ? 'IPv6' : 'IPv4';
    // Endpoints grouped by the ports they serve, in a stable order.
    const groups = new Map<string, { ports: EndpointPort[]; endpoints: SliceEndpoint[] }>();
    const pods = this.selectedPods(service).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
    for (const pod of pods) {
      if (!shouldBeInEndpoints(pod, true)) continue;
      const ip = podIPv4(pod);
      if (!ip || (addressType === 'IPv4') === ip.includes(':')) continue;
      const ports = endpointPorts(service, pod);
      // A pod that resolves none of several ports serves nothing; a Service without ports lists it bare.
      if (!ports.length && (specOf(service).ports ?? []).length) continue;
      const k = portsKey(ports);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = { ports, endpoints: [] }));
      g.endpoints.push(this.endpointOf(service, pod, ip));
    }
    // kube keeps a placeholder slice (no endpoints, no ports) for a Service with none.
    if (!groups.size) groups.set(portsKey([]), { ports: [], endpoints: [] });
    const byKey = new Map<string, EndpointSlice[]>();
    for (const s of existing) {
      if (s.addressType !== addressType) {
        await this.deleteSlice(s);
        continue;
      }
      const k = portsKey(s.ports ?? []);
      if (!byKey.has(k)) byKey.set(k, []);
      byKey.get(k)!.push(s);
    }
    // Slices of port sets no longer wanted are recycled for new ones before any is created, as
    // kube's reconciler does: an update instead of a delete and a create.
    const recycle = [...byKey].filter(([k]) => !groups.has(k)).flatMap(([, list]) => list);
    for (const [k, g] of groups) {
      const reuse = (byKey.get(k) ?? []).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
      const chunks: SliceEndpoint[][] = [];
      for (let i = 0; i < g.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) chunks.push(g.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE));
      if (!chunks.length) chunks.push([]);
      for (let i = 0; i < chunks.length; i++) await this.writeSlice(service, addressType, g.ports, chunks[i], reuse[i] ?? recycle.shift());
      for (const surplus of reuse.slice(chunks.length)) await this.deleteSlice(surplus);
    }
    for (const stale of recycle) await this.deleteSlice(stale);
  }

  /** kube's setEndpointSliceLabels: the Service's labels plus the controller's own. */
  private labelsFor(service: KubeObject): Record<string, string> {
    const labels: Record<string, string> = { ...(service.metadata.labels ?? {}) };
    delete labels[SERVICE_NAME_LABEL];
    delete labels[MANAGED_BY_LABEL];
    delete labels[HEADLESS_LABEL];
    if (specOf(service).clusterIP === 'None') labels[HEADLESS_LABEL] = '';
    labels[SERVICE_NAME_LABEL] = service.metadata.name!;
    labels[MANAGED_BY_LABEL] = ENDPOINTSLICE_CONTROLLER_NAME;
    return labels;
  }

  private async writeSlice(service: KubeObject, addressType: string, ports: EndpointPort[], endpoints: SliceEndpoint[], current: EndpointSlice | undefined): Promise<void> {
    const labels = this.labelsFor(service);
    if (current && jsonDeepEqual(current.endpoints ?? [], endpoints) && jsonDeepEqual(current.ports ?? [], ports) && jsonDeepEqual(current.metadata.labels ?? {}, labels)) return;
    const ownerReferences = [{ apiVersion: 'v1', kind: 'Service', name: service.metadata.name!, uid: service.metadata.uid!, controller: true, blockOwnerDeletion: true }];
    const body: EndpointSlice = {
      metadata: current ? { ...current.metadata, labels } : { generateName: `${service.metadata.name}-`, namespace: service.metadata.namespace, labels, ownerReferences },
      addressType,
      endpoints,
      ports,
    };
    const client = this.context.client;
    const serviceKey = `${service.metadata.namespace}/${service.metadata.name}`;
    try {
      const written = current ? await client.update(types.endpointSlices, body) : await client.create(types.endpointSlices, body);
      this.recordWrite(serviceKey, written.metadata.name!, written.metadata.resourceVersion!);
    } catch (err) {
      // A stale copy: the slice's own event brings the Service back.
      if (isConflict(err)) return;
      if ((err as { code?: number }).code === 403 || isNotFound(err)) return;
      throw err;
    }
  }

  private async deleteSlice(slice: EndpointSlice): Promise<void> {
    await this.context.client.tryDelete(types.endpointSlices, slice.metadata.name!, { namespace: slice.metadata.namespace, preconditions: { uid: slice.metadata.uid } });
    const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    if (service) this.recordWrite(`${slice.metadata.namespace}/${service}`, slice.metadata.name!, '');
  }
}

export const endpointsController: ControllerFactory = {
  serviceAccount: 'endpoint-controller',
  create: (context) => new EndpointsController(context),
};

export const endpointSliceController: ControllerFactory = {
  serviceAccount: 'endpointslice-controller',
  create: (context) => new EndpointSliceController(context),
};
