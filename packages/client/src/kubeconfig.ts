/** Reads a kubeconfig (the current context, or a named one) into HTTP transport options. */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse } from 'yaml';
import type { HttpTransportOptions } from './transport.js';

interface NamedEntry<T> {
  name: string;
  [key: string]: unknown;
  cluster?: T;
  user?: T;
  context?: T;
}

export class KubeconfigError extends Error {}

export function loadKubeconfig(path: string, contextName?: string): HttpTransportOptions & { namespace?: string; context: string } {
  let config: any;
  try {
    config = parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new KubeconfigError(`cannot read kubeconfig ${path}: ${(err as Error).message}`);
  }
  const base = dirname(resolve(path));
  const name = contextName ?? config?.['current-context'];
  const find = <T>(list: NamedEntry<T>[] | undefined, entry: string, what: string): NamedEntry<T> => {
    const found = (list ?? []).find((e) => e.name === entry);
    if (!found) throw new KubeconfigError(`kubeconfig ${path}: ${what} "${entry}" not found`);
    return found;
  };
  if (!name) throw new KubeconfigError(`kubeconfig ${path}: no current-context`);
  const context = find<any>(config.contexts, name, 'context').context ?? {};
  const cluster = find<any>(config.clusters, context.cluster, 'cluster').cluster ?? {};
  const user = context.user ? (find<any>(config.users, context.user, 'user').user ?? {}) : {};
  const data = (inline: string | undefined, file: string | undefined): Buffer | undefined => {
    if (inline) return Buffer.from(inline, 'base64');
    if (file) return readFileSync(resolve(base, file));
    return undefined;
  };
  if (!cluster.server) throw new KubeconfigError(`kubeconfig ${path}: cluster "${context.cluster}" has no server`);
  return {
    context: name,
    namespace: context.namespace,
    server: cluster.server,
    ca: data(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: data(user['client-certificate-data'], user['client-certificate']),
    key: data(user['client-key-data'], user['client-key']),
    token: user.token ?? (user.tokenFile ? readFileSync(resolve(base, user.tokenFile), 'utf8').trim() : undefined),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}
