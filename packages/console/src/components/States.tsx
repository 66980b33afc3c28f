/** The plain states pages show instead of content: loading, not available yet, forbidden, not found, error. */
import { useTranslation } from 'react-i18next';
import { Bullseye, EmptyState, EmptyStateBody, PageSection, Spinner } from '@patternfly/react-core';
import { isApiError } from '../api/http';

export function Loading() {
  const { t } = useTranslation();
  return (
    <Bullseye>
      <Spinner aria-label={t('states.loading')} />
    </Bullseye>
  );
}

export function NotAvailable({ detail }: { detail?: string }) {
  const { t } = useTranslation();
  return (
    <EmptyState titleText={t('states.notAvailable')} headingLevel="h2" data-testid="not-available">
      <EmptyStateBody>
        {t('states.notAvailableBody')}
        {detail && <div className="canopy-detail-text">{detail}</div>}
      </EmptyStateBody>
    </EmptyState>
  );
}

export function Forbidden({ detail }: { detail?: string }) {
  const { t } = useTranslation();
  return (
    <EmptyState titleText={t('states.forbidden')} headingLevel="h2" status="warning" data-testid="forbidden">
      <EmptyStateBody>
        {t('states.forbiddenBody')}
        {detail && <div className="canopy-detail-text">{detail}</div>}
      </EmptyStateBody>
    </EmptyState>
  );
}

export function NotFound({ detail }: { detail?: string }) {
  const { t } = useTranslation();
  return (
    <PageSection>
      <EmptyState titleText={t('states.notFound')} headingLevel="h2" data-testid="not-found">
        <EmptyStateBody>{detail ?? t('states.notFoundBody')}</EmptyStateBody>
      </EmptyState>
    </PageSection>
  );
}

/** A failed request, shown as KubeSphere does: forbidden and not-served get their own plain pages. */
export function ErrorState({ error }: { error: unknown }) {
  const { t } = useTranslation();
  if (isApiError(error) && error.forbidden) return <Forbidden detail={error.message} />;
  if (isApiError(error) && error.notFound) return <NotAvailable detail={error.message} />;
  return (
    <EmptyState titleText={t('states.error')} headingLevel="h2" status="danger" data-testid="error-state">
      <EmptyStateBody>{(error as Error)?.message ?? String(error)}</EmptyStateBody>
    </EmptyState>
  );
}
