/**
 * Indexes the platform's controllers and APIs share on the platform's informers, so "the
 * namespaces of a workspace" or "the workspace role bindings of a user" are map lookups.
 * `Informer.addIndex` ignores a name already added, so every user may ask for them.
 */
import type { KubeObject } from '@canopy/apimachinery';
import type { Informer } from '@canopy/client';
import { USER_REFERENCE_LABEL, WORKSPACE_LABEL, type IamRoleBinding } from '../iam/types.js';

export const BY_WORKSPACE = 'by-workspace-label';
export const BY_SUBJECT = 'by-subject';
export const BY_USER_REFERENCE = 'by-user-reference';

/** Objects by their `kubesphere.io/workspace` label. */
export function indexByWorkspace<T extends KubeObject>(informer: Informer<T>): Informer<T> {
  informer.addIndex(BY_WORKSPACE, (o) => {
    const ws = o.metadata.labels?.[WORKSPACE_LABEL];
    return ws ? [ws] : [];
  });
  return informer;
}

/** Bindings by subject: `User:<name>`, `Group:<name>`. */
export function indexBySubject<T extends KubeObject>(informer: Informer<T>): Informer<T> {
  informer.addIndex(BY_SUBJECT, (o) =>
    ((o as unknown as IamRoleBinding).subjects ?? [])
      .filter((s) => s.kind === 'User' || s.kind === 'Group')
      .map((s) => `${s.kind}:${s.name}`),
  );
  return informer;
}

/** Objects by their `iam.kubesphere.io/user-ref` label (member bindings). */
export function indexByUserReference<T extends KubeObject>(informer: Informer<T>): Informer<T> {
  informer.addIndex(BY_USER_REFERENCE, (o) => {
    const user = o.metadata.labels?.[USER_REFERENCE_LABEL];
    return user ? [user] : [];
  });
  return informer;
}

/** Bindings naming the user or one of its groups, without repeats. */
export function bindingsOfSubject<T extends KubeObject>(
  informer: Informer<T>,
  user: string,
  groups: readonly string[] = [],
): T[] {
  const seen = new Set<string>();
  const out: T[] = [];
  for (const key of [`User:${user}`, ...groups.map((g) => `Group:${g}`)]) {
    for (const b of informer.byIndex(BY_SUBJECT, key)) {
      const id = `${b.metadata.namespace ?? ''}/${b.metadata.name}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push(b);
    }
  }
  return out;
}
