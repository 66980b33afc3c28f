/**
 * The pod template's volumes in the workload form: ConfigMap, Secret, persistent volume claim
 * (each chosen from the project's objects, listed through the resources API as the lists are)
 * and emptyDir volumes added, renamed and removed — a rename or removal carries the containers'
 * mounts along; a StatefulSet's volume claim templates (size, access mode, a StorageClass of the
 * cluster); and each container's mounts. Volumes of kinds the form does not model are listed
 * read-only and left as they are.
 */
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import { Alert, Button, Checkbox, FormGroup, FormHelperText, HelperText, HelperTextItem, Label } from '@patternfly/react-core';
import PlusCircleIcon from '@patternfly/react-icons/dist/esm/icons/plus-circle-icon';
import MinusCircleIcon from '@patternfly/react-icons/dist/esm/icons/minus-circle-icon';
import { DEFAULT_LIST_PARAMS, fetchList } from '../../api/resources';
import { registeredModel } from '../../models/registry';
import { getIn, RowChoice, RowInput, RowList, setIn, type Path } from './fields';
import {
  ACCESS_MODES,
  dropMounts,
  isDns1123Label,
  isModelled,
  isQuantity,
  MODELLED_SOURCES,
  mountableNames,
  REFERENCE_FIELD,
  referenceOf,
  renameMounts,
  sourceOf,
  volumeProblems,
  withReference,
  withSource,
  type ModelledSource,
  type VolumeProblem,
} from './volumes';
import type { K8sObject, Scope } from '../../models/types';

/** A problem of the volumes in the user's language. */
export function problemText(t: TFunction, problem: VolumeProblem): string {
  // The values fill the key's placeholders; i18next's types cannot follow a key chosen at run time.
  return t(`volumes.problems.${problem.key}`, problem.values as any);
}

/** The objects of one kind in the workload's namespace (or the cluster, for StorageClasses), by name. */
export function useObjectList(plural: string, scope: Scope, namespace: string | undefined, enabled: boolean) {
  return useQuery({
    queryKey: ['volume-choices', plural, scope.cluster, namespace ?? ''],
    queryFn: async () => {
      const model = registeredModel(plural)!;
      const list = await fetchList(
        model,
        { ...scope, namespace },
        { ...DEFAULT_LIST_PARAMS, sortBy: 'name', ascending: true, limit: -1 },
      );
      return list.items;
    },
    enabled,
    staleTime: 10_000,
  });
}

const REFERENCE_LABEL = {
  configMap: 'volumes.configMapRef',
  secret: 'volumes.secretRef',
  persistentVolumeClaim: 'volumes.claimRef',
} as const;

/** A short reading of a volume the form does not model: its source and settings. */
function summary(volume: any): string {
  const source = sourceOf(volume);
  const text = JSON.stringify(volume[source] ?? {});
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
}

function unusedName(names: string[], prefix: string): string {
  for (let i = names.length + 1; ; i++) if (!names.includes(`${prefix}-${i}`)) return `${prefix}-${i}`;
}

export interface VolumeFieldsProps {
  object: K8sObject;
  /** Where the workload keeps its pod template. */
  templatePath: Path;
  /** Whether the workload is a StatefulSet (its claim templates are shown). */
  claimTemplates: boolean;
  isNew: boolean;
  scope: Scope;
  onChange(object: K8sObject): void;
}

