/**
 * The runtime registry of served resources: built-in kinds at start, CRDs as they are
 * established. Discovery, OpenAPI and the generic REST handler all read it; listeners hear
 * about changes so cached documents are rebuilt.
 */
import { apiVersionOf } from '@canopy/apimachinery';
import type { ResourceDefinition } from './types.js';

export interface GroupVersionInfo {
  group: string;
  version: string;
  resources: ResourceDefinition[];
}

export class ResourceRegistry {
  private readonly byPath = new Map<string, ResourceDefinition>();
  private readonly listeners = new Set<() => void>();
  /** Served versions per group, preferred first (kube orders by priority; we keep insertion order). */
  private readonly groupVersions = new Map<string, string[]>();
  private generation = 0;

  constructor(definitions: ResourceDefinition[] = []) {
    for (const d of definitions) this.add(d, false);
  }

  private static key(group: string, version: string, resource: string): string {
    return `${group}/${version}/${resource}`;
  }

  /** Adds or replaces a definition. */
  add(definition: ResourceDefinition, notify = true): void {
    this.byPath.set(ResourceRegistry.key(definition.group, definition.version, definition.resource), definition);
    const versions = this.groupVersions.get(definition.group) ?? [];
    if (!versions.includes(definition.version)) versions.push(definition.version);
    this.groupVersions.set(definition.group, versions);
    if (notify) this.changed();
  }

  remove(group: string, version: string, resource: string): void {
    if (!this.byPath.delete(ResourceRegistry.key(group, version, resource))) return;
    const stillServed = [...this.byPath.values()].some((d) => d.group === group && d.version === version);
    if (!stillServed) {
      const versions = (this.groupVersions.get(group) ?? []).filter((v) => v !== version);
      if (versions.length) this.groupVersions.set(group, versions);
      else this.groupVersions.delete(group);
    }
    this.changed();
  }

  /** Reorders a group's versions (CRDs: by kube version priority). */
  setVersionOrder(group: string, versions: string[]): void {
    this.groupVersions.set(group, versions);
    this.changed();
  }

  get(group: string, version: string, resource: string): ResourceDefinition | undefined {
    return this.byPath.get(ResourceRegistry.key(group, version, resource));
  }

  hasGroupVersion(group: string, version: string): boolean {
    return (this.groupVersions.get(group) ?? []).includes(version);
  }

  /** Named groups in the order discovery lists them (the core group is served under /api). */
  groups(): Array<{ name: string; versions: string[] }> {
    return [...this.groupVersions.entries()].filter(([g]) => g !== '').map(([name, versions]) => ({ name, versions }));
  }

  resourcesOf(group: string, version: string): ResourceDefinition[] {
    return [...this.byPath.values()].filter((d) => d.group === group && d.version === version);
  }

  all(): ResourceDefinition[] {
    return [...this.byPath.values()];
  }

  /** Finds the served definition for a kind (any served version; the preferred one first). */
  forKind(group: string, kind: string): ResourceDefinition | undefined {
    for (const version of this.groupVersions.get(group) ?? []) {
      for (const d of this.byPath.values()) if (d.group === group && d.version === version && d.kind === kind) return d;
    }
    return undefined;
  }

  forApiVersionKind(apiVersion: string, kind: string): ResourceDefinition | undefined {
    for (const d of this.byPath.values()) if (apiVersionOf(d.group, d.version) === apiVersion && d.kind === kind) return d;
    return undefined;
  }

  /** Bumped on every change; caches of derived documents compare it. */
  get revision(): number {
    return this.generation;
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    this.generation++;
    for (const l of this.listeners) l();
  }
}
