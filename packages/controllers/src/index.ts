export * from './context.js';
export * from './manager.js';
export * from './all.js';
