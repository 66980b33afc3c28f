/**
 * ResourceQuota, as kube-apiserver's admission plug-in and kube-controller-manager's quota
 * controller enforce and report it: evaluators say what each object uses (object counts, pod
 * compute requests and limits, claim storage, service load balancers and node ports); admission
 * refuses a write that would take a namespace past a quota's `hard`; the controller keeps each
 * quota's `status.hard` and `status.used` true as objects come and go.
 *
 * Unlike kube's plug-in, which adds the request to the usage recorded in the quota's status (and
 * writes it back to serialise concurrent writers), admission here recomputes the usage from the
 * store: writes run synchronously, so the read and the write that follows are one atomic step and
 * concurrent creates can never both take the last unit.
 */
import { errors, formatQuantity, parseQuantity, quantityFromValue, type KubeObject, type Quantity } from '@canopy/apimachinery';
import { podQOSClass } from '../registry/semantics/pod.js';
import type { ResourceRegistry } from '../registry/registry.js';
import { listPrefix } from '../storage/keys.js';
import type { RevisionStore, StoreEvent, WatchHandle } from '../storage/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import type { ObjectService } from './objects.js';
import { asRecord, deepEqual } from './object-utils.js';

/** Amounts per quota resource name (`pods`, `requests.cpu`, `count/deployments.apps`…). */
export type ResourceUsage = Map<string, Quantity>;

interface Source {
  group: string;
  resource: string;
}

/** What kube calls a quota Evaluator: how one kind of object is charged. */
interface Evaluator extends Source {
  /** Whether this evaluator charges the quota resource `name`. */
  matches(name: string): boolean;
  usage(object: KubeObject, now: Date): ResourceUsage;
  /** Updates may change usage (pods resized in place, services changing type, claims growing). */
  handlesUpdate: boolean;
  /** Pod-only scopes (BestEffort, Terminating…) select pods; other kinds count only under unscoped quotas. */
  matchesScopes(quota: KubeObject, object: KubeObject): boolean;
  /** A reason the object cannot be admitted under a quota on `required` resources (kube's Constraints). */
  constraints?(required: string[], object: KubeObject): string | undefined;
}

const ONE = (): Quantity => quantityFromValue(1);
const ZERO = (): Quantity => quantityFromValue(0);

/** Resource lists hold quantities as strings (or, from some clients, numbers). */
function quantityOf(value: unknown): Quantity | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  try {
    return parseQuantity(value);
  } catch {
    return undefined;
  }
}

function addTo(usage: ResourceUsage, name: string, amount: Quantity): void {
  const current = usage.get(name);
  usage.set(name, current ? current.add(amount) : amount);
}

function objectsOf(value: unknown): Record<string, unknown>[] {
  return Array.isArray(value) ? (value.map(asRecord).filter(Boolean) as Record<string, unknown>[]) : [];
}

function noScopes(quota: KubeObject): boolean {
  const spec = asRecord(quota.spec) ?? {};
  return !(Array.isArray(spec.scopes) && spec.scopes.length) && !objectsOf(asRecord(spec.scopeSelector)?.matchExpressions).length;
}

// ---- pods ---------------------------------------------------------------------------------------

const POD_COMPUTE_VALIDATED = new Set(['cpu', 'memory', 'requests.cpu', 'requests.memory', 'limits.cpu', 'limits.memory']);
const POD_STANDARD = new Set(['pods', 'count/pods', 'cpu', 'memory', 'ephemeral-storage']);

/** A resource name kube treats as extended (a domain-qualified name outside kubernetes.io). */
function isExtendedResource(name: string): boolean {
  return name.includes('/') && !name.startsWith('requests.') && !name.includes('kubernetes.io/');
}

/** kube's QuotaV1Pod: terminal pods, and pods stuck terminating past their grace period, are not charged. */
function podCharged(pod: KubeObject, now: Date): boolean {
  const phase = asRecord(pod.status)?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return false;
  const { deletionTimestamp, deletionGracePeriodSeconds } = pod.metadata;
  if (deletionTimestamp && deletionGracePeriodSeconds !== undefined) {
    if (now.getTime() > Date.parse(deletionTimestamp) + deletionGracePeriodSeconds * 1000) return false;
  }
  return true;
}

