// oidc-provider ships no type declarations; the OIDC tests use it as a real OpenID provider.
declare module 'oidc-provider';
