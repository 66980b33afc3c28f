/**
 * The built-in kinds served by the embedded API server, as data. Each entry names the kind, its
 * URL resource, scope, short names, categories, subresources and field selectors exactly as
 * kube-apiserver 1.34 serves them; printers, defaults and validation attach by `group/Kind`.
 */
import type { KubeObject } from '@canopy/apimachinery';
import { definitionNameFor } from '../openapi/definitions.js';
import { eventsV1Storage, horizontalPodAutoscalerV1Storage } from './conversions.js';
import type { ActionSubresource, ResourceDefinition, StorageBinding, Verb } from './types.js';

const ALL_VERBS: Verb[] = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

type Fields = Record<string, (object: KubeObject) => string | undefined>;

/** Reads a dotted path (`spec.nodeName`) as the string a field selector compares with. */
function path(dotted: string): (object: KubeObject) => string | undefined {
  const parts = dotted.split('.');
  return (object) => {
    let current: unknown = object;
    for (const part of parts) {
      if (typeof current !== 'object' || current === null) return undefined;
      current = (current as Record<string, unknown>)[part];
    }
    if (current === undefined || current === null) return '';
    return typeof current === 'object' ? JSON.stringify(current) : String(current);
  };
}

function fields(...names: string[]): Fields {
  return Object.fromEntries(names.map((n) => [n, path(n)]));
}

interface Entry {
  kind: string;
  resource: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  scale?: boolean;
  tracksGeneration?: boolean;
  selectableFields?: Fields;
  verbs?: Verb[];
  storage?: StorageBinding;
  actionSubresources?: ActionSubresource[];
}

