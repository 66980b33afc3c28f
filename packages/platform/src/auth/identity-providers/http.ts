/**
 * The few HTTP requests an OIDC relying party makes (discovery, JWKS, token, userinfo), on node's
 * http/https so that TLS can follow the provider's options (insecureSkipVerify, a CA bundle), with a
 * timeout and a response size limit.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpOptions {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  /** Sent as application/x-www-form-urlencoded. */
  form?: Record<string, string>;
  insecureSkipVerify?: boolean;
  /** PEM CA certificates to trust instead of the system's. */
  ca?: string[];
  /** ms, default 15000. */
  timeout?: number;
  /** Largest response body accepted, bytes (default 1 MiB). */
  maxBytes?: number;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export class HttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

export function httpFetch(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const target = new URL(url);
  if (target.protocol !== 'http:' && target.protocol !== 'https:')
    return Promise.reject(new HttpError(`unsupported URL scheme in ${url}`));
  const body = options.form ? Buffer.from(new URLSearchParams(options.form).toString()) : undefined;
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (body) {
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(body.length);
  }
  const maxBytes = options.maxBytes ?? 1 << 20;
  const timeout = options.timeout ?? 15_000;
  return new Promise((resolve, reject) => {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(
      target,
      {
        method: options.method ?? (body ? 'POST' : 'GET'),
        headers,
        ...(target.protocol === 'https:'
          ? { rejectUnauthorized: !options.insecureSkipVerify, ...(options.ca?.length ? { ca: options.ca } : {}) }
          : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > maxBytes) {
            req.destroy(new HttpError(`response from ${target.origin}${target.pathname} exceeds ${maxBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.setTimeout(timeout, () =>
      req.destroy(new HttpError(`request to ${target.origin}${target.pathname} timed out after ${timeout}ms`)),
    );
    req.on('error', (err) =>
      reject(
        err instanceof HttpError ? err : new HttpError(`request to ${target.origin}${target.pathname} failed: ${err.message}`),
      ),
    );
    req.end(body);
  });
}

/** The JSON object of a response; anything else is an error naming the URL. */
export function jsonObject(res: HttpResponse, url: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(res.body.toString('utf8'));
  } catch {
    throw new HttpError(`${url} answered ${res.status} with a body that is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new HttpError(`${url} answered ${res.status} with JSON that is not an object`);
  return value as Record<string, unknown>;
}
