/**
 * A page of a level by its URL segment: the level's special pages (overview, quota), or the
 * generic list of the model the segment names — registered or discovered, so `/clusters/host/
 * widgets.example.com` lists a CRD's objects with no code of its own.
 */
import { lazy, Suspense } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router';
import { ClusterOverview, ProjectOverview, WorkspaceOverview } from './Overviews';
import { WorkspaceQuota } from './Platform';
import { useModel } from './useModel';
import { useScope } from '../layout/scope';
import { ErrorState, Loading, NotFound } from '../components/States';
import type { Level } from '../models/types';

/** Lists (tables, paging, actions) load on first use: the sign-in and overview pages do not need them. */
const ResourceList = lazy(() => import('./ResourceList').then((m) => ({ default: m.ResourceList })));

const SPECIAL: Partial<Record<Level, Record<string, () => React.ReactNode>>> = {
  cluster: { overview: () => <ClusterOverview /> },
  workspace: { overview: () => <WorkspaceOverview />, quota: () => <WorkspaceQuota /> },
  project: { overview: () => <ProjectOverview /> },
};

export function LevelPage() {
  const { t } = useTranslation();
  const scope = useScope();
  const page = useParams().page ?? '';
  const special = SPECIAL[scope.level]?.[page];
  const model = useModel(scope.level, page, scope.cluster, !special);
  if (special) return <>{special()}</>;
  if (model.isLoading) return <Loading />;
  if (model.isError) return <ErrorState error={model.error} />;
  if (!model.data) return <NotFound detail={t('states.unknownResource', { resource: page })} />;
  return (
    <Suspense fallback={<Loading />}>
      <ResourceList
        key={`${scope.level}/${model.data.key}/${scope.namespace ?? ''}/${scope.workspace ?? ''}`}
        model={model.data}
        scope={scope}
      />
    </Suspense>
  );
}
