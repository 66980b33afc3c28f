/**
 * The scheduler's view of the cluster (kube's internal cache and NodeInfo snapshot): per node its
 * allocatable, the requests of the pods on it (bound, or assumed while their binding is in
 * flight), used host ports and pods with affinity; per namespace an index of pods by label so
 * selectors find their pods without scanning the cluster. Everything a filter reads is
 * precomputed here, so a scheduling cycle costs O(nodes) plus the pods a selector matches.
 */
import { matchesLabels, type LabelSelector } from '@canopy/apimachinery';
import { LABEL_REGION, LABEL_ZONE, type Node, type Pod, type Taint, type Toleration } from './api.js';
import { affinityTerm, type AffinityTerm, type Labels, type WeightedAffinityTerm } from './matching.js';
import { addResources, emptyResources, nodeAllocatable, podRequests, type Resources } from './resources.js';

export interface HostPort {
  ip: string;
  protocol: string;
  port: number;
}

const NONE: PodInfo[] = [];

/** A pod parsed once for scheduling (framework.PodInfo). */
export class PodInfo {
  readonly uid: string;
  readonly key: string;
  readonly namespace: string;
  readonly name: string;
  readonly labels: Labels;
  readonly requests: Resources;
  readonly nonZeroCPU: number;
  readonly nonZeroMemory: number;
  readonly hostPorts: HostPort[];
  readonly tolerations: Toleration[];
  readonly requiredAffinityTerms: AffinityTerm[];
  readonly requiredAntiAffinityTerms: AffinityTerm[];
  readonly preferredAffinityTerms: WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: WeightedAffinityTerm[];
  readonly priority: number;
  readonly terminating: boolean;
  /** The node the pod is on in the cache (set by the cache). */
  node?: NodeInfo;

  constructor(readonly pod: Pod) {
    const meta = pod.metadata;
    this.namespace = meta.namespace ?? '';
    this.name = meta.name ?? '';
    this.key = `${this.namespace}/${this.name}`;
    this.uid = meta.uid || this.key;
    this.labels = meta.labels ?? {};
    this.requests = podRequests(pod);
    const nonZero = podRequests(pod, true);
    this.nonZeroCPU = nonZero.milliCPU;
    this.nonZeroMemory = nonZero.memory;
    this.hostPorts = hostPortsOf(pod);
    this.tolerations = pod.spec?.tolerations ?? [];
    const affinity = pod.spec?.affinity;
    this.requiredAffinityTerms = (affinity?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
    this.requiredAntiAffinityTerms = (affinity?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution ?? []).map((t) => affinityTerm(pod, t));
    this.preferredAffinityTerms = weighted(pod, affinity?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.preferredAntiAffinityTerms = weighted(pod, affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution);
    this.priority = pod.spec?.priority ?? 0;
    this.terminating = !!meta.deletionTimestamp;
  }

  get hasAffinity(): boolean {
    return !!(this.requiredAffinityTerms.length || this.requiredAntiAffinityTerms.length || this.preferredAffinityTerms.length || this.preferredAntiAffinityTerms.length);
  }
}

function weighted(pod: Pod, terms: Array<{ weight: number; podAffinityTerm: Parameters<typeof affinityTerm>[1] }> | null | undefined): WeightedAffinityTerm[] {
  const out: WeightedAffinityTerm[] = [];
  for (const t of terms ?? []) if (t?.podAffinityTerm) out.push({ ...affinityTerm(pod, t.podAffinityTerm), weight: t.weight ?? 0 });
  return out;
}

/** schedutil.GetHostPorts: ports with a hostPort of the containers and of sidecar init containers. */
function hostPortsOf(pod: Pod): HostPort[] {
  const out: HostPort[] = [];
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? []).filter((c) => c.restartPolicy === 'Always')];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (!p.hostPort || p.hostPort <= 0) continue;
      out.push({ ip: p.hostIP || '0.0.0.0', protocol: p.protocol || 'TCP', port: p.hostPort });
    }
  }
  return out;
}

/** One node and what is placed on it (framework.NodeInfo). */
export class NodeInfo {
  node?: Node;
  labels: Labels = {};
  taints: Taint[] = [];
  unschedulable = false;
  allocatable: Resources = emptyResources();
  allowedPods = 0;
  readonly requested: Resources = emptyResources();
  nonZeroCPU = 0;
  nonZeroMemory = 0;
  readonly pods = new Map<string, PodInfo>();
  podsWithAffinity = 0;
  /** host ports in use: `protocol/port` → host IPs. */
  readonly usedPorts = new Map<string, string[]>();
  /** Images present on the node (status.images, every name of each) → size in bytes. */
  images = new Map<string, number>();
  /** Position in the node list (set when the list is built). */
  index = -1;

