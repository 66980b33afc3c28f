/**
 * The CustomResourceDefinition kind's strategy (kube's apiextensions-apiserver
 * registry/customresourcedefinition strategy), which KindStrategies runs for the built-in CRD
 * kind: v1 defaults, the status a create starts with, and validation of the main resource and of
 * the status subresource. Update preparation (status kept, storage version recorded) needs the
 * stored object and runs from KindStrategies.prepareForUpdate; the cleanup finalizer is added
 * there on the first delete.
 */
import { isPlainObject, type KubeObject } from '@canopy/apimachinery';
import type { KindSemantics } from '../registry/semantics/types.js';
import { defaultCustomResourceDefinition, prepareCustomResourceDefinitionForCreate } from './definitions.js';
import { validateCustomResourceDefinition, validateCustomResourceDefinitionStatusUpdate } from './validation.js';

export const CRD_KIND_KEY = 'apiextensions.k8s.io/CustomResourceDefinition';

export const apiextensionsSemantics: Record<string, KindSemantics> = {
  [CRD_KIND_KEY]: {
    defaults: (object: KubeObject) => {
      if (isPlainObject(object)) defaultCustomResourceDefinition(object);
    },
    prepareForCreate: (object: KubeObject) => {
      if (isPlainObject(object) && isPlainObject(object.metadata)) prepareCustomResourceDefinitionForCreate(object);
    },
    validate: (object, context) => {
      if (context.subresource === 'status' && context.old)
        return validateCustomResourceDefinitionStatusUpdate(object, context.old);
      return validateCustomResourceDefinition(object, context.old);
    },
  },
};
