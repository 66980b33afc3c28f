/**
 * Persistent volumes: kube's PV controller (pkg/controller/volume/persistentvolume) binding
 * claims to volumes, and a simulated dynamic provisioner standing in for a storage backend.
 *  - A claim naming a volume binds to it; otherwise to the smallest Available volume of its class
 *    that fits (access modes, capacity, volume mode, selector); otherwise, when its class has a
 *    provisioner, one is provisioned: `canopy.io/simulated` here creates `pvc-<claim uid>` with
 *    the claim's capacity (a CSI volume of that driver; nothing is stored anywhere).
 *  - WaitForFirstConsumer classes provision only once the scheduler chose a node
 *    (`volume.kubernetes.io/selected-node`); the volume gets that node as its affinity.
 *  - Binding is written both ways (volume claimRef and phase Bound, claim volumeName, phase
 *    Bound, capacity and access modes) with kube's annotations.
 *  - A released volume (its claim deleted) is Released; with reclaimPolicy Delete it is deleted.
 *  - A default StorageClass `local` of this provisioner is created when the cluster has none,
 *    and claims created before any default existed get it (kube's retroactive assignment).
 */
import { labelSelectorFromObject, matchesLabels, parseQuantity, type KubeObject, type LabelSelectorObject } from '@canopy/apimachinery';
import { isAlreadyExists, isConflict, isNotFound, types, WorkQueue, type Informer } from '@canopy/client';
import type { Controller, ControllerContext, ControllerFactory } from './context.js';

export const SIMULATED_PROVISIONER = 'canopy.io/simulated';
export const DEFAULT_STORAGE_CLASS = 'local';
const IS_DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';
const BETA_IS_DEFAULT_CLASS = 'storageclass.beta.kubernetes.io/is-default-class';
const SELECTED_NODE = 'volume.kubernetes.io/selected-node';
const STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
const BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
const BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
const BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
const PROVISIONED_BY = 'pv.kubernetes.io/provisioned-by';
const LEGACY_CLASS_ANNOTATION = 'volume.beta.kubernetes.io/storage-class';

interface ClaimSpec {
  accessModes?: string[];
  resources?: { requests?: { storage?: string } };
  storageClassName?: string | null;
  volumeName?: string;
  volumeMode?: string;
  selector?: LabelSelectorObject;
}

interface VolumeSpec {
  capacity?: { storage?: string };
  accessModes?: string[];
  claimRef?: { kind?: string; apiVersion?: string; namespace?: string; name?: string; uid?: string; resourceVersion?: string };
  storageClassName?: string;
  persistentVolumeReclaimPolicy?: string;
  volumeMode?: string;
}

type Claim = KubeObject & { spec?: ClaimSpec; status?: { phase?: string; accessModes?: string[]; capacity?: Record<string, string> } };
type Volume = KubeObject & { spec?: VolumeSpec; status?: { phase?: string; message?: string; reason?: string } };
type StorageClass = KubeObject & { provisioner?: string; reclaimPolicy?: string; volumeBindingMode?: string; parameters?: Record<string, string> };

function isDefaultClass(c: KubeObject): boolean {
  const a = c.metadata.annotations ?? {};
  return a[IS_DEFAULT_CLASS] === 'true' || a[BETA_IS_DEFAULT_CLASS] === 'true';
}

/** The class a claim asks for ('' means "no class": only volumes without one). */
function claimClass(claim: Claim): string | undefined {
  const legacy = claim.metadata.annotations?.[LEGACY_CLASS_ANNOTATION];
  if (legacy !== undefined) return legacy;
  const name = claim.spec?.storageClassName;
  return name === null ? undefined : name;
}

function bytes(q: string | undefined): bigint {
  if (!q) return 0n;
  try {
    return parseQuantity(q).nanos;
  } catch {
    return 0n;
  }
}

