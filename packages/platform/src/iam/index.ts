/** IAM and tenancy model: role templates, aggregation, three-scope authorization, request info. */
export * from './types.js';
export * from './rules.js';
export * from './rego.js';
export * from './role-templates.js';
export * from './aggregation.js';
export * from './authorizer.js';
export * from './memory-policy.js';
export * from './request-info.js';
