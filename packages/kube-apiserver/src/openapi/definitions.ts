/**
 * The OpenAPI definitions of every built-in kind, built at runtime from the model metadata that
 * `@kubernetes/client-node` ships (generated from the Kubernetes 1.34 API), plus the overlay
 * tables below for what that metadata does not carry: upstream definition names, patch and
 * list metadata (strategic merge patch and server-side apply read it), Quantity fields, the
 * few `any`-typed fields and group-version-kind extensions.
 *
 * Nodes reference each other as `#/definitions/<name>` (the OpenAPI v2 form); the v3 writer
 * rewrites references. Descriptions and required lists come from the package's `.d.ts` JSDoc
 * and property optionality (the generator derives both from the upstream spec).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as clientNode from '@kubernetes/client-node';
import type { SchemaNode } from '@canopy/apimachinery';

type GroupVersionKind = { group: string; version: string; kind: string };

interface AttributeType {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

interface ModelClass {
  getAttributeTypeMap(): AttributeType[];
}

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1';
const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const INT_OR_STRING = 'io.k8s.apimachinery.pkg.util.intstr.IntOrString';
const RAW_EXTENSION = 'io.k8s.apimachinery.pkg.runtime.RawExtension';
const APIEXTENSIONS = 'io.k8s.apiextensions-apiserver.pkg.apis.apiextensions';

/** Built-in API groups in the order their kinds claim shared types (core first: PodTemplateSpec is core, not apps). */
interface BuiltinGroup {
  group: string;
  /** Definition name prefix, before `.<version>.<Kind>`. */
  prefix: string;
  /** client-node's class prefix for types whose plain names clash across groups (CoreV1Event, EventsV1Event). */
  clientPrefix?: string;
  kinds: Record<string, string[]>;
}

const builtinGroups: BuiltinGroup[] = [
  {
    group: '',
    prefix: 'io.k8s.api.core',
    clientPrefix: 'Core',
    kinds: {
      v1: [
        'Namespace',
        'Pod',
        'PodTemplate',
        'ReplicationController',
        'Service',
        'Endpoints',
        'ConfigMap',
        'Secret',
        'ServiceAccount',
        'Event',
        'Node',
        'PersistentVolume',
        'PersistentVolumeClaim',
        'ResourceQuota',
        'LimitRange',
        'Binding',
      ],
    },
  },
  {
    group: 'apps',
    prefix: 'io.k8s.api.apps',
    kinds: { v1: ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'ControllerRevision'] },
  },
  { group: 'batch', prefix: 'io.k8s.api.batch', kinds: { v1: ['Job', 'CronJob'] } },
  { group: 'networking.k8s.io', prefix: 'io.k8s.api.networking', kinds: { v1: ['Ingress', 'IngressClass', 'NetworkPolicy'] } },
  { group: 'storage.k8s.io', prefix: 'io.k8s.api.storage', clientPrefix: 'Storage', kinds: { v1: ['StorageClass'] } },
  { group: 'coordination.k8s.io', prefix: 'io.k8s.api.coordination', kinds: { v1: ['Lease'] } },
  { group: 'events.k8s.io', prefix: 'io.k8s.api.events', clientPrefix: 'Events', kinds: { v1: ['Event'] } },
  {
    group: 'rbac.authorization.k8s.io',
    prefix: 'io.k8s.api.rbac',
    clientPrefix: 'Rbac',
    kinds: { v1: ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'] },
  },
  { group: 'autoscaling', prefix: 'io.k8s.api.autoscaling', kinds: { v2: ['HorizontalPodAutoscaler'], v1: ['Scale', 'HorizontalPodAutoscaler'] } },
  { group: 'policy', prefix: 'io.k8s.api.policy', kinds: { v1: ['PodDisruptionBudget', 'Eviction'] } },
  { group: 'discovery.k8s.io', prefix: 'io.k8s.api.discovery', clientPrefix: 'Discovery', kinds: { v1: ['EndpointSlice'] } },
  {
    group: 'authentication.k8s.io',
    prefix: 'io.k8s.api.authentication',
    clientPrefix: 'Authentication',
    kinds: { v1: ['TokenReview', 'SelfSubjectReview', 'TokenRequest'] },
  },
  {
    group: 'authorization.k8s.io',
    prefix: 'io.k8s.api.authorization',
    kinds: { v1: ['SubjectAccessReview', 'SelfSubjectAccessReview', 'LocalSubjectAccessReview', 'SelfSubjectRulesReview'] },
  },
  {
    group: 'apiextensions.k8s.io',
    prefix: APIEXTENSIONS,
    clientPrefix: 'Apiextensions',
    kinds: { v1: ['CustomResourceDefinition'] },
  },
];

/** client-node classes that are apimachinery's meta/v1 types rather than types of the group that uses them. */
const metaClasses = [
  'V1ObjectMeta',
  'V1FieldSelectorRequirement',
  'V1ListMeta',
  'V1LabelSelector',
  'V1LabelSelectorRequirement',
  'V1OwnerReference',
  'V1ManagedFieldsEntry',
  'V1Condition',
  'V1Status',
  'V1StatusDetails',
  'V1StatusCause',
  'V1DeleteOptions',
  'V1Preconditions',
  'V1WatchEvent',
  'V1APIResourceList',
  'V1APIResource',
  'V1APIGroupList',
  'V1APIGroup',
  'V1APIVersions',
  'V1GroupVersionForDiscovery',
  'V1ServerAddressByClientCIDR',
];

/** Meta kinds that are served in every group version (kube lists each group version in their GVK extension). */
const metaKindsInEveryGroup = ['DeleteOptions', 'Status', 'WatchEvent'];
/** Meta kinds of discovery, served by the core group only. */
const metaKindsInCore = ['APIResourceList', 'APIGroup', 'APIGroupList', 'APIVersions'];

