/** Request helpers shared by the identity routes: bodies (raw Buffers from the front), client context, replies. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '@canopy/apimachinery';
import type { OAuthResponse, RequestContext } from '../auth/oauth.js';

/** The JSON object of a request body; 400 for anything else (the front hands bodies over as raw Buffers). */
export function jsonBody(req: FastifyRequest): Record<string, unknown> {
  const raw = req.body;
  const text = Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '';
  if (!text.trim()) throw errors.badRequest('the request body is empty: a JSON object is expected');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw errors.badRequest(`the request body is not valid JSON: ${(err as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw errors.badRequest('the request body must be a JSON object');
  return value as Record<string, unknown>;
}

/** Form parameters of a POST (application/x-www-form-urlencoded), or of the query string for GET. */
export function formParams(req: FastifyRequest): URLSearchParams {
  const params = queryOf(req);
  const raw = req.body;
  if (Buffer.isBuffer(raw) && raw.length) {
    const type = String(req.headers['content-type'] ?? '');
    if (!/^application\/x-www-form-urlencoded\b/i.test(type) && type !== '') throw errors.unsupportedMediaType(type);
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) params.append(key, value);
  }
  return params;
}

export function queryOf(req: FastifyRequest): URLSearchParams {
  const at = req.url.indexOf('?');
  return new URLSearchParams(at < 0 ? '' : req.url.slice(at + 1));
}

/** Where a request comes from, as the login records keep it. */
export function requestContext(req: FastifyRequest): RequestContext {
  const userAgent = req.headers['user-agent'];
  return { sourceIP: req.platform?.sourceIp ?? req.ip, ...(userAgent ? { userAgent } : {}) };
}

export function bearerToken(req: FastifyRequest): string | undefined {
  const header = req.headers.authorization?.trim();
  const m = header && /^Bearer\s+(\S+)$/i.exec(header);
  return m ? m[1] : undefined;
}

export function sendOAuth(reply: FastifyReply, response: OAuthResponse): FastifyReply {
  reply.code(response.status);
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  if (response.body === undefined) return reply.send();
  return reply.header('content-type', response.headers['content-type'] ?? 'application/json').send(JSON.stringify(response.body));
}

/** KubeSphere's `servererr.None`: the body of a successful action without a result. */
export const SUCCESS = { message: 'success' };
