/** The signed-in user as the users API shows it (global role annotation, uninitialized flag). */
import { useQuery } from '@tanstack/react-query';
import { useSyncExternalStore } from 'react';
import { api } from './http';
import { session, type Session } from './session';
import type { K8sObject } from '../models/types';

export const IAM_API = '/kapis/iam.kubesphere.io/v1beta1';
export const UNINITIALIZED_ANNOTATION = 'iam.kubesphere.io/uninitialized';
export const GLOBAL_ROLE_ANNOTATION = 'iam.kubesphere.io/globalrole';
export const PLATFORM_ADMIN = 'platform-admin';

export function useSession(): Session | undefined {
  return useSyncExternalStore(
    (listener) => session.subscribe(() => listener()),
    () => session.current(),
  );
}

export function userPath(username: string): string {
  return `${IAM_API}/users/${encodeURIComponent(username)}`;
}

export function fetchUser(username: string): Promise<K8sObject> {
  return api<K8sObject>(userPath(username));
}

export function useCurrentUser() {
  const current = useSession();
  return useQuery({
    queryKey: ['user', current?.username ?? ''],
    queryFn: () => fetchUser(current!.username),
    enabled: !!current,
    staleTime: 60_000,
  });
}

export function isUninitialized(user: K8sObject | undefined): boolean {
  return !!user?.metadata.annotations?.[UNINITIALIZED_ANNOTATION];
}

export function isPlatformAdmin(user: K8sObject | undefined): boolean {
  return user?.metadata.annotations?.[GLOBAL_ROLE_ANNOTATION] === PLATFORM_ADMIN;
}

export async function changePassword(username: string, currentPassword: string, password: string): Promise<void> {
  await api(`${userPath(username)}/password`, { method: 'PUT', body: { currentPassword, password } });
}
