export * from './context.js';
export * from './manager.js';
