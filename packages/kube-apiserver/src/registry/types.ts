/**
 * A resource definition: everything the generic REST handler needs to serve one kind. Built-in
 * kinds and CRDs are both described this way; there is no handler code per kind.
 */
import type { KubeObject, SchemaNode, StatusCause } from '@canopy/apimachinery';

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface TableColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  priority: number;
}

/** Server-side printing, as kube-apiserver's printers: columns and a row function. NAME is included in `columns`. */
export interface Printer {
  columns: TableColumn[];
  cells(object: KubeObject, now: Date): unknown[];
}

export interface ValidationContext {
  /** The object before this write (updates only). */
  old?: KubeObject;
  /** Which part is being written: the main resource or a subresource. */
  subresource?: 'status' | 'scale';
}

export interface ResourceDefinition {
  group: string;
  version: string;
  kind: string;
  listKind: string;
  /** Plural resource name used in URLs. */
  resource: string;
  singular: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: Verb[];
  subresources?: {
    status?: boolean;
    scale?: { specReplicasPath: string; statusReplicasPath: string; labelSelectorPath?: string };
  };
  /** Name of this kind's schema in the OpenAPI definitions (e.g. `io.k8s.api.apps.v1.Deployment`). */
  schemaName?: string;
  /** Inline schema (CRDs); built-ins reference `schemaName`. */
  schema?: SchemaNode;
  printer?: Printer;
  /** Field selector keys beyond metadata.name/namespace, with how to read each from an object. */
  selectableFields?: Record<string, (object: KubeObject) => string | undefined>;
  /** Apply API defaults in place (object as the client sent it, after decoding). */
  defaults?(object: KubeObject): void;
  /** Semantic validation beyond the schema: names, immutability, cross-field rules. */
  validate?(object: KubeObject, context: ValidationContext): StatusCause[];
  /**
   * Whether the main resource resets status on create and keeps the old status on update
   * (true for kinds with a status subresource). Status writes keep the old spec.
   */
  statusSubresourceSemantics?: boolean;
  /** Spec changes bump metadata.generation (kinds with a spec; not ConfigMaps or Secrets). */
  tracksGeneration?: boolean;
  /** The served version that is stored (for several versions of one kind); the others convert. */
  storageVersion?: boolean;
  /**
   * When another served resource owns the storage (the other versions of a CRD; events.k8s.io
   * Events, stored as core Events as kube does): where objects live and how they convert. The
   * pipeline validates in this resource's own version and converts at the storage boundary.
   */
  storage?: StorageBinding;
  /** Subresources answered by action handlers rather than the object pipeline. */
  actionSubresources?: ActionSubresource[];
  /**
   * A resource that is only ever created and never stored (TokenReview, SubjectAccessReview…):
   * its create is an action; discovery lists it with the create verb only.
   */
  virtual?: boolean;
  /**
   * A read-only resource whose objects come from a provider rather than the store (the
   * metrics.k8s.io kinds, which metrics-server computes on each request): get and list only,
   * never stored or watched; every other verb is 405.
   */
  provided?: ProvidedObjects;
}

/** The source of a provided resource's objects, asked on every read. */
export interface ProvidedObjects {
  /** Every object, or one namespace's (namespaced resources). */
  list(namespace?: string): KubeObject[];
}

/** A subresource served by an action handler (serviceaccounts/token, pods/log, pods/eviction…), for discovery. */
export interface ActionSubresource {
  name: string;
  /** The kind the subresource takes and returns, when not the parent's. */
  kind: string;
  group?: string;
  version?: string;
  verbs: string[];
}

export interface StorageBinding {
  group: string;
  resource: string;
  toStorage(object: KubeObject): KubeObject;
  fromStorage(object: KubeObject): KubeObject;
}
