export * from './crds/index.js';
export * from './iam/index.js';