export function VolumeFields({ object, templatePath, claimTemplates: withTemplates, isNew, scope, onChange }: VolumeFieldsProps) {
  const { t } = useTranslation();
  const podSpecPath = [...templatePath, 'spec'];
  const podSpec = getIn(object, podSpecPath) ?? {};
  const volumes = (podSpec.volumes ?? []) as any[];
  const templates = withTemplates ? ((object.spec?.volumeClaimTemplates ?? []) as any[]) : [];
  const names = mountableNames(podSpec, templates);
  const namespace = object.metadata.namespace ?? scope.namespace;
  const used = new Set(volumes.map((v) => sourceOf(v)));
  const choices = {
    configMap: useObjectList('configmaps', scope, namespace, used.has('configMap')),
    secret: useObjectList('secrets', scope, namespace, used.has('secret')),
    persistentVolumeClaim: useObjectList('persistentvolumeclaims', scope, namespace, used.has('persistentVolumeClaim')),
  };
  const classes = useObjectList('storageclasses', scope, undefined, templates.length > 0);
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  const badName = (name: string) => !isDns1123Label(name) || (counts.get(name) ?? 0) > 1;

  const writePodSpec = (next: any) => onChange(setIn(object, podSpecPath, next));
  const writeVolumes = (spec: any, next: any[]) => {
    const copy = { ...spec, volumes: next };
    if (!next.length) delete copy.volumes;
    writePodSpec(copy);
  };

  const updateVolume = (i: number, next: any) => {
    const spec = renameMounts(podSpec, volumes[i].name, next.name, names);
    writeVolumes(
      spec,
      volumes.map((v, j) => (j === i ? next : v)),
    );
  };
  const removeVolume = (i: number) => {
    const rest = volumes.filter((_, j) => j !== i);
    writeVolumes(dropMounts(podSpec, volumes[i].name, mountableNames({ volumes: rest }, templates)), rest);
  };

  const writeTemplates = (spec: any, next: any[]) =>
    onChange(setIn(setIn(object, podSpecPath, spec), ['spec', 'volumeClaimTemplates'], next.length ? next : undefined));
  const updateTemplate = (i: number, next: any) =>
    writeTemplates(
      renameMounts(podSpec, templates[i].metadata?.name, next.metadata?.name, names),
      templates.map((x, j) => (j === i ? next : x)),
    );
  const removeTemplate = (i: number) => {
    const rest = templates.filter((_, j) => j !== i);
    writeTemplates(dropMounts(podSpec, templates[i].metadata?.name, mountableNames(podSpec, rest)), rest);
  };

  const problems = volumeProblems(podSpec, templates);
  const sourceOptions = MODELLED_SOURCES.map((s) => ({ value: s, label: t(`volumes.${s}`) }));
  const referenceOptions = (source: ModelledSource, current: string) => {
    const query = choices[source as keyof typeof choices];
    const items = (query?.data ?? [])
      .filter((o) => source !== 'secret' || o.type !== 'kubernetes.io/service-account-token')
      .map((o) => o.metadata.name);
    if (current && !items.includes(current)) items.unshift(current);
    return [
      { value: '', label: query?.isLoading ? t('volumes.loading') : t('volumes.choose') },
      ...items.map((n) => ({ value: n, label: n })),
    ];
  };

  return (
    <>
      <FormGroup label={t('volumes.title')} fieldId="volumes-add" role="group" isStack>
        <FormHelperText>
          <HelperText>
            <HelperTextItem>{t('volumes.hint')}</HelperTextItem>
          </HelperText>
        </FormHelperText>
        {volumes.map((volume, i) => {
          const source = sourceOf(volume);
          if (!isModelled(volume))
            return (
              <div key={i} className="canopy-form-row" data-testid="volume-readonly">
                <RowInput label={t('volumes.name')} value={volume.name} isDisabled onChange={() => undefined} />
                <Label isCompact>{source || '—'}</Label>
                <code className="canopy-muted" title={JSON.stringify(volume[source] ?? {})}>
                  {summary(volume)}
                </code>
                <span className="canopy-muted">{t('volumes.readOnlyKind')}</span>
              </div>
            );
          const modelled = source as ModelledSource;
          return (
            <div key={i} className="canopy-form-row" data-testid="volume-row">
              <RowInput
                label={t('volumes.name')}
                value={volume.name}
                isInvalid={badName(String(volume.name ?? ''))}
                onChange={(v) => updateVolume(i, { ...volume, name: v })}
              />
              <RowChoice
                label={t('volumes.type')}
                value={modelled}
                options={sourceOptions}
                width="14rem"
                onChange={(v) => updateVolume(i, withSource(volume, v as ModelledSource))}
              />
              {REFERENCE_FIELD[modelled] && (
                <RowChoice
                  label={t(REFERENCE_LABEL[modelled as keyof typeof REFERENCE_LABEL])}
                  value={referenceOf(volume)}
                  options={referenceOptions(modelled, referenceOf(volume))}
                  isInvalid={!referenceOf(volume)}
                  onChange={(v) => updateVolume(i, withReference(volume, v))}
                />
              )}
              <Button
                variant="plain"
                aria-label={t('volumes.remove', { name: volume.name })}
                onClick={() => removeVolume(i)}
                icon={<MinusCircleIcon />}
              />
            </div>
          );
        })}
        <Button
          id="volumes-add"
          variant="link"
          isInline
          icon={<PlusCircleIcon />}
          onClick={() => writeVolumes(podSpec, [...volumes, { name: unusedName(names, 'volume'), emptyDir: {} }])}
        >
          {t('volumes.add')}
        </Button>
      </FormGroup>
      {withTemplates && (
        <FormGroup label={t('volumes.claimTemplates')} fieldId="claim-templates-add" role="group" isStack>
          <FormHelperText>
            <HelperText>
              <HelperTextItem>{t('volumes.claimTemplatesHint')}</HelperTextItem>
            </HelperText>
          </FormHelperText>
          {templates.map((template, i) => {
            const name = String(template.metadata?.name ?? '');
            const size = template.spec?.resources?.requests?.storage;
            const className = template.spec?.storageClassName ?? '';
            const classNames = (classes.data ?? []).map((c) => c.metadata.name);
            if (className && !classNames.includes(className)) classNames.unshift(className);
            // The API server refuses changes to a StatefulSet's claim templates: shown, not editable.
            const locked = !isNew;
            return (
              <div key={i} className="canopy-form-row" data-testid="claim-template-row">
                <RowInput
                  label={t('volumes.templateName')}
                  value={name}
                  isDisabled={locked}
                  isInvalid={!locked && badName(name)}
                  onChange={(v) => updateTemplate(i, setIn(template, ['metadata', 'name'], v))}
                />
                <RowInput
                  label={t('volumes.storage')}
                  value={size}
                  width="8rem"
                  isDisabled={locked}
                  isInvalid={!locked && !isQuantity(String(size ?? ''))}
                  onChange={(v) => updateTemplate(i, setIn(template, ['spec', 'resources', 'requests', 'storage'], v))}
                />
                <RowChoice
                  label={t('volumes.accessMode')}
                  value={template.spec?.accessModes?.[0] ?? 'ReadWriteOnce'}
                  options={ACCESS_MODES.map((m) => ({ value: m, label: m }))}
                  width="12rem"
                  isDisabled={locked}
                  onChange={(v) => updateTemplate(i, setIn(template, ['spec', 'accessModes'], [v]))}
                />
                <RowChoice
                  label={t('volumes.storageClass')}
                  value={className}
                  options={[
                    { value: '', label: classes.isLoading ? t('volumes.loading') : t('volumes.defaultClass') },
                    ...classNames.map((n) => ({ value: n, label: n })),
                  ]}
                  isDisabled={locked}
                  onChange={(v) => updateTemplate(i, setIn(template, ['spec', 'storageClassName'], v || undefined))}
                />
                {!locked && (
                  <Button
                    variant="plain"
                    aria-label={t('volumes.removeClaimTemplate', { name })}
                    onClick={() => removeTemplate(i)}
                    icon={<MinusCircleIcon />}
                  />
                )}
              </div>
            );
          })}
          {isNew && (
            <Button
              id="claim-templates-add"
              variant="link"
              isInline
              icon={<PlusCircleIcon />}
              onClick={() =>
                writeTemplates(podSpec, [
                  ...templates,
                  {
                    metadata: { name: unusedName(names, 'data') },
                    spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
                  },
                ])
              }
            >
              {t('volumes.addClaimTemplate')}
            </Button>
          )}
        </FormGroup>
      )}
      {problems.length > 0 && (
        <Alert isInline isPlain variant="warning" title={t('volumes.problemsTitle')} data-testid="volume-problems">
          <ul>
            {problems.map((p, i) => (
              <li key={i}>{problemText(t, p)}</li>
            ))}
          </ul>
        </Alert>
      )}
    </>
  );
}