/** Shared types whose upstream package is not the package of the first kind that reaches them. */
const packageOverrides: Record<string, string> = {
  // StorageClass.allowedTopologies is the only served field using these, but they are core types.
  V1TopologySelectorTerm: 'io.k8s.api.core',
  V1TopologySelectorLabelRequirement: 'io.k8s.api.core',
};

/** Per definition (short name, see `shortName`): the fields whose value or map values are Quantities. */
const quantityFields: Record<string, string[]> = {
  'autoscaling.v2.HPAScalingRules': ['tolerance'],
  'autoscaling.v2.MetricTarget': ['averageValue', 'value'],
  'autoscaling.v2.MetricValueStatus': ['averageValue', 'value'],
  'core.v1.ContainerStatus': ['allocatedResources'],
  'core.v1.EmptyDirVolumeSource': ['sizeLimit'],
  'core.v1.LimitRangeItem': ['default', 'defaultRequest', 'max', 'maxLimitRequestRatio', 'min'],
  'core.v1.NodeStatus': ['allocatable', 'capacity'],
  'core.v1.PersistentVolumeClaimStatus': ['allocatedResources', 'capacity'],
  'core.v1.PersistentVolumeSpec': ['capacity'],
  'core.v1.PodSpec': ['overhead'],
  'core.v1.ResourceFieldSelector': ['divisor'],
  'core.v1.ResourceQuotaSpec': ['hard'],
  'core.v1.ResourceQuotaStatus': ['hard', 'used'],
  'core.v1.ResourceRequirements': ['limits', 'requests'],
  'core.v1.VolumeResourceRequirements': ['limits', 'requests'],
};

/** Per definition: fields client-node types as `any`, with the definition upstream references. */
const anyFields: Record<string, Record<string, string>> = {
  'apps.v1.ControllerRevision': { data: 'runtime.RawExtension' },
  'apiextensions.v1.CustomResourceSubresources': { status: 'apiextensions.v1.CustomResourceSubresourceStatus' },
  'apiextensions.v1.JSONSchemaProps': {
    additionalItems: 'apiextensions.v1.JSONSchemaPropsOrBool',
    additionalProperties: 'apiextensions.v1.JSONSchemaPropsOrBool',
    default: 'apiextensions.v1.JSON',
    dependencies: 'apiextensions.v1.JSONSchemaPropsOrStringArray',
    enum: 'apiextensions.v1.JSON',
    example: 'apiextensions.v1.JSON',
    items: 'apiextensions.v1.JSONSchemaPropsOrArray',
  },
  'meta.v1.ManagedFieldsEntry': { fieldsV1: 'meta.v1.FieldsV1' },
  'meta.v1.WatchEvent': { object: 'runtime.RawExtension' },
};

interface FieldMeta {
  strategy?: string;
  mergeKey?: string;
  listType?: 'atomic' | 'set' | 'map';
  mapKeys?: string[];
  mapType?: 'atomic' | 'granular';
}

const ATOMIC: FieldMeta = { listType: 'atomic' };
const SET: FieldMeta = { listType: 'set' };
const MAP_ATOMIC: FieldMeta = { mapType: 'atomic' };
const MAP_GRANULAR: FieldMeta = { mapType: 'granular' };
/** A list merged by key in strategic merge patch and keyed by `keys` in server-side apply. */
function mergeMap(mergeKey: string, keys: string[] = [mergeKey], strategy = 'merge'): FieldMeta {
  return { strategy, mergeKey, listType: 'map', mapKeys: keys };
}

