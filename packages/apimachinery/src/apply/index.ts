export * from './fieldset.js';
export * from './managed-fields.js';
export * from './apply.js';
