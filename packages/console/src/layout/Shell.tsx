/**
 * The frame of every signed-in page: masthead (brand, language, theme, user menu), the sidebar
 * navigation of the current level with a way up to the enclosing level, and the page content.
 */
import { useState, type ReactNode } from 'react';
import { Link, NavLink, Outlet, useLocation, useNavigate } from 'react-router';
import { useTranslation } from 'react-i18next';
import {
  Button,
  Divider,
  Dropdown,
  DropdownItem,
  DropdownList,
  Masthead,
  MastheadBrand,
  MastheadContent,
  MastheadLogo,
  MastheadMain,
  MastheadToggle,
  MenuToggle,
  Nav,
  NavExpandable,
  NavItem,
  NavList,
  Page,
  PageSidebar,
  PageSidebarBody,
  PageToggleButton,
  SkipToContent,
  Switch,
  Toolbar,
  ToolbarContent,
  ToolbarGroup,
  ToolbarItem,
} from '@patternfly/react-core';
import { LANGUAGES, setLanguage, translateKey, type LanguageCode } from '../i18n';
import { session } from '../api/session';
import { send } from '../api/http';
import { useCurrentUser, useSession } from '../api/user';
import { isGroup, levelBase, navigation } from './navigation';
import { useScope } from './scope';
import { useDarkTheme } from './theme';
import type { Scope } from '../models/types';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  const [open, setOpen] = useState(false);
  const current = LANGUAGES.find((l) => l.code === i18n.language) ?? LANGUAGES[0];
  return (
    <Dropdown
      isOpen={open}
      onOpenChange={setOpen}
      onSelect={() => setOpen(false)}
      popperProps={{ position: 'right' }}
      toggle={(ref) => (
        <MenuToggle
          ref={ref}
          variant="plainText"
          aria-label={t('shell.language')}
          onClick={() => setOpen(!open)}
          isExpanded={open}
          data-testid="language-toggle"
        >
          {current.label}
        </MenuToggle>
      )}
    >
      <DropdownList>
        {LANGUAGES.map((l) => (
          <DropdownItem
            key={l.code}
            lang={l.htmlLang}
            onClick={() => setLanguage(l.code as LanguageCode)}
            isSelected={l.code === current.code}
          >
            {l.label}
          </DropdownItem>
        ))}
      </DropdownList>
    </Dropdown>
  );
}

export function ThemeSwitch() {
  const { t } = useTranslation();
  const [dark, setDark] = useDarkTheme();
  return <Switch id="theme-switch" label={t('shell.darkTheme')} isChecked={dark} onChange={(_e, v) => setDark(v)} />;
}

async function downloadKubeconfig(username: string): Promise<void> {
  const response = await send(`/kapis/resources.kubesphere.io/v1alpha2/users/${encodeURIComponent(username)}/kubeconfig`, {
    headers: { accept: 'text/plain' },
  });
  const blob = new Blob([await response.text()], { type: 'application/yaml' });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = `kubeconfig-${username}.yaml`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function UserMenu() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const current = useSession();
  const user = useCurrentUser();
  const [open, setOpen] = useState(false);
  const [error, setError] = useState('');
  const name = user.data?.spec?.displayName || current?.username || '';
  return (
    <Dropdown
      isOpen={open}
      onOpenChange={setOpen}
      onSelect={() => setOpen(false)}
      popperProps={{ position: 'right' }}
      toggle={(ref) => (
        <MenuToggle
          ref={ref}
          variant="plainText"
          onClick={() => setOpen(!open)}
          isExpanded={open}
          aria-label={t('shell.userMenu', { name })}
          data-testid="user-menu"
        >
          {name}
        </MenuToggle>
      )}
    >
      <DropdownList>
        <DropdownItem onClick={() => navigate('/profile')}>{t('shell.profile')}</DropdownItem>
        <DropdownItem onClick={() => navigate('/profile#password')}>{t('shell.changePassword')}</DropdownItem>
        <DropdownItem
          description={error || t('shell.kubeconfigHint')}
          onClick={() => {
            setError('');
            downloadKubeconfig(current?.username ?? '').catch((err) => setError((err as Error).message));
          }}
        >
          {t('shell.kubeconfig')}
        </DropdownItem>
        <Divider component="li" />
        <DropdownItem
          onClick={() => {
            void session.signOut().then(() => navigate('/login'));
          }}
        >
          {t('shell.signOut')}
        </DropdownItem>
      </DropdownList>
    </Dropdown>
  );
}

