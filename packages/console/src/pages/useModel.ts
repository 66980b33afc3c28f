/** The model of a URL key at a level: registered, or discovered from the server once and kept. */
import { useQuery } from '@tanstack/react-query';
import { resolveModel } from '../models/discovery';
import { pageModel } from '../layout/navigation';
import type { Level } from '../models/types';

export function useModel(level: Level, page: string, cluster: string, enabled = true) {
  const key = pageModel(level, page);
  return useQuery({
    queryKey: ['model', key, cluster],
    queryFn: async () => (await resolveModel(key, cluster)) ?? null,
    staleTime: Infinity,
    retry: 1,
    enabled,
  });
}
