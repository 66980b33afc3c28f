/**
 * A real OpenID provider for the OIDC tests: the `oidc-provider` package (node-oidc-provider) on a
 * free port, with one confidential client, RS256 keys, and its development interactions (a login
 * form that accepts any name, and a consent form), driven over HTTP like a browser with a cookie jar.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface OidcAccount {
  email?: string;
  name?: string;
  preferred_username?: string;
  /** A claim under another name, for preferredUsernameKey. */
  login?: string;
}

export interface TestOpenIdProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUri: string;
  stop(): Promise<void>;
}

export async function startOpenIdProvider(options: {
  redirectUri: string;
  accounts: Record<string, OidcAccount>;
}): Promise<TestOpenIdProvider> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const clientId = 'canopy';
  const clientSecret = 'canopy-client-secret-0123456789';

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    jwks: { keys: [jwk] },
    cookies: { keys: ['oidc-test-cookie-signing-key'] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username', 'login'] },
    // Scope claims in the ID token too (not only at userinfo), as many providers do.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: true } },
    async findAccount(_ctx: unknown, sub: string) {
      const account = options.accounts[sub];
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...account, ...(account.email ? { email_verified: true } : {}) }) };
    },
  });
  handler = provider.callback() as (req: IncomingMessage, res: ServerResponse) => void;
  return {
    issuer,
    clientId,
    clientSecret,
    redirectUri: options.redirectUri,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Follows a sign-in at the provider like a browser: the authorization URL, the login form with the
 * account name (the development form accepts any password), the consent form, until the provider
 * redirects to `redirectUri`. Returns that final URL (with code, state and iss).
 */
export async function signInAtProvider(authorizationUrl: string, account: string, redirectUri: string): Promise<URL> {
  const jar = new Map<string, string>();
  let url = authorizationUrl;
  for (let step = 0; step < 20; step++) {
    if (url.startsWith(redirectUri)) return new URL(url);
    let res = await request(url, jar);
    if (res.status === 200) {
      // An interaction page: answer the login form, then the consent form.
      const html = await res.text();
      const action = new URL(/<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '', url).toString();
      const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
      const form: Record<string, string> =
        prompt === 'login' ? { prompt, login: account, password: 'any-password' } : { prompt: prompt ?? 'consent' };
      res = await request(action, jar, new URLSearchParams(form));
    }
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location)
      throw new Error(`the provider answered ${res.status} at ${url}: ${await res.text()}`);
    url = new URL(location, url).toString();
  }
  throw new Error('too many redirects at the provider');
}

async function request(url: string, jar: Map<string, string>, form?: URLSearchParams): Promise<Response> {
  const headers: Record<string, string> = {};
  if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  if (form) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await fetch(url, { method: form ? 'POST' : 'GET', headers, body: form?.toString(), redirect: 'manual' });
  for (const cookie of res.headers.getSetCookie()) {
    const [pair, ...attrs] = cookie.split(';');
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq).trim();
    const value = pair.slice(eq + 1).trim();
    const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]) < Date.now());
    if (expired || value === '') jar.delete(name);
    else jar.set(name, value);
  }
  return res;
}
