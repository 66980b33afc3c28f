/**
 * KubeSphere's `/oauth/*` and the OpenID discovery on the platform front, each a thin adapter from
 * the HTTP request to the OAuthServer (auth/oauth.ts), which words every answer:
 *
 *   POST /oauth/token                      token (password, refresh_token, authorization_code)
 *   GET|POST /oauth/authorize              authorization endpoint (code, id_token)
 *   GET /oauth/login/<idp>                 Canopy: starts a sign-in at an OIDC provider
 *   GET /oauth/callback/<idp>              the provider's redirect back: answers the token
 *   POST /oauth/confirm                    Canopy: the console's /login/confirm step for new external users
 *   GET /oauth/logout                      ends the bearer token's session
 *   GET /oauth/userinfo                    claims of the signed-in user
 *   GET /oauth/keys                        JWKS of ID tokens
 *   POST /oauth/authenticate               KubeSphere's (deprecated) TokenReview webhook
 *   GET /.well-known/openid-configuration  provider metadata
 *
 * The front lets anonymous callers reach the sign-in paths; signed-in callers are let through by
 * the identity module's authorization (access.ts), since these endpoints check credentials themselves.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { errors } from '@canopy/apimachinery';
import { PRE_REGISTRATION_USER } from '../auth/model.js';
import type { OAuthServer } from '../auth/oauth.js';
import type { PlatformContext } from '../server/types.js';
import { bearerToken, formParams, jsonBody, queryOf, requestContext, sendOAuth } from './http.js';

/** Where the console may ask to be sent after an external sign-in: a path of this origin only (no open redirect). */
function localPath(value: string | null): string | undefined {
  if (!value || !value.startsWith('/') || value.startsWith('//') || value.includes('\\')) return undefined;
  return value;
}

export function oauthRoutes(oauth: () => OAuthServer) {
  return (app: FastifyInstance, context: PlatformContext): void => {
    const signedIn = (req: FastifyRequest): string | undefined => {
      const user = context.userOf(req);
      return user.groups.includes('system:unauthenticated') ? undefined : user.name;
    };

    app.post('/oauth/token', async (req, reply) => {
      const authorization = req.headers.authorization;
      return sendOAuth(reply, await oauth().token(formParams(req), { ...requestContext(req), ...(authorization ? { authorization } : {}) }));
    });

    const authorize = async (req: FastifyRequest) => {
      const username = signedIn(req);
      const requestURL = new URL(req.url, oauth().issuer).toString();
      return oauth().authorize(formParams(req), { ...(username && username !== PRE_REGISTRATION_USER ? { username } : {}), requestURL });
    };
    app.get('/oauth/authorize', async (req, reply) => sendOAuth(reply, await authorize(req)));
    app.post('/oauth/authorize', async (req, reply) => sendOAuth(reply, await authorize(req)));

    app.get<{ Params: { idp: string } }>('/oauth/login/:idp', async (req, reply) => {
      const returnTo = localPath(queryOf(req).get('referer'));
      return sendOAuth(reply, await oauth().beginExternalLogin(req.params.idp, returnTo ? { returnTo } : {}));
    });

    app.get<{ Params: { idp: string } }>('/oauth/callback/:idp', async (req, reply) =>
      sendOAuth(reply, await oauth().callback(req.params.idp, queryOf(req), requestContext(req))),
    );

    app.post('/oauth/confirm', async (req, reply) => {
      const body = jsonBody(req);
      return sendOAuth(reply, await oauth().confirmRegistration(bearerToken(req) ?? '', body, requestContext(req)));
    });

    app.get('/oauth/logout', async (req, reply) => {
      const authorization = req.headers.authorization;
      return sendOAuth(reply, await oauth().logout(queryOf(req), authorization ? { authorization } : {}));
    });

    app.get('/oauth/userinfo', async (req, reply) => {
      const username = signedIn(req);
      return sendOAuth(reply, await oauth().userinfo(username ? { username } : {}));
    });

    app.get('/oauth/keys', async (_req, reply) => sendOAuth(reply, oauth().keys()));
    app.get('/.well-known/openid-configuration', async (_req, reply) => sendOAuth(reply, oauth().discovery()));

    app.post('/oauth/authenticate', async (req, reply) => {
      let body: unknown;
      try {
        body = jsonBody(req);
      } catch {
        throw errors.badRequest('token must not be null');
      }
      return sendOAuth(reply, await oauth().tokenReview(body));
    });
  };
}
