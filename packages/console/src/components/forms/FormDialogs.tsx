/**
 * The dialogs that need more than a confirmation: edit with the form, roll a Deployment back to
 * a chosen revision, reset a user's password, invite a member or change a member's role. One
 * chunk, loaded when one of them is first opened.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Alert, Button, Form, Modal, ModalBody, ModalFooter, ModalHeader, Radio } from '@patternfly/react-core';
import { api } from '../../api/http';
import { kubePath } from '../../api/resources';
import { IAM_API, useCurrentUser } from '../../api/user';
import { registeredModel } from '../../models/registry';
import { comparable } from '../diff';
import { DiffView } from '../DiffView';
import { relativeTime } from '../format';
import { Loading } from '../States';
import { objectPath } from '../ObjectActions';
import ApplyDialog from './ApplyDialog';
import { ChoiceField, TextField } from './fields';
import type { ActionId, K8sObject, ResourceModel, Scope } from '../../models/types';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';

interface DialogProps {
  model: ResourceModel;
  scope: Scope;
  object: K8sObject;
  onClose(): void;
  onDone(): void;
}

export default function FormDialogs(props: DialogProps & { action: ActionId }) {
  switch (props.action) {
    case 'edit':
      return (
        <ApplyDialog
          model={props.model}
          scope={props.scope}
          existing={props.object}
          onClose={props.onClose}
          onApplied={props.onDone}
        />
      );
    case 'rollback':
      return <RollbackDialog {...props} />;
    case 'resetPassword':
      return <ResetPasswordDialog {...props} />;
    case 'changeRole':
      return <MemberDialog {...props} existing={props.object} />;
    default:
      return null;
  }
}

/** Create: the model's form with review, or, for members, the invitation. */
export function CreateDialog({ model, scope, onClose }: { model: ResourceModel; scope: Scope; onClose(): void }) {
  const client = useQueryClient();
  // Member lists are not watched: read again once the invitation is stored.
  const refresh = () =>
    void client.invalidateQueries({ predicate: (q) => q.queryKey[0] === 'list' && q.queryKey[1] === model.key });
  if (model.form === 'member') return <MemberDialog model={model} scope={scope} onClose={onClose} onDone={refresh} />;
  return <ApplyDialog model={model} scope={scope} onClose={onClose} />;
}

function Footer({
  busy,
  onSubmit,
  onClose,
  label,
  isDisabled,
}: {
  busy: boolean;
  onSubmit(): void;
  onClose(): void;
  label: string;
  isDisabled?: boolean;
}) {
  const { t } = useTranslation();
  return (
    <ModalFooter>
      <Button variant="primary" onClick={onSubmit} isLoading={busy} isDisabled={busy || isDisabled}>
        {label}
      </Button>
      <Button variant="link" onClick={onClose}>
        {t('actions.cancel')}
      </Button>
    </ModalFooter>
  );
}

/** A pod template as it is restored: without the ReplicaSet's own pod-template-hash label. */
function restorableTemplate(replicaSet: K8sObject): any {
  const template = structuredClone(replicaSet.spec?.template ?? {});
  if (template.metadata?.labels) delete template.metadata.labels['pod-template-hash'];
  return template;
}

/**
 * `kubectl rollout undo --to-revision`: the Deployment's pod template becomes the chosen
 * ReplicaSet's (the controller then reuses that ReplicaSet and gives it the next revision).
 * The change is dry-run and shown as a diff first.
 */
