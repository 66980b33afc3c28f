/**
 * The actions on one object that a model declares (edit YAML, scale, delete), shown only when
 * the user's role templates grant them, with their confirmation dialogs. The server decides
 * again on every request; a refusal is shown in the dialog as the server words it.
 */
import { lazy, Suspense, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { useNavigate } from 'react-router';
import { useQueryClient } from '@tanstack/react-query';
import {
  Alert,
  Button,
  Dropdown,
  DropdownItem,
  DropdownList,
  MenuToggle,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  NumberInput,
} from '@patternfly/react-core';
import EllipsisVIcon from '@patternfly/react-icons/dist/esm/icons/ellipsis-v-icon';
import { api } from '../api/http';
import { usePermissions, type Action } from '../api/permissions';
import { kubePath } from '../api/resources';
import { detailHref } from '../pages/paths';
import type { ActionId, K8sObject, ResourceModel, Scope } from '../models/types';

const NEEDS: Record<ActionId, Action> = {
  editYaml: 'edit',
  delete: 'delete',
  scale: 'edit',
  edit: 'edit',
  restart: 'edit',
  rollback: 'edit',
  toggleUser: 'edit',
  resetPassword: 'edit',
  changeRole: 'edit',
  removeMember: 'delete',
};

/** Dialogs with forms of their own (edit, roll back, reset a password, change a role) load on first use. */
const FormDialogs = lazy(() => import('./forms/FormDialogs'));
const WITH_FORM: ActionId[] = ['edit', 'rollback', 'resetPassword', 'changeRole'];
/** Actions that only ask for confirmation. */
const CONFIRMED: ActionId[] = ['delete', 'restart', 'toggleUser', 'removeMember'];

export function useAllowedActions(model: ResourceModel | undefined, scope: Scope): ActionId[] {
  const permissions = usePermissions(scope);
  if (!model || permissions.loading) return [];
  return model.actions.filter((a) => permissions.can(model.module, NEEDS[a]));
}

/** Whether the user may create objects of the model here (the Create button). */
export function useCanCreate(model: ResourceModel | undefined, scope: Scope): boolean {
  const permissions = usePermissions(scope);
  return !!model?.form && !permissions.loading && permissions.can(model.module, 'create');
}

/** Where an object is written: the model's own write path, its read path, or its Kubernetes path. */
export function objectPath(model: ResourceModel, scope: Scope, object: K8sObject): string {
  return (
    model.writePath?.(object.metadata.name, scope) ??
    model.getPath?.(object.metadata.name, scope) ??
    kubePath(model, scope.cluster, object.metadata.namespace, object.metadata.name)
  );
}

const isDisabledUser = (o: K8sObject) => o.status?.state === 'Disabled';

export function useActionDialogs(
  model: ResourceModel,
  scope: Scope,
  afterDelete?: () => void,
): { run(action: ActionId, object: K8sObject): void; dialogs: ReactNode } {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const client = useQueryClient();
  const [target, setTarget] = useState<{ action: ActionId; object: K8sObject }>();
  const [replicas, setReplicas] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const close = () => {
    setTarget(undefined);
    setError('');
    setBusy(false);
  };
  const refresh = () =>
    client.invalidateQueries({
      predicate: (q) => (q.queryKey[0] === 'list' || q.queryKey[0] === 'object') && q.queryKey[1] === model.key,
    });

  const run = (action: ActionId, object: K8sObject) => {
    if (action === 'editYaml') {
      navigate(`${detailHref(model, scope, object)}?tab=yaml&edit=1`);
      return;
    }
    if (action === 'scale') setReplicas(object.spec?.replicas ?? 0);
    setTarget({ action, object });
  };

  const submit = async () => {
    if (!target) return;
    setBusy(true);
    setError('');
    try {
      const path = objectPath(model, scope, target.object);
      switch (target.action) {
        case 'delete':
        case 'removeMember':
          await api(path, { method: 'DELETE' });
          break;
        case 'scale':
          await api(path, {
            method: 'PATCH',
            body: { spec: { replicas } },
            headers: { 'content-type': 'application/merge-patch+json' },
          });
          break;
        case 'restart':
          // What `kubectl rollout restart` does: a new pod template annotation starts a rollout.
          await api(path, {
            method: 'PATCH',
            body: {
              spec: {
                template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': new Date().toISOString() } } },
              },
            },
            headers: { 'content-type': 'application/merge-patch+json' },
          });
          break;
        case 'toggleUser': {
          // The users API takes the whole user; a user manager may flip Active ⇄ Disabled.
          const current = await api<K8sObject>(path);
          await api(path, {
            method: 'PUT',
            body: { ...current, status: { ...current.status, state: isDisabledUser(current) ? 'Active' : 'Disabled' } },
          });
          break;
        }
      }
      close();
      await refresh();
      if (target.action === 'delete') afterDelete?.();
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  const name = target?.object.metadata.name ?? '';
  const titles: Partial<Record<ActionId, string>> = {
    delete: t('actions.deleteTitle', { name }),
    scale: t('actions.scaleTitle', { name }),
    restart: t('actions.restartTitle', { name }),
    toggleUser: target && isDisabledUser(target.object) ? t('users.enableTitle', { name }) : t('users.disableTitle', { name }),
    removeMember: t('members.removeTitle', { name }),
  };
  const bodies: Partial<Record<ActionId, string>> = {
    delete: t('actions.deleteBody', { name }),
    restart: t('actions.restartBody', { name }),
    toggleUser: target && isDisabledUser(target.object) ? t('users.enableBody', { name }) : t('users.disableBody', { name }),
    removeMember: t('members.removeBody', { name }),
  };
  const danger = target && (target.action === 'delete' || target.action === 'removeMember');
  const confirmLabel =
    target?.action === 'delete'
      ? t('actions.delete')
      : target?.action === 'removeMember'
        ? t('actions.removeMember')
        : target?.action === 'restart'
          ? t('actions.restart')
          : target?.action === 'toggleUser'
            ? isDisabledUser(target.object)
              ? t('users.enable')
              : t('users.disable')
            : t('actions.save');
  let dialogs: ReactNode = null;
  if (target && WITH_FORM.includes(target.action))
    dialogs = (
      <Suspense fallback={null}>
        <FormDialogs
          action={target.action}
          object={target.object}
          model={model}
          scope={scope}
          onClose={close}
          onDone={() => void refresh()}
        />
      </Suspense>
    );
  else if (target && (CONFIRMED.includes(target.action) || target.action === 'scale'))
    dialogs = (
      <Modal isOpen variant="small" onClose={close} aria-labelledby="action-title" aria-describedby="action-body">
        <ModalHeader title={titles[target.action]} labelId="action-title" titleIconVariant={danger ? 'warning' : undefined} />
        <ModalBody id="action-body">
          {bodies[target.action]}
          {target.action === 'scale' && (
            <NumberInput
              value={replicas}
              min={0}
              onMinus={() => setReplicas(Math.max(0, replicas - 1))}
              onPlus={() => setReplicas(replicas + 1)}
              onChange={(e) => setReplicas(Math.max(0, Number((e.target as HTMLInputElement).value) || 0))}
              inputName="replicas"
              inputAriaLabel={t('actions.replicas')}
              minusBtnAriaLabel={t('actions.decrease')}
              plusBtnAriaLabel={t('actions.increase')}
            />
          )}
          {error && <Alert isInline variant="danger" title={error} className="canopy-gap-top" />}
        </ModalBody>
        <ModalFooter>
          <Button variant={danger ? 'danger' : 'primary'} onClick={() => void submit()} isLoading={busy} isDisabled={busy}>
            {confirmLabel}
          </Button>
          <Button variant="link" onClick={close}>
            {t('actions.cancel')}
          </Button>
        </ModalFooter>
      </Modal>
    );
  return { run, dialogs };
}

export function ActionsMenu({
  actions,
  object,
  onAction,
  label,
}: {
  actions: ActionId[];
  object: K8sObject;
  onAction(action: ActionId, object: K8sObject): void;
  label?: string;
}) {
  const { t } = useTranslation();
  const [open, setOpen] = useState(false);
  if (!actions.length) return null;
  return (
    <Dropdown
      isOpen={open}
      onOpenChange={setOpen}
      onSelect={() => setOpen(false)}
      popperProps={{ position: 'right', appendTo: () => document.body }}
      toggle={(ref) =>
        label ? (
          <MenuToggle ref={ref} onClick={() => setOpen(!open)} isExpanded={open} data-testid="detail-actions">
            {label}
          </MenuToggle>
        ) : (
          <MenuToggle
            ref={ref}
            variant="plain"
            onClick={() => setOpen(!open)}
            isExpanded={open}
            aria-label={t('actions.menu', { name: object.metadata.name })}
            icon={<EllipsisVIcon />}
          />
        )
      }
    >
      <DropdownList>
        {actions.map((a) => (
          <DropdownItem key={a} onClick={() => onAction(a, object)} isDanger={a === 'delete' || a === 'removeMember'}>
            {a === 'toggleUser' ? t(isDisabledUser(object) ? 'users.enable' : 'users.disable') : t(`actions.${a}`)}
          </DropdownItem>
        ))}
      </DropdownList>
    </Dropdown>
  );
}