/** Where the sidebar says which level it shows and how to go up. */
function LevelHeader({ scope }: { scope: Scope }) {
  const { t } = useTranslation();
  let title = t('levels.platform');
  let name = '';
  let up: { to: string; label: string } | undefined;
  if (scope.level === 'cluster') {
    title = t('levels.cluster');
    name = scope.cluster;
    up = { to: '/clusters', label: t('levels.backToClusters') };
  } else if (scope.level === 'workspace') {
    title = t('levels.workspace');
    name = scope.workspace ?? '';
    up = { to: '/access/workspaces', label: t('levels.backToWorkspaces') };
  } else if (scope.level === 'project') {
    title = t('levels.project');
    name = scope.namespace ?? '';
    up = scope.workspace
      ? {
          to: `/workspaces/${encodeURIComponent(scope.workspace)}/projects`,
          label: t('levels.backToWorkspace', { name: scope.workspace }),
        }
      : {
          to: `/clusters/${encodeURIComponent(scope.cluster)}/projects`,
          label: t('levels.backToCluster', { name: scope.cluster }),
        };
  }
  return (
    <div className="canopy-level" data-testid="level-header">
      <div className="canopy-level__title">{title}</div>
      {name && <div className="canopy-level__name">{name}</div>}
      {up && (
        <Link className="canopy-level__up" to={up.to}>
          ← {up.label}
        </Link>
      )}
    </div>
  );
}

function LevelNav({ scope }: { scope: Scope }) {
  const { t } = useTranslation();
  const location = useLocation();
  const base = levelBase(scope);
  const href = (page: string) => `${base}/${page}`.replace(/\/$/, '') || '/';
  const item = (page: string, title: string) => (
    <NavItem key={page} itemId={page} isActive={isActive(page)}>
      <NavLink to={href(page)} end={page === ''}>
        {translateKey(title)}
      </NavLink>
    </NavItem>
  );
  const isActive = (page: string) => {
    const target = href(page);
    return page === '' ? location.pathname === '/' : location.pathname === target || location.pathname.startsWith(`${target}/`);
  };
  return (
    <Nav aria-label={t('shell.navigation')}>
      <NavList>
        {navigation[scope.level].map((entry) =>
          isGroup(entry) ? (
            <NavExpandable
              key={entry.group}
              title={translateKey(entry.title)}
              isExpanded
              isActive={entry.entries.some((e) => isActive(e.page))}
            >
              {entry.entries.map((e) => item(e.page, e.title))}
            </NavExpandable>
          ) : (
            item(entry.page, entry.title)
          ),
        )}
      </NavList>
    </Nav>
  );
}

export function Shell({ children }: { children?: ReactNode }) {
  const { t } = useTranslation();
  const scope = useScope();
  const [sidebarOpen, setSidebarOpen] = useState(true);
  const masthead = (
    <Masthead>
      <MastheadMain>
        <MastheadToggle>
          <PageToggleButton
            isHamburgerButton
            isSidebarOpen={sidebarOpen}
            onSidebarToggle={() => setSidebarOpen(!sidebarOpen)}
            aria-label={t('shell.toggleNavigation')}
          />
        </MastheadToggle>
        <MastheadBrand>
          <MastheadLogo component={(props: object) => <Link {...props} to="/" />}>
            <span className="canopy-brand">Canopy</span>
          </MastheadLogo>
        </MastheadBrand>
      </MastheadMain>
      <MastheadContent>
        <Toolbar isFullHeight>
          <ToolbarContent>
            <ToolbarGroup align={{ default: 'alignEnd' }} gap={{ default: 'gapMd' }}>
              <ToolbarItem>
                <Button variant="link" component={(props: object) => <Link {...props} to="/clusters" />}>
                  {t('nav.clusters')}
                </Button>
              </ToolbarItem>
              <ToolbarItem>
                <Button variant="link" component={(props: object) => <Link {...props} to="/access/workspaces" />}>
                  {t('nav.accessControl')}
                </Button>
              </ToolbarItem>
              <ToolbarItem>
                <ThemeSwitch />
              </ToolbarItem>
              <ToolbarItem>
                <LanguageSwitch />
              </ToolbarItem>
              <ToolbarItem>
                <UserMenu />
              </ToolbarItem>
            </ToolbarGroup>
          </ToolbarContent>
        </Toolbar>
      </MastheadContent>
    </Masthead>
  );
  const sidebar = (
    <PageSidebar isSidebarOpen={sidebarOpen}>
      <PageSidebarBody>
        <LevelHeader scope={scope} />
        <LevelNav scope={scope} />
      </PageSidebarBody>
    </PageSidebar>
  );
  return (
    <Page
      masthead={masthead}
      sidebar={sidebar}
      isContentFilled
      skipToContent={<SkipToContent href="#main">{t('shell.skipToContent')}</SkipToContent>}
      mainContainerId="main"
    >
      {children ?? <Outlet />}
    </Page>
  );
}
