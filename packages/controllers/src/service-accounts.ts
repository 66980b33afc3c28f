/**
 * kube-controller-manager's serviceaccount controller (every active namespace has a `default`
 * ServiceAccount, recreated when deleted) and root-ca-cert-publisher (every active namespace has
 * the ConfigMap `kube-root-ca.crt` holding the cluster CA, restored when changed or deleted; the
 * projected token volume of every pod mounts it as ca.crt).
 */
import type { KubeObject } from '@canopy/apimachinery';
import { isAlreadyExists, isConflict, isNotFound, types, WorkQueue, type Informer } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';

export const DEFAULT_SERVICE_ACCOUNT = 'default';
export const ROOT_CA_CONFIGMAP = 'kube-root-ca.crt';
const ROOT_CA_DESCRIPTION =
  'Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.';

/** A write refused because the namespace started terminating meanwhile: nothing to do there. */
function isNamespaceTerminating(err: unknown): boolean {
  return (err as { code?: number })?.code === 403 && /being terminated/.test((err as Error).message ?? '');
}

/** Namespace-keyed controllers share this: a queue fed by namespace adds and by their object's changes. */
abstract class PerNamespaceController implements Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue<string>;
  protected readonly namespaces: Informer;

  constructor(protected readonly context: ControllerContext) {
    this.queue = new WorkQueue({ log: context.log, name: this.constructor.name, maxDelayMs: 30_000 });
    this.namespaces = context.informers.for(types.namespaces);
    this.namespaces.addHandler({
      onAdd: (ns) => this.queue.add(ns.metadata.name!),
      onUpdate: (old, ns) => {
        // A namespace whose termination was cancelled (finalizers edited) needs its objects again.
        if (old.metadata.deletionTimestamp !== ns.metadata.deletionTimestamp) this.queue.add(ns.metadata.name!);
      },
    });
  }

  /** Informers whose contents `ensure` reads; work starts once they have listed. */
  protected abstract readonly caches: Informer[];

  start(): void {
    void Promise.all([this.namespaces, ...this.caches].map((i) => i.waitForSync())).then(() => this.run());
  }

  private run(): void {
    void this.queue.run(async (ns) => {
      const namespace = this.namespaces.get(ns);
      if (!namespace || namespace.metadata.deletionTimestamp || (namespace.status as { phase?: string })?.phase === 'Terminating') return;
      try {
        await this.ensure(ns);
      } catch (err) {
        if (isNamespaceTerminating(err) || isNotFound(err)) return;
        throw err;
      }
    }, 2);
  }

  stop(): void {
    this.queue.shutdown();
  }

  protected abstract ensure(namespace: string): Promise<void>;
}

export class ServiceAccountController extends PerNamespaceController {
  readonly name = 'serviceaccount';
  private readonly accounts: Informer;
  protected readonly caches: Informer[];

  constructor(context: ControllerContext) {
    super(context);
    this.accounts = context.informers.for(types.serviceAccounts);
    this.caches = [this.accounts];
    this.accounts.addHandler({
      onDelete: (sa) => sa.metadata.name === DEFAULT_SERVICE_ACCOUNT && this.queue.add(sa.metadata.namespace!),
    });
  }

  protected async ensure(namespace: string): Promise<void> {
    if (this.accounts.get(DEFAULT_SERVICE_ACCOUNT, namespace)) return;
    try {
      await this.context.client.create(types.serviceAccounts, { metadata: { name: DEFAULT_SERVICE_ACCOUNT, namespace } });
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }
}

export class RootCaCertPublisher extends PerNamespaceController {
  readonly name = 'root-ca-cert-publisher';
  private readonly configMaps: Informer;
  protected readonly caches: Informer[];

  constructor(
    context: ControllerContext,
    /** The cluster CA bundle (PEM), kube-controller-manager's --root-ca-file. */
    private readonly caBundle: string,
  ) {
    super(context);
    // Only the one ConfigMap per namespace, not every ConfigMap of the cluster.
    this.configMaps = context.informers.for(types.configMaps, { fieldSelector: `metadata.name=${ROOT_CA_CONFIGMAP}` });
    this.caches = [this.configMaps];
    const changed = (cm: KubeObject) => !this.publishes(cm) && this.queue.add(cm.metadata.namespace!);
    this.configMaps.addHandler({
      onAdd: changed,
      onUpdate: (_old, cm) => changed(cm),
      onDelete: (cm) => this.queue.add(cm.metadata.namespace!),
    });
  }

  private publishes(configMap: KubeObject): boolean {
    return (configMap as { data?: Record<string, string> }).data?.['ca.crt'] === this.caBundle;
  }

  protected async ensure(namespace: string): Promise<void> {
    const current = this.configMaps.get(ROOT_CA_CONFIGMAP, namespace);
    if (current && this.publishes(current)) return;
    const data = { 'ca.crt': this.caBundle };
    const client = this.context.client;
    if (!current) {
      try {
        await client.create(types.configMaps, {
          metadata: { name: ROOT_CA_CONFIGMAP, namespace, annotations: { 'kubernetes.io/description': ROOT_CA_DESCRIPTION } },
          data,
        } as KubeObject);
        return;
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        // Created by someone else meanwhile: its event brings us back if it is wrong.
        return;
      }
    }
    const annotations = { ...current.metadata.annotations, 'kubernetes.io/description': ROOT_CA_DESCRIPTION };
    try {
      await client.update(types.configMaps, { ...current, metadata: { ...current.metadata, annotations }, data } as KubeObject);
    } catch (err) {
      if (!isConflict(err)) throw err;
      this.queue.addAfter(namespace, 50);
    }
  }
}

export const serviceAccountController: ControllerFactory = {
  serviceAccount: 'service-account-controller',
  create: (context) => new ServiceAccountController(context),
};

export function rootCaCertPublisher(caBundle: string): ControllerFactory {
  return {
    serviceAccount: 'root-ca-cert-publisher',
    create: (context) => new RootCaCertPublisher(context, caBundle),
  };
}
