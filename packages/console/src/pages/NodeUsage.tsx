/**
 * A node's resources (its detail page's usage tab): allocatable and capacity, what the pods
 * scheduled there request, what the node uses (NodeMetrics), and the pods themselves with their
 * requests and usage (PodMetrics of their projects). Pods are watched; metrics are read every
 * 15 s, and when they cannot be read the tab says so and shows the rest.
 */
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useQueries, useQuery } from '@tanstack/react-query';
import {
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  Gallery,
  Card,
  CardBody,
  CardTitle,
  Title,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { api } from '../api/http';
import { useWatchedCollection } from '../api/collection';
import { parseQuantity } from '../api/quantity';
import {
  METRICS_REFRESH_MS,
  nodeMetricsPath,
  podMetricsPath,
  requestedBy,
  resourcesOf,
  summarizePod,
  usageOf,
  usageProblem,
  type CpuMemory,
} from '../api/usage';
import { clusterPrefix, registeredModel } from '../models/registry';
import { StatusLabel } from '../components/format';
import { Loading } from '../components/States';
import { UsageBar, UsageUnavailable, useAmount } from '../components/Usage';
import { detailHref } from './paths';
import type { K8sObject, Scope } from '../models/types';

export default function NodeUsage({ node, scope }: { node: K8sObject; scope: Scope }) {
  const { t } = useTranslation();
  const amount = useAmount();
  const name = node.metadata.name;
  const allocatable = resourcesOf(node.status?.allocatable);
  const capacity = resourcesOf(node.status?.capacity);
  const podsAllocatable = parseQuantity(node.status?.allocatable?.pods);
  const pods = useWatchedCollection(
    `${clusterPrefix(scope.cluster)}/api/v1/pods`,
    summarizePod,
    `fieldSelector=${encodeURIComponent(`spec.nodeName=${name}`)}`,
  );
  const metrics = useQuery({
    queryKey: ['metrics', nodeMetricsPath(scope.cluster, name)],
    queryFn: ({ signal }) => api<K8sObject>(nodeMetricsPath(scope.cluster, name), { signal }),
    refetchInterval: METRICS_REFRESH_MS,
    retry: false,
  });
  // PodMetrics cannot be selected by node: read those of the projects the node's pods are in.
  const namespaces = useMemo(() => [...new Set([...pods.items.values()].map((p) => p.namespace))].sort(), [pods.items]);
  const podMetrics = useQueries({
    queries: namespaces.map((ns) => ({
      queryKey: ['metrics', podMetricsPath(scope.cluster, ns)],
      queryFn: ({ signal }: { signal: AbortSignal }) =>
        api<{ items?: K8sObject[] }>(podMetricsPath(scope.cluster, ns), { signal }).then((l) => l.items ?? []),
      refetchInterval: METRICS_REFRESH_MS,
      retry: false,
    })),
  });
  const podUsage = new Map<string, CpuMemory | undefined>();
  for (const q of podMetrics)
    for (const m of q.data ?? []) podUsage.set(`${m.metadata.namespace}/${m.metadata.name}`, usageOf(m));
  const requests = useMemo(() => requestedBy(pods.items.values(), name), [pods.items, name]);
  const usage = usageOf(metrics.data);
  const podModel = registeredModel('pods')!;
  const rows = [...pods.items.values()].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const running = rows.filter((p) => p.holdsResources).length;

  const card = (resource: 'cpu' | 'memory') => {
    const unit = resource === 'cpu' ? 'cores' : 'bytes';
    return (
      <Card component="div" aria-label={t(`usage.${resource}`)}>
        <CardTitle>{t(`usage.${resource}`)}</CardTitle>
        <CardBody>
          {usage && (
            <UsageBar
              title={t('usage.usageOfAllocatable')}
              used={usage[resource]}
              total={allocatable[resource]}
              unit={unit}
              data-testid={`node-${resource}-usage`}
            />
          )}
          {pods.state === 'ready' && (
            <UsageBar
              title={t('usage.requestsOfAllocatable')}
              used={requests[resource]}
              total={allocatable[resource]}
              unit={unit}
              data-testid={`node-${resource}-requests`}
            />
          )}
          <DescriptionList isHorizontal isCompact>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('usage.allocatable')}</DescriptionListTerm>
              <DescriptionListDescription data-testid={`node-${resource}-allocatable`}>
                {amount(allocatable[resource], unit)}
              </DescriptionListDescription>
            </DescriptionListGroup>
            <DescriptionListGroup>
              <DescriptionListTerm>{t('usage.capacity')}</DescriptionListTerm>
              <DescriptionListDescription>{amount(capacity[resource], unit)}</DescriptionListDescription>
            </DescriptionListGroup>
          </DescriptionList>
        </CardBody>
      </Card>
    );
  };

  return (
    <div className="canopy-gap-top" data-testid="node-usage">
      {metrics.isError && <UsageUnavailable problem={usageProblem(metrics.error)} />}
      <Gallery hasGutter minWidths={{ default: '22rem' }} className="canopy-gap-bottom">
        {card('cpu')}
        {card('memory')}
        {podsAllocatable !== undefined && pods.state === 'ready' && (
          <Card component="div">
            <CardTitle>{t('kinds.pods')}</CardTitle>
            <CardBody>
              <UsageBar title={t('usage.podsOfAllocatable')} used={running} total={podsAllocatable} unit="count" />
            </CardBody>
          </Card>
        )}
      </Gallery>
      <Title headingLevel="h2" size="lg" className="canopy-gap-bottom">
        {t('usage.nodePods')}
      </Title>
      {pods.state === 'loading' ? (
        <Loading />
      ) : pods.state === 'error' ? (
        <p className="canopy-muted">{(pods.error as Error)?.message}</p>
      ) : !rows.length ? (
        <p className="canopy-muted">{t('usage.noPods')}</p>
      ) : (
        <Table aria-label={t('usage.nodePods')} variant="compact" gridBreakPoint="" data-testid="node-pods">
          <Thead>
            <Tr>
              <Th>{t('columns.name')}</Th>
              <Th>{t('columns.project')}</Th>
              <Th>{t('columns.status')}</Th>
              <Th>{t('usage.cpuRequests')}</Th>
              <Th>{t('usage.memoryRequests')}</Th>
              <Th>{t('usage.cpuColumn')}</Th>
              <Th>{t('usage.memoryColumn')}</Th>
            </Tr>
          </Thead>
          <Tbody>
            {rows.map((p) => {
              const used = podUsage.get(`${p.namespace}/${p.name}`);
              return (
                <Tr key={`${p.namespace}/${p.name}`}>
                  <Td>
                    <Link to={detailHref(podModel, scope, { metadata: { name: p.name, namespace: p.namespace } })}>{p.name}</Link>
                  </Td>
                  <Td>{p.namespace}</Td>
                  <Td>
                    <StatusLabel value={p.phase} />
                  </Td>
                  <Td>{amount(p.requests.cpu, 'cores')}</Td>
                  <Td>{amount(p.requests.memory, 'bytes')}</Td>
                  <Td>{used ? amount(used.cpu, 'cores') : '—'}</Td>
                  <Td>{used ? amount(used.memory, 'bytes') : '—'}</Td>
                </Tr>
              );
            })}
          </Tbody>
        </Table>
      )}
    </div>
  );
}
