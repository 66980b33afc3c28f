/**
 * Storage keys: `/registry/<resource>[.<group>]/[<namespace>/]<name>`. The group suffix keeps
 * kinds of the same plural in different groups apart; core kinds keep kube's plain layout.
 */
export function resourcePrefix(group: string, resource: string): string {
  return group ? `/registry/${resource}.${group}/` : `/registry/${resource}/`;
}

export function objectKey(group: string, resource: string, namespace: string, name: string): string {
  return resourcePrefix(group, resource) + (namespace ? `${namespace}/${name}` : name);
}

/** The prefix for a list: all namespaces, or one. */
export function listPrefix(group: string, resource: string, namespace: string): string {
  return resourcePrefix(group, resource) + (namespace ? `${namespace}/` : '');
}
