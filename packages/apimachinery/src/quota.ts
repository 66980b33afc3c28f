/**
 * ResourceQuota evaluation as pure functions, shared by the API server's ResourceQuota admission
 * plug-in and kube-controller-manager's resource quota controller (as kube's quota evaluators are
 * shared by both): what each object is charged (object counts, pod compute requests and limits,
 * claim storage, service load balancers and node ports), which quotas' scopes select it, and
 * what a namespace uses of each resource a quota limits.
 */
import type { KubeObject } from './types.js';
import { formatQuantity, parseQuantity, quantityFromValue, type Quantity } from './quantity.js';

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

// ---- pod QoS (pkg/apis/core/helper/qos) -----------------------------------------------------------

function qosResourceTotals(containers: Record<string, unknown>[], field: 'requests' | 'limits') {
  const totals = new Map<string, bigint>();
  const perContainerHasBoth: boolean[] = [];
  for (const container of containers) {
    const found = new Set<string>();
    const list = asRecord(asRecord(container.resources)?.[field]) ?? {};
    for (const name of ['cpu', 'memory']) {
      const nanos = quantityOf(list[name])?.nanos;
      if (nanos === undefined || nanos <= 0n) continue;
      found.add(name);
      totals.set(name, (totals.get(name) ?? 0n) + nanos);
    }
    perContainerHasBoth.push(found.has('cpu') && found.has('memory'));
  }
  return { totals, perContainerHasBoth };
}

/** BestEffort, Burstable or Guaranteed, from the cpu and memory requests and limits of all containers. */
export function podQOSClass(value: unknown): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const spec = asRecord(value) ?? {};
  const containers = [...objectsOf(spec.containers), ...objectsOf(spec.initContainers)];
  const requests = qosResourceTotals(containers, 'requests');
  const limits = qosResourceTotals(containers, 'limits');
  if (requests.totals.size === 0 && limits.totals.size === 0) return 'BestEffort';
  let guaranteed = limits.perContainerHasBoth.every(Boolean);
  if (guaranteed) {
    for (const [name, request] of requests.totals) {
      if (limits.totals.get(name) !== request) guaranteed = false;
    }
  }
  return guaranteed && requests.totals.size === limits.totals.size ? 'Guaranteed' : 'Burstable';
}

/** kube's GetPodQOS: the class recorded in the status at creation, else computed from the spec. */
function podQOS(pod: KubeObject): string {
  const recorded = asRecord(pod.status)?.qosClass;
  return typeof recorded === 'string' && recorded ? recorded : podQOSClass(pod.spec);
}

/** Amounts per quota resource name (`pods`, `requests.cpu`, `count/deployments.apps`…). */
export type ResourceUsage = Map<string, Quantity>;

export interface QuotaSource {
  group: string;
  resource: string;
}

/** What kube calls a quota Evaluator: how one kind of object is charged. */
export interface QuotaEvaluator extends QuotaSource {
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

/** A resource list (`{cpu: "1", memory: "1Gi"}`) as quantities; unparseable entries are skipped. */
export function parseResourceList(list: unknown): Map<string, Quantity> {
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
      return podQOS(pod) === 'BestEffort';
    case 'NotBestEffort':
      return podQOS(pod) !== 'BestEffort';
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

const podEvaluator: QuotaEvaluator = {
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
      const has = computeUsage(parseResourceList(resources.requests), parseResourceList(resources.limits));
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

const serviceEvaluator: QuotaEvaluator = {
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

const claimEvaluator: QuotaEvaluator = {
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

function countName(source: QuotaSource): string {
  return source.group ? `count/${source.resource}.${source.group}` : `count/${source.resource}`;
}

function objectCountEvaluator(source: QuotaSource): QuotaEvaluator {
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

/** Whether a kind is charged by its contents (pods, services, claims) rather than only counted. */
export function hasUsageEvaluator(group: string, resource: string): boolean {
  return SPECIFIC_EVALUATORS.some((e) => e.group === group && e.resource === resource);
}

export function evaluatorFor(group: string, resource: string): QuotaEvaluator {
  return (
    SPECIFIC_EVALUATORS.find((e) => e.group === group && e.resource === resource) ?? objectCountEvaluator({ group, resource })
  );
}

/** The kind of object a quota resource name is charged by. */
export function sourceOfQuotaResource(name: string): QuotaSource | undefined {
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

export function quotaHard(quota: KubeObject): Map<string, Quantity> {
  return parseResourceList(asRecord(quota.spec)?.hard);
}

/** kube's prettyPrint of a resource list: sorted `name=value` pairs. */
export function formatResourceUsage(usage: ResourceUsage, names: string[]): string {
  return [...names]
    .sort()
    .map((n) => `${n}=${(usage.get(n) ?? ZERO()).toString()}`)
    .join(',');
}


/**
 * What a namespace uses of each resource the quota limits (restricted to `only`, when given).
 * `objectsOf` lists the namespace's objects of one resource (from storage in the API server,
 * from informers in the controller).
 */
export function quotaUsed(
  quota: KubeObject,
  objectsOf: (source: QuotaSource) => KubeObject[],
  now: Date,
  only?: Set<string>,
): ResourceUsage {
  const used: ResourceUsage = new Map();
  const bySource = new Map<string, { source: QuotaSource; names: string[] }>();
  for (const name of quotaHard(quota).keys()) {
    if (only && !only.has(name)) continue;
    used.set(name, ZERO());
    const source = sourceOfQuotaResource(name);
    if (!source) continue;
    const id = `${source.group}/${source.resource}`;
    if (!bySource.has(id)) bySource.set(id, { source, names: [] });
    bySource.get(id)!.names.push(name);
  }
  for (const { source, names } of bySource.values()) {
    const evaluator = evaluatorFor(source.group, source.resource);
    for (const object of objectsOf(source)) {
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

/** A resource list as stored in a status: canonical quantity strings, sorted by name. */
export function serialiseResourceList(list: Map<string, Quantity>): Record<string, string> {
  return Object.fromEntries([...list].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, q]) => [k, formatQuantity(q)]));
}

/** The zero quantity, for callers adding up usage. */
export function zeroQuantity(): Quantity {
  return ZERO();
}