  constructor(readonly name: string) {}

  setNode(node: Node): void {
    this.node = node;
    this.labels = node.metadata.labels ?? {};
    this.taints = node.spec?.taints ?? [];
    this.unschedulable = !!node.spec?.unschedulable;
    const allocatable = nodeAllocatable(node.status?.allocatable);
    this.allocatable = allocatable.resources;
    this.allowedPods = allocatable.pods;
    const images = new Map<string, number>();
    for (const image of node.status?.images ?? []) for (const name of image.names ?? []) images.set(name, image.sizeBytes ?? 0);
    this.images = images;
  }

  addPod(pi: PodInfo): void {
    this.pods.set(pi.uid, pi);
    pi.node = this;
    addResources(this.requested, pi.requests);
    this.nonZeroCPU += pi.nonZeroCPU;
    this.nonZeroMemory += pi.nonZeroMemory;
    if (pi.hasAffinity) this.podsWithAffinity++;
    for (const p of pi.hostPorts) {
      const k = `${p.protocol}/${p.port}`;
      const ips = this.usedPorts.get(k);
      if (ips) ips.push(p.ip);
      else this.usedPorts.set(k, [p.ip]);
    }
  }

  removePod(pi: PodInfo): void {
    if (!this.pods.delete(pi.uid)) return;
    addResources(this.requested, pi.requests, -1);
    this.nonZeroCPU -= pi.nonZeroCPU;
    this.nonZeroMemory -= pi.nonZeroMemory;
    if (pi.hasAffinity) this.podsWithAffinity--;
    for (const p of pi.hostPorts) {
      const k = `${p.protocol}/${p.port}`;
      const ips = this.usedPorts.get(k);
      if (!ips) continue;
      const i = ips.indexOf(p.ip);
      if (i >= 0) ips.splice(i, 1);
      if (!ips.length) this.usedPorts.delete(k);
    }
  }

  /** HostPortInfo.CheckConflict: the same protocol and port on the same IP, or either on 0.0.0.0. */
  portConflicts(p: HostPort): boolean {
    const ips = this.usedPorts.get(`${p.protocol}/${p.port}`);
    if (!ips) return false;
    if (p.ip === '0.0.0.0') return true;
    for (const ip of ips) if (ip === '0.0.0.0' || ip === p.ip) return true;
    return false;
  }
}

/** Assigned pods of one namespace, indexed by `key=value` of their labels. */
class NamespacePods {
  readonly all = new Set<PodInfo>();
  readonly byLabel = new Map<string, Set<PodInfo>>();

  add(pi: PodInfo): void {
    this.all.add(pi);
    for (const [k, v] of Object.entries(pi.labels)) {
      const key = `${k}=${v}`;
      let set = this.byLabel.get(key);
      if (!set) this.byLabel.set(key, (set = new Set()));
      set.add(pi);
    }
  }

  remove(pi: PodInfo): void {
    this.all.delete(pi);
    for (const [k, v] of Object.entries(pi.labels)) {
      const key = `${k}=${v}`;
      const set = this.byLabel.get(key);
      set?.delete(pi);
      if (set && !set.size) this.byLabel.delete(key);
    }
  }

  /**
   * The smallest superset of the pods a selector matches the index gives: the pods having one
   * of the values of its most selective equality (or In) requirement; all pods otherwise.
   */
  candidates(selector: LabelSelector): Iterable<PodInfo> {
    let best: PodInfo[] | Set<PodInfo> = this.all;
    let bestSize = this.all.size;
    for (const r of selector.requirements) {
      if (r.operator !== '=' && r.operator !== '==' && r.operator !== 'in') continue;
      if (r.values.length === 1) {
        const set = this.byLabel.get(`${r.key}=${r.values[0]}`);
        if (!set) return [];
        if (set.size < bestSize) {
          best = set;
          bestSize = set.size;
        }
        continue;
      }
      let size = 0;
      for (const v of r.values) size += this.byLabel.get(`${r.key}=${v}`)?.size ?? 0;
      if (size < bestSize) {
        const union: PodInfo[] = [];
        for (const v of r.values) for (const p of this.byLabel.get(`${r.key}=${v}`) ?? []) union.push(p);
        best = union;
        bestSize = size;
      }
    }
    return best;
  }
}

/** region/zone of a node (utilnode.GetZoneKey); '' when it has neither label. */
function zoneKey(labels: Labels): string {
  const region = labels[LABEL_REGION] ?? '';
  const zone = labels[LABEL_ZONE] ?? '';
  return region || zone ? `${region}:\x00:${zone}` : '';
}

