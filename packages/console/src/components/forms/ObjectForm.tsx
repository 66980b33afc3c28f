/**
 * The forms that create and edit objects, chosen by the model's `form`. A form edits the object
 * itself (what the YAML tab shows and what is applied), so switching between form and YAML loses
 * nothing the form does not know. The pod-template workloads (Deployment, StatefulSet, DaemonSet,
 * Job, CronJob) share the container editor; they differ only in where the pod template lives
 * and in a few fields of their own.
 */
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import type { TFunction } from 'i18next';
import {
  Checkbox,
  ExpandableSection,
  FormFieldGroup,
  FormFieldGroupHeader,
  FormGroup,
  Spinner,
  Title,
} from '@patternfly/react-core';
import { api } from '../../api/http';
import { IAM_API } from '../../api/user';
import { ChoiceField, getIn, numberOrText, PairsField, RowInput, RowList, setIn, TextField, toPairs, type Path } from './fields';
import { clusterPrefix } from '../../models/registry';
import { MountFields, problemText, useObjectList, VolumeFields } from './VolumeFields';
import { ACCESS_MODES, mountableNames, volumeProblems } from './volumes';
import type { FormKind, K8sObject, ResourceModel, Scope } from '../../models/types';

const DESCRIPTION = 'kubesphere.io/description';
const ALIAS = 'kubesphere.io/alias-name';
const WORKSPACE_LABEL = 'kubesphere.io/workspace';
export const GLOBAL_ROLE = 'iam.kubesphere.io/globalrole';

/** Where each workload keeps its pod template. */
const TEMPLATE_PATH: Partial<Record<FormKind, Path>> = {
  deployment: ['spec', 'template'],
  statefulset: ['spec', 'template'],
  daemonset: ['spec', 'template'],
  job: ['spec', 'template'],
  cronjob: ['spec', 'jobTemplate', 'spec', 'template'],
};

export function isWorkloadForm(kind: FormKind | undefined): boolean {
  return !!kind && kind in TEMPLATE_PATH;
}

/**
 * What the form refuses to send for review, in the user's language: a workload's volumes with
 * invalid or clashing names, nothing chosen to mount, mounts of no volume. (The YAML tab leaves
 * such checks to the server's dry run.)
 */
export function formProblems(model: ResourceModel, object: K8sObject, t: TFunction): string[] {
  if (!isWorkloadForm(model.form)) return [];
  const podSpec = getIn(object, [...TEMPLATE_PATH[model.form!]!, 'spec']);
  const templates = model.form === 'statefulset' ? object.spec?.volumeClaimTemplates : undefined;
  return volumeProblems(podSpec, templates).map((p) => problemText(t, p));
}

const container = (name: string) => ({ name, image: '', ports: [] as any[] });

/** A new object of the model's kind, as its form starts. */
export function newObject(model: ResourceModel, scope: Scope, username: string): K8sObject {
  const apiVersion = model.group ? `${model.group}/${model.version}` : model.version;
  const base: K8sObject = {
    apiVersion,
    kind: model.kind,
    metadata: { name: '', ...(model.namespaced && scope.namespace ? { namespace: scope.namespace } : {}) },
  };
  const podTemplate = { metadata: { labels: {} }, spec: { containers: [container('container-1')] } };
  switch (model.form) {
    case 'deployment':
      return { ...base, spec: { replicas: 1, selector: { matchLabels: {} }, template: podTemplate } };
    case 'statefulset':
      return { ...base, spec: { replicas: 1, serviceName: '', selector: { matchLabels: {} }, template: podTemplate } };
    case 'daemonset':
      return { ...base, spec: { selector: { matchLabels: {} }, template: podTemplate } };
    case 'job':
      return {
        ...base,
        spec: { backoffLimit: 6, template: { ...podTemplate, spec: { ...podTemplate.spec, restartPolicy: 'Never' } } },
      };
    case 'cronjob':
      return {
        ...base,
        spec: {
          schedule: '0 * * * *',
          jobTemplate: { spec: { template: { ...podTemplate, spec: { ...podTemplate.spec, restartPolicy: 'OnFailure' } } } },
        },
      };
    case 'service':
      return {
        ...base,
        spec: { type: 'ClusterIP', selector: {}, ports: [{ name: 'http', port: 80, targetPort: 80, protocol: 'TCP' }] },
      };
    case 'ingress':
      return { ...base, spec: { rules: [{ host: '', http: { paths: [] } }] } };
    case 'configmap':
      return { ...base, data: {} };
    case 'secret':
      return { ...base, type: 'Opaque', stringData: {} };
    case 'persistentvolumeclaim':
      return { ...base, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } };
    case 'workspace':
      return {
        ...base,
        spec: { template: { spec: { manager: username } }, placement: { clusters: [{ name: scope.cluster || 'host' }] } },
      };
    case 'user':
      return {
        ...base,
        metadata: { name: '', annotations: { [GLOBAL_ROLE]: 'platform-regular' } },
        spec: { email: '', password: '' },
      };
    case 'role':
      return {
        ...base,
        metadata: {
          name: '',
          ...(scope.workspace && model.key === 'workspaceroles' ? { labels: { [WORKSPACE_LABEL]: scope.workspace } } : {}),
        },
        aggregationRoleTemplates: { templateNames: [] },
        rules: [],
      };
    default:
      return base;
  }
}

