/**
 * The platform's HTTP front (ks-apiserver's): one fastify server for `/oauth/*`, `/kapis/*`,
 * `/api` and `/apis` (proxied to the cluster), with the `/clusters/<name>` prefix accepted.
 *
 * Every request goes through the same chain: request path → cluster dispatch → authentication →
 * authorization (platform roles, for Kubernetes paths too) → audit → route. Errors leave as
 * Kubernetes `Status` objects (OAuth routes answer RFC 6749 bodies themselves).
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { errors, isStatusError, StatusError } from '@canopy/apimachinery';
import type { Transport } from '@canopy/client';
import { dualProtocolServer, type TlsMaterial } from './dual-protocol.js';
import { proxyRequest, tunnelUpgrade } from './kube-proxy.js';
import type { Authenticate, Authorize, PlatformRequest, PlatformUser, UpgradeTarget } from './types.js';

export const ANONYMOUS: PlatformUser = { name: 'system:anonymous', groups: ['system:unauthenticated'] };

/** Paths anyone may call: sign-in and discovery of the sign-in (everything else is authorized). */
/**
 * The console's pages (console-assets.ts serves index.html for them): they carry no data — the
 * console reads everything through the APIs, which stay authorized. `/` itself is matched exactly.
 */
const CONSOLE_PAGES = ['/index.html', '/favicon.svg', '/profile', '/clusters/', '/workspaces/', '/access/'];
const PUBLIC_PREFIXES = ['/oauth/token', '/oauth/authorize', '/oauth/keys', '/oauth/callback/', '/oauth/login/', '/.well-known/', '/healthz', '/livez', '/readyz', '/version', '/login', '/dist/', '/assets/', ...CONSOLE_PAGES];

export interface AuditSink {
  /** Called once per request after the response is sent (and for denials). */
  record(entry: { request: PlatformRequest; status: number; allowed: boolean; reason?: string; requestBody?: Buffer; startedAt: number; before?: unknown; after?: unknown }): void;
}

export interface FrontOptions {
  /** Transport to the cluster API for proxied requests, acting as the platform. */
  kube: Transport;
  upgradeTarget: UpgradeTarget;
  authenticate: Authenticate;
  authorize: Authorize;
  audit?: AuditSink;
  /** Clusters the `/clusters/<name>` prefix may name (always includes `host`). */
  clusters?: () => Set<string>;
  log?: (message: string) => void;
  /** A serving certificate: the front then also answers TLS on its port (dual-protocol.ts), for kubectl. */
  tls?: TlsMaterial;
  /**
   * Peers (load balancers, ingress) whose `X-Forwarded-For` is believed. From anyone else the
   * header is ignored: login records, lockout and audit must not take a client's word for its IP.
   */
  trustedProxies?: string[];
}

