/** Platform-level pages: the workbench, the cluster list, and a workspace's quota. */
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQuery } from '@tanstack/react-query';
import { Card, CardBody, CardTitle, EmptyState, EmptyStateBody, Gallery, PageSection, Title } from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api, isApiError } from '../api/http';
import { useCurrentUser } from '../api/user';
import { registeredModel } from '../models/registry';
import { useScope } from '../layout/scope';
import { StatusLabel } from '../components/format';
import { ErrorState, Loading, NotAvailable } from '../components/States';
import type { K8sObject, ListResult } from '../models/types';

const ResourceList = lazy(() => import('./ResourceList').then((m) => ({ default: m.ResourceList })));

export function Home() {
  const { t } = useTranslation();
  const user = useCurrentUser();
  const scope = useScope();
  const links: [string, string, string][] = [
    ['/clusters', t('nav.clusters'), t('home.clustersHint')],
    ['/access/workspaces', t('nav.workspaces'), t('home.workspacesHint')],
    ['/access/users', t('nav.users'), t('home.usersHint')],
    ['/access/roles', t('nav.platformRoles'), t('home.rolesHint')],
  ];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1" data-testid="page-title">
          {t('home.welcome', { name: user.data?.spec?.displayName || user.data?.metadata.name || '' })}
        </Title>
      </PageSection>
      <PageSection>
        <Gallery hasGutter minWidths={{ default: '16rem' }}>
          {links.map(([to, title, hint]) => (
            <Card key={to} isCompact>
              <CardTitle>
                <Link to={to}>{title}</Link>
              </CardTitle>
              <CardBody>{hint}</CardBody>
            </Card>
          ))}
        </Gallery>
      </PageSection>
      <PageSection isFilled>
        <Suspense fallback={<Loading />}>
          <ResourceList model={registeredModel('workspaces')!} scope={scope} fixed={{}} title={t('home.workspaces')} />
        </Suspense>
      </PageSection>
    </>
  );
}

interface ClusterRow {
  name: string;
  version?: string;
  ready?: boolean;
  host?: boolean;
}

export function Clusters() {
  const { t } = useTranslation();
  // Member clusters come with multi-cluster support; until then the tenant API may not serve clusters and the host is the one cluster.
  const clusters = useQuery({
    queryKey: ['clusters'],
    queryFn: async (): Promise<ClusterRow[]> => {
      try {
        const list = await api<ListResult>('/kapis/tenant.kubesphere.io/v1beta1/clusters');
        return list.items.map((c: K8sObject) => ({
          name: c.metadata.name,
          version: c.status?.kubernetesVersion,
          ready: (c.status?.conditions ?? []).some((x: any) => x.type === 'Ready' && x.status === 'True'),
          host: 'cluster-role.kubesphere.io/host' in (c.metadata.labels ?? {}),
        }));
      } catch (err) {
        if (!(isApiError(err) && err.notFound)) throw err;
        const version = await api<{ gitVersion: string }>('/version').catch(() => undefined);
        return [{ name: 'host', version: version?.gitVersion, ready: true, host: true }];
      }
    },
  });
  return (
    <>
      <PageSection>
        <Title headingLevel="h1" data-testid="page-title">
          {t('nav.clusters')}
        </Title>
      </PageSection>
      <PageSection isFilled>
        {clusters.isLoading ? (
          <Loading />
        ) : clusters.isError ? (
          <ErrorState error={clusters.error} />
        ) : (
          <Table aria-label={t('nav.clusters')} variant="compact" gridBreakPoint="">
            <Thead>
              <Tr>
                <Th>{t('columns.name')}</Th>
                <Th>{t('columns.status')}</Th>
                <Th>{t('columns.role')}</Th>
                <Th>{t('overview.kubernetesVersion')}</Th>
              </Tr>
            </Thead>
            <Tbody>
              {clusters.data!.map((c) => (
                <Tr key={c.name}>
                  <Td>
                    <Link to={`/clusters/${encodeURIComponent(c.name)}/overview`}>{c.name}</Link>
                  </Td>
                  <Td>
                    <StatusLabel value={c.ready ? 'Ready' : 'NotReady'} />
                  </Td>
                  <Td>{c.host ? t('clusters.host') : t('clusters.member')}</Td>
                  <Td>{c.version ?? '—'}</Td>
                </Tr>
              ))}
            </Tbody>
          </Table>
        )}
      </PageSection>
    </>
  );
}

/** The workspace's quota (quota.kubesphere.io ResourceQuota named after the workspace): limits and use. */
export function WorkspaceQuota() {
  const { t } = useTranslation();
  const scope = useScope();
  const ws = scope.workspace ?? '';
  const quota = useQuery({
    queryKey: ['workspace-quota', ws],
    queryFn: () =>
      api<K8sObject>(
        `/kapis/tenant.kubesphere.io/v1beta1/workspaces/${encodeURIComponent(ws)}/resourcequotas/${encodeURIComponent(ws)}`,
      ),
    retry: false,
  });
  let body;
  if (quota.isLoading) body = <Loading />;
  else if (quota.isError) {
    const err = quota.error;
    // A missing quota object names itself in the Status details; an unserved path does not.
    if (isApiError(err) && err.notFound && (err.body as any)?.details?.name)
      body = (
        <EmptyState titleText={t('quota.none')} headingLevel="h2">
          <EmptyStateBody>{t('quota.noneBody')}</EmptyStateBody>
        </EmptyState>
      );
    else if (isApiError(err) && err.notFound) body = <NotAvailable detail={err.message} />;
    else body = <ErrorState error={err} />;
  } else {
    const hard = (quota.data?.spec?.quota?.hard ?? {}) as Record<string, string>;
    const used = (quota.data?.status?.total?.used ?? {}) as Record<string, string>;
    body = (
      <Table aria-label={t('nav.quota')} variant="compact" gridBreakPoint="">
        <Thead>
          <Tr>
            <Th>{t('quota.resource')}</Th>
            <Th>{t('quota.used')}</Th>
            <Th>{t('quota.limit')}</Th>
          </Tr>
        </Thead>
        <Tbody>
          {Object.entries(hard).map(([k, v]) => (
            <Tr key={k}>
              <Td className="canopy-mono">{k}</Td>
              <Td>{used[k] ?? '0'}</Td>
              <Td>{v}</Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
    );
  }
  return (
    <>
      <PageSection>
        <Title headingLevel="h1" data-testid="page-title">
          {t('nav.quota')}
        </Title>
      </PageSection>
      <PageSection isFilled>{body}</PageSection>
    </>
  );
}
