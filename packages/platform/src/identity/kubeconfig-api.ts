/**
 * `GET /kapis/resources.kubesphere.io/v1alpha2/users/<u>/kubeconfig`: a kubeconfig for kubectl
 * whose server is the platform front (its HTTPS side, with the CA of its certificate, when the
 * platform has one: kubectl sends tokens only over TLS) and whose credential is a static token of the user
 * (KubeSphere's kubeconfig controller names the cluster `local` and the context `<u>@local`).
 * Through the front, kubectl has exactly the user's platform rights: requests to /api and /apis are
 * authorized by the user's platform roles before they are proxied to the cluster.
 *
 * The token never expires but is revocable: asking for a new kubeconfig revokes the user's previous
 * one; disabling or deleting the user revokes it too (and verification refuses such users anyway).
 * Only the user itself and a user manager (who could reset the user's password anyway) may ask.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { stringify as stringifyYaml } from 'yaml';
import { errors } from '@canopy/apimachinery';
import type { TokenStore } from '../auth/token-store.js';
import type { TokenManager } from '../auth/tokens.js';
import type { AuthorizationAttributes } from '../iam/authorizer.js';
import type { PlatformContext, PlatformUser } from '../server/types.js';
import type { KubeUserStore } from './kube-stores.js';

export const KUBECONFIG_CLUSTER_NAME = 'local';

export interface KubeconfigServer {
  server: string;
  /** PEM of the CA that signed the server's certificate. */
  ca?: string;
}

export interface KubeconfigApiOptions {
  users: KubeUserStore;
  tokenStore: TokenStore;
  tokens(): TokenManager;
  /** The platform front's URL (https, for kubectl sends tokens only over TLS) and the CA of its certificate. */
  server(): KubeconfigServer;
  allowed(user: PlatformUser, attributes: Omit<AuthorizationAttributes, 'user'>): boolean;
}

/** The front's URL as the caller can reach it: a wildcard listen address is replaced by the Host the request came to. */
function serverFor(req: FastifyRequest, target: KubeconfigServer): KubeconfigServer {
  const parsed = new URL(target.server);
  if (['0.0.0.0', '[::]'].includes(parsed.hostname) && req.headers.host) return { ...target, server: `${parsed.protocol}//${req.headers.host}` };
  return target;
}

export function kubeconfigFor(username: string, server: KubeconfigServer, token: string): string {
  const context = `${username}@${KUBECONFIG_CLUSTER_NAME}`;
  const cluster = { server: server.server, ...(server.ca ? { 'certificate-authority-data': Buffer.from(server.ca).toString('base64') } : {}) };
  return stringifyYaml({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: KUBECONFIG_CLUSTER_NAME, cluster }],
    contexts: [{ name: context, context: { cluster: KUBECONFIG_CLUSTER_NAME, user: username, namespace: 'default' } }],
    'current-context': context,
    preferences: {},
    users: [{ name: username, user: { token } }],
  });
}

export function kubeconfigApi(options: KubeconfigApiOptions) {
  return (app: FastifyInstance, context: PlatformContext): void => {
    app.get<{ Params: { user: string } }>('/kapis/resources.kubesphere.io/v1alpha2/users/:user/kubeconfig', async (req, reply) => {
      const operator = context.userOf(req);
      const name = req.params.user;
      const manager = options.allowed(operator, {
        verb: 'update',
        resourceRequest: true,
        apiGroup: 'iam.kubesphere.io',
        apiVersion: 'v1beta1',
        resource: 'users',
        name: '',
        resourceScope: 'Global',
      });
      if (operator.name !== name && !manager)
        throw errors.forbidden({ group: 'resources.kubesphere.io', resource: 'users' }, name, `User "${operator.name}" cannot get the kubeconfig of user "${name}"`);
      const user = options.users.get(name);
      if (!user) throw errors.notFound({ group: 'iam.kubesphere.io', resource: 'users' }, name);
      // One kubeconfig per user: the previous one stops working.
      for (const record of options.tokenStore.listUser(name)) if (record.tokenType === 'static_token') options.tokenStore.revoke(record.jti);
      const { token } = options.tokens().issue({
        user: { name, ...(user.metadata.uid ? { uid: user.metadata.uid } : {}) },
        tokenType: 'static_token',
      });
      return reply
        .header('content-type', 'text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(kubeconfigFor(name, serverFor(req, options.server()), token));
    });
  };
}
