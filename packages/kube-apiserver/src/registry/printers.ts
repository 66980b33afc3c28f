/**
 * Server-side Table printers for the built-in kinds, following kube-apiserver's
 * pkg/printers/internalversion: the same columns (names, types, priorities, formats) in the same
 * order, and the same cell text. The server always prints wide (kubectl hides priority > 0
 * columns unless `-o wide`), so `cells` returns one cell per column.
 *
 * Upstream prints internal objects, converted from the served version; where that conversion
 * matters to a cell (pod and service IPs, Secret stringData, events.k8s.io Events, autoscaling/v1
 * HPAs) the printer reads the versioned fields the conversion would have read.
 *
 * Kinds kube-apiserver serves with the default table convertor (Role, ClusterRole, LimitRange,
 * CustomResourceDefinition) map to `defaultPrinter`.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { Printer, TableColumn } from './types.js';
import {
  NONE,
  UNKNOWN,
  UNSET,
  age,
  ageColumn,
  at,
  bool,
  column,
  compareStrings,
  defaultPrinter,
  formatLabelSelector,
  formatLabels,
  humanDuration,
  int,
  intOrString,
  labelSelectorString,
  list,
  mapSize,
  nameColumn,
  nameOf,
  optionalInt,
  quantity,
  quantityPointer,
  record,
  str,
  timestampMillis,
  translateTimestampSince,
} from './printing.js';

const CONTAINERS_DESCRIPTION = 'Names of each container in the template.';
const IMAGES_DESCRIPTION = 'Images referenced by each container in the template.';

const wide = { priority: 1 };

function printer(columns: TableColumn[], cells: (object: KubeObject, now: Date) => unknown[]): Printer {
  return { columns, cells };
}

/** layoutContainerCells: container names and images, comma-joined in spec order. */
function containerCells(podSpec: unknown): [string, string] {
  const containers = list(at(podSpec, 'containers'));
  return [containers.map((c) => str(at(c, 'name'))).join(','), containers.map((c) => str(at(c, 'image'))).join(',')];
}

/** `true` when a condition of `type` exists and its status is "True" (first match wins). */
function conditionIsTrue(conditions: unknown, type: string): boolean {
  for (const condition of list(conditions)) {
    if (at(condition, 'type') === type) return at(condition, 'status') === 'True';
  }
  return false;
}

function printBoolPointer(value: unknown): string {
  if (typeof value !== 'boolean') return UNSET;
  return value ? 'True' : 'False';
}

/** Comma-joins up to three entries and summarises the rest (`a,b,c + 2 more...`). */
function listWithMore(items: string[], total: number, max: number, empty: string): string {
  const text = items.slice(0, max).join(',');
  if (total > max) return `${text} + ${total - max} more...`;
  return text === '' ? empty : text;
}

/** net.JoinHostPort. */
function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** IPs (or hostnames) of load-balancer ingress points, de-duplicated and sorted like sets.String. */
function loadBalancerIngress(status: unknown): string {
  const points = new Set<string>();
  for (const ingress of list(at(status, 'ingress'))) {
    const ip = str(at(ingress, 'ip'));
    const hostname = str(at(ingress, 'hostname'));
    if (ip !== '') points.add(ip);
    else if (hostname !== '') points.add(hostname);
  }
  return [...points].sort(compareStrings).join(',');
}

// ---------------------------------------------------------------------------------------------
// core/v1 Pod

const POD_COLUMNS = [
  nameColumn(),
  column('Ready', 'string', 'Ready containers out of all containers (restartable init containers count as containers).'),
  column('Status', 'string', 'Summary of the pod phase and the reasons its containers are waiting or terminated.'),
  column('Restarts', 'string', 'Total container restarts, and how long ago the last one happened.'),
  ageColumn(),
  column('IP', 'string', 'First IP address allocated to the pod.', wide),
  column('Node', 'string', 'Node the pod is bound to.', wide),
  column('Nominated Node', 'string', 'Node the scheduler nominated for the pod while preemption victims terminate.', wide),
  column('Readiness Gates', 'string', 'Readiness gate conditions that are True, out of all readiness gates.', wide),
];

function isRestartableInitContainer(container: unknown): boolean {
  return at(container, 'restartPolicy') === 'Always';
}