/** A container's mounts: one of the pod's volumes (or claim templates), where, and whether read-only. */
export function MountFields({
  id,
  mounts,
  mountable,
  onChange,
}: {
  id: string;
  mounts: any[];
  mountable: string[];
  onChange(mounts: any[] | undefined): void;
}) {
  const { t } = useTranslation();
  const distinct = [...new Set(mountable.filter(Boolean))];
  return (
    <RowList
      id={id}
      label={t('volumes.mounts')}
      rows={mounts}
      empty={{ name: distinct[0] ?? '', mountPath: '' }}
      addLabel={t('volumes.addMount')}
      onChange={(rows) => onChange(rows.length ? rows : undefined)}
      render={(row, update, index) => {
        const options = [...distinct];
        if (!options.includes(row.name)) options.unshift(row.name);
        return (
          <>
            <RowChoice
              label={t('volumes.mountVolume')}
              value={row.name}
              options={options.map((n) => (n ? { value: n, label: n } : { value: '', label: t('volumes.choose') }))}
              isInvalid={!distinct.includes(row.name)}
              onChange={(v) => update({ ...row, name: v })}
            />
            <RowInput
              label={t('volumes.mountPath')}
              value={row.mountPath}
              isInvalid={!String(row.mountPath ?? '').startsWith('/')}
              onChange={(v) => update({ ...row, mountPath: v })}
            />
            <Checkbox
              id={`${id}-${index}-read-only`}
              label={t('volumes.readOnly')}
              isChecked={row.readOnly === true}
              onChange={(_e, on) => {
                const next = { ...row, readOnly: true };
                if (!on) delete next.readOnly;
                update(next);
              }}
            />
          </>
        );
      }}
    />
  );
}