declare module 'fastify' {
  interface FastifyRequest {
    auditObjects?: { before?: unknown; after?: unknown };
    platform?: PlatformRequest;
    startedAt?: number;
  }
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** `/api/v1/namespaces/x/pods/y[/status|/scale]`, `/apis/g/v/…/name`: a path naming one object. */
function isObjectPath(path: string): boolean {
  const parts = path.split('/').filter(Boolean);
  const rest = parts[0] === 'api' ? parts.slice(2) : parts.slice(3);
  const scoped = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  return scoped.length === 2 || (scoped.length === 3 && (scoped[2] === 'status' || scoped[2] === 'scale'));
}

async function readObject(transport: Transport, path: string): Promise<unknown> {
  const objectPath = path.replace(/\/(status|scale)$/, '');
  try {
    const res = await transport.request({ method: 'GET', path: objectPath, headers: { accept: 'application/json' } });
    return res.status === 200 ? parseJson(res.body) : undefined;
  } catch {
    return undefined;
  }
}

function parseJson(text: string | undefined): unknown {
  if (!text || text[0] !== '{') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function splitUrl(url: string): { path: string; query: URLSearchParams } {
  const at = url.indexOf('?');
  return { path: at < 0 ? url : url.slice(0, at), query: new URLSearchParams(at < 0 ? '' : url.slice(at + 1)) };
}

function sendStatus(reply: FastifyReply, err: StatusError): FastifyReply {
  return reply.code(err.code).header('content-type', 'application/json').header('cache-control', 'no-cache, private').send(JSON.stringify(err.status));
}

function sourceIp(req: IncomingMessage, trustedProxies: ReadonlySet<string>): string {
  const peer = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
  if (!trustedProxies.has(peer)) return peer;
  const forwarded = req.headers['x-forwarded-for'];
  // The right-most address is the one the trusted proxy itself saw.
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((h) => h.trim()).filter(Boolean);
  return hops[hops.length - 1] || peer;
}

/** The WebSocket subprotocol that carries a bearer token (Kubernetes' and KubeSphere's console convention). */
export const BEARER_PROTOCOL_PREFIX = 'base64url.bearer.authorization.k8s.io.';

/**
 * Browsers cannot set an Authorization header on a WebSocket; they may offer subprotocols. As the
 * Kubernetes API server does, a `base64url.bearer.authorization.k8s.io.<token, base64url>` entry in
 * Sec-WebSocket-Protocol stands for `Authorization: Bearer <token>` when no such header came. The
 * entry is removed either way, so the token is never forwarded, logged upstream, or echoed back as
 * the chosen protocol; an Authorization header, when present, wins.
 */
export function bearerFromWebSocketProtocol(req: IncomingMessage): void {
  const header = req.headers['sec-websocket-protocol'];
  if (!header) return;
  const offered = (Array.isArray(header) ? header.join(',') : header).split(',').map((p) => p.trim()).filter(Boolean);
  const bearer = offered.filter((p) => p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (!bearer.length) return;
  const rest = offered.filter((p) => !p.startsWith(BEARER_PROTOCOL_PREFIX));
  if (rest.length) req.headers['sec-websocket-protocol'] = rest.join(', ');
  else delete req.headers['sec-websocket-protocol'];
  // More than one token is ambiguous: authenticate with none (the request is then anonymous and refused).
  if (req.headers.authorization || bearer.length !== 1) return;
  const encoded = bearer[0].slice(BEARER_PROTOCOL_PREFIX.length);
  if (!/^[A-Za-z0-9_-]+$/.test(encoded)) return;
  const token = Buffer.from(encoded, 'base64url').toString('utf8');
  // A token is printable ASCII without spaces (JWTs, opaque tokens); anything else is refused.
  if (/^[\x21-\x7e]+$/.test(token)) req.headers.authorization = `Bearer ${token}`;
}

export class PlatformFront {
  readonly app: FastifyInstance;
  private readonly trustedProxies: ReadonlySet<string>;

  constructor(private readonly options: FrontOptions) {
    this.trustedProxies = new Set(options.trustedProxies ?? []);
    const tls = options.tls;
    this.app = Fastify({
      logger: false,
      bodyLimit: 3 * 1024 * 1024,
      routerOptions: { maxParamLength: 8192 },
      forceCloseConnections: true,
      ...(tls ? { serverFactory: (handler: Parameters<typeof dualProtocolServer>[0]) => dualProtocolServer(handler, tls) } : {}),
    } as never) as unknown as FastifyInstance;
    const app = this.app;
    // Kubernetes bodies are forwarded untouched; platform routes parse JSON themselves when raw.
    app.removeContentTypeParser(['application/json']);
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    app.setErrorHandler((err: unknown, _req, reply) => {
      if (isStatusError(err)) return sendStatus(reply, err);
      const e = err as { statusCode?: number; message?: string; code?: string };
      if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendStatus(reply, errors.tooLarge('the request is too large: limit is 3MB'));
      if (typeof e.statusCode === 'number' && e.statusCode < 500) return sendStatus(reply, errors.badRequest(e.message ?? 'bad request'));
      options.log?.(`platform: ${(err as Error)?.stack ?? err}`);
      return sendStatus(reply, errors.internal('internal error'));
    });
    app.setNotFoundHandler((_req, reply) => sendStatus(reply, errors.pathNotFound()));
    app.addHook('onRequest', async (req, reply) => this.gate(req, reply));
    app.addHook('onResponse', async (req, reply) => {
      if (req.platform)
        options.audit?.record({
          request: req.platform,
          status: reply.statusCode,
          allowed: true,
          requestBody: Buffer.isBuffer(req.body) ? req.body : undefined,
          startedAt: req.startedAt ?? Date.now(),
          ...req.auditObjects,
        });
    });
    const proxy = async (req: FastifyRequest, reply: FastifyReply) => {
      const info = req.platform!;
      // The audit trail keeps an update's object before and after: read it first (as the
      // platform), and keep the answer, for writes to one object.
      const auditObjects = options.audit && WRITE_METHODS.has(req.method) ? {} as { before?: unknown; after?: unknown } : undefined;
      if (auditObjects && req.method !== 'POST' && isObjectPath(info.path)) auditObjects.before = await readObject(options.kube, info.path);
      const answer = await proxyRequest(options.kube, req, reply, info.path, info.query);
      if (auditObjects) {
        auditObjects.after = parseJson(answer);
        req.auditObjects = auditObjects;
      }
      return reply;
    };
    for (const prefix of ['/api', '/apis', '/clusters/:cluster/api', '/clusters/:cluster/apis']) {
      app.all(prefix, proxy);
      app.all(`${prefix}/*`, proxy);
    }
  }

  /** Splits the cluster prefix, authenticates and authorizes; answers 400/401/403 itself. */
  private async gate(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    req.startedAt = Date.now();
    const resolved = await this.resolve(req.raw);
    if (resolved instanceof StatusError) {
      sendStatus(reply, resolved);
      return;
    }
    if (!resolved.allowed) {
      // resolve() audited the refusal; without req.platform the onResponse hook does not record it again.
      sendStatus(reply, resolved.error!);
      return;
    }
    req.platform = resolved.request;
    // Routes see the path without the cluster prefix.
    if (resolved.stripped) req.raw.url = resolved.request.path + (resolved.request.query.size ? `?${resolved.request.query}` : '');
  }

  private async resolve(raw: IncomingMessage): Promise<StatusError | { request: PlatformRequest; allowed: boolean; error?: StatusError; stripped: boolean }> {
    const split = splitUrl(raw.url ?? '/');
    const query = split.query;
    let path = split.path;
    let cluster = 'host';
    let stripped = false;
    const m = /^\/clusters\/([^/]+)(\/.*)?$/.exec(path);
    if (m && m[2] && /^\/(api|apis|kapis)(\/|$)/.test(m[2])) {
      cluster = decodeURIComponent(m[1]);
      path = m[2];
      stripped = true;
      const known = this.options.clusters?.() ?? new Set(['host']);
      known.add('host');
      if (!known.has(cluster)) return errors.badRequest(`cluster ${cluster} not found`);
    }
    const found = await this.options.authenticate(raw.headers, { sourceIp: sourceIp(raw, this.trustedProxies) });
    if (found === 'invalid') return errors.unauthorized();
    const user = found ?? ANONYMOUS;
    const request: PlatformRequest = { method: raw.method ?? 'GET', path, query, cluster, user, sourceIp: sourceIp(raw, this.trustedProxies) };
    if (!found && (path === '/' || PUBLIC_PREFIXES.some((p) => path === p || path.startsWith(p.endsWith('/') ? p : `${p}/`) || path === p.replace(/\/$/, '')))) {
      return { request, allowed: true, stripped };
    }
    const decision = await this.options.authorize(request);
    if (decision.allowed) return { request, allowed: true, stripped };
    const error = found ? new StatusError(403, 'Forbidden', decision.reason ?? `user "${user.name}" cannot ${request.method.toLowerCase()} ${path}`) : errors.unauthorized();
    this.options.audit?.record({ request, status: error.code, allowed: false, reason: decision.reason, startedAt: Date.now() });
    return { request, allowed: false, error, stripped };
  }

  /** exec/attach/port-forward: authorized like any request, then tunnelled to the cluster. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    bearerFromWebSocketProtocol(req);
    const resolved = await this.resolve(req);
    const refuse = (err: StatusError) => {
      const body = JSON.stringify(err.status);
      socket.end(`HTTP/1.1 ${err.code} ${err.reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    };
    if (resolved instanceof StatusError) return refuse(resolved);
    if (!resolved.allowed) return refuse(resolved.error!);
    const { path, query } = resolved.request;
    if (!/^\/api(s)?\//.test(path)) return refuse(errors.pathNotFound());
    this.options.audit?.record({ request: resolved.request, status: 101, allowed: true, startedAt: Date.now() });
    await tunnelUpgrade(this.options.upgradeTarget, req, socket, head, path, query);
  }

  async listen(port: number, host: string): Promise<string> {
    const server = this.app.server as Server;
    server.on('upgrade', (req, socket, head) => {
      this.upgrade(req, socket, head).catch((err) => {
        this.options.log?.(`platform upgrade: ${(err as Error).message}`);
        socket.destroy();
      });
    });
    await this.app.listen({ port, host });
    const address = server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    return `http://${host.includes(':') ? `[${host}]` : host}:${actual}`;
  }

  async close(): Promise<void> {
    await this.app.close();
  }
}