export interface FormProps {
  model: ResourceModel;
  scope: Scope;
  object: K8sObject;
  onChange(object: K8sObject): void;
  isNew: boolean;
}

export function ObjectForm(props: FormProps) {
  const { model } = props;
  if (isWorkloadForm(model.form)) return <WorkloadForm {...props} />;
  switch (model.form) {
    case 'service':
      return <ServiceForm {...props} />;
    case 'ingress':
      return <IngressForm {...props} />;
    case 'configmap':
    case 'secret':
      return <DataForm {...props} />;
    case 'persistentvolumeclaim':
      return <ClaimForm {...props} />;
    case 'workspace':
      return <WorkspaceForm {...props} />;
    case 'project':
      return <ProjectForm {...props} />;
    case 'user':
      return <UserForm {...props} />;
    case 'role':
      return <RoleForm {...props} />;
    default:
      return null;
  }
}

function NameField({ object, onChange, isNew, extra }: FormProps & { extra?: (name: string, o: K8sObject) => K8sObject }) {
  const { t } = useTranslation();
  return (
    <TextField
      id="object-name"
      label={t('columns.name')}
      value={object.metadata.name}
      isRequired
      isDisabled={!isNew}
      helper={t('form.nameHelp')}
      onChange={(v) => {
        const next = setIn(object, ['metadata', 'name'], v);
        onChange(extra ? extra(v, next) : next);
      }}
    />
  );
}

function DescriptionField({ object, onChange }: FormProps) {
  const { t } = useTranslation();
  return (
    <TextField
      id="object-description"
      label={t('columns.description')}
      value={object.metadata.annotations?.[DESCRIPTION]}
      onChange={(v) => onChange(setIn(object, ['metadata', 'annotations', DESCRIPTION], v || undefined))}
    />
  );
}

// --- workloads ----------------------------------------------------------------------------------