/** printPod: the READY/STATUS/RESTARTS summary kubectl users know. */
function podCells(pod: KubeObject, now: Date): unknown[] {
  const spec = at(pod, 'spec');
  const status = at(pod, 'status');
  const conditions = at(status, 'conditions');
  let restarts = 0;
  let restartableInitContainerRestarts = 0;
  let totalContainers = list(at(spec, 'containers')).length;
  let readyContainers = 0;
  let lastRestart: number | undefined;
  let lastRestartableInitContainerRestart: number | undefined;
  const later = (current: number | undefined, candidate: number | undefined) =>
    candidate !== undefined && (current === undefined || current < candidate) ? candidate : current;

  const phase = str(at(status, 'phase'));
  let reason = phase;
  if (str(at(status, 'reason')) !== '') reason = str(at(status, 'reason'));
  for (const condition of list(conditions)) {
    if (at(condition, 'type') === 'PodScheduled' && at(condition, 'reason') === 'SchedulingGated') reason = 'SchedulingGated';
  }

  const initContainerSpecs = list(at(spec, 'initContainers'));
  const initContainers = new Map<string, unknown>();
  for (const container of initContainerSpecs) {
    initContainers.set(str(at(container, 'name')), container);
    if (isRestartableInitContainer(container)) totalContainers++;
  }

  let initializing = false;
  const initStatuses = list(at(status, 'initContainerStatuses'));
  for (let i = 0; i < initStatuses.length; i++) {
    const container = initStatuses[i];
    const restartable = isRestartableInitContainer(initContainers.get(str(at(container, 'name'))));
    restarts += int(at(container, 'restartCount'));
    const lastTerminated = at(container, 'lastState', 'terminated');
    if (lastTerminated !== undefined && lastTerminated !== null) {
      lastRestart = later(lastRestart, timestampMillis(at(lastTerminated, 'finishedAt')));
    }
    if (restartable) {
      restartableInitContainerRestarts += int(at(container, 'restartCount'));
      if (lastTerminated !== undefined && lastTerminated !== null) {
        lastRestartableInitContainerRestart = later(
          lastRestartableInitContainerRestart,
          timestampMillis(at(lastTerminated, 'finishedAt')),
        );
      }
    }
    const terminated = at(container, 'state', 'terminated');
    const waiting = at(container, 'state', 'waiting');
    const hasTerminated = typeof terminated === 'object' && terminated !== null;
    if (hasTerminated && int(at(terminated, 'exitCode')) === 0) continue;
    if (restartable && at(container, 'started') === true) {
      if (at(container, 'ready') === true) readyContainers++;
      continue;
    }
    if (hasTerminated) {
      // Initialization failed.
      const terminatedReason = str(at(terminated, 'reason'));
      if (terminatedReason === '') {
        const signal = int(at(terminated, 'signal'));
        reason = signal !== 0 ? `Init:Signal:${signal}` : `Init:ExitCode:${int(at(terminated, 'exitCode'))}`;
      } else {
        reason = `Init:${terminatedReason}`;
      }
    } else if (str(at(waiting, 'reason')) !== '' && at(waiting, 'reason') !== 'PodInitializing') {
      reason = `Init:${str(at(waiting, 'reason'))}`;
    } else {
      reason = `Init:${i}/${initContainerSpecs.length}`;
    }
    initializing = true;
    break;
  }

  if (!initializing || conditionIsTrue(conditions, 'Initialized')) {
    restarts = restartableInitContainerRestarts;
    lastRestart = lastRestartableInitContainerRestart;
    let hasRunning = false;
    const statuses = list(at(status, 'containerStatuses'));
    // Backwards, so the first container with a waiting or terminated reason names the status.
    for (let i = statuses.length - 1; i >= 0; i--) {
      const container = statuses[i];
      restarts += int(at(container, 'restartCount'));
      const lastTerminated = at(container, 'lastState', 'terminated');
      if (lastTerminated !== undefined && lastTerminated !== null) {
        lastRestart = later(lastRestart, timestampMillis(at(lastTerminated, 'finishedAt')));
      }
      const waiting = at(container, 'state', 'waiting');
      const terminated = at(container, 'state', 'terminated');
      const running = at(container, 'state', 'running');
      const hasTerminated = typeof terminated === 'object' && terminated !== null;
      if (str(at(waiting, 'reason')) !== '') {
        reason = str(at(waiting, 'reason'));
      } else if (hasTerminated && str(at(terminated, 'reason')) !== '') {
        reason = str(at(terminated, 'reason'));
      } else if (hasTerminated) {
        const signal = int(at(terminated, 'signal'));
        reason = signal !== 0 ? `Signal:${signal}` : `ExitCode:${int(at(terminated, 'exitCode'))}`;
      } else if (at(container, 'ready') === true && typeof running === 'object' && running !== null) {
        hasRunning = true;
        readyContainers++;
      }
    }
    // A pod whose containers have mostly completed is still Running while one of them runs.
    if (reason === 'Completed' && hasRunning) reason = conditionIsTrue(conditions, 'Ready') ? 'Running' : 'NotReady';
  }

  const deleting = at(pod, 'metadata', 'deletionTimestamp') !== undefined && at(pod, 'metadata', 'deletionTimestamp') !== null;
  if (deleting && at(status, 'reason') === 'NodeLost') reason = 'Unknown';
  else if (deleting && phase !== 'Succeeded' && phase !== 'Failed') reason = 'Terminating';

  let restartsText = String(restarts);
  if (restarts !== 0 && lastRestart !== undefined)
    restartsText = `${restarts} (${humanDuration(now.getTime() - lastRestart)} ago)`;

  // The internal PodStatus only has podIPs; conversion fills it from podIP when absent.
  const podIPs = list(at(status, 'podIPs'));
  const podIP = (podIPs.length > 0 ? str(at(podIPs[0], 'ip')) : str(at(status, 'podIP'))) || NONE;
  const nodeName = str(at(spec, 'nodeName')) || NONE;
  const nominatedNodeName = str(at(status, 'nominatedNodeName')) || NONE;
  let readinessGates = NONE;
  const gates = list(at(spec, 'readinessGates'));
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const gate of gates) {
      const match = list(conditions).find((c) => at(c, 'type') === at(gate, 'conditionType'));
      if (match !== undefined && at(match, 'status') === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  return [
    nameOf(pod),
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsText,
    age(pod, now),
    podIP,
    nodeName,
    nominatedNodeName,
    readinessGates,
  ];
}

// ---------------------------------------------------------------------------------------------
// Workloads

const replicaSetPrinter = printer(
  [
    nameColumn(),
    column('Desired', 'integer', 'Number of pods the replica set wants.'),
    column('Current', 'integer', 'Number of pods the replica set most recently observed.'),
    column('Ready', 'integer', 'Number of pods that are ready.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION, wide),
    column('Images', 'string', IMAGES_DESCRIPTION, wide),
    column('Selector', 'string', 'Label query over the pods the replica set owns.', wide),
  ],
  (o, now) => [
    nameOf(o),
    int(at(o, 'spec', 'replicas')),
    int(at(o, 'status', 'replicas')),
    int(at(o, 'status', 'readyReplicas')),
    age(o, now),
    ...containerCells(at(o, 'spec', 'template', 'spec')),
    formatLabelSelector(at(o, 'spec', 'selector')),
  ],
);

const replicationControllerPrinter = printer(
  [
    nameColumn(),
    column('Desired', 'integer', 'Number of pods the controller wants.'),
    column('Current', 'integer', 'Number of pods the controller most recently observed.'),
    column('Ready', 'integer', 'Number of pods that are ready.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION, wide),
    column('Images', 'string', IMAGES_DESCRIPTION, wide),
    column('Selector', 'string', 'Label query over the pods the controller owns.', wide),
  ],
  (o, now) => [
    nameOf(o),
    int(at(o, 'spec', 'replicas')),
    int(at(o, 'status', 'replicas')),
    int(at(o, 'status', 'readyReplicas')),
    age(o, now),
    ...containerCells(at(o, 'spec', 'template', 'spec')),
    formatLabels(at(o, 'spec', 'selector')),
  ],
);

const podTemplatePrinter = printer(
  [
    nameColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION),
    column('Images', 'string', IMAGES_DESCRIPTION),
    column('Pod Labels', 'string', 'The labels for the pod template.'),
  ],
  (o) => [nameOf(o), ...containerCells(at(o, 'template', 'spec')), formatLabels(at(o, 'template', 'metadata', 'labels'))],
);

const deploymentPrinter = printer(
  [
    nameColumn(),
    column('Ready', 'string', 'Ready pods out of desired replicas.'),
    column('Up-to-date', 'string', 'Number of pods running the latest pod template.'),
    column('Available', 'string', 'Number of pods available to users (ready for at least minReadySeconds).'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION, wide),
    column('Images', 'string', IMAGES_DESCRIPTION, wide),
    column('Selector', 'string', 'Label query over the pods the deployment manages.', wide),
  ],
  (o, now) => [
    nameOf(o),
    `${int(at(o, 'status', 'readyReplicas'))}/${int(at(o, 'spec', 'replicas'))}`,
    int(at(o, 'status', 'updatedReplicas')),
    int(at(o, 'status', 'availableReplicas')),
    age(o, now),
    ...containerCells(at(o, 'spec', 'template', 'spec')),
    labelSelectorString(at(o, 'spec', 'selector')) ?? '<invalid>',
  ],
);

const statefulSetPrinter = printer(
  [
    nameColumn(),
    column('Ready', 'string', 'Ready pods out of desired replicas.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION, wide),
    column('Images', 'string', IMAGES_DESCRIPTION, wide),
  ],
  (o, now) => [
    nameOf(o),
    `${int(at(o, 'status', 'readyReplicas'))}/${int(at(o, 'spec', 'replicas'))}`,
    age(o, now),
    ...containerCells(at(o, 'spec', 'template', 'spec')),
  ],
);

const daemonSetPrinter = printer(
  [
    nameColumn(),
    column('Desired', 'integer', 'Number of nodes that should run the daemon pod.'),
    column('Current', 'integer', 'Number of nodes running at least one daemon pod that should.'),
    column('Ready', 'integer', 'Number of nodes whose daemon pod is ready.'),
    column('Up-to-date', 'integer', 'Number of nodes running the latest daemon pod template.'),
    column('Available', 'integer', 'Number of nodes whose daemon pod is available.'),
    column('Node Selector', 'string', 'Node labels the daemon pods are restricted to.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION, wide),
    column('Images', 'string', IMAGES_DESCRIPTION, wide),
    column('Selector', 'string', 'Label query over the pods the daemon set manages.', wide),
  ],
  (o, now) => [
    nameOf(o),
    int(at(o, 'status', 'desiredNumberScheduled')),
    int(at(o, 'status', 'currentNumberScheduled')),
    int(at(o, 'status', 'numberReady')),
    int(at(o, 'status', 'updatedNumberScheduled')),
    int(at(o, 'status', 'numberAvailable')),
    formatLabels(at(o, 'spec', 'template', 'spec', 'nodeSelector')),
    age(o, now),
    ...containerCells(at(o, 'spec', 'template', 'spec')),
    formatLabelSelector(at(o, 'spec', 'selector')),
  ],
);

/** formatResourceName for a controller reference: `kind.group/name` in lower case. */
function controllerName(object: KubeObject): string {
  const owner = list(at(object, 'metadata', 'ownerReferences')).find((ref) => at(ref, 'controller') === true);
  if (owner === undefined) return NONE;
  const apiVersion = str(at(owner, 'apiVersion'));
  const slash = apiVersion.indexOf('/');
  const group = slash < 0 ? '' : apiVersion.slice(0, slash);
  const kind = str(at(owner, 'kind'));
  const name = str(at(owner, 'name'));
  if (group === '' && kind === '') return name;
  return `${(group === '' ? kind : `${kind}.${group}`).toLowerCase()}/${name}`;
}

const controllerRevisionPrinter = printer(
  [
    nameColumn(),
    column('Controller', 'string', 'Controller of the object'),
    column('Revision', 'string', 'Revision number of the state the object records.'),
    ageColumn(),
  ],
  (o, now) => [nameOf(o), controllerName(o), int(at(o, 'revision')), age(o, now)],
);

function jobStatus(job: KubeObject): string {
  const conditions = at(job, 'status', 'conditions');
  if (conditionIsTrue(conditions, 'Complete')) return 'Complete';
  if (conditionIsTrue(conditions, 'Failed')) return 'Failed';
  const deletion = at(job, 'metadata', 'deletionTimestamp');
  if (deletion !== undefined && deletion !== null) return 'Terminating';
  if (conditionIsTrue(conditions, 'Suspended')) return 'Suspended';
  if (conditionIsTrue(conditions, 'FailureTarget')) return 'FailureTarget';
  return 'Running';
}

const jobPrinter = printer(
  [
    nameColumn(),
    column('Status', 'string', 'Status of the job.'),
    column('Completions', 'string', 'Succeeded pods out of the completions the job needs.'),
    column('Duration', 'string', 'Time required to complete the job.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION, wide),
    column('Images', 'string', IMAGES_DESCRIPTION, wide),
    column('Selector', 'string', 'Label query over the pods of the job.', wide),
  ],
  (o, now) => {
    const succeeded = int(at(o, 'status', 'succeeded'));
    const completions = optionalInt(at(o, 'spec', 'completions'));
    const parallelism = optionalInt(at(o, 'spec', 'parallelism')) ?? 0;
    let completionsText: string;
    if (completions !== undefined) completionsText = `${succeeded}/${completions}`;
    else if (parallelism > 1) completionsText = `${succeeded}/1 of ${parallelism}`;
    else completionsText = `${succeeded}/1`;
    const start = timestampMillis(at(o, 'status', 'startTime'));
    const completion = timestampMillis(at(o, 'status', 'completionTime'));
    let duration = '';
    if (start !== undefined) duration = humanDuration((completion ?? now.getTime()) - start);
    return [
      nameOf(o),
      jobStatus(o),
      completionsText,
      duration,
      age(o, now),
      ...containerCells(at(o, 'spec', 'template', 'spec')),
      formatLabelSelector(at(o, 'spec', 'selector')),
    ];
  },
);

const cronJobPrinter = printer(
  [
    nameColumn(),
    column('Schedule', 'string', 'Cron schedule the jobs are created on.'),
    column('Timezone', 'string', 'Time zone the schedule is interpreted in.'),
    column('Suspend', 'boolean', 'Whether new jobs are suspended.'),
    column('Active', 'integer', 'Number of jobs currently running.'),
    column('Last Schedule', 'string', 'Time since a job was last scheduled.'),
    ageColumn(),
    column('Containers', 'string', CONTAINERS_DESCRIPTION, wide),
    column('Images', 'string', IMAGES_DESCRIPTION, wide),
    column('Selector', 'string', 'Label query over the pods of the jobs.', wide),
  ],
  (o, now) => {
    const lastSchedule = at(o, 'status', 'lastScheduleTime');
    const timeZone = at(o, 'spec', 'timeZone');
    const jobSpec = at(o, 'spec', 'jobTemplate', 'spec');
    return [
      nameOf(o),
      str(at(o, 'spec', 'schedule')),
      typeof timeZone === 'string' ? timeZone : NONE,
      printBoolPointer(at(o, 'spec', 'suspend')),
      list(at(o, 'status', 'active')).length,
      lastSchedule === undefined || lastSchedule === null ? NONE : translateTimestampSince(lastSchedule, now),
      age(o, now),
      ...containerCells(at(jobSpec, 'template', 'spec')),
      formatLabelSelector(at(jobSpec, 'selector')),
    ];
  },
);

// ---------------------------------------------------------------------------------------------
// Service discovery and networking

function serviceExternalIP(service: KubeObject): string {
  const externalIPs = list(at(service, 'spec', 'externalIPs')).map(str);
  switch (at(service, 'spec', 'type')) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : NONE;
    case 'LoadBalancer': {
      // The server prints wide, so the ingress list is never clipped.
      const ingress = loadBalancerIngress(at(service, 'status', 'loadBalancer'));
      if (externalIPs.length > 0) return [...(ingress === '' ? [] : ingress.split(',')), ...externalIPs].join(',');
      return ingress === '' ? '<pending>' : ingress;
    }
    case 'ExternalName':
      return str(at(service, 'spec', 'externalName'));
  }
  return UNKNOWN;
}

function servicePorts(ports: unknown): string {
  return list(ports)
    .map((port) => {
      const nodePort = int(at(port, 'nodePort'));
      const protocol = str(at(port, 'protocol'));
      return nodePort > 0 ? `${int(at(port, 'port'))}:${nodePort}/${protocol}` : `${int(at(port, 'port'))}/${protocol}`;
    })
    .join(',');
}

const servicePrinter = printer(
  [
    nameColumn(),
    column('Type', 'string', 'How the service is exposed (ClusterIP, NodePort, LoadBalancer, ExternalName).'),
    column('Cluster-IP', 'string', 'Virtual IP of the service inside the cluster.'),
    column('External-IP', 'string', 'Addresses the service is reachable at from outside the cluster.'),
    column('Port(s)', 'string', 'Ports the service exposes (port[:nodePort]/protocol).'),
    ageColumn(),
    column('Selector', 'string', 'Labels of the pods traffic is routed to.', wide),
  ],
  (o, now) => {
    // The internal ServiceSpec only has clusterIPs; conversion fills it from clusterIP.
    const clusterIPs = list(at(o, 'spec', 'clusterIPs'));
    const clusterIP = (clusterIPs.length > 0 ? str(clusterIPs[0]) : str(at(o, 'spec', 'clusterIP'))) || NONE;
    return [
      nameOf(o),
      str(at(o, 'spec', 'type')),
      clusterIP,
      serviceExternalIP(o),
      servicePorts(at(o, 'spec', 'ports')) || NONE,
      age(o, now),
      formatLabels(at(o, 'spec', 'selector')),
    ];
  },
);

/** formatEndpoints: `ip:port` for every address and port, the first three and a count of the rest. */
function formatEndpoints(subsets: unknown): string {
  const all = list(subsets);
  if (all.length === 0) return NONE;
  const max = 3;
  const shown: string[] = [];
  let count = 0;
  for (const subset of all) {
    const addresses = list(at(subset, 'addresses'));
    const ports = list(at(subset, 'ports'));
    if (ports.length === 0) {
      // Headless services may have no ports.
      count += addresses.length;
      for (const address of addresses) if (shown.length < max) shown.push(str(at(address, 'ip')));
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const address of addresses)
        if (shown.length < max) shown.push(joinHostPort(str(at(address, 'ip')), int(at(port, 'port'))));
    }
  }
  const text = shown.join(',');
  return count > max ? `${text} + ${count - max} more...` : text;
}

const endpointsPrinter = printer(
  [nameColumn(), column('Endpoints', 'string', 'Addresses and ports of the ready endpoints.'), ageColumn()],
  (o, now) => [nameOf(o), formatEndpoints(at(o, 'subsets')), age(o, now)],
);

const endpointSlicePrinter = printer(
  [
    nameColumn(),
    column('AddressType', 'string', 'Type of the addresses in the slice (IPv4, IPv6, FQDN).'),
    column('Ports', 'string', 'Port numbers (or names) the endpoints expose.'),
    column('Endpoints', 'string', 'Addresses of the endpoints in the slice.'),
    ageColumn(),
  ],
  (o, now) => {
    const ports = list(at(o, 'ports')).map((port) => {
      const number = optionalInt(at(port, 'port'));
      if (number !== undefined) return String(number);
      const name = at(port, 'name');
      return typeof name === 'string' ? name : '*';
    });
    const addresses = list(at(o, 'endpoints')).flatMap((endpoint) => list(at(endpoint, 'addresses')).map(str));
    return [
      nameOf(o),
      str(at(o, 'addressType')),
      listWithMore(ports, ports.length, 3, UNSET),
      listWithMore(addresses, addresses.length, 3, UNSET),
      age(o, now),
    ];
  },
);

/** formatHosts: up to three rule hosts, `*` when no rule names a host. */
function ingressHosts(rules: unknown): string {
  const all = list(rules);
  const max = 3;
  const hosts: string[] = [];
  let more = false;
  for (const rule of all) {
    if (hosts.length === max) more = true;
    const host = str(at(rule, 'host'));
    if (!more && host !== '') hosts.push(host);
  }
  if (hosts.length === 0) return '*';
  const text = hosts.join(',');
  return more ? `${text} + ${all.length - max} more...` : text;
}

const ingressPrinter = printer(
  [
    nameColumn(),
    column('Class', 'string', 'The name of the IngressClass resource that should be used for additional configuration'),
    column('Hosts', 'string', 'Hosts that incoming requests are matched against before the ingress rule'),
    column('Address', 'string', 'Address is a list containing ingress points for the load-balancer'),
    column('Ports', 'string', 'Ports of TLS configurations that open'),
    ageColumn(),
  ],
  (o, now) => {
    const className = at(o, 'spec', 'ingressClassName');
    return [
      nameOf(o),
      typeof className === 'string' ? className : NONE,
      ingressHosts(at(o, 'spec', 'rules')),
      loadBalancerIngress(at(o, 'status', 'loadBalancer')),
      list(at(o, 'spec', 'tls')).length > 0 ? '80, 443' : '80',
      age(o, now),
    ];
  },
);

const ingressClassPrinter = printer(
  [
    nameColumn(),
    column('Controller', 'string', 'Controller that is responsible for handling this class'),
    column('Parameters', 'string', 'A reference to a resource with additional parameters'),
    ageColumn(),
  ],
  (o, now) => {
    const parameters = at(o, 'spec', 'parameters');
    let text = NONE;
    if (typeof parameters === 'object' && parameters !== null) {
      const apiGroup = at(parameters, 'apiGroup');
      text = `${str(at(parameters, 'kind'))}${typeof apiGroup === 'string' ? `.${apiGroup}` : ''}/${str(at(parameters, 'name'))}`;
    }
    return [nameOf(o), str(at(o, 'spec', 'controller')), text, age(o, now)];
  },
);

const networkPolicyPrinter = printer(
  [nameColumn(), column('Pod-Selector', 'string', 'Label query over the pods the policy applies to.'), ageColumn()],
  (o, now) => [nameOf(o), formatLabelSelector(record(at(o, 'spec', 'podSelector'))), age(o, now)],
);

// ---------------------------------------------------------------------------------------------
// Configuration, identity, cluster

const namespacePrinter = printer(
  [nameColumn(), column('Status', 'string', 'The status of the namespace'), ageColumn()],
  (o, now) => [nameOf(o), str(at(o, 'status', 'phase')), age(o, now)],
);

const configMapPrinter = printer(
  [nameColumn(), column('Data', 'string', 'Number of keys in data and binaryData.'), ageColumn()],
  (o, now) => [nameOf(o), mapSize(at(o, 'data')) + mapSize(at(o, 'binaryData')), age(o, now)],
);

const secretPrinter = printer(
  [
    nameColumn(),
    column('Type', 'string', 'Type of the secret, which says what its data holds.'),
    column('Data', 'string', 'Number of keys in data.'),
    ageColumn(),
  ],
  (o, now) => {
    // Conversion to the internal Secret merges stringData into data.
    const keys = new Set([...Object.keys(record(at(o, 'data'))), ...Object.keys(record(at(o, 'stringData')))]);
    return [nameOf(o), str(at(o, 'type')), keys.size, age(o, now)];
  },
);

const serviceAccountPrinter = printer(
  [nameColumn(), column('Secrets', 'string', 'Number of secrets listed for the service account.'), ageColumn()],
  (o, now) => [nameOf(o), list(at(o, 'secrets')).length, age(o, now)],
);

function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [key, value] of Object.entries(record(at(node, 'metadata', 'labels')))) {
    if (key.startsWith('node-role.kubernetes.io/')) {
      const role = key.slice('node-role.kubernetes.io/'.length);
      if (role !== '') roles.add(role);
    } else if (key === 'kubernetes.io/role' && typeof value === 'string' && value !== '') {
      roles.add(value);
    }
  }
  return [...roles].sort(compareStrings).join(',') || NONE;
}

function nodeAddress(node: KubeObject, type: string): string {
  const address = list(at(node, 'status', 'addresses')).find((a) => at(a, 'type') === type);
  return address === undefined ? NONE : str(at(address, 'address'));
}

const nodePrinter = printer(
  [
    nameColumn(),
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    ageColumn(),
    column('Version', 'string', 'Kubelet version the node reports.'),
    column('Internal-IP', 'string', 'First InternalIP address of the node.', wide),
    column('External-IP', 'string', 'First ExternalIP address of the node.', wide),
    column('OS-Image', 'string', 'Operating system image the node reports.', wide),
    column('Kernel-Version', 'string', 'Kernel version the node reports.', wide),
    column('Container-Runtime', 'string', 'Container runtime and version the node reports.', wide),
  ],
  (o, now) => {
    // The last condition of a type wins, as the upstream map does.
    let ready: unknown;
    for (const condition of list(at(o, 'status', 'conditions'))) if (at(condition, 'type') === 'Ready') ready = condition;
    const status: string[] = [];
    if (ready !== undefined) status.push(at(ready, 'status') === 'True' ? 'Ready' : 'NotReady');
    else status.push('Unknown');
    if (bool(at(o, 'spec', 'unschedulable'))) status.push('SchedulingDisabled');
    const info = at(o, 'status', 'nodeInfo');
    return [
      nameOf(o),
      status.join(','),
      nodeRoles(o),
      age(o, now),
      str(at(info, 'kubeletVersion')),
      nodeAddress(o, 'InternalIP'),
      nodeAddress(o, 'ExternalIP'),
      str(at(info, 'osImage')) || UNKNOWN,
      str(at(info, 'kernelVersion')) || UNKNOWN,
      str(at(info, 'containerRuntimeVersion')) || UNKNOWN,
    ];
  },
);

// ---------------------------------------------------------------------------------------------
// Events (core/v1 and events.k8s.io/v1 share the internal type and so the printer)

const EVENT_COLUMNS = [
  column('Last Seen', 'string', 'Time since the event was last observed.'),
  column('Type', 'string', 'Type of the event (Normal, Warning).'),
  column('Reason', 'string', 'Short machine-readable reason for the event.'),
  column('Object', 'string', 'Object the event is about.'),
  column('Subobject', 'string', 'Part of the object the event is about (such as a container).', wide),
  column('Source', 'string', 'Component (and host) that reported the event.', wide),
  column('Message', 'string', 'Human-readable description of the event.'),
  column('First Seen', 'string', 'Time since the event was first observed.', wide),
  column('Count', 'string', 'Number of times the event occurred.', wide),
  column('Name', 'string', 'Name of the event object.', { priority: 1, format: 'name' }),
];

/** The fields printEvent reads, from either API version of an Event. */
interface EventView {
  name: string;
  involvedObject: unknown;
  type: unknown;
  reason: unknown;
  message: unknown;
  source: unknown;
  reportingController: unknown;
  reportingInstance: unknown;
  firstTimestamp: unknown;
  lastTimestamp: unknown;
  eventTime: unknown;
  count: unknown;
  series: unknown;
}

function coreEventView(o: KubeObject): EventView {
  return {
    name: nameOf(o),
    involvedObject: o.involvedObject,
    type: o.type,
    reason: o.reason,
    message: o.message,
    source: o.source,
    reportingController: o.reportingComponent,
    reportingInstance: o.reportingInstance,
    firstTimestamp: o.firstTimestamp,
    lastTimestamp: o.lastTimestamp,
    eventTime: o.eventTime,
    count: o.count,
    series: o.series,
  };
}

/** events.k8s.io/v1 → internal Event conversion, for the fields the printer uses. */
function eventsV1View(o: KubeObject): EventView {
  return {
    name: nameOf(o),
    involvedObject: o.regarding,
    type: o.type,
    reason: o.reason,
    message: o.note,
    source: o.deprecatedSource,
    reportingController: o.reportingController,
    reportingInstance: o.reportingInstance,
    firstTimestamp: o.deprecatedFirstTimestamp,
    lastTimestamp: o.deprecatedLastTimestamp,
    eventTime: o.eventTime,
    count: o.deprecatedCount,
    series: o.series,
  };
}

function eventCells(event: EventView, now: Date): unknown[] {
  const firstTimestamp =
    timestampMillis(event.firstTimestamp) === undefined
      ? translateTimestampSince(event.eventTime, now)
      : translateTimestampSince(event.firstTimestamp, now);
  let lastTimestamp =
    timestampMillis(event.lastTimestamp) === undefined ? firstTimestamp : translateTimestampSince(event.lastTimestamp, now);
  let count = int(event.count);
  if (typeof event.series === 'object' && event.series !== null) {
    lastTimestamp = translateTimestampSince(at(event.series, 'lastObservedTime'), now);
    count = int(at(event.series, 'count'));
  } else if (count === 0) {
    // Singleton events of the new API carry no count.
    count = 1;
  }
  const kind = str(at(event.involvedObject, 'kind')).toLowerCase();
  const involvedName = str(at(event.involvedObject, 'name'));
  const component = str(at(event.source, 'component')) || str(event.reportingController);
  const host = str(at(event.source, 'host')) || str(event.reportingInstance);
  return [
    lastTimestamp,
    str(event.type),
    str(event.reason),
    involvedName !== '' ? `${kind}/${involvedName}` : kind,
    str(at(event.involvedObject, 'fieldPath')),
    host === '' ? component : `${component}, ${host}`,
    str(event.message).trim(),
    firstTimestamp,
    count,
    event.name,
  ];
}

// ---------------------------------------------------------------------------------------------
// Storage

/** helper.GetAccessModesAsString: RWO, ROX, RWX, RWOP in that order, each once. */
function accessModes(modes: unknown): string {
  const present = new Set(list(modes));
  const names: Array<[string, string]> = [
    ['ReadWriteOnce', 'RWO'],
    ['ReadOnlyMany', 'ROX'],
    ['ReadWriteMany', 'RWX'],
    ['ReadWriteOncePod', 'RWOP'],
  ];
  return names
    .filter(([mode]) => present.has(mode))
    .map(([, short]) => short)
    .join(',');
}

/** The storage class, the beta annotation taking precedence over spec.storageClassName. */
function storageClassOf(o: KubeObject): string {
  const annotation = at(o, 'metadata', 'annotations', 'volume.beta.kubernetes.io/storage-class');
  if (typeof annotation === 'string') return annotation;
  return str(at(o, 'spec', 'storageClassName'));
}

function isDeleting(o: KubeObject): boolean {
  const deletion = at(o, 'metadata', 'deletionTimestamp');
  return deletion !== undefined && deletion !== null;
}

const persistentVolumePrinter = printer(
  [
    nameColumn(),
    column('Capacity', 'string', 'Storage capacity of the volume.'),
    column('Access Modes', 'string', 'Ways the volume can be mounted.'),
    column('Reclaim Policy', 'string', 'What happens to the volume when its claim is released.'),
    column('Status', 'string', 'Phase of the volume.'),
    column('Claim', 'string', 'Claim bound to the volume (namespace/name).'),
    column('StorageClass', 'string', 'StorageClass of the pv'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pv'),
    column('Reason', 'string', 'Reason the volume is in its phase, for failures.'),
    ageColumn(),
    column('VolumeMode', 'string', 'Whether the volume is a filesystem or a raw block device.', wide),
  ],
  (o, now) => {
    const claimRef = at(o, 'spec', 'claimRef');
    const claim =
      typeof claimRef === 'object' && claimRef !== null ? `${str(at(claimRef, 'namespace'))}/${str(at(claimRef, 'name'))}` : '';
    const volumeMode = at(o, 'spec', 'volumeMode');
    const attributesClass = at(o, 'spec', 'volumeAttributesClassName');
    return [
      nameOf(o),
      quantity(at(o, 'spec', 'capacity', 'storage')),
      accessModes(at(o, 'spec', 'accessModes')),
      str(at(o, 'spec', 'persistentVolumeReclaimPolicy')),
      isDeleting(o) ? 'Terminating' : str(at(o, 'status', 'phase')),
      claim,
      storageClassOf(o),
      typeof attributesClass === 'string' ? attributesClass : UNSET,
      str(at(o, 'status', 'reason')),
      age(o, now),
      typeof volumeMode === 'string' ? volumeMode : UNSET,
    ];
  },
);

const persistentVolumeClaimPrinter = printer(
  [
    nameColumn(),
    column('Status', 'string', 'Phase of the claim.'),
    column('Volume', 'string', 'Volume bound to the claim.'),
    column('Capacity', 'string', 'Storage capacity of the bound volume.'),
    column('Access Modes', 'string', 'Ways the bound volume can be mounted.'),
    column('StorageClass', 'string', 'StorageClass of the pvc'),
    column('VolumeAttributesClass', 'string', 'VolumeAttributesClass of the pvc'),
    ageColumn(),
    column('VolumeMode', 'string', 'Whether the claim wants a filesystem or a raw block device.', wide),
  ],
  (o, now) => {
    const volumeName = str(at(o, 'spec', 'volumeName'));
    const bound = volumeName !== '';
    const volumeMode = at(o, 'spec', 'volumeMode');
    const attributesClass = at(o, 'spec', 'volumeAttributesClassName');
    return [
      nameOf(o),
      isDeleting(o) ? 'Terminating' : str(at(o, 'status', 'phase')),
      volumeName,
      bound ? quantity(at(o, 'status', 'capacity', 'storage')) : '',
      bound ? accessModes(at(o, 'status', 'accessModes')) : '',
      storageClassOf(o),
      typeof attributesClass === 'string' ? attributesClass : UNSET,
      age(o, now),
      typeof volumeMode === 'string' ? volumeMode : UNSET,
    ];
  },
);

function isDefaultStorageClass(o: KubeObject): boolean {
  const annotations = record(at(o, 'metadata', 'annotations'));
  return (
    annotations['storageclass.kubernetes.io/is-default-class'] === 'true' ||
    annotations['storageclass.beta.kubernetes.io/is-default-class'] === 'true'
  );
}

const storageClassPrinter = printer(
  [
    nameColumn(),
    column('Provisioner', 'string', 'Volume plugin or CSI driver that provisions volumes of the class.'),
    column('ReclaimPolicy', 'string', 'Reclaim policy of volumes the class provisions.'),
    column('VolumeBindingMode', 'string', 'When volumes are provisioned and bound (Immediate, WaitForFirstConsumer).'),
    column('AllowVolumeExpansion', 'string', 'Whether volumes of the class can be expanded.'),
    ageColumn(),
  ],
  (o, now) => {
    const reclaimPolicy = at(o, 'reclaimPolicy');
    const bindingMode = at(o, 'volumeBindingMode');
    return [
      isDefaultStorageClass(o) ? `${nameOf(o)} (default)` : nameOf(o),
      str(at(o, 'provisioner')),
      typeof reclaimPolicy === 'string' ? reclaimPolicy : 'Delete',
      typeof bindingMode === 'string' ? bindingMode : 'Immediate',
      bool(at(o, 'allowVolumeExpansion')),
      age(o, now),
    ];
  },
);

const csiDriverPrinter = printer(
  [
    nameColumn(),
    column('AttachRequired', 'boolean', 'Whether the driver needs an attach step.'),
    column('PodInfoOnMount', 'boolean', 'Whether the driver receives pod information on mount.'),
    column('StorageCapacity', 'boolean', 'Whether the scheduler considers the storage capacity the driver reports.'),
    column('TokenRequests', 'string', 'Audiences of the service account tokens the driver receives.'),
    column('RequiresRepublish', 'boolean', 'Whether NodePublishVolume is called periodically.'),
    column('Modes', 'string', 'Volume lifecycle modes the driver supports.'),
    ageColumn(),
  ],
  (o, now) => {
    const spec = at(o, 'spec');
    const attachRequired = at(spec, 'attachRequired');
    const tokenRequests = at(spec, 'tokenRequests');
    return [
      nameOf(o),
      typeof attachRequired === 'boolean' ? attachRequired : true,
      bool(at(spec, 'podInfoOnMount')),
      bool(at(spec, 'storageCapacity')),
      Array.isArray(tokenRequests) ? tokenRequests.map((t) => str(at(t, 'audience'))).join(',') : UNSET,
      bool(at(spec, 'requiresRepublish')),
      list(at(spec, 'volumeLifecycleModes')).map(str).join(',') || NONE,
      age(o, now),
    ];
  },
);

const csiNodePrinter = printer(
  [nameColumn(), column('Drivers', 'integer', 'Drivers indicates the number of CSI drivers registered on the node'), ageColumn()],
  (o, now) => [nameOf(o), list(at(o, 'spec', 'drivers')).length, age(o, now)],
);

const volumeAttachmentPrinter = printer(
  [
    nameColumn(),
    // Upstream marks this column as a name column too; kept for identical column definitions.
    column('Attacher', 'string', 'CSI driver that attaches the volume.', { format: 'name' }),
    column('PV', 'string', 'Persistent volume being attached.'),
    column('Node', 'string', 'Node the volume is attached to.'),
    column('Attached', 'boolean', 'Whether the attach operation succeeded.'),
    ageColumn(),
  ],
  (o, now) => {
    const pv = at(o, 'spec', 'source', 'persistentVolumeName');
    return [
      nameOf(o),
      str(at(o, 'spec', 'attacher')),
      typeof pv === 'string' ? pv : '',
      str(at(o, 'spec', 'nodeName')),
      bool(at(o, 'status', 'attached')),
      age(o, now),
    ];
  },
);

// ---------------------------------------------------------------------------------------------
// Policy, quota, autoscaling, scheduling

const resourceQuotaPrinter = printer(
  [
    nameColumn(),
    column('Request', 'string', 'Request represents a minimum amount of cpu/memory that a container may consume.'),
    column(
      'Limit',
      'string',
      'Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.',
    ),
    ageColumn(),
  ],
  (o, now) => {
    const hard = record(at(o, 'status', 'hard'));
    const used = record(at(o, 'status', 'used'));
    const requests: string[] = [];
    const limits: string[] = [];
    for (const resource of Object.keys(hard).sort(compareStrings)) {
      const pieces = resource.split('.');
      const entry = `${resource}: ${quantity(used[resource])}/${quantity(hard[resource])}`;
      (pieces.length > 1 && pieces[0] === 'limits' ? limits : requests).push(entry);
    }
    return [nameOf(o), requests.join(', '), limits.join(', '), age(o, now)];
  },
);

const podDisruptionBudgetPrinter = printer(
  [
    nameColumn(),
    column('Min Available', 'string', 'The minimum number of pods that must be available.'),
    column('Max Unavailable', 'string', 'The maximum number of pods that may be unavailable.'),
    column('Allowed Disruptions', 'integer', 'Calculated number of pods that may be disrupted at this time.'),
    ageColumn(),
  ],
  (o, now) => {
    const minAvailable = at(o, 'spec', 'minAvailable');
    const maxUnavailable = at(o, 'spec', 'maxUnavailable');
    return [
      nameOf(o),
      minAvailable === undefined || minAvailable === null ? 'N/A' : intOrString(minAvailable),
      maxUnavailable === undefined || maxUnavailable === null ? 'N/A' : intOrString(maxUnavailable),
      int(at(o, 'status', 'disruptionsAllowed')),
      age(o, now),
    ];
  },
);

/**
 * The metrics of an HPA in autoscaling/v2 shape. autoscaling/v1 objects convert their CPU
 * utilization target into a Resource metric, as the internal conversion does.
 */
function hpaMetrics(o: KubeObject): { specs: unknown[]; statuses: unknown[] } {
  const specMetrics = at(o, 'spec', 'metrics');
  const target = at(o, 'spec', 'targetCPUUtilizationPercentage');
  if (!Array.isArray(specMetrics) && typeof target === 'number') {
    const current = at(o, 'status', 'currentCPUUtilizationPercentage');
    return {
      specs: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } }],
      statuses:
        typeof current === 'number'
          ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: current } } }]
          : [],
    };
  }
  return { specs: list(specMetrics), statuses: list(at(o, 'status', 'currentMetrics')) };
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** formatHPAMetrics: `current/target` per metric, the first two and a count of the rest. */
function formatHPAMetrics(specs: unknown[], statuses: unknown[]): string {
  if (specs.length === 0) return NONE;
  const entries: string[] = [];
  specs.forEach((spec, i) => {
    const status = statuses[i];
    const source = (key: string) => at(status, key);
    switch (at(spec, 'type')) {
      case 'External':
      case 'Object': {
        const key = at(spec, 'type') === 'External' ? 'external' : 'object';
        const target = at(spec, key, 'target');
        if (present(at(target, 'averageValue'))) {
          const currentValue = at(source(key), 'current', 'averageValue');
          const current = present(source(key)) && present(currentValue) ? quantity(currentValue) : UNKNOWN;
          entries.push(`${current}/${quantity(at(target, 'averageValue'))} (avg)`);
        } else {
          const current = present(source(key)) ? quantityPointer(at(source(key), 'current', 'value')) : UNKNOWN;
          entries.push(`${current}/${quantityPointer(at(target, 'value'))}`);
        }
        break;
      }
      case 'Pods': {
        const current = present(source('pods')) ? quantityPointer(at(source('pods'), 'current', 'averageValue')) : UNKNOWN;
        entries.push(`${current}/${quantityPointer(at(spec, 'pods', 'target', 'averageValue'))}`);
        break;
      }
      case 'Resource':
      case 'ContainerResource': {
        const key = at(spec, 'type') === 'Resource' ? 'resource' : 'containerResource';
        const name = str(at(spec, key, 'name'));
        const target = at(spec, key, 'target');
        if (present(at(target, 'averageValue'))) {
          const current = present(source(key)) ? quantityPointer(at(source(key), 'current', 'averageValue')) : UNKNOWN;
          entries.push(`${name}: ${current}/${quantity(at(target, 'averageValue'))}`);
        } else {
          const utilization = optionalInt(at(source(key), 'current', 'averageUtilization'));
          const current = utilization !== undefined ? `${utilization}%` : UNKNOWN;
          const targetUtilization = optionalInt(at(target, 'averageUtilization'));
          entries.push(`${name}: ${current}/${targetUtilization !== undefined ? `${targetUtilization}%` : '<auto>'}`);
        }
        break;
      }
      default:
        entries.push('<unknown type>');
    }
  });
  const max = 2;
  const text = entries.slice(0, max).join(', ');
  return entries.length > max ? `${text} + ${entries.length - max} more...` : text;
}