export class SchedulerCache {
  private readonly nodes = new Map<string, NodeInfo>();
  /** Every pod in the cache by uid, and whether it is only assumed (binding in flight). */
  private readonly pods = new Map<string, { info: PodInfo; assumed: boolean }>();
  private readonly byNamespace = new Map<string, NamespacePods>();
  /** Pods with any (anti-)affinity term, and those with required anti-affinity. */
  readonly podsWithAffinity = new Set<PodInfo>();
  readonly podsWithRequiredAntiAffinity = new Set<PodInfo>();
  /** Namespace labels, for namespaceSelector in affinity terms. */
  readonly namespaceLabels = new Map<string, Labels>();
  private list: NodeInfo[] = [];
  private listDirty = true;
  /** Zone of each listed node, to notice zone changes. */
  private readonly zones = new Map<string, string>();

  // ---- nodes ---------------------------------------------------------------------------------

  setNode(node: Node): NodeInfo {
    const name = node.metadata.name ?? '';
    let info = this.nodes.get(name);
    if (!info) this.nodes.set(name, (info = new NodeInfo(name)));
    const hadNode = !!info.node;
    this.countImages(info, -1);
    info.setNode(node);
    this.countImages(info, 1);
    const zone = zoneKey(info.labels);
    if (!hadNode || this.zones.get(name) !== zone) {
      this.zones.set(name, zone);
      this.listDirty = true;
    }
    return info;
  }

  removeNode(name: string): void {
    const info = this.nodes.get(name);
    if (!info) return;
    // Pods still bound to a deleted node keep its NodeInfo (without a node) until they go, as in kube.
    if (info.node) this.countImages(info, -1);
    info.node = undefined;
    info.images = new Map();
    if (!info.pods.size) this.nodes.delete(name);
    this.zones.delete(name);
    this.listDirty = true;
  }

  /** On how many nodes each image is (ImageLocality scales an image's worth by its spread). */
  readonly imageNodes = new Map<string, number>();

  private countImages(info: NodeInfo, by: number): void {
    if (!info.node) return;
    for (const name of info.images.keys()) {
      const n = (this.imageNodes.get(name) ?? 0) + by;
      if (n > 0) this.imageNodes.set(name, n);
      else this.imageNodes.delete(name);
    }
  }

  getNode(name: string): NodeInfo | undefined {
    const info = this.nodes.get(name);
    return info?.node ? info : undefined;
  }

  /**
   * The nodes, interleaved zone by zone (kube's nodeTree) so that scheduling a pod on a sample of
   * the nodes still sees every zone.
   */
  nodeList(): NodeInfo[] {
    if (!this.listDirty) return this.list;
    const byZone = new Map<string, NodeInfo[]>();
    for (const info of this.nodes.values()) {
      if (!info.node) continue;
      const zone = this.zones.get(info.name) ?? '';
      let list = byZone.get(zone);
      if (!list) byZone.set(zone, (list = []));
      list.push(info);
    }
    const zones = [...byZone.values()];
    const out: NodeInfo[] = [];
    for (let i = 0; out.length < this.nodes.size; i++) {
      let added = false;
      for (const z of zones) {
        if (i < z.length) {
          out.push(z[i]);
          added = true;
        }
      }
      if (!added) break;
    }
    out.forEach((n, i) => (n.index = i));
    this.list = out;
    this.listDirty = false;
    return out;
  }

  get nodeCount(): number {
    return this.nodeList().length;
  }

  // ---- pods ----------------------------------------------------------------------------------

  /** A pod the informer shows assigned to a node; confirms it if it was assumed. */
  addPod(pod: Pod): void {
    const info = new PodInfo(pod);
    const existing = this.pods.get(info.uid);
    if (existing) this.detach(existing.info);
    this.attach(info, pod.spec?.nodeName ?? '');
    this.pods.set(info.uid, { info, assumed: false });
  }

  updatePod(pod: Pod): void {
    this.addPod(pod);
  }

