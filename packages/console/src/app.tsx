/**
 * Routes. URLs follow KubeSphere's console: `/clusters/<c>/…` (cluster), `/workspaces/<ws>/…`
 * (workspace), `…/projects/<ns>/…` (project, inside its workspace or under the cluster), and
 * `/access/…` (platform access control). Every level page is either a special page or the
 * generic list of a model; every object page is the generic detail page.
 */
import { lazy, Suspense } from 'react';
import { createBrowserRouter, Navigate, Outlet, useLocation } from 'react-router';
import { session } from './api/session';
import { isUninitialized, useCurrentUser, useSession } from './api/user';
import { Shell } from './layout/Shell';
import { Loading, NotFound } from './components/States';
import { SignIn } from './pages/SignIn';
import { LevelPage } from './pages/LevelPage';
import { Clusters, Home } from './pages/Platform';

const ResourceDetail = lazy(() => import('./pages/ResourceDetail').then((m) => ({ default: m.ResourceDetail })));
const Profile = lazy(() => import('./pages/Profile').then((m) => ({ default: m.Profile })));

function RequireSession() {
  const current = useSession();
  const location = useLocation();
  const user = useCurrentUser();
  const from = encodeURIComponent(location.pathname + location.search);
  if (!current) return <Navigate to={`/login?from=${from}${session.lastEnd === 'expired' ? '&expired=1' : ''}`} replace />;
  if (user.isLoading) return <Loading />;
  // Nothing else is allowed before the forced password change: sign-in asks for it.
  if (isUninitialized(user.data)) return <Navigate to={`/login?from=${from}`} replace />;
  return (
    <Shell>
      <Suspense fallback={<Loading />}>
        <Outlet />
      </Suspense>
    </Shell>
  );
}

const levelRoutes = (prefix: string) => [
  { path: `${prefix}`, element: <Navigate to="overview" replace /> },
  { path: `${prefix}/:page`, element: <LevelPage /> },
  { path: `${prefix}/:resource/:name`, element: <ResourceDetail /> },
];

export const router = createBrowserRouter([
  { path: '/login', element: <SignIn /> },
  {
    path: '/',
    element: <RequireSession />,
    children: [
      { index: true, element: <Home /> },
      { path: 'profile', element: <Profile /> },
      { path: 'clusters', element: <Clusters /> },
      { path: 'access/:page', element: <LevelPage /> },
      { path: 'access/:resource/:name', element: <ResourceDetail /> },
      ...levelRoutes('clusters/:cluster'),
      ...levelRoutes('clusters/:cluster/projects/:namespace'),
      ...levelRoutes('workspaces/:workspace'),
      ...levelRoutes('workspaces/:workspace/clusters/:cluster/projects/:namespace'),
      { path: '*', element: <NotFound /> },
    ],
  },
]);
