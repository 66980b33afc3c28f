/** Writes kubeconfig files that kubectl, helm and client libraries read. */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { KeyPairPem } from './pki.js';

export interface KubeconfigOptions {
  server: string;
  caPem: string;
  clusterName?: string;
  userName: string;
  client?: KeyPairPem;
  token?: string;
  namespace?: string;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

export function renderKubeconfig(options: KubeconfigOptions): string {
  const cluster = options.clusterName ?? 'canopy';
  const context = `${options.userName}@${cluster}`;
  const user: Record<string, string> = {};
  if (options.client) {
    user['client-certificate-data'] = b64(options.client.cert);
    user['client-key-data'] = b64(options.client.key);
  }
  if (options.token) user.token = options.token;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: options.userName, user }],
    contexts: [{ name: context, context: { cluster, user: options.userName, ...(options.namespace ? { namespace: options.namespace } : {}) } }],
    'current-context': context,
    preferences: {},
  });
}

export function writeKubeconfig(path: string, options: KubeconfigOptions): void {
  // Owner-only: the file holds a private key or a token.
  writeFileSync(path, renderKubeconfig(options), { mode: 0o600 });
}
