export { Simulator, NODE_PAUSED_ANNOTATION, type SimulatorOptions } from './simulator.js';
export { Annotations, ANNOTATION_PREFIX, parseDuration } from './annotations.js';
export { DEFAULT_TIMINGS, type KubeletTimings } from './pod-runtime.js';
export { podCidrFor, NODE_LEASE_NAMESPACE, type NodeCapacity } from './node-runtime.js';
export { normalizeImage, imageId } from './images.js';
