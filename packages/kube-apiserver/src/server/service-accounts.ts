/**
 * The ServiceAccount admission plug-in, as kube-apiserver runs it: a pod runs as `default` unless
 * it names an account, the account must exist, and its API credentials are mounted as a projected
 * token volume. The `default` account and the `kube-root-ca.crt` ConfigMap the volume mounts are
 * created in every namespace by kube-controller-manager's serviceaccount and
 * root-ca-cert-publisher controllers (packages/controllers).
 */
import { errors } from '@canopy/apimachinery';
import { objectKey } from '../storage/keys.js';
import type { RevisionStore } from '../storage/types.js';
import type { AdmissionAttributes, AdmissionPlugin, AdmissionRequest } from './admission.js';
import { asRecord, randomSuffix } from './object-utils.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Where the plug-in mounts the API credentials in every container. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** kube's WarnOnlyBoundTokenExpirationSeconds: an hour and seven seconds, which marks the token as auto-mounted. */
const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
/**
 * How long a pod create waits for a new namespace's `default` account: kube's plug-in looks it up
 * ten times, 100–200 ms apart, because the controller creates it moments after the namespace.
 */
const DEFAULT_ACCOUNT_WAIT_MS = 2000;

type Obj = Record<string, unknown>;

function objectsOf(value: unknown): Obj[] {
  return Array.isArray(value) ? (value.map(asRecord).filter(Boolean) as Obj[]) : [];
}

/** The projected volume kube's plug-in adds (TokenVolumeSource): token, cluster CA and namespace. */
function tokenVolume(name: string): Obj {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: TOKEN_EXPIRATION_SECONDS, path: 'token' } },
        { configMap: { name: ROOT_CA_CONFIGMAP, items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

/**
 * The ServiceAccount admission plug-in, on pod creation: defaults `spec.serviceAccountName`,
 * refuses pods whose account does not exist, copies the account's imagePullSecrets, and mounts
 * the API credentials unless the pod or the account opts out (automountServiceAccountToken).
 */
export function serviceAccountAdmission(store: RevisionStore): AdmissionPlugin {
  return {
    name: 'ServiceAccount',
    prepare: (request) => waitForDefaultAccount(store, request),
    admit(a: AdmissionAttributes) {
      if (a.operation !== 'CREATE' || a.subresource || a.def.group !== '' || a.def.resource !== 'pods' || !a.object) return;
      const pod = a.object;
      // Mirror pods come from a kubelet's static manifests and may not use service accounts.
      if (pod.metadata.annotations?.[MIRROR_POD_ANNOTATION] !== undefined) return;
      const spec = (asRecord(pod.spec) ?? (pod.spec = {})) as Obj;
      if (typeof spec.serviceAccountName !== 'string' || spec.serviceAccountName === '') {
        spec.serviceAccountName =
          typeof spec.serviceAccount === 'string' && spec.serviceAccount ? spec.serviceAccount : DEFAULT_SERVICE_ACCOUNT;
      }
      const accountName = spec.serviceAccountName as string;
      // The v1 API mirrors the name in the deprecated field.
      spec.serviceAccount = accountName;
      const account = store.get(objectKey('', 'serviceaccounts', a.namespace, accountName))?.object;
      if (!account) {
        throw errors.forbidden(
          { group: '', resource: 'pods' },
          a.name,
          `error looking up service account ${a.namespace}/${accountName}: serviceaccount "${accountName}" not found`,
        );
      }
      const automount =
        typeof spec.automountServiceAccountToken === 'boolean'
          ? spec.automountServiceAccountToken
          : typeof account.automountServiceAccountToken === 'boolean'
            ? account.automountServiceAccountToken
            : true;
      if (automount) mountToken(spec);
      if (!objectsOf(spec.imagePullSecrets).length && objectsOf(account.imagePullSecrets).length) {
        spec.imagePullSecrets = objectsOf(account.imagePullSecrets).map((s) => ({ name: s.name }));
      }
    },
  };
}

/** kube's mountServiceAccountToken: every container without a mount at the path gets one. */
function mountToken(spec: Obj): void {
  const volumes = objectsOf(spec.volumes);
  const existing = volumes.find((v) => typeof v.name === 'string' && v.name.startsWith(TOKEN_VOLUME_PREFIX));
  const volumeName = (existing?.name as string | undefined) ?? TOKEN_VOLUME_PREFIX + randomSuffix();
  let needsVolume = false;
  for (const field of ['initContainers', 'containers']) {
    for (const container of objectsOf(spec[field])) {
      const mounts = objectsOf(container.volumeMounts);
      // A container that mounts something at the path itself keeps it.
      if (mounts.some((m) => m.mountPath === SERVICE_ACCOUNT_MOUNT_PATH)) continue;
      container.volumeMounts = [...mounts, { name: volumeName, readOnly: true, mountPath: SERVICE_ACCOUNT_MOUNT_PATH }];
      needsVolume = true;
    }
  }
  if (needsVolume && !existing) spec.volumes = [...volumes, tokenVolume(volumeName)];
}

/**
 * Before a pod is created in an active namespace that has no `default` ServiceAccount yet (it was
 * just created), waits until the serviceaccount controller has made it, or gives up after kube's
 * retry window and lets admission decide. Nothing waits in namespaces that have the account.
 */
function waitForDefaultAccount(store: RevisionStore, request: AdmissionRequest): Promise<void> | undefined {
  if (request.operation !== 'CREATE' || request.group !== '' || request.resource !== 'pods' || request.subresource || !request.namespace) return undefined;
  const key = objectKey('', 'serviceaccounts', request.namespace, DEFAULT_SERVICE_ACCOUNT);
  if (store.get(key)) return undefined;
  const namespace = store.get(objectKey('', 'namespaces', '', request.namespace))?.object;
  if (!namespace || namespace.metadata.deletionTimestamp) return undefined;
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      handle.cancel();
      resolve();
    };
    const timer = setTimeout(done, DEFAULT_ACCOUNT_WAIT_MS);
    const handle = store.watch(key, store.currentRevision(), (event) => {
      if (event.key === key && event.type === 'ADDED') setImmediate(done);
    });
  });
}