/** Pod requests or limits: containers summed, then each init container as a floor, then overhead. */
function podResources(spec: Record<string, unknown>, field: 'requests' | 'limits'): Map<string, Quantity> {
  const totals = new Map<string, Quantity>();
  for (const c of objectsOf(spec.containers)) {
    for (const [k, v] of Object.entries(asRecord(asRecord(c.resources)?.[field]) ?? {})) {
      const q = quantityOf(v);
      if (q) addTo(totals, k, q);
    }
  }
  for (const c of objectsOf(spec.initContainers)) {
    for (const [k, v] of Object.entries(asRecord(asRecord(c.resources)?.[field]) ?? {})) {
      const q = quantityOf(v);
      if (q && (!totals.has(k) || q.cmp(totals.get(k)!) > 0)) totals.set(k, q);
    }
  }
  // Overhead counts only toward resources the pod already names (for limits) or always (for requests).
  for (const [k, v] of Object.entries(asRecord(spec.overhead) ?? {})) {
    const q = quantityOf(v);
    if (q && (field === 'requests' || totals.has(k))) addTo(totals, k, q);
  }
  return totals;
}

/** podComputeUsageHelper: what a pod (or one container) is charged for its requests and limits. */
function computeUsage(requests: Map<string, Quantity>, limits: Map<string, Quantity>): ResourceUsage {
  const usage: ResourceUsage = new Map([['pods', ONE()]]);
  for (const name of ['cpu', 'memory', 'ephemeral-storage']) {
    const request = requests.get(name);
    if (request) {
      usage.set(name, request);
      usage.set(`requests.${name}`, request);
    }
    const limit = limits.get(name);
    if (limit) usage.set(`limits.${name}`, limit);
  }
  for (const [name, request] of requests) {
    if (name.startsWith('hugepages-')) {
      usage.set(name, request);
      usage.set(`requests.${name}`, request);
    } else if (isExtendedResource(name)) usage.set(`requests.${name}`, request);
  }
  return usage;
}

function resourceMap(list: unknown): Map<string, Quantity> {
  const out = new Map<string, Quantity>();
  for (const [k, v] of Object.entries(asRecord(list) ?? {})) {
    const q = quantityOf(v);
    if (q) out.set(k, q);
  }
  return out;
}

function podHasCrossNamespaceAffinity(spec: Record<string, unknown>): boolean {
  const affinity = asRecord(spec.affinity) ?? {};
  for (const kind of ['podAffinity', 'podAntiAffinity']) {
    const a = asRecord(affinity[kind]) ?? {};
    const terms = [
      ...objectsOf(a.requiredDuringSchedulingIgnoredDuringExecution),
      ...objectsOf(a.preferredDuringSchedulingIgnoredDuringExecution).map((t) => asRecord(t.podAffinityTerm) ?? {}),
    ];
    if (terms.some((t) => (Array.isArray(t.namespaces) && t.namespaces.length > 0) || t.namespaceSelector !== undefined))
      return true;
  }
  return false;
}

function podMatchesScope(scope: string, pod: KubeObject): boolean {
  const spec = asRecord(pod.spec) ?? {};
  switch (scope) {
    case 'Terminating':
      return typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0;
    case 'NotTerminating':
      return !(typeof spec.activeDeadlineSeconds === 'number' && spec.activeDeadlineSeconds >= 0);
    case 'BestEffort':
      return podQOSClass(spec) === 'BestEffort';
    case 'NotBestEffort':
      return podQOSClass(spec) !== 'BestEffort';
    case 'PriorityClass':
      return typeof spec.priorityClassName === 'string' && spec.priorityClassName !== '';
    case 'CrossNamespacePodAffinity':
      return podHasCrossNamespaceAffinity(spec);
    default:
      return false;
  }
}