const horizontalPodAutoscalerPrinter = printer(
  [
    nameColumn(),
    column('Reference', 'string', 'Workload the autoscaler scales (kind/name).'),
    column('Targets', 'string', 'Current and target values of each metric.'),
    column('MinPods', 'string', 'Lower limit of replicas.'),
    column('MaxPods', 'string', 'Upper limit of replicas.'),
    column('Replicas', 'string', 'Current number of replicas.'),
    ageColumn(),
  ],
  (o, now) => {
    const { specs, statuses } = hpaMetrics(o);
    const minReplicas = optionalInt(at(o, 'spec', 'minReplicas'));
    return [
      nameOf(o),
      `${str(at(o, 'spec', 'scaleTargetRef', 'kind'))}/${str(at(o, 'spec', 'scaleTargetRef', 'name'))}`,
      formatHPAMetrics(specs, statuses),
      minReplicas === undefined ? UNSET : String(minReplicas),
      int(at(o, 'spec', 'maxReplicas')),
      int(at(o, 'status', 'currentReplicas')),
      age(o, now),
    ];
  },
);

const priorityClassPrinter = printer(
  [
    nameColumn(),
    column('Value', 'integer', 'Priority of pods that use the class.'),
    column('Global-Default', 'boolean', 'Whether pods without a priority class get this one.'),
    ageColumn(),
    column('PreemptionPolicy', 'string', 'Whether pods of the class may preempt lower-priority pods.'),
  ],
  (o, now) => [nameOf(o), int(at(o, 'value')), bool(at(o, 'globalDefault')), age(o, now), str(at(o, 'preemptionPolicy'))],
);