/** Per definition: patch and list metadata of its fields. */
const fieldMeta: Record<string, Record<string, FieldMeta>> = {
  'apps.v1.DaemonSetStatus': { conditions: mergeMap('type') },
  'apps.v1.DeploymentSpec': { strategy: { strategy: 'retainKeys' } },
  'apps.v1.DeploymentStatus': { conditions: mergeMap('type') },
  'apps.v1.ReplicaSetStatus': { conditions: mergeMap('type') },
  'apps.v1.StatefulSetSpec': { volumeClaimTemplates: ATOMIC },
  'apps.v1.StatefulSetStatus': { conditions: mergeMap('type') },
  'autoscaling.v2.HPAScalingRules': { policies: ATOMIC },
  'autoscaling.v2.HorizontalPodAutoscalerSpec': { metrics: ATOMIC },
  'autoscaling.v2.HorizontalPodAutoscalerStatus': { conditions: mergeMap('type'), currentMetrics: ATOMIC },
  'batch.v1.CronJobStatus': { active: ATOMIC },
  'batch.v1.JobStatus': { conditions: { strategy: 'merge', mergeKey: 'type', listType: 'atomic' } },
  'batch.v1.PodFailurePolicy': { rules: ATOMIC },
  'batch.v1.PodFailurePolicyOnExitCodesRequirement': { values: SET },
  'batch.v1.PodFailurePolicyRule': { onPodConditions: ATOMIC },
  'batch.v1.SuccessPolicy': { rules: ATOMIC },
  'batch.v1.UncountedTerminatedPods': { failed: SET, succeeded: SET },
  'core.v1.Capabilities': { add: ATOMIC, drop: ATOMIC },
  'core.v1.CephFSPersistentVolumeSource': { monitors: ATOMIC },
  'core.v1.CephFSVolumeSource': { monitors: ATOMIC },
  'core.v1.ConfigMapProjection': { items: ATOMIC },
  'core.v1.ConfigMapVolumeSource': { items: ATOMIC },
  'core.v1.Container': {
    args: ATOMIC,
    command: ATOMIC,
    env: mergeMap('name'),
    envFrom: ATOMIC,
    ports: mergeMap('containerPort', ['containerPort', 'protocol']),
    resizePolicy: ATOMIC,
    restartPolicyRules: ATOMIC,
    volumeDevices: mergeMap('devicePath'),
    volumeMounts: mergeMap('mountPath'),
  },
  'core.v1.ContainerImage': { names: ATOMIC },
  'core.v1.ContainerRestartRuleOnExitCodes': { values: SET },
  'core.v1.ContainerStatus': { allocatedResourcesStatus: mergeMap('name'), volumeMounts: mergeMap('mountPath') },
  'core.v1.DownwardAPIProjection': { items: ATOMIC },
  'core.v1.DownwardAPIVolumeSource': { items: ATOMIC },
  'core.v1.EndpointSubset': { addresses: ATOMIC, notReadyAddresses: ATOMIC, ports: ATOMIC },
  'core.v1.Endpoints': { subsets: ATOMIC },
  'core.v1.EphemeralContainer': {
    args: ATOMIC,
    command: ATOMIC,
    env: mergeMap('name'),
    envFrom: ATOMIC,
    ports: mergeMap('containerPort', ['containerPort', 'protocol']),
    resizePolicy: ATOMIC,
    restartPolicyRules: ATOMIC,
    volumeDevices: mergeMap('devicePath'),
    volumeMounts: mergeMap('mountPath'),
  },
  'core.v1.ExecAction': { command: ATOMIC },
  'core.v1.FCVolumeSource': { targetWWNs: ATOMIC, wwids: ATOMIC },
  'core.v1.HTTPGetAction': { httpHeaders: ATOMIC },
  'core.v1.HostAlias': { hostnames: ATOMIC },
  'core.v1.ISCSIPersistentVolumeSource': { portals: ATOMIC },
  'core.v1.ISCSIVolumeSource': { portals: ATOMIC },
  'core.v1.LimitRangeSpec': { limits: ATOMIC },
  'core.v1.LinuxContainerUser': { supplementalGroups: ATOMIC },
  'core.v1.LoadBalancerIngress': { ports: ATOMIC },
  'core.v1.LoadBalancerStatus': { ingress: ATOMIC },
  'core.v1.NamespaceSpec': { finalizers: ATOMIC },
  'core.v1.NamespaceStatus': { conditions: mergeMap('type') },
  'core.v1.NodeAffinity': { preferredDuringSchedulingIgnoredDuringExecution: ATOMIC },
  'core.v1.NodeSelector': { nodeSelectorTerms: ATOMIC },
  'core.v1.NodeSelectorRequirement': { values: ATOMIC },
  'core.v1.NodeSelectorTerm': { matchExpressions: ATOMIC, matchFields: ATOMIC },
  'core.v1.NodeSpec': { podCIDRs: { strategy: 'merge', listType: 'set' }, taints: ATOMIC },
  'core.v1.NodeStatus': {
    addresses: mergeMap('type'),
    conditions: mergeMap('type'),
    images: ATOMIC,
    runtimeHandlers: ATOMIC,
    volumesAttached: ATOMIC,
    volumesInUse: ATOMIC,
  },
  'core.v1.PersistentVolumeClaimSpec': { accessModes: ATOMIC },
  'core.v1.PersistentVolumeClaimStatus': {
    accessModes: ATOMIC,
    allocatedResourceStatuses: MAP_GRANULAR,
    conditions: mergeMap('type'),
  },
  'core.v1.PersistentVolumeSpec': { accessModes: ATOMIC, claimRef: MAP_GRANULAR, mountOptions: ATOMIC },
  'core.v1.PodAffinity': {
    preferredDuringSchedulingIgnoredDuringExecution: ATOMIC,
    requiredDuringSchedulingIgnoredDuringExecution: ATOMIC,
  },
  'core.v1.PodAffinityTerm': { matchLabelKeys: ATOMIC, mismatchLabelKeys: ATOMIC, namespaces: ATOMIC },
  'core.v1.PodAntiAffinity': {
    preferredDuringSchedulingIgnoredDuringExecution: ATOMIC,
    requiredDuringSchedulingIgnoredDuringExecution: ATOMIC,
  },
  'core.v1.PodDNSConfig': { nameservers: ATOMIC, options: ATOMIC, searches: ATOMIC },
  'core.v1.PodExtendedResourceClaimStatus': { requestMappings: ATOMIC },
  'core.v1.PodSecurityContext': { supplementalGroups: ATOMIC, sysctls: ATOMIC },
  'core.v1.PodSpec': {
    containers: mergeMap('name'),
    ephemeralContainers: mergeMap('name'),
    hostAliases: mergeMap('ip'),
    imagePullSecrets: mergeMap('name'),
    initContainers: mergeMap('name'),
    nodeSelector: MAP_ATOMIC,
    readinessGates: ATOMIC,
    resourceClaims: mergeMap('name', undefined, 'merge,retainKeys'),
    schedulingGates: mergeMap('name'),
    tolerations: ATOMIC,
    topologySpreadConstraints: mergeMap('topologyKey', ['topologyKey', 'whenUnsatisfiable']),
    volumes: mergeMap('name', undefined, 'merge,retainKeys'),
  },
  'core.v1.PodStatus': {
    conditions: mergeMap('type'),
    containerStatuses: ATOMIC,
    ephemeralContainerStatuses: ATOMIC,
    hostIPs: { strategy: 'merge', mergeKey: 'ip', listType: 'atomic' },
    initContainerStatuses: ATOMIC,
    podIPs: mergeMap('ip'),
    resourceClaimStatuses: mergeMap('name', undefined, 'merge,retainKeys'),
  },
  'core.v1.ProjectedVolumeSource': { sources: ATOMIC },
  'core.v1.RBDPersistentVolumeSource': { monitors: ATOMIC },
  'core.v1.RBDVolumeSource': { monitors: ATOMIC },
  'core.v1.ReplicationControllerSpec': { selector: MAP_ATOMIC },
  'core.v1.ReplicationControllerStatus': { conditions: mergeMap('type') },
  'core.v1.ResourceQuotaSpec': { scopes: ATOMIC },
  'core.v1.ResourceRequirements': { claims: { listType: 'map', mapKeys: ['name'] } },
  'core.v1.ResourceStatus': { resources: { listType: 'map', mapKeys: ['resourceID'] } },
  'core.v1.ScopeSelector': { matchExpressions: ATOMIC },
  'core.v1.ScopedResourceSelectorRequirement': { values: ATOMIC },
  'core.v1.SecretProjection': { items: ATOMIC },
  'core.v1.SecretVolumeSource': { items: ATOMIC },
  'core.v1.ServiceAccount': { imagePullSecrets: ATOMIC, secrets: mergeMap('name') },
  'core.v1.ServiceSpec': {
    clusterIPs: ATOMIC,
    externalIPs: ATOMIC,
    ipFamilies: ATOMIC,
    loadBalancerSourceRanges: ATOMIC,
    ports: mergeMap('port', ['port', 'protocol']),
    selector: MAP_ATOMIC,
  },
  'core.v1.ServiceStatus': { conditions: mergeMap('type') },
  'core.v1.TopologySelectorLabelRequirement': { values: ATOMIC },
  'core.v1.TopologySelectorTerm': { matchLabelExpressions: ATOMIC },
  'core.v1.TopologySpreadConstraint': { matchLabelKeys: ATOMIC },
  'discovery.v1.Endpoint': { addresses: SET },
  'discovery.v1.EndpointHints': { forNodes: ATOMIC, forZones: ATOMIC },
  'discovery.v1.EndpointSlice': { endpoints: ATOMIC, ports: ATOMIC },
  'networking.v1.HTTPIngressRuleValue': { paths: ATOMIC },
  'networking.v1.IPBlock': { except: ATOMIC },
  'networking.v1.IngressLoadBalancerIngress': { ports: ATOMIC },
  'networking.v1.IngressLoadBalancerStatus': { ingress: ATOMIC },
  'networking.v1.IngressSpec': { rules: ATOMIC, tls: ATOMIC },
  'networking.v1.IngressTLS': { hosts: ATOMIC },
  'networking.v1.NetworkPolicyEgressRule': { ports: ATOMIC, to: ATOMIC },
  'networking.v1.NetworkPolicyIngressRule': { from: ATOMIC, ports: ATOMIC },
  'networking.v1.NetworkPolicySpec': { egress: ATOMIC, ingress: ATOMIC, policyTypes: ATOMIC },
  'policy.v1.PodDisruptionBudgetSpec': { selector: { strategy: 'replace' } },
  'policy.v1.PodDisruptionBudgetStatus': { conditions: mergeMap('type') },
  'rbac.v1.AggregationRule': { clusterRoleSelectors: ATOMIC },
  'rbac.v1.ClusterRole': { rules: ATOMIC },
  'rbac.v1.ClusterRoleBinding': { subjects: ATOMIC },
  'rbac.v1.PolicyRule': { apiGroups: ATOMIC, nonResourceURLs: ATOMIC, resourceNames: ATOMIC, resources: ATOMIC, verbs: ATOMIC },
  'authentication.v1.TokenRequestSpec': { audiences: ATOMIC },
  'meta.v1.FieldSelectorRequirement': { values: ATOMIC },
  'authentication.v1.TokenReviewSpec': { audiences: ATOMIC },
  'authentication.v1.TokenReviewStatus': { audiences: ATOMIC },
  'authentication.v1.UserInfo': { groups: ATOMIC },
  'authorization.v1.FieldSelectorAttributes': { requirements: ATOMIC },
  'authorization.v1.LabelSelectorAttributes': { requirements: ATOMIC },
  'authorization.v1.NonResourceRule': { nonResourceURLs: ATOMIC, verbs: ATOMIC },
  'authorization.v1.ResourceRule': { apiGroups: ATOMIC, resourceNames: ATOMIC, resources: ATOMIC, verbs: ATOMIC },
  'authorization.v1.SubjectAccessReviewSpec': { groups: ATOMIC },
  'authorization.v1.SubjectRulesReviewStatus': { nonResourceRules: ATOMIC, resourceRules: ATOMIC },
  'rbac.v1.Role': { rules: ATOMIC },
  'rbac.v1.RoleBinding': { subjects: ATOMIC },
  'storage.v1.StorageClass': { allowedTopologies: ATOMIC, mountOptions: ATOMIC },
  'apiextensions.v1.CustomResourceDefinitionNames': { categories: ATOMIC, shortNames: ATOMIC },
  'apiextensions.v1.CustomResourceDefinitionSpec': { versions: ATOMIC },
  'apiextensions.v1.CustomResourceDefinitionStatus': {
    conditions: { listType: 'map', mapKeys: ['type'] },
    storedVersions: ATOMIC,
  },
  'apiextensions.v1.CustomResourceDefinitionVersion': { additionalPrinterColumns: ATOMIC, selectableFields: ATOMIC },
  'apiextensions.v1.JSONSchemaProps': {
    allOf: ATOMIC,
    anyOf: ATOMIC,
    enum: ATOMIC,
    oneOf: ATOMIC,
    required: ATOMIC,
    'x-kubernetes-list-map-keys': ATOMIC,
    'x-kubernetes-validations': mergeMap('rule'),
  },
  'apiextensions.v1.WebhookConversion': { conversionReviewVersions: ATOMIC },
  'meta.v1.APIGroup': { serverAddressByClientCIDRs: ATOMIC, versions: ATOMIC },
  'meta.v1.APIGroupList': { groups: ATOMIC },
  'meta.v1.APIResource': { categories: ATOMIC, shortNames: ATOMIC },
  'meta.v1.APIResourceList': { resources: ATOMIC },
  'meta.v1.APIVersions': { serverAddressByClientCIDRs: ATOMIC, versions: ATOMIC },
  'meta.v1.DeleteOptions': { dryRun: ATOMIC },
  'meta.v1.LabelSelector': { matchExpressions: ATOMIC },
  'meta.v1.LabelSelectorRequirement': { values: ATOMIC },
  'meta.v1.ObjectMeta': {
    finalizers: { strategy: 'merge', listType: 'set' },
    managedFields: ATOMIC,
    ownerReferences: mergeMap('uid'),
  },
  'meta.v1.StatusDetails': { causes: ATOMIC },
};