function WorkloadForm(props: FormProps) {
  const { t } = useTranslation();
  const { model, object, onChange, isNew } = props;
  const kind = model.form!;
  const templatePath = TEMPLATE_PATH[kind]!;
  const containersPath = [...templatePath, 'spec', 'containers'];
  const containers = (getIn(object, containersPath) ?? []) as any[];
  const mountable = mountableNames(
    getIn(object, [...templatePath, 'spec']),
    kind === 'statefulset' ? object.spec?.volumeClaimTemplates : undefined,
  );
  const hasSelector = kind === 'deployment' || kind === 'statefulset' || kind === 'daemonset';
  // A new workload's pods are labelled app=<name>, and its selector selects them (the selector cannot change later).
  const withName = (name: string, o: K8sObject) => {
    let next = setIn(o, [...templatePath, 'metadata', 'labels', 'app'], name || undefined);
    // The first container is named after the workload until the user names it otherwise.
    const first = getIn(o, [...containersPath, 0, 'name']);
    if (first === 'container-1' || first === object.metadata.name)
      next = setIn(next, [...containersPath, 0, 'name'], name || 'container-1');
    if (hasSelector) next = setIn(next, ['spec', 'selector', 'matchLabels', 'app'], name || undefined);
    if (kind === 'statefulset') next = setIn(next, ['spec', 'serviceName'], name);
    return next;
  };
  return (
    <>
      <NameField {...props} extra={isNew ? withName : undefined} />
      {(kind === 'deployment' || kind === 'statefulset') && (
        <TextField
          id="replicas"
          label={t('columns.replicas')}
          type="number"
          value={object.spec?.replicas}
          onChange={(v) => onChange(setIn(object, ['spec', 'replicas'], numberOrText(v)))}
        />
      )}
      {kind === 'cronjob' && (
        <TextField
          id="schedule"
          label={t('columns.schedule')}
          value={object.spec?.schedule}
          isRequired
          helper={t('form.scheduleHelp')}
          onChange={(v) => onChange(setIn(object, ['spec', 'schedule'], v))}
        />
      )}
      {kind === 'job' && (
        <>
          <TextField
            id="completions"
            label={t('columns.completions')}
            type="number"
            value={object.spec?.completions}
            onChange={(v) => onChange(setIn(object, ['spec', 'completions'], numberOrText(v)))}
          />
          <TextField
            id="parallelism"
            label={t('form.parallelism')}
            type="number"
            value={object.spec?.parallelism}
            onChange={(v) => onChange(setIn(object, ['spec', 'parallelism'], numberOrText(v)))}
          />
        </>
      )}
      {containers.map((c, i) => (
        <ContainerFields
          key={i}
          index={i}
          container={c}
          count={containers.length}
          mountable={mountable}
          onChange={(next) => onChange(setIn(object, [...containersPath, i], next))}
          onRemove={() => onChange(setIn(object, [...containersPath, i], undefined))}
        />
      ))}
      <div>
        <button
          type="button"
          className="pf-v6-c-button pf-m-secondary"
          onClick={() =>
            onChange(setIn(object, [...containersPath, containers.length], container(`container-${containers.length + 1}`)))
          }
        >
          {t('form.addContainer')}
        </button>
      </div>
      <VolumeFields
        object={object}
        templatePath={templatePath}
        claimTemplates={kind === 'statefulset'}
        isNew={isNew}
        scope={props.scope}
        onChange={onChange}
      />
    </>
  );
}

type Probe = 'none' | 'http' | 'tcp';
const probeKind = (p: any): Probe => (p?.httpGet ? 'http' : p?.tcpSocket ? 'tcp' : 'none');