/** A scopeSelector expression (kube's podMatchesSelector: PriorityClass compares the class name). */
function podMatchesExpression(expression: Record<string, unknown>, pod: KubeObject): boolean {
  const scope = String(expression.scopeName ?? '');
  const operator = String(expression.operator ?? '');
  const values = Array.isArray(expression.values) ? expression.values.map(String) : [];
  if (scope !== 'PriorityClass') return podMatchesScope(scope, pod) === (operator !== 'DoesNotExist');
  const name = asRecord(pod.spec)?.priorityClassName;
  const has = typeof name === 'string' && name !== '';
  switch (operator) {
    case 'In':
      return has && values.includes(name);
    case 'NotIn':
      return !has || !values.includes(name);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

const podEvaluator: Evaluator = {
  group: '',
  resource: 'pods',
  handlesUpdate: true,
  matches: (name) =>
    POD_STANDARD.has(name) ||
    (name.startsWith('requests.') && name !== 'requests.storage') ||
    name.startsWith('limits.') ||
    name.startsWith('hugepages-'),
  usage(pod, now) {
    // count/pods tracks every pod in storage; the rest only pods still alive.
    const usage = new Map([['count/pods', ONE()]]);
    if (!podCharged(pod, now)) return usage;
    const spec = asRecord(pod.spec) ?? {};
    for (const [k, v] of computeUsage(podResources(spec, 'requests'), podResources(spec, 'limits'))) usage.set(k, v);
    return usage;
  },
  matchesScopes(quota, pod) {
    const spec = asRecord(quota.spec) ?? {};
    const scopes = Array.isArray(spec.scopes) ? spec.scopes.map(String) : [];
    const expressions = objectsOf(asRecord(spec.scopeSelector)?.matchExpressions);
    return scopes.every((s) => podMatchesScope(s, pod)) && expressions.every((e) => podMatchesExpression(e, pod));
  },
  constraints(required, pod) {
    // Backward compatibility in kube: a quota on cpu or memory needs every container to state it.
    const wanted = required.filter((r) => POD_COMPUTE_VALIDATED.has(r));
    if (!wanted.length) return undefined;
    const spec = asRecord(pod.spec) ?? {};
    const missing = new Map<string, Set<string>>();
    for (const c of [...objectsOf(spec.containers), ...objectsOf(spec.initContainers)]) {
      const resources = asRecord(c.resources) ?? {};
      const has = computeUsage(resourceMap(resources.requests), resourceMap(resources.limits));
      for (const r of wanted) {
        if (has.has(r)) continue;
        if (!missing.has(r)) missing.set(r, new Set());
        missing.get(r)!.add(String(c.name ?? ''));
      }
    }
    if (!missing.size) return undefined;
    const parts = [...missing.keys()].sort().map((r) => `${r} for: ${[...missing.get(r)!].sort().join(',')}`);
    return `must specify ${parts.join('; ')}`;
  },
};

// ---- services -----------------------------------------------------------------------------------

const serviceEvaluator: Evaluator = {
  group: '',
  resource: 'services',
  handlesUpdate: true,
  matches: (name) => ['services', 'count/services', 'services.loadbalancers', 'services.nodeports'].includes(name),
  usage(service) {
    const spec = asRecord(service.spec) ?? {};
    const ports = objectsOf(spec.ports);
    const usage: ResourceUsage = new Map([
      ['count/services', ONE()],
      ['services', ONE()],
      ['services.loadbalancers', ZERO()],
      ['services.nodeports', ZERO()],
    ]);
    if (spec.type === 'NodePort') usage.set('services.nodeports', quantityFromValue(ports.length));
    else if (spec.type === 'LoadBalancer') {
      // Without node port allocation only explicitly requested node ports are taken.
      const nodePorts =
        spec.allocateLoadBalancerNodePorts === false
          ? ports.filter((p) => typeof p.nodePort === 'number' && p.nodePort !== 0).length
          : ports.length;
      usage.set('services.nodeports', quantityFromValue(nodePorts));
      usage.set('services.loadbalancers', ONE());
    }
    return usage;
  },
  matchesScopes: noScopes,
};

// ---- persistent volume claims -------------------------------------------------------------------

const STORAGE_CLASS_SUFFIX = '.storageclass.storage.k8s.io/';

const claimEvaluator: Evaluator = {
  group: '',
  resource: 'persistentvolumeclaims',
  handlesUpdate: true,
  matches: (name) =>
    ['persistentvolumeclaims', 'count/persistentvolumeclaims', 'requests.storage'].includes(name) ||
    (name.includes(STORAGE_CLASS_SUFFIX) && (name.endsWith('/persistentvolumeclaims') || name.endsWith('/requests.storage'))),
  usage(claim) {
    const spec = asRecord(claim.spec) ?? {};
    const usage: ResourceUsage = new Map([
      ['count/persistentvolumeclaims', ONE()],
      ['persistentvolumeclaims', ONE()],
    ]);
    const className =
      typeof spec.storageClassName === 'string'
        ? spec.storageClassName
        : claim.metadata.annotations?.['volume.beta.kubernetes.io/storage-class'];
    if (className) usage.set(`${className}${STORAGE_CLASS_SUFFIX}persistentvolumeclaims`, ONE());
    // A claim being expanded is charged the larger of its request and what is already allocated.
    let storage = quantityOf(asRecord(asRecord(spec.resources)?.requests)?.storage);
    const allocated = quantityOf(asRecord(asRecord(claim.status)?.allocatedResources)?.storage);
    if (allocated && (!storage || allocated.cmp(storage) > 0)) storage = allocated;
    if (storage) {
      usage.set('requests.storage', storage);
      if (className) usage.set(`${className}${STORAGE_CLASS_SUFFIX}requests.storage`, storage);
    }
    return usage;
  },
  matchesScopes: noScopes,
};

// ---- any other resource: object counts ------------------------------------------------------------

/** Core resources that also have a plain quota name besides `count/<resource>`. */
const LEGACY_COUNTED = new Set(['configmaps', 'secrets', 'replicationcontrollers', 'resourcequotas']);

function countName(source: Source): string {
  return source.group ? `count/${source.resource}.${source.group}` : `count/${source.resource}`;
}

function objectCountEvaluator(source: Source): Evaluator {
  const names = [countName(source)];
  if (!source.group && LEGACY_COUNTED.has(source.resource)) names.push(source.resource);
  return {
    ...source,
    handlesUpdate: false,
    matches: (name) => names.includes(name),
    usage: () => new Map(names.map((n) => [n, ONE()])),
    matchesScopes: noScopes,
  };
}

const SPECIFIC_EVALUATORS = [podEvaluator, serviceEvaluator, claimEvaluator];

export function evaluatorFor(group: string, resource: string): Evaluator {
  return (
    SPECIFIC_EVALUATORS.find((e) => e.group === group && e.resource === resource) ?? objectCountEvaluator({ group, resource })
  );
}

/** The kind of object a quota resource name is charged by. */
export function sourceOfQuotaResource(name: string): Source | undefined {
  for (const e of SPECIFIC_EVALUATORS) if (e.matches(name)) return e;
  if (LEGACY_COUNTED.has(name)) return { group: '', resource: name };
  if (name.startsWith('count/')) {
    const rest = name.slice('count/'.length);
    const dot = rest.indexOf('.');
    return dot < 0 ? { group: '', resource: rest } : { group: rest.slice(dot + 1), resource: rest.slice(0, dot) };
  }
  return undefined;
}

// ---- usage of a namespace ---------------------------------------------------------------------

function hardOf(quota: KubeObject): Map<string, Quantity> {
  return resourceMap(asRecord(quota.spec)?.hard);
}

/** kube's prettyPrint of a resource list: sorted `name=value` pairs. */
function prettyPrint(usage: ResourceUsage, names: string[]): string {
  return [...names]
    .sort()
    .map((n) => `${n}=${(usage.get(n) ?? ZERO()).toString()}`)
    .join(',');
}

/** Reads and sums what the objects of a namespace use, per quota. */
export class QuotaUsage {
  constructor(
    private readonly store: RevisionStore,
    private readonly registry: ResourceRegistry,
    private readonly objects: ObjectService,
  ) {}

  /** The stored objects of one resource in a namespace. */
  objectsOf(source: Source, namespace: string): KubeObject[] {
    const def = this.registry.all().find((d) => d.group === source.group && d.resource === source.resource);
    const prefix = def ? this.objects.listPrefix(def, namespace) : listPrefix(source.group, source.resource, namespace);
    return this.store.list(prefix).items.map((s) => s.object);
  }

  quotasOf(namespace: string): KubeObject[] {
    return this.store.list(listPrefix('', 'resourcequotas', namespace)).items.map((s) => s.object);
  }

  /**
   * What the namespace uses of each resource the quota limits (restricted to `only`, when given).
   * `listed` caches object lists between quotas of the same request.
   */
  used(
    quota: KubeObject,
    namespace: string,
    now: Date,
    only?: Set<string>,
    listed = new Map<string, KubeObject[]>(),
  ): ResourceUsage {
    const used: ResourceUsage = new Map();
    const bySource = new Map<string, { source: Source; names: string[] }>();
    for (const name of hardOf(quota).keys()) {
      if (only && !only.has(name)) continue;
      used.set(name, ZERO());
      const source = sourceOfQuotaResource(name);
      if (!source) continue;
      const id = `${source.group}/${source.resource}`;
      if (!bySource.has(id)) bySource.set(id, { source, names: [] });
      bySource.get(id)!.names.push(name);
    }
    for (const [id, { source, names }] of bySource) {
      const evaluator = evaluatorFor(source.group, source.resource);
      if (!listed.has(id)) listed.set(id, this.objectsOf(source, namespace));
      for (const object of listed.get(id)!) {
        if (!evaluator.matchesScopes(quota, object)) continue;
        const usage = evaluator.usage(object, now);
        for (const name of names) {
          const amount = usage.get(name);
          if (amount) addTo(used, name, amount);
        }
      }
    }
    return used;
  }
}

// ---- admission ----------------------------------------------------------------------------------

/**
 * The ResourceQuota validating plug-in: a create (or an update that grows usage) in a namespace
 * with quotas is refused, 403 with kube's wording, when it would take any quota past `hard`.
 */
export function resourceQuotaAdmission(usage: QuotaUsage): AdmissionPlugin {
  return {
    name: 'ResourceQuota',
    validate(a: AdmissionAttributes) {
      if (a.subresource || !a.def.namespaced || !a.object || !a.namespace) return;
      if (a.operation !== 'CREATE' && a.operation !== 'UPDATE') return;
      const where = a.def.storage ?? a.def;
      const evaluator = evaluatorFor(where.group, where.resource);
      if (a.operation === 'UPDATE' && !evaluator.handlesUpdate) return;
      const quotas = usage
        .quotasOf(a.namespace)
        .filter((q) => [...hardOf(q).keys()].some((n) => evaluator.matches(n)) && evaluator.matchesScopes(q, a.object!));
      if (!quotas.length) return;
      const ref = { group: a.def.group, resource: a.def.resource };
      for (const quota of quotas) {
        const required = [...hardOf(quota).keys()].filter((n) => evaluator.matches(n));
        const problem = evaluator.constraints?.(required, a.object);
        if (problem) throw errors.forbidden(ref, a.name, `failed quota: ${quota.metadata.name ?? ''}: ${problem}`);
      }
      const now = new Date();
      const delta = evaluator.usage(a.object, now);
      if (a.operation === 'UPDATE' && a.oldObject) {
        // Charged the growth only; shrinking frees usage, which the controller reports later.
        for (const [name, before] of evaluator.usage(a.oldObject, now)) {
          const after = delta.get(name);
          if (after) delta.set(name, after.cmp(before) > 0 ? after.sub(before) : ZERO());
        }
      }
      for (const [name, amount] of delta) if (amount.sign() <= 0) delta.delete(name);
      if (!delta.size) return;
      const listed = new Map<string, KubeObject[]>();
      for (const quota of quotas) {
        const hard = hardOf(quota);
        const requested = [...delta.keys()].filter((n) => hard.has(n));
        if (!requested.length) continue;
        const used = usage.used(quota, a.namespace, now, new Set(requested), listed);
        const exceeded = requested.filter((n) => (used.get(n) ?? ZERO()).add(delta.get(n)!).cmp(hard.get(n)!) > 0);
        if (exceeded.length) {
          throw errors.forbidden(
            ref,
            a.name,
            `exceeded quota: ${quota.metadata.name ?? ''}, requested: ${prettyPrint(delta, exceeded)}, used: ${prettyPrint(used, exceeded)}, limited: ${prettyPrint(hard, exceeded)}`,
          );
        }
      }
    },
  };
}

// ---- controller ---------------------------------------------------------------------------------

const RESYNC_MS = 5 * 60_000;
const RETRY_MS = 500;

/** A resource list as stored in a status: canonical quantity strings. */
function serialise(list: Map<string, Quantity>): Record<string, string> {
  return Object.fromEntries([...list].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, q]) => [k, formatQuantity(q)]));
}

