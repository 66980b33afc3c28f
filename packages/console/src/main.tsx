/** The console's entry: styles, language, theme, the query cache, the router. */
import '@patternfly/react-core/dist/styles/base.css';
import './styles.css';
import './i18n';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { RouterProvider } from 'react-router';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { isApiError } from './api/http';
import { session } from './api/session';
import { applyInitialTheme } from './layout/theme';
import { router } from './app';

applyInitialTheme();

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Client errors (forbidden, not found, invalid) do not get better by asking again.
      retry: (failures, err) => !(isApiError(err) && err.status < 500) && failures < 2,
      refetchOnWindowFocus: false,
      staleTime: 5_000,
    },
  },
});

// Nothing of one user's session may show in the next one.
session.subscribe((current) => {
  if (!current) queryClient.clear();
});

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