function ContainerFields({
  index,
  container: c,
  count,
  mountable,
  onChange,
  onRemove,
}: {
  index: number;
  container: any;
  count: number;
  /** The volume (and claim template) names the container may mount. */
  mountable: string[];
  onChange(c: any): void;
  onRemove(): void;
}) {
  const { t } = useTranslation();
  const id = (field: string) => `container-${index}-${field}`;
  const set = (path: Path, value: unknown) => onChange(setIn(c, path, value));
  const env = ((c.env ?? []) as any[]).filter((e) => e.value !== undefined || !e.valueFrom);
  const probe = (which: 'readinessProbe' | 'livenessProbe') => {
    const p = c[which];
    const kind = probeKind(p);
    const port = p?.httpGet?.port ?? p?.tcpSocket?.port;
    return (
      <FormGroup label={t(`form.${which}`)} fieldId={id(`${which}-type`)} role="group" isStack>
        <div className="canopy-form-row">
          <ChoiceField
            id={id(`${which}-type`)}
            label={t('form.probeType')}
            value={kind}
            options={[
              { value: 'none', label: t('form.probeNone') },
              { value: 'http', label: t('form.probeHttp') },
              { value: 'tcp', label: t('form.probeTcp') },
            ]}
            onChange={(v) => {
              const firstPort = c.ports?.[0]?.containerPort ?? 80;
              if (v === 'none') set([which], undefined);
              else if (v === 'http') set([which], { httpGet: { path: '/', port: port ?? firstPort }, periodSeconds: 10 });
              else set([which], { tcpSocket: { port: port ?? firstPort }, periodSeconds: 10 });
            }}
          />
          {kind === 'http' && (
            <RowInput label={t('form.probePath')} value={p.httpGet.path} onChange={(v) => set([which, 'httpGet', 'path'], v)} />
          )}
          {kind !== 'none' && (
            <RowInput
              label={t('form.probePort')}
              value={port}
              width="8rem"
              onChange={(v) => set([which, kind === 'http' ? 'httpGet' : 'tcpSocket', 'port'], numberOrText(v))}
            />
          )}
        </div>
      </FormGroup>
    );
  };
  return (
    <FormFieldGroup
      header={
        <FormFieldGroupHeader
          titleText={{ text: t('form.container', { index: index + 1, name: c.name }), id: id('title') }}
          actions={
            count > 1 ? (
              <button type="button" className="pf-v6-c-button pf-m-link pf-m-danger" onClick={onRemove}>
                {t('form.removeContainer', { name: c.name })}
              </button>
            ) : undefined
          }
        />
      }
    >
      <TextField id={id('name')} label={t('form.containerName')} value={c.name} isRequired onChange={(v) => set(['name'], v)} />
      <TextField
        id={id('image')}
        label={t('form.image')}
        value={c.image}
        isRequired
        placeholder="nginx:1.27"
        onChange={(v) => set(['image'], v)}
      />
      <RowList
        id={id('ports')}
        label={t('form.ports')}
        rows={(c.ports ?? []) as any[]}
        empty={{ name: '', containerPort: 80, protocol: 'TCP' }}
        addLabel={t('form.addPort')}
        onChange={(rows) =>
          set(
            ['ports'],
            rows.map((r) => (r.name ? r : { containerPort: r.containerPort, protocol: r.protocol })),
          )
        }
        render={(row, update) => (
          <>
            <RowInput label={t('form.portName')} value={row.name} onChange={(v) => update({ ...row, name: v })} />
            <RowInput
              label={t('form.containerPort')}
              value={row.containerPort}
              width="8rem"
              onChange={(v) => update({ ...row, containerPort: numberOrText(v) })}
            />
            <RowInput
              label={t('form.protocol')}
              value={row.protocol}
              width="6rem"
              onChange={(v) => update({ ...row, protocol: v })}
            />
          </>
        )}
      />
      <PairsField
        id={id('env')}
        label={t('form.env')}
        value={env.map((e) => [e.name, e.value ?? ''])}
        keyLabel={t('form.envName')}
        valueLabel={t('form.envValue')}
        addLabel={t('form.addEnv')}
        onChange={(pairs) =>
          set(
            ['env'],
            [...((c.env ?? []) as any[]).filter((e) => e.valueFrom), ...pairs.map(([name, value]) => ({ name, value }))],
          )
        }
      />
      <MountFields
        id={id('mounts')}
        mounts={(c.volumeMounts ?? []) as any[]}
        mountable={mountable}
        onChange={(mounts) => set(['volumeMounts'], mounts)}
      />
      <FormGroup label={t('form.resources')} fieldId={id('requests-cpu')} role="group" isStack>
        <div className="canopy-form-row">
          <RowInput
            label={t('form.requestsCpu')}
            value={c.resources?.requests?.cpu}
            onChange={(v) => set(['resources', 'requests', 'cpu'], v || undefined)}
          />
          <RowInput
            label={t('form.requestsMemory')}
            value={c.resources?.requests?.memory}
            onChange={(v) => set(['resources', 'requests', 'memory'], v || undefined)}
          />
          <RowInput
            label={t('form.limitsCpu')}
            value={c.resources?.limits?.cpu}
            onChange={(v) => set(['resources', 'limits', 'cpu'], v || undefined)}
          />
          <RowInput
            label={t('form.limitsMemory')}
            value={c.resources?.limits?.memory}
            onChange={(v) => set(['resources', 'limits', 'memory'], v || undefined)}
          />
        </div>
      </FormGroup>
      <ExpandableSection toggleText={t('form.probes')} isIndented>
        {probe('readinessProbe')}
        {probe('livenessProbe')}
      </ExpandableSection>
    </FormFieldGroup>
  );
}

// --- services, ingresses, data ------------------------------------------------------------------

