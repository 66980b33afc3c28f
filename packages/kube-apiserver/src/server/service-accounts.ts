/**
 * Service accounts for pods, as kube-apiserver and kube-controller-manager provide them: the
 * ServiceAccount admission plug-in (a pod runs as `default` unless it names an account, the
 * account must exist, and its API credentials are mounted as a projected token volume), the
 * serviceaccount controller (every namespace has a `default` ServiceAccount) and the root CA
 * publisher (every namespace has the ConfigMap `kube-root-ca.crt` with the cluster CA, which the
 * projected volume mounts as ca.crt).
 */
import { errors, StatusError, type KubeObject } from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import { listPrefix, objectKey } from '../storage/keys.js';
import type { RevisionStore, StoreEvent, WatchHandle } from '../storage/types.js';
import type { AdmissionAttributes, AdmissionPlugin } from './admission.js';
import type { ObjectService } from './objects.js';
import { asRecord, randomSuffix } from './object-utils.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
/** Where the plug-in mounts the API credentials in every container. */
export const SERVICE_ACCOUNT_MOUNT_PATH = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_VOLUME_PREFIX = 'kube-api-access-';
/** kube's WarnOnlyBoundTokenExpirationSeconds: an hour and seven seconds, which marks the token as auto-mounted. */
const TOKEN_EXPIRATION_SECONDS = 3607;
const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

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

// ---- controllers ----------------------------------------------------------------------------------

const RETRY_MS = 500;

/**
 * kube-controller-manager's serviceaccount controller and root-ca-cert-publisher together: every
 * active namespace has a `default` ServiceAccount and the `kube-root-ca.crt` ConfigMap, recreated
 * when deleted and restored when changed.
 *
 * A new namespace gets both while its creation is being dispatched (the store queues writes made
 * by listeners), so a client that creates a namespace and then a pod in it does not meet the
 * moment in which kube's pods fail with "serviceaccount not found".
 */
export class ServiceAccountControllers {
  private readonly queue = new Set<string>();
  private watches: WatchHandle[] = [];
  private scheduled = false;
  private stopped = false;
  private retry?: NodeJS.Timeout;

  constructor(
    private readonly store: RevisionStore,
    private readonly registry: ResourceRegistry,
    private readonly objects: ObjectService,
    /** The cluster CA certificate (PEM). */
    private readonly caCert: string,
    private readonly log?: (message: string) => void,
  ) {}

  start(): void {
    const namespaces = this.store.list(listPrefix('', 'namespaces', ''));
    for (const item of namespaces.items) this.sync(item.object.metadata.name ?? '');
    const from = this.store.currentRevision();
    this.watches = ['namespaces', 'serviceaccounts', 'configmaps'].map((resource) =>
      this.store.watch(listPrefix('', resource, ''), from, (event) => this.onEvent(event)),
    );
  }

  stop(): void {
    this.stopped = true;
    for (const w of this.watches) w.cancel();
    clearTimeout(this.retry);
  }

  private onEvent(event: StoreEvent): void {
    if (this.stopped) return;
    const { key, object } = event;
    if (key.startsWith(listPrefix('', 'namespaces', ''))) {
      if (event.type === 'ADDED') this.sync(object.metadata.name ?? '');
      return;
    }
    const ns = object.metadata.namespace;
    if (!ns) return;
    if (key === objectKey('', 'serviceaccounts', ns, DEFAULT_SERVICE_ACCOUNT) && event.type === 'DELETED') this.enqueue(ns);
    else if (key === objectKey('', 'configmaps', ns, ROOT_CA_CONFIGMAP) && (event.type === 'DELETED' || !this.publishes(object)))
      this.enqueue(ns);
  }

  private publishes(configMap: KubeObject): boolean {
    return asRecord(configMap.data)?.['ca.crt'] === this.caCert;
  }

  private enqueue(namespace: string): void {
    this.queue.add(namespace);
    if (this.scheduled || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const batch = [...this.queue];
      this.queue.clear();
      for (const ns of batch) this.sync(ns);
    });
  }

  /** Ensures both objects in one namespace; failures are logged and retried. */
  sync(namespace: string): void {
    if (this.stopped || !namespace) return;
    try {
      const ns = this.store.get(objectKey('', 'namespaces', '', namespace))?.object;
      if (!ns || ns.metadata.deletionTimestamp) return;
      this.ensureServiceAccount(namespace);
      this.ensureRootCa(namespace);
    } catch (err) {
      // A namespace that started terminating meanwhile refuses new content: nothing to do.
      if (err instanceof StatusError && err.code === 403) return;
      this.log?.(`serviceaccounts: namespace ${namespace}: ${(err as Error).message}`);
      clearTimeout(this.retry);
      this.retry = setTimeout(() => this.enqueue(namespace), RETRY_MS);
      this.retry.unref();
    }
  }

  private ensureServiceAccount(namespace: string): void {
    const def = this.registry.get('', 'v1', 'serviceaccounts');
    if (!def || this.objects.tryGet(def, namespace, DEFAULT_SERVICE_ACCOUNT)) return;
    try {
      this.objects.create(def, namespace, { metadata: { name: DEFAULT_SERVICE_ACCOUNT } });
    } catch (err) {
      if (!(err instanceof StatusError && err.code === 409)) throw err;
    }
  }

  private ensureRootCa(namespace: string): void {
    const def = this.registry.get('', 'v1', 'configmaps');
    if (!def) return;
    const current = this.objects.tryGet(def, namespace, ROOT_CA_CONFIGMAP);
    if (current && this.publishes(current)) return;
    const data = { 'ca.crt': this.caCert };
    if (!current) {
      try {
        this.objects.create(def, namespace, {
          metadata: { name: ROOT_CA_CONFIGMAP, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
          data,
        });
      } catch (err) {
        if (!(err instanceof StatusError && err.code === 409)) throw err;
      }
      return;
    }
    this.objects.update(
      def,
      namespace,
      ROOT_CA_CONFIGMAP,
      { ...current, data },
      { expectedRevision: Number(current.metadata.resourceVersion) },
    );
  }
}