/** Per definition: `x-kubernetes-map-type` of the type itself (structs that are replaced as a whole). */
const typeMapType: Record<string, 'atomic' | 'granular'> = {
  'autoscaling.v1.CrossVersionObjectReference': 'atomic',
  'core.v1.ConfigMapKeySelector': 'atomic',
  'core.v1.EndpointAddress': 'atomic',
  'core.v1.EndpointPort': 'atomic',
  'core.v1.FileKeySelector': 'atomic',
  'core.v1.LocalObjectReference': 'atomic',
  'core.v1.NodeSelector': 'atomic',
  'core.v1.NodeSelectorTerm': 'atomic',
  'core.v1.ObjectFieldSelector': 'atomic',
  'core.v1.ObjectReference': 'atomic',
  'core.v1.ResourceFieldSelector': 'atomic',
  'core.v1.ScopeSelector': 'atomic',
  'core.v1.SecretKeySelector': 'atomic',
  'core.v1.SecretReference': 'atomic',
  'core.v1.TopologySelectorTerm': 'atomic',
  'core.v1.TypedLocalObjectReference': 'atomic',
  'discovery.v1.EndpointPort': 'atomic',
  'networking.v1.ServiceBackendPort': 'atomic',
  'rbac.v1.RoleRef': 'atomic',
  'rbac.v1.Subject': 'atomic',
  'meta.v1.LabelSelector': 'atomic',
  'meta.v1.OwnerReference': 'atomic',
};