export class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder';
  private readonly queue: WorkQueue<string>;
  private readonly claims: Informer<Claim>;
  private readonly volumes: Informer<Volume>;
  private readonly classes: Informer<StorageClass>;

  constructor(private readonly context: ControllerContext) {
    this.queue = new WorkQueue({ log: context.log, name: 'persistentvolume', maxDelayMs: 30_000 });
    this.claims = context.informers.for<Claim>(types.persistentVolumeClaims);
    this.volumes = context.informers.for<Volume>(types.persistentVolumes);
    this.classes = context.informers.for<StorageClass>(types.storageClasses);
    // Volumes are indexed by the claim they name, claims by class, so a change looks up its peers.
    this.volumes.addIndex('claim', (v) => (v.spec?.claimRef?.name ? [`${v.spec.claimRef.namespace}/${v.spec.claimRef.name}`] : []));
    const claimKey = (c: KubeObject) => `claim:${c.metadata.namespace}/${c.metadata.name}`;
    this.claims.addHandler({
      onAdd: (c) => this.queue.add(claimKey(c)),
      onUpdate: (_o, c) => this.queue.add(claimKey(c)),
      onDelete: (c) => {
        // Its volume is released.
        for (const v of this.volumes.byIndex('claim', `${c.metadata.namespace}/${c.metadata.name}`)) this.queue.add(`volume:${v.metadata.name}`);
      },
    });
    this.volumes.addHandler({
      onAdd: (v) => this.volumeChanged(v),
      onUpdate: (_o, v) => this.volumeChanged(v),
      onDelete: (v) => {
        const ref = v.spec?.claimRef;
        if (ref?.name) this.queue.add(`claim:${ref.namespace}/${ref.name}`);
      },
    });
    // A new (default) class may let waiting claims proceed.
    this.classes.addHandler({
      onAdd: () => this.requeuePendingClaims(),
      onUpdate: () => this.requeuePendingClaims(),
      onDelete: () => this.queue.add('classes'),
    });
  }

  private volumeChanged(volume: Volume): void {
    this.queue.add(`volume:${volume.metadata.name}`);
    const ref = volume.spec?.claimRef;
    if (ref?.name) this.queue.add(`claim:${ref.namespace}/${ref.name}`);
    // An Available volume may fit a pending claim.
    if (!ref) this.requeuePendingClaims();
  }

  private requeuePendingClaims(): void {
    for (const c of this.claims.list()) if (!c.spec?.volumeName) this.queue.add(`claim:${c.metadata.namespace}/${c.metadata.name}`);
  }

  start(): void {
    void Promise.all([this.claims.waitForSync(), this.volumes.waitForSync(), this.classes.waitForSync()]).then(() => {
      this.queue.add('classes');
      return this.queue.run((key) => this.process(key), 2);
    });
  }

  stop(): void {
    this.queue.shutdown();
  }

  private async process(key: string): Promise<void> {
    try {
      await this.processKey(key);
    } catch (err) {
      // Written against a stale copy: the newer version's event queues the claim (or volume) again.
      if (isConflict(err)) return;
      throw err;
    }
  }

  private async processKey(key: string): Promise<void> {
    if (key === 'classes') return this.ensureDefaultClass();
    if (key.startsWith('volume:')) return this.syncVolume(key.slice('volume:'.length));
    const rest = key.slice('claim:'.length);
    const slash = rest.indexOf('/');
    return this.syncClaim(rest.slice(0, slash), rest.slice(slash + 1));
  }

  /** Creates the `local` class of the simulated provisioner when no default class exists. */
  private async ensureDefaultClass(): Promise<void> {
    const classes = this.classes.list();
    if (classes.some(isDefaultClass) || classes.some((c) => c.metadata.name === DEFAULT_STORAGE_CLASS)) return;
    try {
      await this.context.client.create(types.storageClasses, {
        metadata: { name: DEFAULT_STORAGE_CLASS, annotations: { [IS_DEFAULT_CLASS]: 'true' } },
        provisioner: SIMULATED_PROVISIONER,
        reclaimPolicy: 'Delete',
        volumeBindingMode: 'Immediate',
        allowVolumeExpansion: true,
      } as KubeObject);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  private defaultClass(): StorageClass | undefined {
    // Of several defaults, the newest (kube since 1.26).
    return this.classes
      .list()
      .filter(isDefaultClass)
      .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))[0];
  }

  // ---- claims ---------------------------------------------------------------------------------

  private async syncClaim(namespace: string, name: string): Promise<void> {
    const claim = this.claims.get(name, namespace);
    if (!claim || claim.metadata.deletionTimestamp) return;
    const volumeName = claim.spec?.volumeName;
    if (!volumeName) return this.syncUnboundClaim(claim);
    const volume = this.volumes.get(volumeName);
    if (!volume) {
      // Bound once, its volume gone: Lost, as kube reports it.
      if (claim.metadata.annotations?.[BIND_COMPLETED] === 'yes') {
        if (claim.status?.phase !== 'Lost') {
          await this.setClaimPhase(claim, 'Lost');
          this.context.events.event(claim, 'Warning', 'ClaimLost', 'Bound claim has lost its PersistentVolume. Data on the volume is lost!');
        }
      }
      return;
    }
    const ref = volume.spec?.claimRef;
    if (!ref?.name) return this.bind(volume, claim);
    if (ref.namespace === namespace && ref.name === name && (!ref.uid || ref.uid === claim.metadata.uid)) {
      if (!ref.uid || volume.status?.phase !== 'Bound') return this.bind(volume, claim);
      return this.finishClaimBinding(claim, volume);
    }
    // The volume belongs to another claim.
    if (claim.status?.phase !== 'Pending') await this.setClaimPhase(claim, 'Pending');
  }

  private async syncUnboundClaim(claim: Claim): Promise<void> {
    // kube's retroactive default class: claims created with no class at all get today's default.
    if ((claim.spec?.storageClassName === undefined || claim.spec?.storageClassName === null) && claim.metadata.annotations?.[LEGACY_CLASS_ANNOTATION] === undefined) {
      const fallback = this.defaultClass();
      if (fallback) {
        await this.context.client.update(types.persistentVolumeClaims, { ...claim, spec: { ...claim.spec, storageClassName: fallback.metadata.name } });
        return;
      }
    }
    // A volume already naming this claim (pre-bound, or provisioned for it) comes first.
    const preBound = this.volumes.byIndex('claim', `${claim.metadata.namespace}/${claim.metadata.name}`).find((v) => !v.spec?.claimRef?.uid || v.spec.claimRef.uid === claim.metadata.uid);
    const match = preBound ?? this.findBestMatch(claim);
    if (match) return this.bind(match, claim);
    const className = claimClass(claim);
    const storageClass = className ? this.classes.get(className) : undefined;
    if (!storageClass) {
      if (claim.status?.phase !== 'Pending') await this.setClaimPhase(claim, 'Pending');
      if (className) this.context.events.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      else this.context.events.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    const selectedNode = claim.metadata.annotations?.[SELECTED_NODE];
    if (storageClass.volumeBindingMode === 'WaitForFirstConsumer' && !selectedNode) {
      this.context.events.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    if (claim.spec?.selector) {
      // kube never provisions for a claim with a selector.
      this.context.events.event(claim, 'Warning', 'ProvisioningFailed', 'claim Selector is not supported');
      return;
    }
    const provisioner = storageClass.provisioner ?? '';
    if (claim.metadata.annotations?.[STORAGE_PROVISIONER] !== provisioner) {
      await this.context.client.update(types.persistentVolumeClaims, {
        ...claim,
        metadata: { ...claim.metadata, annotations: { ...claim.metadata.annotations, [STORAGE_PROVISIONER]: provisioner, [BETA_STORAGE_PROVISIONER]: provisioner } },
      });
      return;
    }
    if (provisioner !== SIMULATED_PROVISIONER) {
      this.context.events.event(claim, 'Normal', 'ExternalProvisioning', `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`);
      return;
    }
    await this.provision(claim, storageClass, selectedNode);
  }

  /** kube's findBestMatchForClaim: the smallest Available volume that fits. */
  private findBestMatch(claim: Claim): Volume | undefined {
    const wanted = bytes(claim.spec?.resources?.requests?.storage);
    const modes = claim.spec?.accessModes ?? [];
    const className = claimClass(claim) ?? '';
    const mode = claim.spec?.volumeMode ?? 'Filesystem';
    const selector = claim.spec?.selector ? labelSelectorFromObject(claim.spec.selector) : undefined;
    let best: Volume | undefined;
    for (const v of this.volumes.list()) {
      if (v.spec?.claimRef || v.metadata.deletionTimestamp || v.status?.phase === 'Released' || v.status?.phase === 'Failed') continue;
      if ((v.spec?.storageClassName ?? '') !== className) continue;
      if ((v.spec?.volumeMode ?? 'Filesystem') !== mode) continue;
      if (!modes.every((m) => v.spec?.accessModes?.includes(m))) continue;
      if (selector && !matchesLabels(selector, v.metadata.labels ?? {})) continue;
      const size = bytes(v.spec?.capacity?.storage);
      if (size < wanted) continue;
      if (!best || size < bytes(best.spec?.capacity?.storage)) best = v;
    }
    return best;
  }

  /** The simulated provisioner: a volume of exactly the requested size, bound to the claim. */
  private async provision(claim: Claim, storageClass: StorageClass, selectedNode: string | undefined): Promise<void> {
    const name = `pvc-${claim.metadata.uid}`;
    if (this.volumes.get(name)) return;
    const volume = {
      metadata: { name, annotations: { [PROVISIONED_BY]: SIMULATED_PROVISIONER, 'volume.kubernetes.io/provisioner-deletion-secret-name': '', 'volume.kubernetes.io/provisioner-deletion-secret-namespace': '' } },
      spec: {
        capacity: { storage: claim.spec?.resources?.requests?.storage ?? '1Gi' },
        accessModes: claim.spec?.accessModes ?? ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: storageClass.reclaimPolicy ?? 'Delete',
        storageClassName: storageClass.metadata.name,
        volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
        claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion },
        csi: { driver: SIMULATED_PROVISIONER, volumeHandle: name, fsType: 'ext4', volumeAttributes: { ...(storageClass.parameters ?? {}) } },
        ...(selectedNode
          ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [selectedNode] }] }] } } }
          : {}),
      },
    } as KubeObject;
    this.context.events.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${claim.metadata.namespace}/${claim.metadata.name}"`);
    try {
      await this.context.client.create(types.persistentVolumes, volume);
    } catch (err) {
      if (!isAlreadyExists(err)) {
        this.context.events.event(claim, 'Warning', 'ProvisioningFailed', (err as Error).message);
        throw err;
      }
    }
    this.context.events.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
  }

  /** kube's bind: the volume first (claimRef, Bound), then the claim (volumeName, Bound). */
  private async bind(volume: Volume, claim: Claim): Promise<void> {
    const client = this.context.client;
    const ref = volume.spec?.claimRef;
    let bound = volume;
    if (!ref?.uid || ref.uid !== claim.metadata.uid || ref.name !== claim.metadata.name) {
      const byController = !ref?.name;
      bound = await client.update<Volume>(types.persistentVolumes, {
        ...volume,
        metadata: byController ? { ...volume.metadata, annotations: { ...volume.metadata.annotations, [BOUND_BY_CONTROLLER]: 'yes' } } : volume.metadata,
        spec: {
          ...volume.spec,
          claimRef: { kind: 'PersistentVolumeClaim', apiVersion: 'v1', namespace: claim.metadata.namespace, name: claim.metadata.name, uid: claim.metadata.uid, resourceVersion: claim.metadata.resourceVersion },
        },
      });
    }
    if (bound.status?.phase !== 'Bound') {
      bound = await client.updateStatus<Volume>(types.persistentVolumes, { ...bound, status: { ...bound.status, phase: 'Bound' } });
    }
    await this.finishClaimBinding(claim, bound);
  }

  private async finishClaimBinding(claim: Claim, volume: Volume): Promise<void> {
    const client = this.context.client;
    let current = claim;
    const annotations = { ...claim.metadata.annotations };
    const needsSpec = claim.spec?.volumeName !== volume.metadata.name || annotations[BIND_COMPLETED] !== 'yes';
    if (needsSpec) {
      if (claim.spec?.volumeName !== volume.metadata.name) annotations[BOUND_BY_CONTROLLER] = 'yes';
      annotations[BIND_COMPLETED] = 'yes';
      current = await client.update<Claim>(types.persistentVolumeClaims, { ...claim, metadata: { ...claim.metadata, annotations }, spec: { ...claim.spec, volumeName: volume.metadata.name } });
    }
    const status = current.status ?? {};
    const capacity = volume.spec?.capacity ?? {};
    const modes = volume.spec?.accessModes ?? [];
    if (status.phase === 'Bound' && JSON.stringify(status.capacity) === JSON.stringify(capacity) && JSON.stringify(status.accessModes) === JSON.stringify(modes)) return;
    await client.updateStatus(types.persistentVolumeClaims, { ...current, status: { ...status, phase: 'Bound', accessModes: modes, capacity } });
  }

  private async setClaimPhase(claim: Claim, phase: string): Promise<void> {
    try {
      await this.context.client.updateStatus(types.persistentVolumeClaims, { ...claim, status: { ...claim.status, phase } });
    } catch (err) {
      if (!isConflict(err) && !isNotFound(err)) throw err;
    }
  }

  // ---- volumes --------------------------------------------------------------------------------

  private async syncVolume(name: string): Promise<void> {
    const volume = this.volumes.get(name);
    if (!volume || volume.metadata.deletionTimestamp) return;
    const ref = volume.spec?.claimRef;
    const client = this.context.client;
    if (!ref?.name) {
      if (volume.status?.phase !== 'Available' && volume.status?.phase !== 'Failed') await client.updateStatus(types.persistentVolumes, { ...volume, status: { ...volume.status, phase: 'Available' } });
      return;
    }
    // Pre-bound to a claim not yet seen, or still binding: the claim's sync does the rest.
    if (!ref.uid) return;
    const claim = this.claims.get(ref.name, ref.namespace);
    if (claim && claim.metadata.uid === ref.uid) return;
    if (!claim) {
      // The informer may lag behind a new claim: ask the server before releasing anything.
      const live = await client.tryGet(types.persistentVolumeClaims, ref.name, ref.namespace);
      if (live && live.metadata.uid === ref.uid) return;
    }
    // Its claim is gone: Released, then reclaimed.
    let released = volume;
    if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed') {
      released = await client.updateStatus<Volume>(types.persistentVolumes, { ...volume, status: { ...volume.status, phase: 'Released' } });
    }
    const policy = volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain';
    if (policy === 'Delete') {
      const provisioner = volume.metadata.annotations?.[PROVISIONED_BY];
      if (provisioner && provisioner !== SIMULATED_PROVISIONER) return; // an external provisioner's to delete
      await client.tryDelete(types.persistentVolumes, name, { preconditions: { uid: released.metadata.uid } });
      this.context.events.event(released, 'Normal', 'VolumeDelete', `persistentvolume ${name} deleted`);
    } else if (policy === 'Recycle') {
      this.context.events.event(released, 'Warning', 'VolumeFailedRecycle', 'Recycle is not supported by the simulated provisioner');
    }
  }
}

export const persistentVolumeController: ControllerFactory = {
  serviceAccount: 'persistent-volume-binder',
  create: (context) => new PersistentVolumeController(context),
};
