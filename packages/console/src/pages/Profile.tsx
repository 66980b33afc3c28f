/** The signed-in user: who they are, their platform role, and the password change. */
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useLocation } from 'react-router';
import {
  Alert,
  Card,
  CardBody,
  CardTitle,
  DescriptionList,
  DescriptionListDescription,
  DescriptionListGroup,
  DescriptionListTerm,
  PageSection,
  Title,
} from '@patternfly/react-core';
import { GLOBAL_ROLE_ANNOTATION, useCurrentUser } from '../api/user';
import { Cell, StatusLabel } from '../components/format';
import { ErrorState, Loading } from '../components/States';
import { PasswordChangeForm } from './SignIn';

export function Profile() {
  const { t, i18n } = useTranslation();
  const user = useCurrentUser();
  const location = useLocation();
  const passwordCard = useRef<HTMLDivElement>(null);
  const [changed, setChanged] = useState(0);
  useEffect(() => {
    if (location.hash === '#password') passwordCard.current?.querySelector('input')?.focus();
  }, [location.hash, user.isSuccess]);
  if (user.isLoading) return <Loading />;
  if (user.isError) return <ErrorState error={user.error} />;
  const u = user.data!;
  const facts: [string, React.ReactNode][] = [
    [t('columns.name'), u.metadata.name],
    [t('columns.email'), u.spec?.email],
    [t('columns.platformRole'), u.metadata.annotations?.[GLOBAL_ROLE_ANNOTATION]],
    [t('columns.status'), <StatusLabel key="s" value={u.status?.state ?? 'Active'} />],
    [t('columns.lastLogin'), <Cell key="l" value={u.status?.lastLoginTime} format="age" language={i18n.language} />],
    [t('columns.created'), <Cell key="c" value={u.metadata.creationTimestamp} format="age" language={i18n.language} />],
  ];
  return (
    <>
      <PageSection>
        <Title headingLevel="h1" data-testid="page-title">
          {t('shell.profile')}
        </Title>
      </PageSection>
      <PageSection isFilled>
        <DescriptionList isHorizontal isCompact className="canopy-gap-bottom">
          {facts.map(([term, value]) => (
            <DescriptionListGroup key={term}>
              <DescriptionListTerm>{term}</DescriptionListTerm>
              <DescriptionListDescription>{value || '—'}</DescriptionListDescription>
            </DescriptionListGroup>
          ))}
        </DescriptionList>
        <Card id="password" ref={passwordCard} className="canopy-narrow">
          <CardTitle component="h2">{t('shell.changePassword')}</CardTitle>
          <CardBody>
            {changed > 0 && <Alert isInline variant="success" title={t('password.changed')} className="canopy-gap-bottom" />}
            <PasswordChangeForm key={changed} username={u.metadata.name} onDone={() => setChanged(changed + 1)} />
          </CardBody>
        </Card>
      </PageSection>
    </>
  );
}
