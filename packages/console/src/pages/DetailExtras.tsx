/** Detail tabs of particular kinds: a user's sign-in history, the role templates a role is made of. */
import { useTranslation } from 'react-i18next';
import { useQuery } from '@tanstack/react-query';
import { Label, LabelGroup } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api } from '../api/http';
import { IAM_API } from '../api/user';
import { Cell, StatusLabel } from '../components/format';
import { ErrorState, Loading } from '../components/States';
import { templateTitle, useRoleTemplates } from '../components/forms/ObjectForm';
import type { K8sObject, ResourceModel, Scope } from '../models/types';

export function LoginRecords({ user }: { user: K8sObject }) {
  const { t, i18n } = useTranslation();
  const records = useQuery({
    queryKey: ['loginrecords', user.metadata.name],
    queryFn: () =>
      api<{ items: K8sObject[] }>(
        `${IAM_API}/users/${encodeURIComponent(user.metadata.name)}/loginrecords?sortBy=createTime&limit=50`,
      ),
  });
  if (records.isLoading) return <Loading />;
  if (records.isError) return <ErrorState error={records.error} />;
  const items = [...(records.data?.items ?? [])].sort((a, b) =>
    String(b.metadata.creationTimestamp ?? '').localeCompare(String(a.metadata.creationTimestamp ?? '')),
  );
  if (!items.length) return <p className="canopy-muted canopy-gap-top">{t('users.noLogins')}</p>;
  return (
    <Table aria-label={t('users.loginHistory')} variant="compact" gridBreakPoint="" data-testid="login-records">
      <Thead>
        <Tr>
          <Th>{t('users.loginTime')}</Th>
          <Th>{t('columns.status')}</Th>
          <Th>{t('users.loginType')}</Th>
          <Th>{t('users.sourceIP')}</Th>
          <Th>{t('columns.reason')}</Th>
        </Tr>
      </Thead>
      <Tbody>
        {items.map((r) => (
          <Tr key={r.metadata.name}>
            <Td>
              <Cell value={r.metadata.creationTimestamp} format="age" language={i18n.language} />
            </Td>
            <Td>
              <StatusLabel value={r.spec?.success ? 'Succeeded' : 'Failed'} />
            </Td>
            <Td>{r.spec?.type}</Td>
            <Td className="canopy-mono">{r.spec?.sourceIP}</Td>
            <Td>{r.spec?.reason}</Td>
          </Tr>
        ))}
      </Tbody>
    </Table>
  );
}

export function RoleTemplatesTab({ model, scope, role }: { model: ResourceModel; scope: Scope; role: K8sObject }) {
  const { t, i18n } = useTranslation();
  const templates = useRoleTemplates(model, scope);
  const names = (role.aggregationRoleTemplates?.templateNames ?? []) as string[];
  if (templates.isLoading) return <Loading />;
  const byName = new Map((templates.data ?? []).map((x) => [x.metadata.name, x]));
  if (!names.length) return <p className="canopy-muted canopy-gap-top">{t('roles.noTemplates')}</p>;
  return (
    <LabelGroup numLabels={100} className="canopy-gap-top" aria-label={t('roles.permissions')} data-testid="role-templates">
      {names.map((n) => (
        <Label key={n} isCompact>
          {byName.has(n) ? templateTitle(byName.get(n)!, i18n.language) : n}
        </Label>
      ))}
    </LabelGroup>
  );
}