function ServiceForm(props: FormProps) {
  const { t } = useTranslation();
  const { object, onChange } = props;
  return (
    <>
      <NameField {...props} />
      <ChoiceField
        id="service-type"
        label={t('columns.type')}
        value={object.spec?.type}
        options={['ClusterIP', 'NodePort', 'LoadBalancer'].map((v) => ({ value: v, label: v }))}
        onChange={(v) => onChange(setIn(object, ['spec', 'type'], v))}
      />
      <PairsField
        id="service-selector"
        label={t('form.selector')}
        value={toPairs(object.spec?.selector)}
        keyLabel={t('form.labelKey')}
        valueLabel={t('form.labelValue')}
        addLabel={t('form.addLabel')}
        onChange={(pairs) => onChange(setIn(object, ['spec', 'selector'], Object.fromEntries(pairs)))}
      />
      <RowList
        id="service-ports"
        label={t('form.ports')}
        rows={(object.spec?.ports ?? []) as any[]}
        empty={{ name: '', port: 80, targetPort: 80, protocol: 'TCP' }}
        addLabel={t('form.addPort')}
        onChange={(rows) => onChange(setIn(object, ['spec', 'ports'], rows))}
        render={(row, update) => (
          <>
            <RowInput label={t('form.portName')} value={row.name} onChange={(v) => update({ ...row, name: v })} />
            <RowInput
              label={t('form.servicePort')}
              value={row.port}
              width="7rem"
              onChange={(v) => update({ ...row, port: numberOrText(v) })}
            />
            <RowInput
              label={t('form.targetPort')}
              value={row.targetPort}
              width="7rem"
              onChange={(v) => update({ ...row, targetPort: numberOrText(v) })}
            />
            <RowInput
              label={t('form.protocol')}
              value={row.protocol}
              width="6rem"
              onChange={(v) => update({ ...row, protocol: v })}
            />
          </>
        )}
      />
    </>
  );
}

function IngressForm(props: FormProps) {
  const { t } = useTranslation();
  const { object, onChange } = props;
  const rules = (object.spec?.rules ?? []) as any[];
  // One row per path: host, path, backend service and port.
  const rows = rules.flatMap((r) =>
    ((r.http?.paths ?? []) as any[]).map((p) => ({
      host: r.host ?? '',
      path: p.path ?? '/',
      service: p.backend?.service?.name ?? '',
      port: p.backend?.service?.port?.number ?? p.backend?.service?.port?.name ?? '',
    })),
  );
  const write = (next: typeof rows) => {
    const byHost = new Map<string, any[]>();
    for (const r of next) {
      const port = numberOrText(String(r.port));
      (byHost.get(r.host) ?? byHost.set(r.host, []).get(r.host)!).push({
        path: r.path || '/',
        pathType: 'Prefix',
        backend: { service: { name: r.service, port: typeof port === 'number' ? { number: port } : { name: port } } },
      });
    }
    onChange(
      setIn(
        object,
        ['spec', 'rules'],
        [...byHost].map(([host, paths]) => ({ ...(host ? { host } : {}), http: { paths } })),
      ),
    );
  };
  return (
    <>
      <NameField {...props} />
      <TextField
        id="ingress-class"
        label={t('columns.class')}
        value={object.spec?.ingressClassName}
        onChange={(v) => onChange(setIn(object, ['spec', 'ingressClassName'], v || undefined))}
      />
      <RowList
        id="ingress-rules"
        label={t('form.routes')}
        rows={rows}
        empty={{ host: '', path: '/', service: '', port: 80 }}
        addLabel={t('form.addRoute')}
        onChange={write}
        render={(row, update) => (
          <>
            <RowInput label={t('form.host')} value={row.host} onChange={(v) => update({ ...row, host: v })} />
            <RowInput label={t('form.path')} value={row.path} width="8rem" onChange={(v) => update({ ...row, path: v })} />
            <RowInput label={t('form.serviceName')} value={row.service} onChange={(v) => update({ ...row, service: v })} />
            <RowInput label={t('form.servicePort')} value={row.port} width="7rem" onChange={(v) => update({ ...row, port: v })} />
          </>
        )}
      />
    </>
  );
}

const decode = (v: string) => {
  try {
    return new TextDecoder().decode(Uint8Array.from(atob(v), (c) => c.charCodeAt(0)));
  } catch {
    return v;
  }
};

