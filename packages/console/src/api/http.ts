/**
 * Requests to the platform front: the session's bearer token on every call, Kubernetes `Status`
 * and OAuth error bodies turned into `ApiError`s whose message is the server's own wording (the
 * console shows it as is), and a 401 on an API call ends the session.
 */
import { session } from './session';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Kubernetes `Status.reason` (NotFound, Forbidden, AlreadyExists…) or the OAuth `error` code. */
    readonly reason: string,
    readonly body?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  get forbidden(): boolean {
    return this.status === 403;
  }

  get notFound(): boolean {
    return this.status === 404;
  }
}

export function isApiError(err: unknown): err is ApiError {
  return err instanceof ApiError;
}

export interface RequestOptions {
  method?: string;
  /** JSON body (objects) or a form (URLSearchParams). */
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Do not attach the session's token (sign-in). */
  anonymous?: boolean;
}

async function errorOf(response: Response): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  let body: any;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (body && body.kind === 'Status')
    return new ApiError(response.status, body.message || response.statusText, body.reason || '', body);
  if (body && typeof body.error === 'string')
    return new ApiError(response.status, body.error_description || body.message || body.error, body.error, body);
  if (body && typeof body.message === 'string') return new ApiError(response.status, body.message, body.reason || '', body);
  return new ApiError(response.status, text.trim() || response.statusText || `HTTP ${response.status}`, '', body);
}

export async function send(path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  let body: BodyInit | undefined;
  if (options.body instanceof URLSearchParams) {
    body = options.body;
    headers['content-type'] = 'application/x-www-form-urlencoded';
  } else if (typeof options.body === 'string') {
    body = options.body;
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const token = options.anonymous ? undefined : session.current()?.accessToken;
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, {
    method: options.method ?? 'GET',
    headers,
    body,
    signal: options.signal,
    credentials: 'omit',
  });
  if (!response.ok) {
    const err = await errorOf(response);
    // An API call refused for the credentials means the session is over (revoked, expired, inactive).
    if (response.status === 401 && token && !path.startsWith('/oauth/')) session.expire();
    throw err;
  }
  return response;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const response = await send(path, options);
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  return (text ? JSON.parse(text) : undefined) as T;
}