const scaleFromReplicas = { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' };

const groups: Array<{ group: string; version: string; entries: Entry[] }> = [
  {
    group: '',
    version: 'v1',
    entries: [
      { kind: 'Namespace', resource: 'namespaces', namespaced: false, shortNames: ['ns'], status: true, selectableFields: fields('status.phase') },
      {
        kind: 'Pod',
        resource: 'pods',
        namespaced: true,
        shortNames: ['po'],
        categories: ['all'],
        status: true,
        selectableFields: fields(
          'spec.nodeName',
          'spec.restartPolicy',
          'spec.schedulerName',
          'spec.serviceAccountName',
          'spec.hostNetwork',
          'status.phase',
          'status.podIP',
          'status.nominatedNodeName',
        ),
        // The streaming subresources (server/streams.ts), with the kinds and verbs kube lists.
        actionSubresources: [
          { name: 'attach', kind: 'PodAttachOptions', verbs: ['create', 'get'] },
          // How a scheduler assigns the pod to a node (server/pod-binding.ts).
          { name: 'binding', kind: 'Binding', verbs: ['create'] },
          // Deletion that honours PodDisruptionBudgets (server/eviction.ts).
          { name: 'eviction', group: 'policy', version: 'v1', kind: 'Eviction', verbs: ['create'] },
          { name: 'exec', kind: 'PodExecOptions', verbs: ['create', 'get'] },
          { name: 'log', kind: 'Pod', verbs: ['get'] },
          { name: 'portforward', kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
          { name: 'proxy', kind: 'PodProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
        ],
      },
      { kind: 'Service', resource: 'services', namespaced: true, shortNames: ['svc'], categories: ['all'], status: true, selectableFields: fields('spec.clusterIP', 'spec.type') },
      { kind: 'Endpoints', resource: 'endpoints', namespaced: true, shortNames: ['ep'] },
      { kind: 'ConfigMap', resource: 'configmaps', namespaced: true, shortNames: ['cm'] },
      { kind: 'Secret', resource: 'secrets', namespaced: true, selectableFields: fields('type') },
      {
        kind: 'ServiceAccount',
        resource: 'serviceaccounts',
        namespaced: true,
        shortNames: ['sa'],
        actionSubresources: [{ name: 'token', group: 'authentication.k8s.io', version: 'v1', kind: 'TokenRequest', verbs: ['create'] }],
      },
      {
        kind: 'Event',
        resource: 'events',
        namespaced: true,
        shortNames: ['ev'],
        selectableFields: fields(
          'involvedObject.kind',
          'involvedObject.namespace',
          'involvedObject.name',
          'involvedObject.uid',
          'involvedObject.apiVersion',
          'involvedObject.resourceVersion',
          'involvedObject.fieldPath',
          'reason',
          'reportingComponent',
          'source',
          'type',
        ),
      },
      {
        kind: 'Node',
        resource: 'nodes',
        namespaced: false,
        shortNames: ['no'],
        status: true,
        selectableFields: fields('spec.unschedulable'),
        actionSubresources: [{ name: 'proxy', kind: 'NodeProxyOptions', verbs: ['create', 'delete', 'get', 'patch', 'update'] }],
      },
      { kind: 'PersistentVolume', resource: 'persistentvolumes', namespaced: false, shortNames: ['pv'], status: true },
      { kind: 'PersistentVolumeClaim', resource: 'persistentvolumeclaims', namespaced: true, shortNames: ['pvc'], status: true },
      { kind: 'ResourceQuota', resource: 'resourcequotas', namespaced: true, shortNames: ['quota'], status: true },
      { kind: 'LimitRange', resource: 'limitranges', namespaced: true, shortNames: ['limits'] },
    ],
  },
  {
    group: 'apps',
    version: 'v1',
    entries: [
      { kind: 'Deployment', resource: 'deployments', namespaced: true, shortNames: ['deploy'], categories: ['all'], status: true, scale: true, tracksGeneration: true },
      {
        kind: 'ReplicaSet',
        resource: 'replicasets',
        namespaced: true,
        shortNames: ['rs'],
        categories: ['all'],
        status: true,
        scale: true,
        tracksGeneration: true,
        selectableFields: fields('status.replicas'),
      },
      { kind: 'StatefulSet', resource: 'statefulsets', namespaced: true, shortNames: ['sts'], categories: ['all'], status: true, scale: true, tracksGeneration: true },
      { kind: 'DaemonSet', resource: 'daemonsets', namespaced: true, shortNames: ['ds'], categories: ['all'], status: true, tracksGeneration: true },
      { kind: 'ControllerRevision', resource: 'controllerrevisions', namespaced: true },
    ],
  },
  {
    group: 'batch',
    version: 'v1',
    entries: [
      { kind: 'Job', resource: 'jobs', namespaced: true, categories: ['all'], status: true, tracksGeneration: true, selectableFields: fields('status.successful') },
      { kind: 'CronJob', resource: 'cronjobs', namespaced: true, shortNames: ['cj'], categories: ['all'], status: true, tracksGeneration: true },
    ],
  },
  {
    group: 'networking.k8s.io',
    version: 'v1',
    entries: [
      { kind: 'Ingress', resource: 'ingresses', namespaced: true, shortNames: ['ing'], status: true, tracksGeneration: true },
      { kind: 'IngressClass', resource: 'ingressclasses', namespaced: false },
      { kind: 'NetworkPolicy', resource: 'networkpolicies', namespaced: true, shortNames: ['netpol'], tracksGeneration: true },
    ],
  },
  {
    group: 'storage.k8s.io',
    version: 'v1',
    entries: [{ kind: 'StorageClass', resource: 'storageclasses', namespaced: false, shortNames: ['sc'] }],
  },
  {
    group: 'coordination.k8s.io',
    version: 'v1',
    entries: [{ kind: 'Lease', resource: 'leases', namespaced: true }],
  },
  {
    group: 'events.k8s.io',
    version: 'v1',
    entries: [
      {
        kind: 'Event',
        resource: 'events',
        namespaced: true,
        shortNames: ['ev'],
        storage: eventsV1Storage,
        selectableFields: {
          'regarding.kind': path('regarding.kind'),
          'regarding.namespace': path('regarding.namespace'),
          'regarding.name': path('regarding.name'),
          'regarding.uid': path('regarding.uid'),
          reason: path('reason'),
          type: path('type'),
          reportingController: path('reportingController'),
        },
      },
    ],
  },
  {
    group: 'rbac.authorization.k8s.io',
    version: 'v1',
    entries: [
      { kind: 'Role', resource: 'roles', namespaced: true },
      { kind: 'ClusterRole', resource: 'clusterroles', namespaced: false },
      { kind: 'RoleBinding', resource: 'rolebindings', namespaced: true },
      { kind: 'ClusterRoleBinding', resource: 'clusterrolebindings', namespaced: false },
    ],
  },
  {
    group: 'autoscaling',
    version: 'v2',
    entries: [{ kind: 'HorizontalPodAutoscaler', resource: 'horizontalpodautoscalers', namespaced: true, shortNames: ['hpa'], categories: ['all'], status: true, tracksGeneration: true }],
  },
  {
    // Served for older clients (kubectl ≤ 1.29 `autoscale`), stored as autoscaling/v2 objects.
    group: 'autoscaling',
    version: 'v1',
    entries: [
      {
        kind: 'HorizontalPodAutoscaler',
        resource: 'horizontalpodautoscalers',
        namespaced: true,
        shortNames: ['hpa'],
        categories: ['all'],
        status: true,
        tracksGeneration: true,
        storage: horizontalPodAutoscalerV1Storage,
      },
    ],
  },
  {
    group: 'policy',
    version: 'v1',
    entries: [{ kind: 'PodDisruptionBudget', resource: 'poddisruptionbudgets', namespaced: true, shortNames: ['pdb'], status: true, tracksGeneration: true }],
  },
  {
    group: 'apiextensions.k8s.io',
    version: 'v1',
    entries: [
      {
        kind: 'CustomResourceDefinition',
        resource: 'customresourcedefinitions',
        namespaced: false,
        shortNames: ['crd', 'crds'],
        categories: ['api-extensions'],
        status: true,
        tracksGeneration: true,
      },
    ],
  },
  {
    group: 'discovery.k8s.io',
    version: 'v1',
    entries: [{ kind: 'EndpointSlice', resource: 'endpointslices', namespaced: true, selectableFields: fields('addressType') }],
  },
];

function singularOf(kind: string): string {
  return kind.toLowerCase();
}

/** The definitions of every built-in kind (printers, defaults and validation are attached by the registry). */
export function builtinResources(): ResourceDefinition[] {
  const out: ResourceDefinition[] = [];
  for (const g of groups) {
    for (const e of g.entries) {
      const definition: ResourceDefinition = {
        group: g.group,
        version: g.version,
        kind: e.kind,
        listKind: `${e.kind}List`,
        resource: e.resource,
        singular: singularOf(e.kind),
        namespaced: e.namespaced,
        verbs: e.verbs ?? ALL_VERBS,
        schemaName: definitionNameFor(g.group, g.version, e.kind),
        statusSubresourceSemantics: !!e.status,
        tracksGeneration: !!e.tracksGeneration,
      };
      if (e.shortNames) definition.shortNames = e.shortNames;
      if (e.categories) definition.categories = e.categories;
      if (e.selectableFields) definition.selectableFields = e.selectableFields;
      if (e.storage) definition.storage = e.storage;
      if (e.actionSubresources) definition.actionSubresources = e.actionSubresources;
      if (e.status || e.scale) {
        definition.subresources = {};
        if (e.status) definition.subresources.status = true;
        if (e.scale) definition.subresources.scale = scaleFromReplicas;
      }
      out.push(definition);
    }
  }
  return out;
}
