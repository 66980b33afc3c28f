import type { KubeObject, NameValidation, StatusCause } from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';

/**
 * What kube-apiserver does to one built-in kind beyond its schema, as pure functions:
 * - `defaults`: the API defaults (pkg/apis/<group>/v1/defaults.go), applied to every object a
 *   client writes, in place. Idempotent, and never throws: parts that are not objects are skipped.
 * - `prepareForCreate`: what the registry strategy sets when an object is created (statuses,
 *   generated selectors); runs after `defaults`, once the object has its uid.
 * - `validate`: the kind's own semantic validation (pkg/apis/<group>/validation), without the
 *   generic ObjectMeta checks, which the caller runs with `nameValidation`.
 */
export interface KindSemantics {
  defaults?(object: KubeObject): void;
  prepareForCreate?(object: KubeObject): void;
  validate?(object: KubeObject, context: ValidationContext): StatusCause[];
  nameValidation?: NameValidation;
}
