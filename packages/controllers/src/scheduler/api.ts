/**
 * The parts of core/v1 Pod and Node the scheduler reads, typed. Objects arrive as JSON from the
 * API server; every field is optional as it is on the wire.
 */
import type { KubeObject } from '@canopy/apimachinery';

export type ResourceList = Record<string, string | number>;

export interface LabelSelectorJson {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

export interface NodeSelectorRequirement {
  key: string;
  operator: string;
  values?: string[] | null;
}

export interface NodeSelectorTerm {
  matchExpressions?: NodeSelectorRequirement[] | null;
  matchFields?: NodeSelectorRequirement[] | null;
}

export interface PodAffinityTermJson {
  labelSelector?: LabelSelectorJson | null;
  namespaces?: string[] | null;
  namespaceSelector?: LabelSelectorJson | null;
  topologyKey: string;
  matchLabelKeys?: string[] | null;
  mismatchLabelKeys?: string[] | null;
}

export interface WeightedPodAffinityTermJson {
  weight: number;
  podAffinityTerm: PodAffinityTermJson;
}

export interface AffinityJson {
  nodeAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: NodeSelectorTerm[] | null } | null;
    preferredDuringSchedulingIgnoredDuringExecution?: Array<{ weight: number; preference?: NodeSelectorTerm | null }> | null;
  } | null;
  podAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTermJson[] | null;
    preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTermJson[] | null;
  } | null;
  podAntiAffinity?: {
    requiredDuringSchedulingIgnoredDuringExecution?: PodAffinityTermJson[] | null;
    preferredDuringSchedulingIgnoredDuringExecution?: WeightedPodAffinityTermJson[] | null;
  } | null;
}

export interface Toleration {
  key?: string;
  operator?: string;
  value?: string;
  effect?: string;
  tolerationSeconds?: number;
}

export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface TopologySpreadConstraintJson {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: string;
  labelSelector?: LabelSelectorJson | null;
  minDomains?: number | null;
  nodeAffinityPolicy?: string | null;
  nodeTaintsPolicy?: string | null;
  matchLabelKeys?: string[] | null;
}

export interface ContainerJson {
  name: string;
  resources?: { requests?: ResourceList | null; limits?: ResourceList | null } | null;
  ports?: Array<{ containerPort?: number; hostPort?: number; protocol?: string; hostIP?: string }> | null;
  restartPolicy?: string;
}

export interface PodCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastProbeTime?: string | null;
  lastTransitionTime?: string;
}

export interface Pod extends KubeObject {
  spec?: {
    nodeName?: string;
    schedulerName?: string;
    nodeSelector?: Record<string, string> | null;
    affinity?: AffinityJson | null;
    tolerations?: Toleration[] | null;
    topologySpreadConstraints?: TopologySpreadConstraintJson[] | null;
    containers?: ContainerJson[] | null;
    initContainers?: ContainerJson[] | null;
    overhead?: ResourceList | null;
    priority?: number;
    preemptionPolicy?: string;
    schedulingGates?: Array<{ name: string }> | null;
  };
  status?: {
    phase?: string;
    conditions?: PodCondition[] | null;
    nominatedNodeName?: string;
    startTime?: string;
  };
}

export interface Node extends KubeObject {
  spec?: {
    unschedulable?: boolean;
    taints?: Taint[] | null;
  };
  status?: {
    allocatable?: ResourceList | null;
    capacity?: ResourceList | null;
    conditions?: Array<{ type: string; status: string }> | null;
    images?: Array<{ names?: string[] | null; sizeBytes?: number }> | null;
  };
}

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_ZONE = 'topology.kubernetes.io/zone';
export const LABEL_REGION = 'topology.kubernetes.io/region';
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const TAINT_NODE_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