function RollbackDialog({ model, scope, object, onClose, onDone }: DialogProps) {
  const { t, i18n } = useTranslation();
  const namespace = object.metadata.namespace ?? scope.namespace ?? '';
  const current = object.metadata.annotations?.[REVISION_ANNOTATION];
  const selector = Object.entries((object.spec?.selector?.matchLabels ?? {}) as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  const revisions = useQuery({
    queryKey: ['revisions', object.metadata.uid],
    queryFn: async () => {
      const list = await api<{ items: K8sObject[] }>(
        `${kubePath(registeredModel('replicasets')!, scope.cluster, namespace)}?labelSelector=${encodeURIComponent(selector)}`,
      );
      return list.items
        .filter((rs) => (rs.metadata.ownerReferences ?? []).some((o) => o.uid === object.metadata.uid))
        .sort(
          (a, b) =>
            Number(b.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) -
            Number(a.metadata.annotations?.[REVISION_ANNOTATION] ?? 0),
        );
    },
  });
  const [chosen, setChosen] = useState<string>();
  const [review, setReview] = useState<{ before: string; after: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const path = objectPath(model, scope, object);
  const patchFor = (revision: string) => {
    const rs = revisions.data!.find((r) => r.metadata.annotations?.[REVISION_ANNOTATION] === revision)!;
    // As kubectl: the template is replaced whatever happened to the Deployment's status meanwhile.
    return [{ op: 'replace', path: '/spec/template', value: restorableTemplate(rs) }];
  };
  const send = (revision: string, dryRun: boolean) =>
    api<K8sObject>(`${path}${dryRun ? '?dryRun=All' : ''}`, {
      method: 'PATCH',
      body: patchFor(revision),
      headers: { 'content-type': 'application/json-patch+json' },
    });
  const submit = async () => {
    if (!chosen) return;
    setBusy(true);
    setError('');
    try {
      if (!review) {
        const after = await send(chosen, true);
        setReview({ before: comparable(object), after: comparable(after) });
      } else {
        await send(chosen, false);
        onDone();
        onClose();
      }
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const images = (rs: K8sObject) => ((rs.spec?.template?.spec?.containers ?? []) as any[]).map((c) => c.image).join(', ');
  return (
    <Modal isOpen variant={review ? 'large' : 'medium'} onClose={onClose} aria-labelledby="rollback-title">
      <ModalHeader
        title={t('rollback.title', { name: object.metadata.name })}
        labelId="rollback-title"
        description={review ? t('apply.reviewChecked') : t('rollback.description')}
      />
      <ModalBody>
        {review ? (
          <DiffView before={review.before} after={review.after} />
        ) : revisions.isLoading ? (
          <Loading />
        ) : (
          <Form>
            <div role="radiogroup" aria-label={t('rollback.revisions')}>
              {(revisions.data ?? []).map((rs) => {
                const revision = rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '';
                const isCurrent = revision === current;
                return (
                  <Radio
                    key={rs.metadata.uid}
                    id={`revision-${revision}`}
                    name="revision"
                    isChecked={chosen === revision}
                    isDisabled={isCurrent}
                    onChange={() => setChosen(revision)}
                    label={t(isCurrent ? 'rollback.currentRevision' : 'rollback.revision', { revision })}
                    description={`${images(rs)} · ${relativeTime(rs.metadata.creationTimestamp, i18n.language)}`}
                  />
                );
              })}
            </div>
            {revisions.data && revisions.data.length < 2 && <p className="canopy-muted">{t('rollback.none')}</p>}
          </Form>
        )}
        {(error || revisions.isError) && (
          <Alert isInline variant="danger" title={error || (revisions.error as Error).message} className="canopy-gap-top" />
        )}
      </ModalBody>
      <Footer
        busy={busy}
        onSubmit={() => void submit()}
        onClose={onClose}
        isDisabled={!chosen}
        label={review ? t('rollback.apply', { revision: chosen }) : t('apply.review')}
      />
    </Modal>
  );
}

/** A user manager sets a new password for someone else (no current password needed). */
function ResetPasswordDialog({ object, onClose, onDone }: DialogProps) {
  const { t } = useTranslation();
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const name = object.metadata.name;
  const submit = async () => {
    if (password !== confirm) return setError(t('password.mismatch'));
    setBusy(true);
    setError('');
    try {
      await api(`${IAM_API}/users/${encodeURIComponent(name)}/password`, { method: 'PUT', body: { password } });
      onDone();
      onClose();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="reset-title">
      <ModalHeader title={t('users.resetTitle', { name })} labelId="reset-title" />
      <ModalBody>
        <Form onSubmit={(e) => (e.preventDefault(), void submit())}>
          <TextField
            id="reset-password"
            label={t('password.new')}
            type="password"
            value={password}
            onChange={setPassword}
            helper={t('password.policy')}
            isRequired
          />
          <TextField
            id="reset-confirm"
            label={t('password.confirm')}
            type="password"
            value={confirm}
            onChange={setConfirm}
            isRequired
          />
        </Form>
        {error && <Alert isInline variant="danger" title={error} className="canopy-gap-top" />}
      </ModalBody>
      <Footer busy={busy} onSubmit={() => void submit()} onClose={onClose} label={t('actions.save')} isDisabled={!password} />
    </Modal>
  );
}

/** The roles a member may be given at the scope of a member list. */
function useScopeRoles(model: ResourceModel, scope: Scope) {
  const path =
    model.key === 'workspacemembers'
      ? `${IAM_API}/workspaces/${encodeURIComponent(scope.workspace ?? '')}/workspaceroles`
      : model.key === 'namespacemembers'
        ? `${IAM_API}/namespaces/${encodeURIComponent(scope.namespace ?? '')}/roles`
        : `${IAM_API}/clusterroles`;
  return useQuery({
    queryKey: ['scope-roles', path],
    queryFn: async () => (await api<{ items: K8sObject[] }>(`${path}?limit=-1&sortBy=name&ascending=true`)).items ?? [],
  });
}

const ROLE_ANNOTATIONS: Record<string, string> = {
  workspacemembers: 'iam.kubesphere.io/workspacerole',
  namespacemembers: 'iam.kubesphere.io/role',
  clustermembers: 'iam.kubesphere.io/clusterrole',
};

/** Invite a user with a role, or change a member's role. */
function MemberDialog({ model, scope, existing, onClose, onDone }: Omit<DialogProps, 'object'> & { existing?: K8sObject }) {
  const { t } = useTranslation();
  const me = useCurrentUser();
  const roles = useScopeRoles(model, scope);
  const users = useQuery({
    queryKey: ['users-for-invite'],
    queryFn: async () => (await api<{ items: K8sObject[] }>(`${IAM_API}/users?limit=-1`)).items ?? [],
    enabled: !existing,
    retry: false,
  });
  const [username, setUsername] = useState(existing?.metadata.name ?? '');
  const [role, setRole] = useState(existing?.metadata.annotations?.[ROLE_ANNOTATIONS[model.key]] ?? '');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const roleOptions = (roles.data ?? []).map((r) => ({ value: r.metadata.name, label: r.metadata.name }));
  const chosenRole = role || roleOptions[0]?.value || '';
  const submit = async () => {
    setBusy(true);
    setError('');
    try {
      const base = model.createPath!(scope);
      if (existing)
        await api(`${base}/${encodeURIComponent(username)}`, { method: 'PUT', body: { username, roleRef: chosenRole } });
      else await api(base, { method: 'POST', body: [{ username, roleRef: chosenRole }] });
      onDone();
      onClose();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  const candidates = (users.data ?? []).map((u) => u.metadata.name).filter((n) => n !== me.data?.metadata.name);
  return (
    <Modal isOpen variant="small" onClose={onClose} aria-labelledby="member-title">
      <ModalHeader
        title={existing ? t('members.changeTitle', { name: username }) : t('members.inviteTitle')}
        labelId="member-title"
      />
      <ModalBody>
        <Form onSubmit={(e) => (e.preventDefault(), void submit())}>
          <TextField
            id="member-username"
            label={t('signIn.username')}
            value={username}
            isRequired
            isDisabled={!!existing}
            onChange={setUsername}
            helper={candidates.length ? t('members.candidates', { names: candidates.slice(0, 8).join(', ') }) : undefined}
          />
          {roles.isLoading ? (
            <Loading />
          ) : (
            <ChoiceField
              id="member-role"
              label={t('columns.role')}
              value={chosenRole}
              options={roleOptions}
              onChange={setRole}
              isRequired
            />
          )}
        </Form>
        {(error || roles.isError) && (
          <Alert isInline variant="danger" title={error || (roles.error as Error).message} className="canopy-gap-top" />
        )}
      </ModalBody>
      <Footer
        busy={busy}
        onSubmit={() => void submit()}
        onClose={onClose}
        label={existing ? t('actions.save') : t('members.invite')}
        isDisabled={!username || !chosenRole}
      />
    </Modal>
  );
}