const runtimeClassPrinter = printer(
  [nameColumn(), column('Handler', 'string', 'Container runtime handler the class selects.'), ageColumn()],
  (o, now) => [nameOf(o), str(at(o, 'handler')), age(o, now)],
);

const leasePrinter = printer(
  [nameColumn(), column('Holder', 'string', 'Identity of the current lease holder.'), ageColumn()],
  (o, now) => [nameOf(o), str(at(o, 'spec', 'holderIdentity')), age(o, now)],
);

// ---------------------------------------------------------------------------------------------
// RBAC, admission, certificates, aggregation

function bindingPrinter(kind: string): Printer {
  return printer(
    [
      nameColumn(),
      column('Role', 'string', 'Role the binding grants (kind/name).'),
      ageColumn(),
      column('Users', 'string', `Users in the ${kind}`, wide),
      column('Groups', 'string', `Groups in the ${kind}`, wide),
      column('ServiceAccounts', 'string', `ServiceAccounts in the ${kind}`, wide),
    ],
    (o, now) => {
      const users: string[] = [];
      const groups: string[] = [];
      const serviceAccounts: string[] = [];
      for (const subject of list(at(o, 'subjects'))) {
        const name = str(at(subject, 'name'));
        switch (at(subject, 'kind')) {
          case 'ServiceAccount':
            serviceAccounts.push(`${str(at(subject, 'namespace'))}/${name}`);
            break;
          case 'User':
            users.push(name);
            break;
          case 'Group':
            groups.push(name);
            break;
        }
      }
      return [
        nameOf(o),
        `${str(at(o, 'roleRef', 'kind'))}/${str(at(o, 'roleRef', 'name'))}`,
        age(o, now),
        users.join(', '),
        groups.join(', '),
        serviceAccounts.join(', '),
      ];
    },
  );
}

