/**
 * The DaemonSet controller (kube's pkg/controller/daemon): one pod per eligible node. A node is
 * eligible when the pod template's nodeSelector and required node affinity match it and its
 * NoSchedule/NoExecute taints are tolerated — daemon pods always tolerate the node-condition
 * taints kube adds for them (not-ready, unreachable, disk/memory/pid pressure, unschedulable, and
 * network-unavailable for host-network pods). Pods are created with node affinity on the node's
 * `metadata.name`, as kube does, and the scheduler binds them. Pods on nodes that no longer
 * qualify are deleted (only an untolerated NoExecute taint evicts a running one); failed pods are
 * replaced with backoff. Templates are recorded as ControllerRevisions labelled with the
 * template hash, which pods carry as `controller-revision-hash`; RollingUpdate replaces old pods
 * within maxUnavailable (or surges up to maxSurge new pods first); OnDelete waits for the user.
 */
import { labelSelectorFromObject, matchesLabels, type KubeObject, type LabelSelector, type OwnerReference } from '@canopy/apimachinery';
import { isAlreadyExists, isNotFound, objectKey, types, type Informer } from '@canopy/client';
import type { ControllerContext, ControllerFactory } from './context.js';
import { canonicalJson, computeTemplateHash, controllerRevisionName, POD_REVISION_LABEL, templatePatch, type ControllerRevision } from './controller-history.js';
import {
  addControllerIndex,
  controlledBy,
  ControllerExpectations,
  ControllerRefManager,
  getControllerOf,
  hasStatusCause,
  isPodAvailable,
  isPodReady,
  NAMESPACE_TERMINATING_CAUSE,
  newControllerRef,
  orphansIn,
  PodControl,
  recheckOwner,
} from './controller-utils/index.js';
import { affinityForNode, findUntoleratedTaint, podFitsNodeAffinity, targetNodeName } from './node-affinity.js';
import { QueueController } from './queue-controller.js';
import type { DaemonSet, Node, Pod, PodTemplateSpec, Toleration } from './workload-types.js';
import { scaledValue } from './workload-util.js';

const API_VERSION = 'apps/v1';
const KIND = 'DaemonSet';
/** extensions.DaemonSetTemplateGenerationKey: the template generation pods were created from (deprecated, still set). */
export const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';
const BURST_REPLICAS = 250;
const FAILED_POD_BACKOFF_INITIAL_MS = 1000;
const FAILED_POD_BACKOFF_MAX_MS = 15 * 60_000;