/** Defaults of list-map keys (server-side apply needs a value for every key). */
const fieldDefaults: Record<string, Record<string, unknown>> = {
  'core.v1.ContainerPort': { protocol: 'TCP' },
  'core.v1.ServicePort': { protocol: 'TCP' },
};

/** Required lists that differ from the optionality of client-node's properties. */
const requiredOverrides: Record<string, string[]> = {
  // Later API versions settled these; client-node 1.4 still carries the 1.34 generator's view.
  'autoscaling.v1.HorizontalPodAutoscaler': ['spec'],
  'autoscaling.v2.HorizontalPodAutoscaler': ['spec'],
  'batch.v1.CronJob': ['spec'],
  'batch.v1.PodFailurePolicyOnPodConditionsPattern': ['type'],
  'discovery.v1.EndpointSlice': ['addressType'],
  'policy.v1.PodDisruptionBudgetStatus': [],
  'authentication.v1.TokenRequest': [],
  'authentication.v1.TokenRequestSpec': [],
  'authentication.v1.TokenRequestStatus': [],
  'authentication.v1.TokenReviewSpec': ['token'],
};

/** Definitions client-node has no class for, written here. */
function handWrittenDefinitions(): Record<string, SchemaNode> {
  const preserve = { 'x-kubernetes-preserve-unknown-fields': true } as const;
  const str: SchemaNode = { type: 'string' };
  const ref = (name: string): SchemaNode => ({ $ref: `#/definitions/${name}` });
  const metaGvk = (kind: string) => [{ group: 'meta.k8s.io', version: 'v1', kind }];
  return {
    [`${META}.Time`]: { type: 'string', format: 'date-time', description: 'A timestamp in RFC 3339 form, to the second.' },
    [`${META}.MicroTime`]: {
      type: 'string',
      format: 'date-time',
      description: 'A timestamp in RFC 3339 form, with microseconds.',
    },
    [`${META}.FieldsV1`]: {
      type: 'object',
      ...preserve,
      description: 'The set of fields a manager owns, in the FieldsV1 trie format.',
    },
    [`${META}.Patch`]: {
      type: 'object',
      ...preserve,
      description: 'A patch document; its format is given by the request content type.',
    },
    [RAW_EXTENSION]: { type: 'object', ...preserve, description: 'An embedded object of any kind, kept as sent.' },
    [INT_OR_STRING]: {
      type: 'string',
      format: 'int-or-string',
      description: 'A value that is either a 32-bit integer or a string.',
    },
    [QUANTITY]: {
      type: 'string',
      format: 'quantity',
      description:
        'A fixed-point number with an optional SI or binary suffix, such as 500m, 2, 1.5Gi or 1e3. A JSON number is accepted as well.',
    },
    [`${APIEXTENSIONS}.v1.CustomResourceSubresourceStatus`]: {
      type: 'object',
      description: 'Enables the status subresource; it has no fields.',
    },
    [`${APIEXTENSIONS}.v1.JSON`]: { ...preserve, description: 'Any JSON value.' },
    [`${APIEXTENSIONS}.v1.JSONSchemaPropsOrArray`]: { ...preserve, description: 'A schema, or an array of schemas.' },
    [`${APIEXTENSIONS}.v1.JSONSchemaPropsOrBool`]: { ...preserve, description: 'A schema, or a boolean (true allows anything).' },
    [`${APIEXTENSIONS}.v1.JSONSchemaPropsOrStringArray`]: {
      ...preserve,
      description: 'A schema, or an array of property names.',
    },
    [`${META}.TableColumnDefinition`]: {
      type: 'object',
      description: 'One column of a Table.',
      required: ['name', 'type', 'format', 'description', 'priority'],
      properties: {
        name: str,
        type: str,
        format: str,
        description: str,
        priority: { type: 'integer', format: 'int32' },
      },
    },
    [`${META}.TableRow`]: {
      type: 'object',
      description: 'One row of a Table: its cells, in column order, and optionally the object it shows.',
      required: ['cells'],
      properties: {
        cells: { type: 'array', items: { ...preserve }, 'x-kubernetes-list-type': 'atomic' },
        conditions: { type: 'array', items: { type: 'object', ...preserve }, 'x-kubernetes-list-type': 'atomic' },
        object: ref(RAW_EXTENSION),
      },
    },
    [`${META}.Table`]: {
      type: 'object',
      description: 'A tabular view of a list of objects, as printed by kubectl get.',
      required: ['columnDefinitions', 'rows'],
      properties: {
        apiVersion: str,
        kind: str,
        metadata: ref(`${META}.ListMeta`),
        columnDefinitions: { type: 'array', items: ref(`${META}.TableColumnDefinition`), 'x-kubernetes-list-type': 'atomic' },
        rows: { type: 'array', items: ref(`${META}.TableRow`), 'x-kubernetes-list-type': 'atomic' },
      },
      'x-kubernetes-group-version-kind': metaGvk('Table'),
    },
    [`${META}.PartialObjectMetadata`]: {
      type: 'object',
      description: 'An object of any kind reduced to its metadata.',
      properties: { apiVersion: str, kind: str, metadata: ref(`${META}.ObjectMeta`) },
      'x-kubernetes-group-version-kind': metaGvk('PartialObjectMetadata'),
    },
    [`${META}.PartialObjectMetadataList`]: {
      type: 'object',
      description: 'A list of objects reduced to their metadata.',
      required: ['items'],
      properties: {
        apiVersion: str,
        kind: str,
        metadata: ref(`${META}.ListMeta`),
        items: { type: 'array', items: ref(`${META}.PartialObjectMetadata`) },
      },
      'x-kubernetes-group-version-kind': metaGvk('PartialObjectMetadataList'),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Naming

const classNamePattern = /^([A-Z][a-z]+)?(V\d+(?:(?:alpha|beta)\d+)?)([A-Z]\w*)$/;

/** Splits a client-node class name (`V1PodSpec`, `CoreV1Event`) into its group prefix, version and type name. */
function parseClassName(className: string): { clientPrefix?: string; version: string; type: string } | undefined {
  const match = classNamePattern.exec(className);
  if (!match) return undefined;
  return { clientPrefix: match[1], version: match[2].toLowerCase(), type: match[3] };
}

function modelClass(name: string): ModelClass | undefined {
  const candidate = (clientNode as unknown as Record<string, unknown>)[name];
  if (typeof candidate === 'function' && typeof (candidate as Partial<ModelClass>).getAttributeTypeMap === 'function') {
    return candidate as unknown as ModelClass;
  }
  return undefined;
}

function versionClassPart(version: string): string {
  return version.charAt(0).toUpperCase() + version.slice(1);
}

/** The client-node class of a top-level kind: the group-prefixed name when it exists (CoreV1Event), else the plain one. */
function kindClassName(group: BuiltinGroup, version: string, kind: string): string | undefined {
  const plain = `${versionClassPart(version)}${kind}`;
  if (group.clientPrefix && modelClass(`${group.clientPrefix}${plain}`)) return `${group.clientPrefix}${plain}`;
  return modelClass(plain) ? plain : undefined;
}

/**
 * The definition name kube-apiserver publishes for a kind: `io.k8s.api.apps.v1.Deployment`,
 * meta types under apimachinery, and CRDs under their reversed group (`com.example.v1.Widget`).
 */
export function definitionNameFor(group: string, version: string, kind: string): string {
  if (group === 'meta.k8s.io') return `${META}.${kind}`;
  const builtin = builtinGroups.find((g) => g.group === group);
  if (builtin) {
    const servesKind = Object.values(builtin.kinds).some(
      (kinds) => kinds.includes(kind) || kinds.some((k) => `${k}List` === kind),
    );
    if (!servesKind && (metaKindsInEveryGroup.includes(kind) || (group === '' && metaKindsInCore.includes(kind)))) {
      return `${META}.${kind}`;
    }
    return `${builtin.prefix}.${version}.${kind}`;
  }
  const reversed = group.split('.').reverse().join('.');
  return `${reversed}.${version}.${kind}`;
}

/** The name the overlay tables use: the definition name without its `io.k8s.api.` (or apimachinery) prefix. */
function shortName(definitionName: string): string {
  for (const prefix of ['io.k8s.api.', 'io.k8s.apimachinery.pkg.apis.', 'io.k8s.apiextensions-apiserver.pkg.apis.']) {
    if (definitionName.startsWith(prefix)) return definitionName.slice(prefix.length);
  }
  return definitionName;
}

/** The model class names a client-node attribute type refers to (`Array<V1Container>` → V1Container). */
function referencedClasses(type: string): string[] {
  const out: string[] = [];
  for (const match of type.matchAll(/[A-Z][A-Za-z0-9]*/g)) {
    if (match[0] !== 'Array' && match[0] !== 'Date' && match[0] !== 'IntOrString' && modelClass(match[0])) out.push(match[0]);
  }
  return out;
}

/** Assigns every class reachable from the served kinds its upstream definition name. */
function assignDefinitionNames(): Map<string, string> {
  const names = new Map<string, string>();
  const packageByPrefix = new Map(builtinGroups.filter((g) => g.clientPrefix).map((g) => [g.clientPrefix!, g.prefix]));
  for (const cls of metaClasses) {
    const parsed = parseClassName(cls);
    if (parsed && modelClass(cls)) names.set(cls, `${META}.${parsed.type}`);
  }
  const nameIn = (prefix: string, cls: string): string | undefined => {
    const parsed = parseClassName(cls);
    return parsed ? `${prefix}.${parsed.version}.${parsed.type}` : undefined;
  };
  const seeds: Array<{ group: BuiltinGroup; classes: string[] }> = [];
  for (const group of builtinGroups) {
    const classes: string[] = [];
    for (const [version, kinds] of Object.entries(group.kinds)) {
      for (const kind of kinds) {
        for (const k of [kind, `${kind}List`]) {
          const cls = kindClassName(group, version, k);
          if (!cls) continue;
          names.set(cls, `${group.prefix}.${version}.${k}`);
          classes.push(cls);
        }
      }
    }
    seeds.push({ group, classes });
  }
  for (const { group, classes } of seeds) {
    const queue = [...classes];
    const visited = new Set<string>();
    while (queue.length) {
      const cls = queue.shift()!;
      if (visited.has(cls)) continue;
      visited.add(cls);
      if (!names.has(cls)) {
        const parsed = parseClassName(cls);
        const explicit = parsed?.clientPrefix ? packageByPrefix.get(parsed.clientPrefix) : undefined;
        const name = nameIn(packageOverrides[cls] ?? explicit ?? group.prefix, cls);
        if (name) names.set(cls, name);
      }
      for (const attribute of modelClass(cls)?.getAttributeTypeMap() ?? []) queue.push(...referencedClasses(attribute.type));
    }
  }
  return names;
}

// ---------------------------------------------------------------------------------------------
// Descriptions and required fields from the package's declaration files

interface DeclarationInfo {
  description?: string;
  /** Property descriptions by TypeScript property name. */
  properties: Map<string, string>;
  /** TypeScript property names declared without `?`. */
  required: Set<string>;
}

let modelsDirectory: string | null | undefined;

function clientNodeModelsDirectory(): string | null {
  if (modelsDirectory === undefined) {
    try {
      const main = createRequire(import.meta.url).resolve('@kubernetes/client-node');
      modelsDirectory = join(dirname(main), 'gen', 'models');
    } catch {
      modelsDirectory = null;
    }
  }
  return modelsDirectory;
}

/** The generator escapes quotes and backslashes inside JSDoc; undo it. */
function unescapeDoc(text: string): string {
  let out = text;
  for (let pass = 0; pass < 2; pass++) out = out.replace(/\\(['"\\])/g, '$1');
  return out;
}

function docText(comment: string): string {
  return unescapeDoc(
    comment
      .split('\n')
      .map((line) => line.replace(/^\s*\*\s?/, '').trimEnd())
      .join('\n')
      .trim(),
  );
}

function readDeclaration(className: string): DeclarationInfo {
  const info: DeclarationInfo = { properties: new Map(), required: new Set() };
  const directory = clientNodeModelsDirectory();
  if (!directory) return info;
  let source: string;
  try {
    source = readFileSync(join(directory, `${className}.d.ts`), 'utf8');
  } catch {
    return info;
  }
  const classStart = source.indexOf(`export declare class ${className} `);
  if (classStart < 0) return info;
  const classDoc = /\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*$/.exec(source.slice(0, classStart));
  if (classDoc) info.description = docText(classDoc[1]);
  const body = source.slice(classStart);
  const property = /(?:\/\*\*((?:(?!\*\/)[\s\S])*)\*\/\s*)?^\s*'([^']+)'(\?)?:/gm;
  for (const match of body.matchAll(property)) {
    const [, comment, name, optional] = match;
    if (comment) info.properties.set(name, docText(comment));
    if (!optional) info.required.add(name);
  }
  return info;
}

// ---------------------------------------------------------------------------------------------
// Schema construction

function refTo(name: string): SchemaNode {
  return { $ref: `#/definitions/${name}` };
}

interface FieldContext {
  names: Map<string, string>;
  quantity: boolean;
  anyTarget?: string;
}

/** Translates one client-node attribute type into a schema node. */
function typeSchema(type: string, format: string, context: FieldContext): SchemaNode {
  const trimmed = type.trim();
  const array = /^Array<(.+)>$/.exec(trimmed);
  if (array) return { type: 'array', items: typeSchema(array[1], format, context) };
  const map = /^\{\s*\[key: string\]:\s*(.+?);\s*\}$/.exec(trimmed);
  if (map) return { type: 'object', additionalProperties: typeSchema(map[1], format, context) };
  switch (trimmed) {
    case 'string':
      if (context.quantity) return refTo(QUANTITY);
      return format ? { type: 'string', format } : { type: 'string' };
    case 'number':
      if (format === 'int32' || format === 'int64') return { type: 'integer', format };
      return format ? { type: 'number', format } : { type: 'number' };
    case 'boolean':
      return { type: 'boolean' };
    case 'Date':
      return refTo(format === 'date-time-micro' ? `${META}.MicroTime` : `${META}.Time`);
    case 'V1MicroTime':
      return refTo(`${META}.MicroTime`);
    case 'IntOrString':
      return refTo(INT_OR_STRING);
    case 'any':
      return context.anyTarget ? refTo(context.anyTarget) : { 'x-kubernetes-preserve-unknown-fields': true };
  }
  const name = context.names.get(trimmed);
  if (name) return refTo(name);
  return { 'x-kubernetes-preserve-unknown-fields': true };
}

function applyFieldMeta(node: SchemaNode, meta: FieldMeta): void {
  if (meta.strategy) node['x-kubernetes-patch-strategy'] = meta.strategy;
  if (meta.mergeKey) node['x-kubernetes-patch-merge-key'] = meta.mergeKey;
  if (meta.listType) node['x-kubernetes-list-type'] = meta.listType;
  if (meta.mapKeys) node['x-kubernetes-list-map-keys'] = [...meta.mapKeys];
  if (meta.mapType) node['x-kubernetes-map-type'] = meta.mapType;
}

function expandShortName(short: string): string {
  if (short.startsWith('meta.')) return `io.k8s.apimachinery.pkg.apis.${short}`;
  if (short.startsWith('apiextensions.')) return `io.k8s.apiextensions-apiserver.pkg.apis.${short}`;
  if (short.startsWith('runtime.')) return `io.k8s.apimachinery.pkg.${short}`;
  if (short.startsWith('io.')) return short;
  return `io.k8s.api.${short}`;
}

function classSchema(className: string, definitionName: string, names: Map<string, string>): SchemaNode {
  const model = modelClass(className)!;
  const declaration = readDeclaration(className);
  const short = shortName(definitionName);
  const quantities = new Set(quantityFields[short] ?? []);
  const anys = anyFields[short] ?? {};
  const metas = fieldMeta[short] ?? {};
  const defaults = fieldDefaults[short] ?? {};
  const properties: Record<string, SchemaNode> = {};
  const required: string[] = [];
  for (const attribute of model.getAttributeTypeMap()) {
    const field = attribute.baseName;
    const anyTarget = anys[field] ? expandShortName(anys[field]) : undefined;
    const node = typeSchema(attribute.type, attribute.format, { names, quantity: quantities.has(field), anyTarget });
    const description = declaration.properties.get(attribute.name);
    if (description) node.description = description;
    if (metas[field]) applyFieldMeta(node, metas[field]);
    if (field in defaults) node.default = defaults[field];
    properties[field] = node;
    if (declaration.required.has(attribute.name)) required.push(field);
  }
  const schema: SchemaNode = { type: 'object' };
  if (declaration.description) schema.description = declaration.description;
  schema.properties = properties;
  const requiredList = requiredOverrides[short] ?? required;
  if (requiredList.length) schema.required = [...requiredList];
  if (typeMapType[short]) schema['x-kubernetes-map-type'] = typeMapType[short];
  return schema;
}

function builtinGroupVersions(): Array<{ group: string; version: string }> {
  const out: Array<{ group: string; version: string }> = [];
  for (const group of builtinGroups) for (const version of Object.keys(group.kinds)) out.push({ group: group.group, version });
  return out;
}

function addGroupVersionKinds(definitions: Record<string, SchemaNode>): void {
  for (const group of builtinGroups) {
    for (const [version, kinds] of Object.entries(group.kinds)) {
      for (const kind of kinds) {
        for (const k of [kind, `${kind}List`]) {
          const definition = definitions[`${group.prefix}.${version}.${k}`];
          if (definition) definition['x-kubernetes-group-version-kind'] = [{ group: group.group, version, kind: k }];
        }
      }
    }
  }
  const everyGroup = builtinGroupVersions();
  for (const kind of metaKindsInEveryGroup) {
    const definition = definitions[`${META}.${kind}`];
    if (!definition) continue;
    definition['x-kubernetes-group-version-kind'] = everyGroup.map(({ group, version }) => ({ group, version, kind }));
  }
  for (const kind of metaKindsInCore) {
    const definition = definitions[`${META}.${kind}`];
    if (definition) definition['x-kubernetes-group-version-kind'] = [{ group: '', version: 'v1', kind }];
  }
}

/**
 * client-node keeps no description for fields that reference another type; the referenced
 * type's own description is the next best thing for `kubectl explain` listings.
 */
function describeReferences(definitions: Record<string, SchemaNode>): void {
  for (const definition of Object.values(definitions)) {
    for (const property of Object.values(definition.properties ?? {})) {
      const target = property.$ref ?? property.items?.$ref;
      if (property.description || !target) continue;
      const description = definitions[target.slice('#/definitions/'.length)]?.description;
      if (description) property.description = description;
    }
  }
}

let memo: Record<string, SchemaNode> | undefined;

/**
 * Every built-in definition by upstream name. Built once and shared: callers must not mutate
 * the nodes (copy before changing, as the document writers do).
 */
export function buildDefinitions(): Record<string, SchemaNode> {
  if (memo) return memo;
  const names = assignDefinitionNames();
  const definitions: Record<string, SchemaNode> = {};
  const sorted = [...names].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  for (const [className, definitionName] of sorted) definitions[definitionName] = classSchema(className, definitionName, names);
  Object.assign(definitions, handWrittenDefinitions());
  addGroupVersionKinds(definitions);
  describeReferences(definitions);
  memo = definitions;
  return definitions;
}

/** The group-version-kinds of the built-in top-level kinds (their definitions carry the GVK extension). */
export function builtinKinds(): GroupVersionKind[] {
  const out: GroupVersionKind[] = [];
  for (const group of builtinGroups) {
    for (const [version, kinds] of Object.entries(group.kinds))
      for (const kind of kinds) out.push({ group: group.group, version, kind });
  }
  return out;
}