function webhookConfigurationPrinter(): Printer {
  return printer(
    [
      nameColumn(),
      column('Webhooks', 'integer', 'Webhooks indicates the number of webhooks registered in this configuration'),
      ageColumn(),
    ],
    (o, now) => [nameOf(o), list(at(o, 'webhooks')).length, age(o, now)],
  );
}

function certificateSigningRequestCondition(o: KubeObject): string {
  const types = new Set(list(at(o, 'status', 'conditions')).map((c) => at(c, 'type')));
  // In order of precedence.
  let status = types.has('Denied') ? 'Denied' : types.has('Approved') ? 'Approved' : 'Pending';
  if (types.has('Failed')) status += ',Failed';
  if (str(at(o, 'status', 'certificate')) !== '') status += ',Issued';
  return status;
}

const certificateSigningRequestPrinter = printer(
  [
    nameColumn(),
    ageColumn(),
    column('SignerName', 'string', 'Signer the request is addressed to.'),
    column('Requestor', 'string', 'User that created the request.'),
    column('RequestedDuration', 'string', 'Validity period requested for the certificate.'),
    column('Condition', 'string', 'Approval and issuance state of the request.'),
  ],
  (o, now) => {
    const expirationSeconds = optionalInt(at(o, 'spec', 'expirationSeconds'));
    return [
      nameOf(o),
      age(o, now),
      str(at(o, 'spec', 'signerName')) || NONE,
      str(at(o, 'spec', 'username')),
      expirationSeconds === undefined ? NONE : humanDuration(expirationSeconds * 1000),
      certificateSigningRequestCondition(o),
    ];
  },
);

