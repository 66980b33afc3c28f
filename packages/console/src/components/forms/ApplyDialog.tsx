/**
 * Create or edit an object, with the model's form or as YAML, then review before anything is
 * stored: the server's dry run (`dryRun=All`: admission, defaulting and validation answer without
 * storing) and a diff of the object now against what it would become. Only then is it applied.
 * Platform endpoints (`/kapis`) have no dry run: their review shows the change as typed, and says so.
 */
import { lazy, Suspense, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQueryClient } from '@tanstack/react-query';
import { parse, stringify } from 'yaml';
import {
  ActionGroup,
  Alert,
  Button,
  Form,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Tab,
  Tabs,
  TabTitleText,
} from '@patternfly/react-core';
import { api } from '../../api/http';
import { kubePath, objectQueryKey } from '../../api/resources';
import { useCurrentUser } from '../../api/user';
import { modelTitle } from '../../models/title';
import { translateKey } from '../../i18n';
import { comparable } from '../diff';
import { DiffView } from '../DiffView';
import { Loading } from '../States';
import { formProblems, newObject, ObjectForm } from './ObjectForm';
import type { K8sObject, ResourceModel, Scope } from '../../models/types';

const YamlText = lazy(() => import('../YamlText'));

/** What the editor shows of an existing object: no managedFields, no status. */
function editable(object: K8sObject): K8sObject {
  const copy = structuredClone(object);
  delete (copy.metadata as Record<string, unknown>).managedFields;
  delete copy.status;
  return copy;
}

/** Rows the user added and left empty are not part of the object. */
function withoutEmptyRows(object: K8sObject): K8sObject {
  const copy = structuredClone(object);
  const walk = (value: any) => {
    if (!value || typeof value !== 'object') return;
    if (Array.isArray(value.containers))
      for (const c of value.containers) {
        if (Array.isArray(c.env)) c.env = c.env.filter((e: any) => e.name);
        if (Array.isArray(c.env) && !c.env.length) delete c.env;
        if (Array.isArray(c.ports) && !c.ports.length) delete c.ports;
      }
    for (const v of Object.values(value)) walk(v);
  };
  walk(copy);
  for (const key of ['data', 'stringData'] as const) if (copy[key] && typeof copy[key] === 'object') delete copy[key][''];
  return copy;
}

export interface ApplyDialogProps {
  model: ResourceModel;
  scope: Scope;
  /** The object to edit; absent to create one. */
  existing?: K8sObject;
  /** Start on the YAML tab (also for kinds with a form). */
  yamlFirst?: boolean;
  onClose(): void;
  onApplied?(object: K8sObject): void;
}

