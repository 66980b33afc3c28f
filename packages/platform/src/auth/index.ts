/** Authentication core of the platform: passwords, tokens, sign-in security, the OAuth2/OIDC protocol, identity providers. */
export * from './duration.js';
export * from './model.js';
export * from './passwords.js';
export * from './bootstrap.js';
export * from './token-store.js';
export * from './tokens.js';
export * from './login-security.js';
export * from './secrets.js';
export * from './oauth-clients.js';
export * from './oauth.js';
export * from './memory-stores.js';
export * from './identity-providers/config.js';
export * from './identity-providers/ldap.js';
export * from './identity-providers/oidc.js';
export * from './identity-providers/registry.js';
export { httpFetch, HttpError, type HttpOptions, type HttpResponse } from './identity-providers/http.js';