/** util.AddOrUpdateDaemonPodTolerations: daemon pods stay through node conditions that evict others. */
export function daemonPodTolerations(spec: { tolerations?: Toleration[]; hostNetwork?: boolean }): Toleration[] {
  const wanted: Toleration[] = [
    { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
    { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
  ];
  if (spec.hostNetwork) wanted.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  const tolerations = [...(spec.tolerations ?? [])];
  for (const w of wanted) {
    // AddOrUpdateTolerationInPodSpec: a toleration with the same key, operator, value and effect is replaced.
    const i = tolerations.findIndex((t) => t.key === w.key && (t.operator ?? 'Equal') === w.operator && (t.value ?? '') === '' && (t.effect ?? '') === w.effect);
    if (i >= 0) tolerations[i] = { ...w, ...(tolerations[i].tolerationSeconds !== undefined ? { tolerationSeconds: tolerations[i].tolerationSeconds } : {}) };
    else tolerations.push(w);
  }
  return tolerations;
}

/**
 * NodeShouldRunDaemonPod: whether a daemon pod should be started on the node (`shouldRun`), and
 * whether one already there may stay (`shouldContinueRunning`: only an untolerated NoExecute taint
 * evicts it).
 */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec.template.spec;
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!podFitsNodeAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonPodTolerations(spec);
  const taints = node.spec?.taints;
  if (findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')) {
    return { shouldRun: false, shouldContinueRunning: !findUntoleratedTaint(taints, tolerations, (t) => t.effect === 'NoExecute') };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}

function templateGeneration(ds: DaemonSet): string | undefined {
  const g = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
  return g && /^\d+$/.test(g) ? g : undefined;
}

/** util.IsPodUpdated: the pod carries the current template hash (or the current template generation). */
function isPodUpdated(pod: Pod, hash: string, generation: string | undefined): boolean {
  return (!!hash && pod.metadata.labels?.[POD_REVISION_LABEL] === hash) || (!!generation && pod.metadata.labels?.[TEMPLATE_GENERATION_LABEL] === generation);
}

/** podByCreationTimestampAndPhase: scheduled pods first, then oldest first. */
function oldestFirst(a: Pod, b: Pod): number {
  const sa = a.spec?.nodeName ? 0 : 1;
  const sb = b.spec?.nodeName ? 0 : 1;
  if (sa !== sb) return sa - sb;
  const ca = a.metadata.creationTimestamp ?? '';
  const cb = b.metadata.creationTimestamp ?? '';
  if (ca !== cb) return ca < cb ? -1 : 1;
  return (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

export class DaemonSetController extends QueueController {
  readonly name = 'daemonset';
  private readonly sets: Informer<DaemonSet>;
  private readonly pods: Informer<Pod>;
  private readonly nodes: Informer<Node>;
  private readonly revisions: Informer<ControllerRevision>;
  private readonly expectations: ControllerExpectations;
  private readonly podControl: PodControl;
  private readonly failedPodsBackoff = new Map<string, { delay: number; at: number }>();

  constructor(ctx: ControllerContext) {
    super(ctx, 2);
    this.sets = this.informer(ctx.informers.for<DaemonSet>(types.daemonSets));
    this.pods = this.informer(ctx.informers.for<Pod>(types.pods));
    this.nodes = this.informer(ctx.informers.for<Node>(types.nodes));
    this.revisions = this.informer(ctx.informers.for<ControllerRevision>(types.controllerRevisions));
    this.expectations = new ControllerExpectations(ctx.clock);
    this.podControl = new PodControl(ctx.client, ctx.events);
  }

  protected register(): void {
    addControllerIndex(this.pods as Informer<any>);
    addControllerIndex(this.revisions);
    this.sets.addHandler({
      onAdd: (ds) => this.enqueueSet(ds),
      onUpdate: (_old, ds) => this.enqueueSet(ds),
      onDelete: (ds) => {
        this.expectations.delete(objectKey(ds));
        this.enqueueSet(ds);
      },
    });
    this.pods.addHandler({
      onAdd: (pod) => {
        if (pod.metadata.deletionTimestamp) return this.podDeleted(pod);
        const ds = this.resolve(pod.metadata.namespace, getControllerOf(pod));
        if (ds) {
          this.expectations.creationObserved(objectKey(ds));
          this.enqueueSet(ds);
        } else if (!getControllerOf(pod)) this.enqueueMatching(pod);
      },
      onUpdate: (old, pod) => {
        if (old.metadata.resourceVersion === pod.metadata.resourceVersion) return;
        if (pod.metadata.deletionTimestamp) return this.podDeleted(pod);
        const oldRef = getControllerOf(old);
        const ref = getControllerOf(pod);
        if (oldRef && oldRef.uid !== ref?.uid) {
          const previous = this.resolve(old.metadata.namespace, oldRef);
          if (previous) this.enqueueSet(previous);
        }
        const ds = this.resolve(pod.metadata.namespace, ref);
        if (ds) {
          this.enqueueSet(ds);
          const minReady = ds.spec.minReadySeconds ?? 0;
          if (minReady > 0 && !isPodReady(old) && isPodReady(pod)) this.enqueueAfter(objectKey(ds), minReady * 1000 + 1000);
        } else if (!ref) this.enqueueMatching(pod);
      },
      onDelete: (pod) => this.podDeleted(pod),
    });
    this.nodes.addHandler({
      onAdd: (node) => {
        for (const ds of this.sets.list()) if (nodeShouldRunDaemonPod(node, ds).shouldRun) this.enqueueSet(ds);
      },
      onUpdate: (old, node) => {
        // Only labels and taints decide eligibility (shouldIgnoreNodeUpdate).
        if (canonicalJson(old.metadata.labels ?? {}) === canonicalJson(node.metadata.labels ?? {}) && canonicalJson(old.spec?.taints ?? []) === canonicalJson(node.spec?.taints ?? []))
          return;
        for (const ds of this.sets.list()) {
          const before = nodeShouldRunDaemonPod(old, ds);
          const after = nodeShouldRunDaemonPod(node, ds);
          if (before.shouldRun !== after.shouldRun || before.shouldContinueRunning !== after.shouldContinueRunning) this.enqueueSet(ds);
        }
      },
      onDelete: () => {
        for (const ds of this.sets.list()) this.enqueueSet(ds);
      },
    });
  }

  private enqueueSet(ds: KubeObject): void {
    this.enqueue(objectKey(ds));
  }

  private resolve(namespace: string | undefined, ref: OwnerReference | undefined): DaemonSet | undefined {
    if (!ref || ref.kind !== KIND) return undefined;
    const ds = this.sets.get(ref.name, namespace);
    return ds?.metadata.uid === ref.uid ? ds : undefined;
  }

  private enqueueMatching(pod: Pod): void {
    for (const ds of this.sets.list(pod.metadata.namespace)) {
      try {
        if (matchesLabels(labelSelectorFromObject(ds.spec.selector), pod.metadata.labels)) this.enqueueSet(ds);
      } catch {
        // An invalid selector selects nothing.
      }
    }
  }

  private podDeleted(pod: Pod): void {
    const ds = this.resolve(pod.metadata.namespace, getControllerOf(pod));
    if (!ds) return;
    this.expectations.deletionObserved(objectKey(ds), objectKey(pod));
    this.enqueueSet(ds);
  }

  protected async sync(key: string): Promise<void> {
    const ds = this.sets.getByKey(key);
    if (!ds) {
      this.expectations.delete(key);
      return;
    }
    let selector: LabelSelector;
    try {
      selector = labelSelectorFromObject(ds.spec.selector);
    } catch (err) {
      this.ctx.log(`daemonset ${key}: invalid selector: ${(err as Error).message}`);
      return;
    }
    if (!selector.nothing && selector.requirements.length === 0) {
      this.ctx.events.event(ds, 'Warning', 'SelectingAll', 'This daemon set is selecting all pods. A non-empty selector is required.');
      return;
    }
    // A DaemonSet being deleted cannot tell which of its revisions still exist: leave it to the collector.
    if (ds.metadata.deletionTimestamp) return;
    const nodes = this.nodes.list();
    const canAdopt = recheckOwner(this.ctx.client, types.daemonSets, ds);
    const { current, old } = await this.constructHistory(ds, selector, canAdopt);
    if (!current) return;
    const hash = current.metadata.labels?.[POD_REVISION_LABEL] ?? '';
    if (!this.expectations.satisfied(key)) {
      await this.updateStatus(ds, nodes, hash, selector, canAdopt, false);
      return;
    }
    let error: unknown;
    try {
      await this.manage(ds, nodes, hash, selector, canAdopt);
      if (this.expectations.satisfied(key) && ds.spec.updateStrategy?.type !== 'OnDelete') await this.rollingUpdate(ds, nodes, hash, selector, canAdopt);
      await this.cleanupHistory(ds, old, selector, canAdopt);
    } catch (err) {
      error = err;
    }
    await this.updateStatus(ds, nodes, hash, selector, canAdopt, true);
    if (error) throw error;
  }

  /** getDaemonPods: the pods the set controls, after adopting matching orphans and releasing strays. */
  private async daemonPods(ds: DaemonSet, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<Pod[]> {
    const candidates = [...controlledBy(this.pods as Informer<any>, ds.metadata.uid!), ...orphansIn(this.pods as Informer<any>, ds.metadata.namespace)] as Pod[];
    return (await new ControllerRefManager<Pod>({
      client: this.ctx.client,
      type: types.pods,
      owner: ds,
      ownerApiVersion: API_VERSION,
      ownerKind: KIND,
      selector,
      canAdopt,
    }).claim(candidates)) as Pod[];
  }

  /** getNodesToDaemonPods: the set's pods grouped by the node they are bound or pinned to. */
  private async nodesToDaemonPods(ds: DaemonSet, selector: LabelSelector, canAdopt: () => Promise<void>, includeDeletedTerminal = false): Promise<Map<string, Pod[]>> {
    const byNode = new Map<string, Pod[]>();
    for (const pod of await this.daemonPods(ds, selector, canAdopt)) {
      const terminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
      if (!includeDeletedTerminal && terminal && pod.metadata.deletionTimestamp) continue;
      const node = targetNodeName(pod.spec);
      if (!node) continue;
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    return byNode;
  }

  /** podsShouldBeOnNode: what to create and delete on one node. */
  private podsShouldBeOnNode(node: Node, byNode: Map<string, Pod[]>, ds: DaemonSet, hash: string): { create: boolean; remove: string[] } {
    const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
    const pods = byNode.get(node.metadata.name!);
    const remove: string[] = [];
    if (shouldRun && !pods) return { create: true, remove };
    if (shouldContinueRunning) {
      const running: Pod[] = [];
      for (const pod of pods ?? []) {
        if (pod.metadata.deletionTimestamp) continue;
        if (pod.status?.phase === 'Failed') {
          // Kubelets that reject a pod make it fail at once: back off so the two do not hot-loop.
          const backoffKey = `${ds.metadata.uid}/${ds.status?.observedGeneration ?? 0}/${node.metadata.name}`;
          const now = this.ctx.clock.now();
          const entry = this.failedPodsBackoff.get(backoffKey);
          if (entry && now - entry.at < entry.delay) {
            this.enqueueAfter(objectKey(ds), entry.delay - (now - entry.at));
            continue;
          }
          this.failedPodsBackoff.set(backoffKey, { delay: entry ? Math.min(entry.delay * 2, FAILED_POD_BACKOFF_MAX_MS) : FAILED_POD_BACKOFF_INITIAL_MS, at: now });
          this.ctx.events.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${node.metadata.name}, will try to kill it`);
          remove.push(pod.metadata.name!);
        } else if (pod.status?.phase === 'Succeeded') {
          this.ctx.events.event(ds, 'Normal', 'SucceededDaemonPod', `Found succeeded daemon pod ${pod.metadata.namespace}/${pod.metadata.name} on node ${node.metadata.name}, will try to delete it`);
          remove.push(pod.metadata.name!);
        } else running.push(pod);
      }
      running.sort(oldestFirst);
      if (!this.allowsSurge(ds)) {
        // One pod per node: keep the oldest.
        for (const extra of running.slice(1)) remove.push(extra.metadata.name!);
        return { create: false, remove };
      }
      if (running.length <= 1) return { create: running.length === 0 && shouldRun, remove };
      // Surging: keep the oldest new pod and the oldest old pod until the new one is available.
      let oldestNew: Pod | undefined;
      let oldestOld: Pod | undefined;
      for (const pod of running) {
        if (pod.metadata.labels?.[POD_REVISION_LABEL] === hash) {
          if (!oldestNew) {
            oldestNew = pod;
            continue;
          }
        } else if (!oldestOld) {
          oldestOld = pod;
          continue;
        }
        remove.push(pod.metadata.name!);
      }
      if (oldestNew && oldestOld) {
        if (!isPodReady(oldestOld) || isPodAvailable(oldestNew, ds.spec.minReadySeconds ?? 0, this.ctx.clock.now())) remove.push(oldestOld.metadata.name!);
      }
      return { create: false, remove };
    }
    if (pods) for (const pod of pods) if (!pod.metadata.deletionTimestamp) remove.push(pod.metadata.name!);
    return { create: false, remove };
  }

  private allowsSurge(ds: DaemonSet): boolean {
    if (ds.spec.updateStrategy?.type === 'OnDelete') return false;
    try {
      return scaledValue(ds.spec.updateStrategy?.rollingUpdate?.maxSurge, 1, true) !== 0;
    } catch {
      return false;
    }
  }

  private async manage(ds: DaemonSet, nodes: Node[], hash: string, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt);
    const create: string[] = [];
    const remove: string[] = [];
    const known = new Set(nodes.map((n) => n.metadata.name!));
    for (const node of nodes) {
      const plan = this.podsShouldBeOnNode(node, byNode, ds, hash);
      if (plan.create) create.push(node.metadata.name!);
      remove.push(...plan.remove);
    }
    // Pods pinned to nodes that do not exist never get scheduled, and no pod GC removes them.
    for (const [node, pods] of byNode) if (!known.has(node)) for (const pod of pods) if (!pod.spec?.nodeName) remove.push(pod.metadata.name!);
    await this.syncNodes(ds, remove, create, hash);
  }

  /** util.CreatePodTemplate: the template with daemon tolerations, the hash and template generation labels. */
  private podTemplate(ds: DaemonSet, hash: string): PodTemplateSpec {
    const template = structuredClone(ds.spec.template);
    template.spec.tolerations = daemonPodTolerations(template.spec);
    const labels: Record<string, string> = { ...(template.metadata?.labels ?? {}) };
    const generation = templateGeneration(ds);
    if (generation) labels[TEMPLATE_GENERATION_LABEL] = generation;
    if (hash) labels[POD_REVISION_LABEL] = hash;
    template.metadata = { ...(template.metadata ?? {}), labels };
    return template;
  }

  /** syncNodes: deletes pods and creates one per node (slow-start batches), within burst limits and expectations. */
  private async syncNodes(ds: DaemonSet, remove: string[], create: string[], hash: string): Promise<void> {
    const key = objectKey(ds);
    const toCreate = create.slice(0, BURST_REPLICAS);
    const toDelete = remove.slice(0, BURST_REPLICAS);
    if (!toCreate.length && !toDelete.length) return;
    this.expectations.expect(key, toCreate.length, toDelete.map((name) => `${ds.metadata.namespace}/${name}`));
    const errors: unknown[] = [];
    const template = this.podTemplate(ds, hash);
    const ref = newControllerRef(ds, API_VERSION, KIND);
    let next = 0;
    for (let batch = Math.min(1, toCreate.length); batch > 0; batch = Math.min(batch * 2, toCreate.length - next)) {
      const nodes = toCreate.slice(next, next + batch);
      next += batch;
      const results = await Promise.allSettled(
        nodes.map((node) => {
          const perNode = structuredClone(template);
          // Pinned by node affinity; the scheduler binds it (kube ≥ 1.12 no longer sets nodeName).
          perNode.spec.affinity = affinityForNode(perNode.spec.affinity, node);
          return this.podControl.createPod(ds.metadata.namespace!, perNode, ds, ref);
        }),
      );
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      for (const f of failed) {
        this.expectations.creationObserved(key);
        if (!hasStatusCause(f.reason, NAMESPACE_TERMINATING_CAUSE)) errors.push(f.reason);
      }
      if (failed.length) {
        // Slow start: what was never attempted will not be observed either.
        for (let i = next; i < toCreate.length; i++) this.expectations.creationObserved(key);
        break;
      }
    }
    await Promise.all(
      toDelete.map(async (name) => {
        try {
          await this.podControl.deletePod(ds.metadata.namespace!, name, ds);
        } catch (err) {
          this.expectations.deletionObserved(key, `${ds.metadata.namespace}/${name}`);
          if (!isNotFound(err)) errors.push(err);
        }
      }),
    );
    if (errors.length) throw errors[0];
  }

  /** rollingUpdate: old pods replaced within maxUnavailable, or new pods surged onto nodes within maxSurge. */
  private async rollingUpdate(ds: DaemonSet, nodes: Node[], hash: string, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt);
    let desired = 0;
    for (const node of nodes) {
      if (!nodeShouldRunDaemonPod(node, ds).shouldRun) continue;
      desired++;
      if (!byNode.has(node.metadata.name!)) byNode.set(node.metadata.name!, []);
    }
    const rolling = ds.spec.updateStrategy?.rollingUpdate;
    let maxUnavailable = scaledValue(rolling?.maxUnavailable, desired, true, 1);
    const maxSurge = scaledValue(rolling?.maxSurge, desired, true, 0);
    if (desired > 0 && maxUnavailable === 0 && maxSurge === 0) maxUnavailable = 1;
    const now = this.ctx.clock.now();
    const minReady = ds.spec.minReadySeconds ?? 0;
    const generation = templateGeneration(ds);
    const available = (pod: Pod) => isPodAvailable(pod, minReady, now);

    const split = (pods: Pod[]): { newPod?: Pod; oldPod?: Pod; ok: boolean } => {
      let newPod: Pod | undefined;
      let oldPod: Pod | undefined;
      for (const pod of pods) {
        if (pod.metadata.deletionTimestamp) continue;
        if (isPodUpdated(pod, hash, generation)) {
          if (newPod) return { ok: false };
          newPod = pod;
        } else {
          if (oldPod) return { ok: false };
          oldPod = pod;
        }
      }
      return { newPod, oldPod, ok: true };
    };

    if (maxSurge === 0) {
      let unavailable = 0;
      const replacements: string[] = [];
      const candidates: string[] = [];
      for (const pods of byNode.values()) {
        const { newPod, oldPod, ok } = split(pods);
        if (!ok || (!oldPod && !newPod) || (oldPod && newPod)) {
          unavailable++;
          continue;
        }
        if (newPod) {
          if (!available(newPod)) unavailable++;
          continue;
        }
        if (!available(oldPod!)) {
          replacements.push(oldPod!.metadata.name!);
          unavailable++;
        } else if (unavailable < maxUnavailable) candidates.push(oldPod!.metadata.name!);
      }
      const room = Math.min(Math.max(0, maxUnavailable - unavailable), candidates.length);
      await this.syncNodes(ds, [...replacements, ...candidates.slice(0, room)], [], hash);
      return;
    }

    const oldToDelete: string[] = [];
    const shouldNotRun: string[] = [];
    const candidateNodes: string[] = [];
    const allowedNodes: string[] = [];
    let surging = 0;
    let numAvailable = 0;
    for (const [nodeName, pods] of byNode) {
      const { newPod, oldPod, ok } = split(pods);
      if (!ok) {
        surging++;
        continue;
      }
      if (oldPod ? available(oldPod) : newPod && available(newPod)) numAvailable++;
      if (!oldPod) continue;
      const node = this.nodes.get(nodeName);
      if (!newPod) {
        const shouldRun = !!node && nodeShouldRunDaemonPod(node, ds).shouldRun;
        if (!available(oldPod)) {
          if (!shouldRun) oldToDelete.push(oldPod.metadata.name!);
          else allowedNodes.push(nodeName);
        } else if (!shouldRun) shouldNotRun.push(oldPod.metadata.name!);
        else if (surging < maxSurge) candidateNodes.push(nodeName);
        continue;
      }
      if (!available(newPod)) {
        surging++;
        continue;
      }
      oldToDelete.push(oldPod.metadata.name!);
    }
    // With surge the owner expects full availability: a pod on a node that stopped qualifying goes
    // only once enough pods elsewhere are available.
    const deletable = Math.min(Math.max(0, numAvailable - desired), shouldNotRun.length);
    oldToDelete.push(...shouldNotRun.slice(0, deletable));
    const room = Math.min(Math.max(0, maxSurge - surging), candidateNodes.length);
    await this.syncNodes(ds, oldToDelete, [...allowedNodes, ...candidateNodes.slice(0, room)], hash);
  }

  // --- history (update.go) -----------------------------------------------------------------------

  private async constructHistory(ds: DaemonSet, selector: LabelSelector, canAdopt: () => Promise<void>): Promise<{ current?: ControllerRevision; old: ControllerRevision[] }> {
    const candidates = [...controlledBy(this.revisions, ds.metadata.uid!), ...orphansIn(this.revisions, ds.metadata.namespace)];
    const histories = (await new ControllerRefManager<ControllerRevision>({
      client: this.ctx.client,
      type: types.controllerRevisions,
      owner: ds,
      ownerApiVersion: API_VERSION,
      ownerKind: KIND,
      selector,
      canAdopt,
    }).claim(candidates)) as ControllerRevision[];
    const data = canonicalJson(templatePatch(ds));
    const currents: ControllerRevision[] = [];
    const old: ControllerRevision[] = [];
    for (let history of histories) {
      if (!history.metadata.labels?.[POD_REVISION_LABEL]) {
        history = await this.ctx.client.update<ControllerRevision>(types.controllerRevisions, {
          ...history,
          metadata: { ...history.metadata, labels: { ...(history.metadata.labels ?? {}), [POD_REVISION_LABEL]: history.metadata.name! } },
        });
      }
      if (canonicalJson(history.data ?? null) === data) currents.push(history);
      else old.push(history);
    }
    const nextRevision = old.reduce((max, h) => Math.max(max, h.revision ?? 0), 0) + 1;
    if (!currents.length) return { current: await this.snapshot(ds, nextRevision), old };
    const current = currents.reduce((keep, h) => ((h.revision ?? 0) >= (keep.revision ?? 0) ? h : keep));
    if (currents.length > 1) await this.dedupHistories(ds, current, currents, selector, canAdopt);
    if ((current.revision ?? 0) < nextRevision) {
      return { current: await this.ctx.client.update<ControllerRevision>(types.controllerRevisions, { ...current, revision: nextRevision }), old };
    }
    return { current, old };
  }

  private async dedupHistories(ds: DaemonSet, keep: ControllerRevision, all: ControllerRevision[], selector: LabelSelector, canAdopt: () => Promise<void>): Promise<void> {
    const keepHash = keep.metadata.labels?.[POD_REVISION_LABEL];
    for (const pod of await this.daemonPods(ds, selector, canAdopt)) {
      if (pod.metadata.labels?.[POD_REVISION_LABEL] !== keepHash) {
        await this.ctx.client.patch(types.pods, pod.metadata.name!, { metadata: { labels: { [POD_REVISION_LABEL]: keepHash } } }, 'merge', { namespace: pod.metadata.namespace });
      }
    }
    for (const h of all) if (h !== keep) await this.ctx.client.tryDelete(types.controllerRevisions, h.metadata.name!, { namespace: h.metadata.namespace });
  }

  /** snapshot: a new revision `<ds>-<hash>`; a name taken by other data bumps the collision count and retries. */
  private async snapshot(ds: DaemonSet, revision: number): Promise<ControllerRevision | undefined> {
    const hash = computeTemplateHash(ds.spec.template, ds.status?.collisionCount);
    const history: ControllerRevision = {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: controllerRevisionName(ds.metadata.name!, hash),
        namespace: ds.metadata.namespace,
        labels: { ...(ds.spec.template.metadata?.labels ?? {}), [POD_REVISION_LABEL]: hash },
        ownerReferences: [newControllerRef(ds, API_VERSION, KIND)],
        ...(ds.metadata.annotations ? { annotations: ds.metadata.annotations } : {}),
      },
      data: templatePatch(ds),
      revision,
    };
    try {
      return await this.ctx.client.create<ControllerRevision>(types.controllerRevisions, history, { namespace: ds.metadata.namespace });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
      const existing = await this.ctx.client.get<ControllerRevision>(types.controllerRevisions, history.metadata.name!, ds.metadata.namespace);
      if (canonicalJson(existing.data ?? null) === canonicalJson(history.data)) return existing;
      const fresh = await this.ctx.client.get<DaemonSet>(types.daemonSets, ds.metadata.name!, ds.metadata.namespace);
      if ((fresh.status?.collisionCount ?? 0) !== (ds.status?.collisionCount ?? 0)) throw new Error(`found a stale collision count of DaemonSet ${ds.metadata.name}; will retry until it is updated`);
      await this.ctx.client.updateStatus(types.daemonSets, { ...fresh, status: { ...(fresh.status ?? {}), collisionCount: (fresh.status?.collisionCount ?? 0) + 1 } });
      throw err;
    }
  }

  private async cleanupHistory(ds: DaemonSet, old: ControllerRevision[], selector: LabelSelector, canAdopt: () => Promise<void>): Promise<void> {
    let toKill = old.length - (ds.spec.revisionHistoryLimit ?? 10);
    if (toKill <= 0) return;
    const live = new Set<string>();
    for (const pods of (await this.nodesToDaemonPods(ds, selector, canAdopt, true)).values()) {
      for (const pod of pods) if (pod.metadata.labels?.[POD_REVISION_LABEL]) live.add(pod.metadata.labels[POD_REVISION_LABEL]);
    }
    for (const h of [...old].sort((a, b) => (a.revision ?? 0) - (b.revision ?? 0))) {
      if (toKill <= 0) break;
      if (live.has(h.metadata.labels?.[POD_REVISION_LABEL] ?? '')) continue;
      await this.ctx.client.tryDelete(types.controllerRevisions, h.metadata.name!, { namespace: h.metadata.namespace });
      toKill--;
    }
  }

  // --- status ------------------------------------------------------------------------------------

  private async updateStatus(ds: DaemonSet, nodes: Node[], hash: string, selector: LabelSelector, canAdopt: () => Promise<void>, updateObservedGeneration: boolean): Promise<void> {
    const byNode = await this.nodesToDaemonPods(ds, selector, canAdopt);
    const now = this.ctx.clock.now();
    const generation = templateGeneration(ds);
    const minReady = ds.spec.minReadySeconds ?? 0;
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let updated = 0;
    let availableCount = 0;
    for (const node of nodes) {
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      const pods = byNode.get(node.metadata.name!) ?? [];
      if (!shouldRun) {
        if (pods.length) misscheduled++;
        continue;
      }
      desired++;
      if (!pods.length) continue;
      current++;
      const pod = [...pods].sort(oldestFirst)[0];
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReady, now)) availableCount++;
      }
      if (isPodUpdated(pod, hash, generation)) updated++;
    }
    const status = {
      desiredNumberScheduled: desired,
      currentNumberScheduled: current,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      updatedNumberScheduled: updated,
      numberAvailable: availableCount,
      numberUnavailable: desired - availableCount,
    };
    const old = ds.status ?? {};
    const unchanged =
      (Object.keys(status) as Array<keyof typeof status>).every((k) => (old[k] ?? 0) === status[k]) && (old.observedGeneration ?? 0) >= (ds.metadata.generation ?? 0);
    if (!unchanged) {
      let target = ds;
      for (let attempt = 0; ; attempt++) {
        const next = { ...(target.status ?? {}), ...status } as NonNullable<DaemonSet['status']>;
        if (updateObservedGeneration) next.observedGeneration = ds.metadata.generation;
        try {
          await this.ctx.client.updateStatus(types.daemonSets, { ...target, status: next });
          break;
        } catch (err) {
          if (attempt >= 1 || isNotFound(err)) throw err;
          target = await this.ctx.client.get<DaemonSet>(types.daemonSets, ds.metadata.name!, ds.metadata.namespace);
        }
      }
    }
    // Re-check availability after minReadySeconds as a last line of defense.
    if (minReady > 0 && ready !== availableCount) this.enqueueAfter(objectKey(ds), minReady * 1000);
  }
}

export function daemonSetController(): ControllerFactory {
  return { serviceAccount: 'daemon-set-controller', create: (ctx) => new DaemonSetController(ctx) };
}