/** kube-aggregator's APIService table: the backing service (or Local) and Available. */
const apiServicePrinter = printer(
  [
    nameColumn(),
    column('Service', 'string', 'The reference to the service that hosts this API endpoint.'),
    column('Available', 'string', 'Whether this service is available.'),
    ageColumn(),
  ],
  (o, now) => {
    const service = at(o, 'spec', 'service');
    const serviceText =
      typeof service === 'object' && service !== null ? `${str(at(service, 'namespace'))}/${str(at(service, 'name'))}` : 'Local';
    let available = 'Unknown';
    const condition = list(at(o, 'status', 'conditions')).find((c) => at(c, 'type') === 'Available');
    if (condition !== undefined) {
      const status = str(at(condition, 'status'));
      const reason = str(at(condition, 'reason'));
      available = status !== 'True' && reason !== '' ? `${status} (${reason})` : status;
    }
    return [nameOf(o), serviceText, available, age(o, now)];
  },
);

// ---------------------------------------------------------------------------------------------

/** Printers of the built-in kinds, keyed by `<group>/<Kind>` (the core group is ''). */
export const builtinPrinters: Record<string, Printer> = {
  '/Pod': printer(POD_COLUMNS, podCells),
  '/PodTemplate': podTemplatePrinter,
  '/ReplicationController': replicationControllerPrinter,
  '/Service': servicePrinter,
  '/Endpoints': endpointsPrinter,
  '/Namespace': namespacePrinter,
  '/Node': nodePrinter,
  '/Event': printer(EVENT_COLUMNS, (o, now) => eventCells(coreEventView(o), now)),
  '/ConfigMap': configMapPrinter,
  '/Secret': secretPrinter,
  '/ServiceAccount': serviceAccountPrinter,
  '/PersistentVolume': persistentVolumePrinter,
  '/PersistentVolumeClaim': persistentVolumeClaimPrinter,
  '/ResourceQuota': resourceQuotaPrinter,
  '/LimitRange': defaultPrinter,
  'events.k8s.io/Event': printer(EVENT_COLUMNS, (o, now) => eventCells(eventsV1View(o), now)),
  'apps/Deployment': deploymentPrinter,
  'apps/ReplicaSet': replicaSetPrinter,
  'apps/StatefulSet': statefulSetPrinter,
  'apps/DaemonSet': daemonSetPrinter,
  'apps/ControllerRevision': controllerRevisionPrinter,
  'batch/Job': jobPrinter,
  'batch/CronJob': cronJobPrinter,
  'autoscaling/HorizontalPodAutoscaler': horizontalPodAutoscalerPrinter,
  'policy/PodDisruptionBudget': podDisruptionBudgetPrinter,
  'networking.k8s.io/Ingress': ingressPrinter,
  'networking.k8s.io/IngressClass': ingressClassPrinter,
  'networking.k8s.io/NetworkPolicy': networkPolicyPrinter,
  'discovery.k8s.io/EndpointSlice': endpointSlicePrinter,
  'storage.k8s.io/StorageClass': storageClassPrinter,
  'storage.k8s.io/CSIDriver': csiDriverPrinter,
  'storage.k8s.io/CSINode': csiNodePrinter,
  'storage.k8s.io/VolumeAttachment': volumeAttachmentPrinter,
  'coordination.k8s.io/Lease': leasePrinter,
  'scheduling.k8s.io/PriorityClass': priorityClassPrinter,
  'node.k8s.io/RuntimeClass': runtimeClassPrinter,
  'rbac.authorization.k8s.io/Role': defaultPrinter,
  'rbac.authorization.k8s.io/ClusterRole': defaultPrinter,
  'rbac.authorization.k8s.io/RoleBinding': bindingPrinter('roleBinding'),
  'rbac.authorization.k8s.io/ClusterRoleBinding': bindingPrinter('clusterRoleBinding'),
  'admissionregistration.k8s.io/MutatingWebhookConfiguration': webhookConfigurationPrinter(),
  'admissionregistration.k8s.io/ValidatingWebhookConfiguration': webhookConfigurationPrinter(),
  'certificates.k8s.io/CertificateSigningRequest': certificateSigningRequestPrinter,
  'apiextensions.k8s.io/CustomResourceDefinition': defaultPrinter,
  'apiregistration.k8s.io/APIService': apiServicePrinter,
};

/** The printer for a kind: its own, or kube-apiserver's default table convertor. */
export function printerFor(group: string, kind: string): Printer {
  return builtinPrinters[`${group}/${kind}`] ?? defaultPrinter;
}
