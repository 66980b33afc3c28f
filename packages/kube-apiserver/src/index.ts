export * from './storage/types.js';
export * from './registry/types.js';
export { SqliteRevisionStore, type SqliteRevisionStoreOptions } from './storage/sqlite-store.js';