/**
 * The resource quota controller of kube-controller-manager: recomputes the usage of every quota
 * in a namespace after any write there, and writes `status.hard` (the spec's) and `status.used`
 * through the status subresource when they changed. A periodic resync catches what no write
 * signals (a pod stuck terminating past its grace period).
 */
export class ResourceQuotaController {
  /** namespace → names of its quotas. */
  private readonly quotaNamespaces = new Map<string, Set<string>>();
  private readonly queue = new Set<string>();
  private watch?: WatchHandle;
  private scheduled = false;
  private stopped = false;
  private resync?: NodeJS.Timeout;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly store: RevisionStore,
    private readonly registry: ResourceRegistry,
    private readonly objects: ObjectService,
    private readonly usage: QuotaUsage,
    private readonly log?: (message: string) => void,
  ) {}

  start(): void {
    const quotas = this.store.list(listPrefix('', 'resourcequotas', ''));
    for (const item of quotas.items) this.track(item.object, true);
    for (const ns of this.quotaNamespaces.keys()) this.enqueue(ns);
    this.watch = this.store.watch('/registry/', quotas.revision, (event) => this.onEvent(event));
    this.resync = setInterval(() => this.quotaNamespaces.forEach((_, ns) => this.enqueue(ns)), RESYNC_MS);
    this.resync.unref();
  }

  stop(): void {
    this.stopped = true;
    this.watch?.cancel();
    clearInterval(this.resync);
    clearTimeout(this.retry);
  }

  private track(quota: KubeObject, present: boolean): void {
    const ns = quota.metadata.namespace ?? '';
    const name = quota.metadata.name ?? '';
    let names = this.quotaNamespaces.get(ns);
    if (present) {
      if (!names) this.quotaNamespaces.set(ns, (names = new Set()));
      names.add(name);
    } else if (names) {
      names.delete(name);
      if (!names.size) this.quotaNamespaces.delete(ns);
    }
  }

  private onEvent(event: StoreEvent): void {
    const ns = event.object.metadata.namespace;
    if (!ns) return;
    if (event.key.startsWith(listPrefix('', 'resourcequotas', ''))) this.track(event.object, event.type !== 'DELETED');
    if (this.quotaNamespaces.has(ns)) this.enqueue(ns);
  }

  private enqueue(namespace: string): void {
    this.queue.add(namespace);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    // Never write from inside the store's event dispatch: recompute on the next turn.
    setImmediate(() => this.drain());
  }

  private drain(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const batch = [...this.queue];
    this.queue.clear();
    const failed: string[] = [];
    for (const ns of batch) {
      try {
        this.sync(ns);
      } catch (err) {
        this.log?.(`resourcequota: namespace ${ns}: ${(err as Error).message}`);
        failed.push(ns);
      }
    }
    if (failed.length && !this.stopped) {
      clearTimeout(this.retry);
      this.retry = setTimeout(() => failed.forEach((ns) => this.enqueue(ns)), RETRY_MS);
      this.retry.unref();
    }
  }

  /** Brings every quota of a namespace up to date. */
  sync(namespace: string): void {
    const def = this.registry.get('', 'v1', 'resourcequotas');
    if (!def) return;
    const now = new Date();
    const listed = new Map<string, KubeObject[]>();
    for (const quota of this.usage.quotasOf(namespace)) {
      const status = {
        ...(asRecord(quota.status) ?? {}),
        hard: serialise(hardOf(quota)),
        used: serialise(this.usage.used(quota, namespace, now, undefined, listed)),
      };
      if (deepEqual(status, quota.status)) continue;
      this.objects.update(
        def,
        namespace,
        quota.metadata.name ?? '',
        { ...quota, status },
        { subresource: 'status', expectedRevision: Number(quota.metadata.resourceVersion) },
      );
    }
  }
}
