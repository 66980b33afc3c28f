/**
 * The pod template's volumes as the workload form edits them, without React: which volume kinds
 * the form models, how a volume is renamed or removed together with the mounts that name it,
 * and what the form refuses before anything is sent (names, duplicates, dangling mounts).
 * Volume kinds the form does not model (hostPath, projected, downwardAPI, csi…) are kept as they
 * are: they are listed, mountable, and edited as YAML.
 */

/** The volume sources the form edits, in the order its type choice offers them. */
export const MODELLED_SOURCES = ['configMap', 'secret', 'persistentVolumeClaim', 'emptyDir'] as const;
export type ModelledSource = (typeof MODELLED_SOURCES)[number];

/** Where each modelled source names the object it mounts (emptyDir names none). */
export const REFERENCE_FIELD: Record<ModelledSource, string | undefined> = {
  configMap: 'name',
  secret: 'secretName',
  persistentVolumeClaim: 'claimName',
  emptyDir: undefined,
};

export const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'] as const;

/** kube's IsDNS1123Label: what a volume's (and a claim template's) name must be. */
export function isDns1123Label(name: string): boolean {
  return name.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

/** A storage quantity as kube's resource.Quantity reads it (1Gi, 500Mi, 10G, 1e9). */
export function isQuantity(text: string): boolean {
  return /^[+]?(\d+(\.\d*)?|\.\d+)(([KMGTPE]i)|[numkMGTPE]|[eE][+-]?\d+)?$/.test(text.trim());
}

/** The source key of a volume (`configMap`, `hostPath`, …): the first field that is not its name. */
export function sourceOf(volume: Record<string, unknown>): string {
  return Object.keys(volume).find((k) => k !== 'name') ?? '';
}

export function isModelled(volume: Record<string, unknown>): boolean {
  return (MODELLED_SOURCES as readonly string[]).includes(sourceOf(volume));
}

/** A volume of another type, keeping its name (the old source and its settings are dropped). */
export function withSource(volume: any, source: ModelledSource): any {
  return { name: volume.name, [source]: {} };
}

/** The object a modelled volume mounts (ConfigMap, Secret or claim name), '' when not chosen. */
export function referenceOf(volume: any): string {
  const source = sourceOf(volume) as ModelledSource;
  const field = REFERENCE_FIELD[source];
  return field ? String(volume[source]?.[field] ?? '') : '';
}

/** The volume with another object referenced; the source's other settings (items, defaultMode) stay. */
export function withReference(volume: any, reference: string): any {
  const source = sourceOf(volume) as ModelledSource;
  const field = REFERENCE_FIELD[source];
  if (!field) return volume;
  return { ...volume, [source]: { ...(volume[source] ?? {}), [field]: reference } };
}

/** The containers of a pod spec the mounts live in (init containers mount the same volumes). */
const CONTAINER_LISTS = ['containers', 'initContainers'] as const;

/**
 * A pod spec whose mounts follow a volume's rename. Only a name that was unique and becomes one
 * no other volume has moves its mounts: while two volumes share a name (mid-typing) nobody can
 * tell whose mounts are whose, so they stay and the form reports the clash.
 */
export function renameMounts(podSpec: any, from: string, to: string, names: string[]): any {
  if (from === to || names.filter((n) => n === from).length !== 1 || names.includes(to)) return podSpec;
  return mapMounts(podSpec, (m) => (m.name === from ? { ...m, name: to } : m));
}

/** A pod spec without the mounts of a removed volume (unless another volume keeps that name). */
export function dropMounts(podSpec: any, name: string, remaining: string[]): any {
  if (remaining.includes(name)) return podSpec;
  return mapMounts(podSpec, (m) => (m.name === name ? undefined : m));
}

function mapMounts(podSpec: any, f: (mount: any) => any): any {
  const next = { ...podSpec };
  for (const list of CONTAINER_LISTS) {
    if (!Array.isArray(podSpec?.[list])) continue;
    next[list] = podSpec[list].map((c: any) => {
      if (!Array.isArray(c.volumeMounts)) return c;
      const mounts = c.volumeMounts.map(f).filter((m: any) => m !== undefined);
      const copy = { ...c, volumeMounts: mounts };
      if (!mounts.length) delete copy.volumeMounts;
      return copy;
    });
  }
  return next;
}

/** The names a container may mount: the pod's volumes and, in a StatefulSet, its claim templates. */
export function mountableNames(podSpec: any, claimTemplates: any[] | undefined): string[] {
  return [
    ...((podSpec?.volumes ?? []) as any[]).map((v) => String(v.name ?? '')),
    ...((claimTemplates ?? []) as any[]).map((t) => String(t?.metadata?.name ?? '')),
  ];
}

/** A problem the form refuses to send, as a dictionary key of `volumes.problems` and its values. */
export interface VolumeProblem {
  key: 'invalidName' | 'duplicateName' | 'noReference' | 'unknownVolume' | 'mountPath' | 'duplicatePath' | 'storageSize';
  values: Record<string, string>;
}

/** Everything wrong with the volumes, claim templates and mounts of a pod spec, in form order. */
export function volumeProblems(podSpec: any, claimTemplates: any[] | undefined): VolumeProblem[] {
  const problems: VolumeProblem[] = [];
  const names = mountableNames(podSpec, claimTemplates);
  const seen = new Set<string>();
  for (const name of names) {
    if (!isDns1123Label(name)) problems.push({ key: 'invalidName', values: { name } });
    else if (seen.has(name)) problems.push({ key: 'duplicateName', values: { name } });
    seen.add(name);
  }
  for (const volume of (podSpec?.volumes ?? []) as any[]) {
    const source = sourceOf(volume) as ModelledSource;
    if (isModelled(volume) && REFERENCE_FIELD[source] && !referenceOf(volume))
      problems.push({ key: 'noReference', values: { name: String(volume.name ?? '') } });
  }
  for (const template of (claimTemplates ?? []) as any[]) {
    const size = String(template?.spec?.resources?.requests?.storage ?? '');
    if (!isQuantity(size)) problems.push({ key: 'storageSize', values: { name: String(template?.metadata?.name ?? ''), size } });
  }
  for (const list of CONTAINER_LISTS)
    for (const c of (podSpec?.[list] ?? []) as any[]) {
      const paths = new Set<string>();
      for (const m of (c.volumeMounts ?? []) as any[]) {
        const values = { container: String(c.name ?? ''), name: String(m.name ?? ''), path: String(m.mountPath ?? '') };
        if (!names.includes(values.name)) problems.push({ key: 'unknownVolume', values });
        if (!values.path.startsWith('/')) problems.push({ key: 'mountPath', values });
        else if (paths.has(values.path)) problems.push({ key: 'duplicatePath', values });
        paths.add(values.path);
      }
    }
  return problems;
}
