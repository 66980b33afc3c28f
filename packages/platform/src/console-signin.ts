/**
 * The console's sign-in, on the server side: the browser posts a user's password (or a refresh
 * token) to `POST /login/token`, and the platform exchanges it at its own OAuth token endpoint as
 * the console's OAuth client, whose secret never leaves the server. This is the part of
 * KubeSphere's ks-console that runs in Node (its `POST /login`); Canopy's console has no server of
 * its own, so the platform front plays it. Only the password and refresh_token grants pass; the
 * answer is the token endpoint's, unchanged (RFC 6749 bodies, lockout and login records included:
 * the exchange is made from the caller's address, with its user agent).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OAuthClient } from './auth/oauth-clients.js';
import type { RouteModule } from './server/types.js';

export const CONSOLE_TOKEN_PATH = '/login/token';
const GRANTS = new Set(['password', 'refresh_token']);
/** Headers of the token endpoint's answer that the browser sees. */
const PASSED_HEADERS = ['content-type', 'cache-control', 'pragma', 'www-authenticate', 'retry-after'];

export interface ConsoleSignInOptions {
  /** The console's OAuth client (`kubesphere`), as the platform's configuration has it now. */
  client(): OAuthClient | undefined;
}

function oauthError(status: number, error: string, description: string) {
  return { status, body: JSON.stringify({ error, error_description: description }) };
}

function formOf(req: FastifyRequest): URLSearchParams | undefined {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) return undefined;
  const raw = req.body;
  return new URLSearchParams(Buffer.isBuffer(raw) ? raw.toString('utf8') : typeof raw === 'string' ? raw : '');
}

export function consoleSignIn(options: ConsoleSignInOptions): RouteModule {
  return (app: FastifyInstance) => {
    app.post(CONSOLE_TOKEN_PATH, async (req, reply) => {
      const refuse = ({ status, body }: { status: number; body: string }) =>
        reply.code(status).header('content-type', 'application/json').header('cache-control', 'no-store').send(body);
      const form = formOf(req);
      if (!form)
        return refuse(oauthError(400, 'invalid_request', 'The request must be a form (application/x-www-form-urlencoded).'));
      const grant = form.get('grant_type') ?? '';
      if (!GRANTS.has(grant))
        return refuse(oauthError(400, 'unsupported_grant_type', 'The provided grant_type is not supported.'));
      const client = options.client();
      if (!client)
        return refuse(oauthError(503, 'temporarily_unavailable', 'The console sign-in is not ready yet; try again shortly.'));
      // Whatever client the browser named, the exchange is made as the console.
      form.delete('client_id');
      form.delete('client_secret');
      form.set('client_id', client.name);
      form.set('client_secret', client.secret);
      // The exchange comes from the caller's address as the front determined it (trusted proxies
      // included), so login records and lockout see the browser, not the platform itself.
      const answer = await app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress: req.platform?.sourceIp || req.socket.remoteAddress || '',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          ...(req.headers['user-agent'] ? { 'user-agent': req.headers['user-agent'] } : {}),
        },
        payload: form.toString(),
      });
      reply.code(answer.statusCode);
      for (const name of PASSED_HEADERS) {
        const value = answer.headers[name];
        if (value !== undefined) reply.header(name, value);
      }
      return reply.send(answer.rawPayload);
    });
  };
}