/** ConfigMap data, or Secret data written as stringData (the server encodes it; existing data is shown decoded). */
function DataForm(props: FormProps) {
  const { t } = useTranslation();
  const { model, object, onChange } = props;
  const secret = model.form === 'secret';
  const pairs: [string, string][] = secret
    ? [...toPairs(object.data).map(([k, v]): [string, string] => [k, decode(v)]), ...toPairs(object.stringData)]
    : toPairs(object.data);
  return (
    <>
      <NameField {...props} />
      {secret && (
        <ChoiceField
          id="secret-type"
          label={t('columns.type')}
          value={object.type}
          options={['Opaque', 'kubernetes.io/basic-auth', 'kubernetes.io/tls', 'kubernetes.io/dockerconfigjson'].map((v) => ({
            value: v,
            label: v,
          }))}
          onChange={(v) => onChange(setIn(object, ['type'], v))}
        />
      )}
      <PairsField
        id="data"
        label={t('columns.data')}
        value={pairs}
        keyLabel={t('form.dataKey')}
        valueLabel={t('form.dataValue')}
        addLabel={t('form.addData')}
        secret={secret}
        onChange={(next) => {
          const map = Object.fromEntries(next);
          if (secret) onChange({ ...setIn(object, ['data'], undefined), stringData: map });
          else onChange(setIn(object, ['data'], map));
        }}
      />
    </>
  );
}

/**
 * A persistent volume claim: size, access mode and a StorageClass of the cluster (none: the
 * cluster's default class). Only the size of an existing claim may change (an expansion).
 */
function ClaimForm(props: FormProps) {
  const { t } = useTranslation();
  const { scope, object, onChange, isNew } = props;
  const classes = useObjectList('storageclasses', scope, undefined, true);
  const current = object.spec?.storageClassName ?? '';
  const names = (classes.data ?? []).map((c) => c.metadata.name);
  if (current && !names.includes(current)) names.unshift(current);
  return (
    <>
      <NameField {...props} />
      <TextField
        id="claim-storage"
        label={t('volumes.storage')}
        value={object.spec?.resources?.requests?.storage}
        isRequired
        placeholder="1Gi"
        onChange={(v) => onChange(setIn(object, ['spec', 'resources', 'requests', 'storage'], v))}
      />
      {isNew && (
        <>
          <ChoiceField
            id="claim-access-mode"
            label={t('volumes.accessMode')}
            value={object.spec?.accessModes?.[0]}
            options={ACCESS_MODES.map((m) => ({ value: m, label: m }))}
            onChange={(v) => onChange(setIn(object, ['spec', 'accessModes'], [v]))}
          />
          <ChoiceField
            id="claim-storage-class"
            label={t('volumes.storageClass')}
            value={current}
            options={[
              { value: '', label: classes.isLoading ? t('volumes.loading') : t('volumes.defaultClass') },
              ...names.map((n) => ({ value: n, label: n })),
            ]}
            onChange={(v) => onChange(setIn(object, ['spec', 'storageClassName'], v || undefined))}
          />
        </>
      )}
    </>
  );
}

// --- platform objects ---------------------------------------------------------------------------

function WorkspaceForm(props: FormProps) {
  const { t } = useTranslation();
  const { object, onChange } = props;
  return (
    <>
      <NameField {...props} />
      <TextField
        id="workspace-manager"
        label={t('columns.manager')}
        value={object.spec?.template?.spec?.manager}
        onChange={(v) => onChange(setIn(object, ['spec', 'template', 'spec', 'manager'], v))}
      />
      <DescriptionField {...props} />
    </>
  );
}

function ProjectForm(props: FormProps) {
  const { t } = useTranslation();
  const { object, onChange } = props;
  return (
    <>
      <NameField {...props} />
      <TextField
        id="project-alias"
        label={t('form.alias')}
        value={object.metadata.annotations?.[ALIAS]}
        onChange={(v) => onChange(setIn(object, ['metadata', 'annotations', ALIAS], v || undefined))}
      />
      <DescriptionField {...props} />
    </>
  );
}

function UserForm(props: FormProps) {
  const { t } = useTranslation();
  const { object, onChange, isNew } = props;
  const roles = useQuery({
    queryKey: ['globalroles-for-form'],
    queryFn: () => api<{ items: K8sObject[] }>(`${IAM_API}/globalroles?limit=-1`),
  });
  const options = (roles.data?.items ?? [])
    .map((r) => r.metadata.name)
    .filter((n) => !n.startsWith('pre-registration'))
    .map((n) => ({ value: n, label: n }));
  const current = object.metadata.annotations?.[GLOBAL_ROLE] ?? '';
  if (current && !options.some((o) => o.value === current)) options.unshift({ value: current, label: current });
  return (
    <>
      <NameField {...props} />
      <TextField
        id="user-email"
        label={t('columns.email')}
        type="email"
        value={object.spec?.email}
        isRequired
        onChange={(v) => onChange(setIn(object, ['spec', 'email'], v))}
      />
      {isNew && (
        <TextField
          id="user-password"
          label={t('signIn.password')}
          type="password"
          value={object.spec?.password}
          isRequired
          helper={t('password.policy')}
          onChange={(v) => onChange(setIn(object, ['spec', 'password'], v))}
        />
      )}
      <ChoiceField
        id="user-role"
        label={t('columns.platformRole')}
        value={current}
        options={options}
        onChange={(v) => onChange(setIn(object, ['metadata', 'annotations', GLOBAL_ROLE], v))}
      />
      <DescriptionField {...props} />
    </>
  );
}