  removePod(pod: Pod): void {
    const uid = pod.metadata.uid || `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
    const existing = this.pods.get(uid);
    if (!existing) return;
    this.detach(existing.info);
    this.pods.delete(uid);
  }

  /** Places a pod on a node before its binding is confirmed, so the next cycles see its requests. */
  assumePod(info: PodInfo, nodeName: string): void {
    const existing = this.pods.get(info.uid);
    if (existing) this.detach(existing.info);
    this.attach(info, nodeName);
    this.pods.set(info.uid, { info, assumed: true });
  }

  /** Undoes assumePod after a failed binding. */
  forgetPod(info: PodInfo): void {
    const existing = this.pods.get(info.uid);
    if (!existing || !existing.assumed) return;
    this.detach(existing.info);
    this.pods.delete(info.uid);
  }

  /**
   * Takes a pod off its node for a what-if evaluation (preemption); the caller must put it back
   * with simulateRestore before the cycle ends.
   */
  simulateRemove(info: PodInfo): void {
    this.detach(info);
  }

  simulateRestore(info: PodInfo, nodeName: string): void {
    this.attach(info, nodeName);
  }

  // ---- nominated pods ------------------------------------------------------------------------

  /**
   * Pending pods that preemption nominated to a node (status.nominatedNodeName): the room made
   * for them is theirs, so other pods of lower or equal priority must fit beside them.
   */
  private readonly nominated = new Map<string, Map<string, PodInfo>>();
  private readonly nominatedNode = new Map<string, string>();

  setNominated(pod: Pod): void {
    const info = new PodInfo(pod);
    this.clearNominated(info.uid);
    const nodeName = pod.status?.nominatedNodeName;
    if (!nodeName || pod.spec?.nodeName) return;
    let pods = this.nominated.get(nodeName);
    if (!pods) this.nominated.set(nodeName, (pods = new Map()));
    pods.set(info.uid, info);
    this.nominatedNode.set(info.uid, nodeName);
  }

  clearNominated(uid: string): void {
    const nodeName = this.nominatedNode.get(uid);
    if (nodeName === undefined) return;
    this.nominatedNode.delete(uid);
    const pods = this.nominated.get(nodeName);
    pods?.delete(uid);
    if (pods && !pods.size) this.nominated.delete(nodeName);
  }

  /** Pods nominated to a node that a pod of `priority` must leave room for (not itself). */
  nominatedFor(nodeName: string, priority: number, uid: string): PodInfo[] {
    const pods = this.nominated.get(nodeName);
    if (!pods) return NONE;
    const out: PodInfo[] = [];
    for (const p of pods.values()) if (p.uid !== uid && p.priority >= priority && !this.pods.has(p.uid)) out.push(p);
    return out;
  }

  isAssumed(uid: string): boolean {
    return !!this.pods.get(uid)?.assumed;
  }

  hasPod(uid: string): boolean {
    return this.pods.has(uid);
  }

  get podCount(): number {
    return this.pods.size;
  }

  private attach(info: PodInfo, nodeName: string): void {
    let node = this.nodes.get(nodeName);
    if (!node) this.nodes.set(nodeName, (node = new NodeInfo(nodeName)));
    node.addPod(info);
    let ns = this.byNamespace.get(info.namespace);
    if (!ns) this.byNamespace.set(info.namespace, (ns = new NamespacePods()));
    ns.add(info);
    if (info.hasAffinity) this.podsWithAffinity.add(info);
    if (info.requiredAntiAffinityTerms.length) this.podsWithRequiredAntiAffinity.add(info);
  }

  private detach(info: PodInfo): void {
    const node = info.node;
    if (node) {
      node.removePod(info);
      if (!node.node && !node.pods.size) this.nodes.delete(node.name);
    }
    info.node = undefined;
    const ns = this.byNamespace.get(info.namespace);
    if (ns) {
      ns.remove(info);
      if (!ns.all.size) this.byNamespace.delete(info.namespace);
    }
    this.podsWithAffinity.delete(info);
    this.podsWithRequiredAntiAffinity.delete(info);
  }

  /** Assigned pods (on existing nodes) in `namespace` whose labels match `selector`. */
  *podsMatching(namespace: string, selector: LabelSelector): Iterable<PodInfo> {
    if (selector.nothing) return;
    const ns = this.byNamespace.get(namespace);
    if (!ns) return;
    for (const pi of ns.candidates(selector)) {
      if (!pi.node?.node) continue;
      if (matchesLabels(selector, pi.labels)) yield pi;
    }
  }

  /** Pods matching an affinity term: in one of its namespaces (or a namespace its namespaceSelector selects). */
  *podsMatchingTerm(term: AffinityTerm): Iterable<PodInfo> {
    const namespaces = new Set(term.namespaces);
    if (!term.namespaceSelector.nothing) {
      for (const ns of this.byNamespace.keys()) {
        if (!namespaces.has(ns) && matchesLabels(term.namespaceSelector, this.namespaceLabels.get(ns) ?? {})) namespaces.add(ns);
      }
    }
    for (const ns of namespaces) yield* this.podsMatching(ns, term.selector);
  }

  /** Namespaces whose labels match a selector (for merging an incoming pod's namespaceSelector). */
  namespacesMatching(selector: LabelSelector): string[] {
    if (selector.nothing) return [];
    const out: string[] = [];
    for (const [ns, labels] of this.namespaceLabels) if (matchesLabels(selector, labels)) out.push(ns);
    return out;
  }
}
