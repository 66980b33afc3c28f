/**
 * `storage.k8s.io` StorageClass: defaults (pkg/apis/storage/v1/defaults.go) and validation
 * (pkg/apis/storage/validation): provisioner, parameters and reclaim policy never change.
 */
import { isQualifiedName, type KubeObject } from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import type { KindSemantics } from './types.js';
import { asObj, asStr, Causes, defaultPointer, type Obj, semanticEqual } from './util.js';

const MAX_PARAMETERS = 512;
const MAX_PARAMETERS_SIZE = 256 * 1024;

function defaultStorageClass(storageClass: KubeObject): void {
  defaultPointer(storageClass as Obj, 'reclaimPolicy', 'Delete');
  defaultPointer(storageClass as Obj, 'volumeBindingMode', 'Immediate');
}

function validateStorageClass(storageClass: KubeObject, context: ValidationContext) {
  const c = new Causes();
  const root = storageClass as Obj;
  const provisioner = c.string(root, 'provisioner', 'provisioner') ?? '';
  if (!provisioner) c.required('provisioner');
  else c.each('provisioner', provisioner.toLowerCase(), isQualifiedName(provisioner.toLowerCase()));
  const parameters = c.stringMap(root, 'parameters', 'parameters') ?? {};
  const keys = Object.keys(parameters);
  if (keys.length > MAX_PARAMETERS) c.tooLong('parameters', MAX_PARAMETERS);
  else {
    let size = 0;
    for (const key of keys) {
      if (!key) c.invalid('parameters', key, 'field can not be empty.');
      size += Buffer.byteLength(key) + Buffer.byteLength(parameters[key]);
    }
    if (size > MAX_PARAMETERS_SIZE) c.tooLong('parameters', MAX_PARAMETERS_SIZE);
  }
  const reclaimPolicy = c.string(root, 'reclaimPolicy', 'reclaimPolicy');
  if (reclaimPolicy && reclaimPolicy !== 'Delete' && reclaimPolicy !== 'Retain')
    c.notSupported('reclaimPolicy', reclaimPolicy, ['Delete', 'Retain']);
  const bindingMode = c.string(root, 'volumeBindingMode', 'volumeBindingMode');
  if (bindingMode === undefined) c.required('volumeBindingMode');
  else if (bindingMode !== 'Immediate' && bindingMode !== 'WaitForFirstConsumer') {
    c.notSupported('volumeBindingMode', bindingMode, ['Immediate', 'WaitForFirstConsumer']);
  }
  c.boolean(root, 'allowVolumeExpansion', 'allowVolumeExpansion');
  if (context.old) {
    const old = context.old as Obj;
    if (!semanticEqual(asObj(old.parameters), asObj(root.parameters)))
      c.forbidden('parameters', 'updates to parameters are forbidden.');
    if (asStr(old.provisioner) !== provisioner) c.forbidden('provisioner', 'updates to provisioner are forbidden.');
    if (asStr(old.reclaimPolicy) !== asStr(root.reclaimPolicy))
      c.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.');
    if (asStr(old.volumeBindingMode) !== asStr(root.volumeBindingMode))
      c.invalid('volumeBindingMode', root.volumeBindingMode ?? null, 'field is immutable');
  }
  return c.list;
}

export const storageSemantics: Record<string, KindSemantics> = {
  'storage.k8s.io/StorageClass': { nameValidation: 'subdomain', defaults: defaultStorageClass, validate: validateStorageClass },
};
