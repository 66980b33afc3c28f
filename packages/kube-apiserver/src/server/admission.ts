/**
 * Admission: the chain of in-process plug-ins every write passes, as kube-apiserver's — first
 * all mutating plug-ins (they may change the object), then, after the kind's own validation,
 * all validating plug-ins (they may only refuse, by throwing a Status error). The platform adds
 * its own plug-ins (workspace quotas, tenancy) through `AdmissionChain.add`.
 *
 * Plug-ins are synchronous: storage reads are synchronous, so a write's read-validate-store stays
 * atomic within one turn of the event loop. A plug-in may ask a request to wait before that turn
 * (`prepare`).
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { ResourceDefinition } from '../registry/types.js';
import type { UserInfo } from './types.js';

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

export interface AdmissionAttributes {
  operation: AdmissionOperation;
  def: ResourceDefinition;
  namespace: string;
  name: string;
  subresource?: string;
  /** The object being written (CREATE, UPDATE); mutating plug-ins change it in place. */
  object?: KubeObject;
  /** The stored object (UPDATE, DELETE). */
  oldObject?: KubeObject;
  user: UserInfo;
  dryRun: boolean;
}

/** What is known of a write before its body is decoded: enough to decide whether to wait. */
export interface AdmissionRequest {
  operation: AdmissionOperation;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface AdmissionPlugin {
  readonly name: string;
  /**
   * An asynchronous wait before the synchronous pipeline runs, for a plug-in that depends on
   * what a controller is about to write (kube's ServiceAccount plug-in retries its lookup of a
   * new namespace's `default` account). Undefined when there is nothing to wait for.
   */
  prepare?(request: AdmissionRequest): Promise<void> | undefined;
  /** Mutating phase. */
  admit?(attributes: AdmissionAttributes): void;
  /** Validating phase: throw a StatusError to refuse the write. */
  validate?(attributes: AdmissionAttributes): void;
}

export class AdmissionChain {
  private readonly plugins: AdmissionPlugin[] = [];

  constructor(plugins: AdmissionPlugin[] = []) {
    for (const p of plugins) this.add(p);
  }

  /** Appends a plug-in; order is the order of registration within each phase. */
  add(plugin: AdmissionPlugin): void {
    if (this.plugins.some((p) => p.name === plugin.name)) throw new Error(`admission plug-in ${plugin.name} registered twice`);
    this.plugins.push(plugin);
  }

  get names(): string[] {
    return this.plugins.map((p) => p.name);
  }

  /** Waits for every plug-in that asks to (see AdmissionPlugin.prepare); undefined if none does. */
  prepare(request: AdmissionRequest): Promise<void> | undefined {
    const waits = this.plugins.map((p) => p.prepare?.(request)).filter((w): w is Promise<void> => w !== undefined);
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }

  admit(attributes: AdmissionAttributes): void {
    for (const p of this.plugins) p.admit?.(attributes);
  }

  validate(attributes: AdmissionAttributes): void {
    for (const p of this.plugins) p.validate?.(attributes);
  }
}

/** The identity the API server uses for its own writes (bootstrap, lifecycle controllers). */
export const SYSTEM_USER: UserInfo = { name: 'system:apiserver', groups: ['system:masters', 'system:authenticated'] };