/** The scope whose role templates a role is composed of. */
export function roleScope(model: ResourceModel): 'global' | 'cluster' | 'workspace' | 'namespace' {
  return model.key === 'globalroles'
    ? 'global'
    : model.key === 'clusterroles'
      ? 'cluster'
      : model.key === 'workspaceroles'
        ? 'workspace'
        : 'namespace';
}

export function useRoleTemplates(model: ResourceModel, scope: Scope) {
  const which = roleScope(model);
  return useQuery({
    queryKey: ['roletemplates-of-scope', which, scope.cluster],
    queryFn: async () =>
      (
        await api<{ items: K8sObject[] }>(
          `${which === 'global' || which === 'workspace' ? '' : clusterPrefix(scope.cluster)}${IAM_API}/roletemplates?labelSelector=${encodeURIComponent(`iam.kubesphere.io/scope=${which}`)}&limit=-1&sortBy=name&ascending=true`,
        )
      ).items ?? [],
    staleTime: 60_000,
  });
}

export function templateTitle(template: K8sObject, language: string): string {
  const names = template.spec?.displayName as Record<string, string> | undefined;
  return (language === 'zh' ? names?.zh : names?.en) ?? names?.en ?? template.metadata.name;
}

/** A role is the role templates ticked, grouped by category; ticking one ticks what it depends on. */
function RoleForm(props: FormProps) {
  const { t, i18n } = useTranslation();
  const { model, scope, object, onChange } = props;
  const templates = useRoleTemplates(model, scope);
  const chosen = new Set<string>((object.aggregationRoleTemplates?.templateNames ?? []) as string[]);
  const byName = new Map((templates.data ?? []).map((x) => [x.metadata.name, x]));
  const dependencies = (name: string): string[] => {
    try {
      return JSON.parse(byName.get(name)?.metadata.annotations?.['iam.kubesphere.io/dependencies'] ?? '[]');
    } catch {
      return [];
    }
  };
  const toggle = (name: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) {
      const queue = [name];
      while (queue.length) {
        const n = queue.pop()!;
        if (next.has(n) && n !== name) continue;
        next.add(n);
        queue.push(...dependencies(n).filter((d) => byName.has(d)));
      }
    } else next.delete(name);
    // Aggregation only adds rules: the role's rules are rebuilt from the ticked templates, so that
    // unticking one takes its permissions away (hand-written rules are edited as YAML instead).
    onChange(setIn(setIn(object, ['aggregationRoleTemplates', 'templateNames'], [...next].sort()), ['rules'], []));
  };
  const categories = new Map<string, K8sObject[]>();
  for (const x of templates.data ?? []) {
    const category = x.metadata.labels?.['iam.kubesphere.io/category'] ?? '';
    (categories.get(category) ?? categories.set(category, []).get(category)!).push(x);
  }
  return (
    <>
      <NameField {...props} />
      <DescriptionField {...props} />
      <Title headingLevel="h3" size="md">
        {t('roles.permissions')}
      </Title>
      {templates.isLoading && <Spinner size="md" aria-label={t('states.loading')} />}
      {[...categories].map(([category, items]) => (
        <FormGroup
          key={category}
          label={category ? category.replace(/^(global|cluster|workspace|namespace)-/, '').replace(/-/g, ' ') : t('roles.other')}
          fieldId={`category-${category}`}
          role="group"
          isInline
        >
          {items.map((x) => (
            <Checkbox
              key={x.metadata.name}
              id={`template-${x.metadata.name}`}
              label={templateTitle(x, i18n.language)}
              isChecked={chosen.has(x.metadata.name)}
              onChange={(_e, on) => toggle(x.metadata.name, on)}
            />
          ))}
        </FormGroup>
      ))}
    </>
  );
}
