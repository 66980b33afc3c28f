export * from './storage/types.js';
export * from './registry/types.js';
