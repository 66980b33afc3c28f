/** Table (meta.k8s.io) responses for kubectl's server-side printing. */
import type { KubeObject } from '@canopy/apimachinery';
import { defaultPrinter } from '../registry/printing.js';
import type { Printer, ResourceDefinition } from '../registry/types.js';

export function printerOf(def: ResourceDefinition): Printer {
  return def.printer ?? defaultPrinter;
}

/**
 * The row's object for includeObject=Metadata. managedFields are left out: table clients print
 * names, labels and timestamps, and ownership records would multiply the size of every row
 * (kube-apiserver sends them; `?includeObject=Object` still returns the whole object).
 */
function partialMetadata(object: KubeObject, version: string): Record<string, unknown> {
  const { managedFields: _managedFields, ...metadata } = object.metadata;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata };
}

export function tableRows(def: ResourceDefinition, objects: KubeObject[], includeObject: string, version: string, now = new Date()) {
  const printer = printerOf(def);
  return objects.map((object) => {
    let cells: unknown[];
    try {
      cells = printer.cells(object, now);
    } catch {
      // A printer must never fail a read: show what we can.
      cells = printer.columns.map((c, i) => (i === 0 ? object.metadata.name : c.type === 'string' ? '<unknown>' : null));
    }
    const row: Record<string, unknown> = { cells };
    if (includeObject === 'Object') row.object = object;
    else if (includeObject !== 'None') row.object = partialMetadata(object, version);
    return row;
  });
}

export function toTable(
  def: ResourceDefinition,
  objects: KubeObject[],
  meta: { resourceVersion: string; continue?: string; remainingItemCount?: number },
  includeObject: string,
  version: string,
  withColumns = true,
): Record<string, unknown> {
  const metadata: Record<string, unknown> = { resourceVersion: meta.resourceVersion };
  if (meta.continue) metadata.continue = meta.continue;
  if (meta.remainingItemCount !== undefined) metadata.remainingItemCount = meta.remainingItemCount;
  return {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${version}`,
    metadata,
    columnDefinitions: withColumns ? printerOf(def).columns : [],
    rows: tableRows(def, objects, includeObject, version),
  };
}
