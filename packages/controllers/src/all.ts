/** Every controller the all-in-one controller manager runs, in start order. */
import type { ControllerFactory } from './context.js';
import { cronJobController } from './cronjob.js';
import { daemonSetController } from './daemonset.js';
import { deploymentControllerFactory } from './deployment/controller.js';
import { endpointSliceController, endpointsController } from './endpoints.js';
import { disruptionController } from './disruption.js';
import { garbageCollectorController } from './garbage-collector.js';
import { horizontalPodAutoscalerController } from './horizontal-pod-autoscaler.js';
import { jobController } from './job.js';
import { namespaceController } from './namespace-controller.js';
import { nodeLifecycleController, taintEvictionController, type NodeLifecycleOptions } from './node-lifecycle.js';
import { replicaSetControllerFactory } from './replicaset.js';
import { resourceQuotaController } from './resource-quota.js';
import { rootCaCertPublisher, serviceAccountController } from './service-accounts.js';
import { schedulerFactory } from './scheduler/scheduler.js';
import { statefulSetController } from './statefulset.js';
import { ttlAfterFinishedController } from './ttl-after-finished.js';
import { persistentVolumeController } from './volumes.js';

export interface ControllerFactoriesOptions {
  /** The cluster CA bundle (PEM) the root-ca-cert-publisher puts in every namespace (kube's --root-ca-file). */
  rootCaCert?: string;
  /** Node lifecycle timing (kube-controller-manager's --node-monitor-grace-period and friends). */
  nodeLifecycle?: NodeLifecycleOptions;
}

/**
 * The controllers that used to run inside the API server and that every cluster needs for its
 * objects' lifecycle: garbage collection, namespace deletion, quota status, the `default`
 * ServiceAccount and the root CA ConfigMap of every namespace.
 */
export function lifecycleControllerFactories(options: ControllerFactoriesOptions = {}): ControllerFactory[] {
  return [
    garbageCollectorController,
    namespaceController,
    resourceQuotaController,
    serviceAccountController,
    ...(options.rootCaCert ? [rootCaCertPublisher(options.rootCaCert)] : []),
  ];
}

export function controllerFactories(options: ControllerFactoriesOptions = {}): ControllerFactory[] {
  return [...lifecycleControllerFactories(options), ...clusterControllerFactories(options), endpointsController, endpointSliceController, deploymentControllerFactory, replicaSetControllerFactory, ...workloadControllerFactories(), schedulerFactory()];
}

/** StatefulSet, DaemonSet, Job, CronJob and TTL-after-finished: the workload controllers beyond ReplicaSets and Deployments. */
export function workloadControllerFactories(): ControllerFactory[] {
  return [statefulSetController(), daemonSetController(), jobController(), cronJobController(), ttlAfterFinishedController()];
}

/** Volumes, node lifecycle and taint eviction, autoscaling and disruption budgets. */
export function clusterControllerFactories(options: ControllerFactoriesOptions = {}): ControllerFactory[] {
  return [persistentVolumeController, nodeLifecycleController(options.nodeLifecycle), taintEvictionController, horizontalPodAutoscalerController, disruptionController];
}
