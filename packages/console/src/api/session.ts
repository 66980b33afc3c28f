/**
 * The signed-in session: OAuth tokens from the platform's console sign-in (`POST /login/token`,
 * which exchanges the password or refresh token at `/oauth/token` as the console's OAuth client —
 * the client secret stays on the server), kept in memory and in sessionStorage (a reload keeps the
 * session, another tab or a closed browser does not), refreshed before the access token expires,
 * ended by `/oauth/logout` (which revokes the token).
 */
export const CONSOLE_TOKEN_PATH = '/login/token';
const STORAGE_KEY = 'canopy.session';

export interface Session {
  username: string;
  accessToken: string;
  refreshToken?: string;
  /** Epoch milliseconds when the access token expires. */
  expiresAt: number;
}

interface TokenResponse {
  access_token: string;
  refresh_token?: string;
  expires_in?: number;
}

export class OAuthError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The `username` (KubeSphere) or `sub` claim of a JWT, read without verifying (the server verifies). */
export function usernameOf(token: string): string {
  const part = token.split('.')[1];
  if (!part) return '';
  try {
    const json = atob(
      part
        .replace(/-/g, '+')
        .replace(/_/g, '/')
        .padEnd(Math.ceil(part.length / 4) * 4, '='),
    );
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    return String(claims.username ?? claims.sub ?? '');
  } catch {
    return '';
  }
}

type Listener = (session: Session | undefined, reason?: 'expired' | 'signed-out') => void;

class SessionStore {
  private value: Session | undefined;
  private listeners = new Set<Listener>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** Why the last session ended, so sign-in can say so. */
  lastEnd: 'expired' | 'signed-out' | undefined;

  constructor() {
    try {
      const stored = globalThis.sessionStorage?.getItem(STORAGE_KEY);
      const parsed = stored ? (JSON.parse(stored) as Session) : undefined;
      if (parsed && parsed.accessToken && parsed.expiresAt > Date.now()) this.set(parsed);
    } catch {
      this.value = undefined;
    }
  }

  current(): Session | undefined {
    return this.value;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private set(value: Session | undefined, reason?: 'expired' | 'signed-out'): void {
    this.value = value;
    this.lastEnd = value ? undefined : reason;
    clearTimeout(this.timer);
    try {
      if (value) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value));
      else sessionStorage.removeItem(STORAGE_KEY);
    } catch {
      // Storage may be unavailable (private mode): the session still lives in memory.
    }
    if (value?.refreshToken) {
      // Refresh at 80% of the remaining lifetime, at least 30 s before expiry.
      const remaining = value.expiresAt - Date.now();
      const delay = Math.max(1000, Math.min(remaining * 0.8, remaining - 30_000));
      this.timer = setTimeout(() => void this.refresh().catch(() => this.expire()), delay);
    }
    for (const l of this.listeners) l(value, reason);
  }

  private async token(form: Record<string, string>): Promise<Session> {
    const response = await fetch(CONSOLE_TOKEN_PATH, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form),
      credentials: 'omit',
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok)
      throw new OAuthError(
        response.status,
        body.error ?? 'server_error',
        body.error_description ?? body.message ?? response.statusText,
      );
    const tokens = body as TokenResponse;
    return {
      username: usernameOf(tokens.access_token),
      accessToken: tokens.access_token,
      refreshToken: tokens.refresh_token,
      expiresAt: Date.now() + (tokens.expires_in ?? 7200) * 1000,
    };
  }

  async signIn(username: string, password: string): Promise<Session> {
    const next = await this.token({ grant_type: 'password', username, password });
    if (!next.username) next.username = username;
    this.set(next);
    return next;
  }

  async refresh(): Promise<Session> {
    const current = this.value;
    if (!current?.refreshToken) throw new OAuthError(400, 'invalid_grant', 'no refresh token');
    const next = await this.token({ grant_type: 'refresh_token', refresh_token: current.refreshToken });
    this.set({ ...next, username: next.username || current.username, refreshToken: next.refreshToken ?? current.refreshToken });
    return this.value!;
  }

  /** Ends the session at the server (revoking the token), then locally. */
  async signOut(): Promise<void> {
    const token = this.value?.accessToken;
    if (token) {
      await fetch('/oauth/logout', { headers: { authorization: `Bearer ${token}` }, credentials: 'omit' }).catch(() => undefined);
    }
    this.set(undefined, 'signed-out');
  }

  /** The server refused the token: forget it; the console goes back to sign-in. */
  expire(): void {
    if (this.value) this.set(undefined, 'expired');
  }
}

export const session = new SessionStore();
