/** Helpers shared by the workload controllers (kube's pkg/controller/controller_utils.go and friends). */
export * from './types.js';
export * from './conditions.js';
export * from './expectations.js';
export * from './controller-ref.js';
export * from './pods.js';
