/**
 * The actions on one object that a model declares (edit YAML, scale, delete), shown only when
 * the user's role templates grant them, with their confirmation dialogs. The server decides
 * again on every request; a refusal is shown in the dialog as the server words it.
 */
import { useState, type ReactNode } from 'react';
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

const NEEDS: Record<ActionId, Action> = { editYaml: 'edit', delete: 'delete', scale: 'edit' };

export function useAllowedActions(model: ResourceModel | undefined, scope: Scope): ActionId[] {
  const permissions = usePermissions(scope);
  if (!model || permissions.loading) return [];
  return model.actions.filter((a) => permissions.can(model.module, NEEDS[a]));
}

function objectPath(model: ResourceModel, scope: Scope, object: K8sObject): string {
  return (
    model.getPath?.(object.metadata.name, scope) ??
    kubePath(model, scope.cluster, object.metadata.namespace, object.metadata.name)
  );
}

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
      if (target.action === 'delete') {
        await api(path, { method: 'DELETE' });
        close();
        await refresh();
        afterDelete?.();
      } else if (target.action === 'scale') {
        await api(path, {
          method: 'PATCH',
          body: { spec: { replicas } },
          headers: { 'content-type': 'application/merge-patch+json' },
        });
        close();
        await refresh();
      }
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };

  const name = target?.object.metadata.name ?? '';
  const dialogs = target ? (
    <Modal isOpen variant="small" onClose={close} aria-labelledby="action-title" aria-describedby="action-body">
      <ModalHeader
        title={target.action === 'delete' ? t('actions.deleteTitle', { name }) : t('actions.scaleTitle', { name })}
        labelId="action-title"
        titleIconVariant={target.action === 'delete' ? 'warning' : undefined}
      />
      <ModalBody id="action-body">
        {target.action === 'delete' && t('actions.deleteBody', { name })}
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
        <Button
          variant={target.action === 'delete' ? 'danger' : 'primary'}
          onClick={() => void submit()}
          isLoading={busy}
          isDisabled={busy}
        >
          {target.action === 'delete' ? t('actions.delete') : t('actions.save')}
        </Button>
        <Button variant="link" onClick={close}>
          {t('actions.cancel')}
        </Button>
      </ModalFooter>
    </Modal>
  ) : null;
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
          <DropdownItem key={a} onClick={() => onAction(a, object)} isDanger={a === 'delete'}>
            {t(`actions.${a}`)}
          </DropdownItem>
        ))}
      </DropdownList>
    </Dropdown>
  );
}
