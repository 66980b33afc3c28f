/** Identity in the running platform: Kubernetes-backed auth stores, OAuth and users routes, per-user kubeconfigs, the users controller, first-start admin. */
export * from './identity.js';
export * from './access.js';
export * from './kube-stores.js';
export * from './config-secrets.js';
export * from './state-files.js';
export * from './admin-bootstrap.js';
export * from './user-controller.js';
export { kubeconfigFor, KUBECONFIG_CLUSTER_NAME, type KubeconfigServer } from './kubeconfig-api.js';