export default function ApplyDialog({ model, scope, existing, yamlFirst, onClose, onApplied }: ApplyDialogProps) {
  const { t } = useTranslation();
  const client = useQueryClient();
  const user = useCurrentUser();
  const [object, setObject] = useState<K8sObject>(() =>
    existing ? editable(existing) : newObject(model, scope, user.data?.metadata.name ?? ''),
  );
  const [tab, setTab] = useState<'form' | 'yaml'>(model.form && !yamlFirst ? 'form' : 'yaml');
  const [yamlText, setYamlText] = useState(() => stringify(object, { lineWidth: 0 }));
  const [step, setStep] = useState<'edit' | 'review'>('edit');
  const [review, setReview] = useState<{ body: K8sObject; before: string; after: string; checked: boolean }>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const isNew = !existing;
  const name = existing?.metadata.name ?? '';
  const namespace = model.namespaced ? (existing?.metadata.namespace ?? scope.namespace) : undefined;
  const target = isNew
    ? (model.createPath?.(scope) ?? kubePath(model, scope.cluster, namespace))
    : (model.writePath?.(name, scope) ?? model.getPath?.(name, scope) ?? kubePath(model, scope.cluster, namespace, name));
  // Only the Kubernetes API (not the platform's own endpoints) answers dry runs.
  const dryRunnable = isNew ? !model.createPath : !model.writePath && !model.getPath;

  const readYaml = (): K8sObject | undefined => {
    try {
      const parsed = parse(yamlText) as K8sObject;
      if (!parsed || typeof parsed !== 'object' || !parsed.metadata) throw new Error(t('yaml.notAnObject'));
      return parsed;
    } catch (err) {
      setError(t('yaml.invalid', { message: (err as Error).message }));
      return undefined;
    }
  };

  const switchTab = (next: 'form' | 'yaml') => {
    setError('');
    if (next === tab) return;
    if (next === 'yaml') setYamlText(stringify(object, { lineWidth: 0 }));
    else {
      const parsed = readYaml();
      if (!parsed) return;
      setObject(parsed);
    }
    setTab(next);
  };

  const startReview = async () => {
    setError('');
    const typed = tab === 'yaml' ? readYaml() : object;
    if (!typed) return;
    // What the form itself refuses (clashing volume names, mounts of no volume) is not sent.
    const problems = tab === 'form' ? formProblems(model, typed, t) : [];
    if (problems.length) {
      setError(problems.join(' '));
      return;
    }
    const body = withoutEmptyRows(typed);
    if (namespace && model.namespaced && !body.metadata.namespace) body.metadata.namespace = namespace;
    setBusy(true);
    try {
      let after: K8sObject = body;
      if (dryRunnable)
        after = await api<K8sObject>(`${target}?dryRun=All&fieldManager=canopy-console`, {
          method: isNew ? 'POST' : 'PUT',
          body,
        });
      setReview({ body, before: comparable(existing), after: comparable(after), checked: dryRunnable });
      setStep('review');
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const apply = async () => {
    if (!review) return;
    setError('');
    setBusy(true);
    try {
      const stored = await api<K8sObject>(`${target}${dryRunnable ? '?fieldManager=canopy-console' : ''}`, {
        method: isNew ? 'POST' : 'PUT',
        body: review.body,
      });
      await client.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'list' && q.queryKey[1] === model.key });
      if (!isNew && stored?.metadata)
        client.setQueryData(objectQueryKey(model, scope, namespace, name), {
          apiVersion: existing?.apiVersion,
          kind: existing?.kind,
          ...stored,
        });
      onApplied?.(stored);
      onClose();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  // `New Deployment`, not `New Deployments`: a kind's singular where the console has one.
  const kind = translateKey(`kindOne.${model.key}`, model.discovered ? model.kind : modelTitle(model));
  const title = isNew ? t('apply.createTitle', { kind }) : t('apply.editTitle', { name });
  return (
    <Modal isOpen variant="large" onClose={onClose} aria-labelledby="apply-title" className="canopy-apply">
      <ModalHeader
        title={title}
        labelId="apply-title"
        description={step === 'review' ? t(review?.checked ? 'apply.reviewChecked' : 'apply.reviewUnchecked') : undefined}
      />
      <ModalBody>
        {step === 'edit' ? (
          <Tabs
            activeKey={tab}
            onSelect={(_e, k) => switchTab(k as 'form' | 'yaml')}
            aria-label={t('apply.how')}
            mountOnEnter
            unmountOnExit
          >
            {model.form && (
              <Tab eventKey="form" title={<TabTitleText>{t('apply.form')}</TabTitleText>}>
                <Form className="canopy-gap-top" onSubmit={(e) => (e.preventDefault(), void startReview())}>
                  <ObjectForm model={model} scope={scope} object={object} onChange={setObject} isNew={isNew} />
                  <ActionGroup hidden />
                </Form>
              </Tab>
            )}
            <Tab eventKey="yaml" title={<TabTitleText>{t('detail.yaml')}</TabTitleText>}>
              <div className="canopy-gap-top">
                <Suspense fallback={<Loading />}>
                  <YamlText value={yamlText} onChange={setYamlText} label={t('apply.yamlLabel', { kind })} />
                </Suspense>
              </div>
            </Tab>
          </Tabs>
        ) : (
          review && <DiffView before={review.before} after={review.after} />
        )}
        {error && (
          <Alert isInline variant="danger" title={t('apply.failed')} className="canopy-gap-top" data-testid="apply-error">
            {error}
          </Alert>
        )}
      </ModalBody>
      <ModalFooter>
        {step === 'edit' ? (
          <Button variant="primary" onClick={() => void startReview()} isLoading={busy} isDisabled={busy}>
            {t('apply.review')}
          </Button>
        ) : (
          <>
            <Button variant="primary" onClick={() => void apply()} isLoading={busy} isDisabled={busy}>
              {isNew ? t('apply.create') : t('apply.apply')}
            </Button>
            <Button variant="secondary" onClick={() => (setStep('edit'), setError(''))} isDisabled={busy}>
              {t('apply.back')}
            </Button>
          </>
        )}
        <Button variant="link" onClick={onClose}>
          {t('actions.cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  );
}
