/**
 * The HTTP front of the API server (fastify over HTTPS): authentication by client certificate,
 * health, version, discovery, OpenAPI and the generic REST handler. Every failure leaves as a
 * Kubernetes Status; nothing a client sends can make it answer 5xx or stop the process.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { TLSSocket } from 'node:tls';
import { errors, isStatusError, StatusError } from '@canopy/apimachinery';
import type { ApiRequest, ApiResponse, UserInfo } from './types.js';

/** kube-apiserver's limit on request bodies (3 MiB). */
export const MAX_REQUEST_BYTES = 3 * 1024 * 1024;

export interface HttpFrontOptions {
  tls: { key: string; cert: string; ca: string };
  /** Answers a request (already authenticated). */
  handle(req: ApiRequest): ApiResponse | Promise<ApiResponse>;
  /** Paths served without credentials. */
  publicPaths: Set<string>;
  /** Extra authenticators tried after the client certificate (bearer tokens, later). */
  authenticate?: (req: FastifyRequest) => UserInfo | undefined | Promise<UserInfo | undefined>;
  logErrors?: (err: unknown, req: FastifyRequest) => void;
}

/** The user a verified client certificate names: CN is the user, each O a group (as kube does). */
export function userFromCertificate(socket: TLSSocket): UserInfo | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  const cn = cert.subject.CN;
  if (!cn || Array.isArray(cn)) return undefined;
  const o = cert.subject.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name: cn, groups: [...groups, 'system:authenticated'] };
}

function statusBody(err: StatusError): string {
  return JSON.stringify(err.status);
}

export function buildHttpFront(options: HttpFrontOptions): FastifyInstance {
  const app = Fastify({
    https: { key: options.tls.key, cert: options.tls.cert, ca: options.tls.ca, requestCert: true, rejectUnauthorized: false },
    bodyLimit: MAX_REQUEST_BYTES,
    logger: false,
    // kube paths may carry encoded characters; our own parser decodes segments.
    routerOptions: { maxParamLength: 8192 },
    return503OnClosing: true,
    forceCloseConnections: true,
    keepAliveTimeout: 65_000,
  } as never) as unknown as FastifyInstance;

  // Bodies are decoded by the API layer (JSON, YAML, patches, protobuf), so take every type raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_REQUEST_BYTES }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, req, reply) => {
    sendError(reply, toStatusError(err, options, req));
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, errors.pathNotFound()));

  app.all('/*', async (req, reply) => {
    const url = new URL(req.url, 'https://localhost');
    let user: UserInfo | undefined = userFromCertificate(req.raw.socket as TLSSocket);
    if (!user && options.authenticate) user = await options.authenticate(req);
    if (!user) {
      if (!options.publicPaths.has(url.pathname)) {
        sendError(reply, errors.unauthorized());
        return reply;
      }
      user = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    }
    const controller = new AbortController();
    req.raw.once('close', () => controller.abort());
    const apiRequest: ApiRequest = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      user,
      signal: controller.signal,
    };
    if (Buffer.isBuffer(req.body)) apiRequest.body = req.body;
    const response = await options.handle(apiRequest);
    return send(reply, response);
  });
  return app;
}

function toStatusError(err: unknown, options: HttpFrontOptions, req: FastifyRequest): StatusError {
  if (isStatusError(err)) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.tooLarge('the request is too large: limit is 3MB');
  if (e?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.unsupportedMediaType('');
  if (e?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') return errors.badRequest('the request body is empty');
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return errors.badRequest(e.message ?? 'bad request');
  options.logErrors?.(err, req);
  return errors.internal(e?.message ?? 'unexpected error');
}

function sendError(reply: FastifyReply, err: StatusError): void {
  reply.code(err.code).header('content-type', 'application/json').header('cache-control', 'no-cache, private');
  if (err.code === 429 || err.status.details?.retryAfterSeconds) reply.header('retry-after', String(err.status.details?.retryAfterSeconds ?? 1));
  reply.send(statusBody(err));
}

function send(reply: FastifyReply, response: ApiResponse): FastifyReply {
  for (const [k, v] of Object.entries(response.headers ?? {})) reply.header(k, v);
  if (response.type === 'body') {
    // Strings and Buffers (protobuf documents) are already serialised.
    const serialised = typeof response.body === 'string' || Buffer.isBuffer(response.body);
    const payload = serialised ? response.body : JSON.stringify(response.body);
    reply.code(response.status).header('content-type', response.contentType).header('cache-control', 'no-cache, private');
    return reply.send(payload);
  }
  reply.hijack();
  const res = reply.raw;
  res.writeHead(response.status, {
    'content-type': response.contentType,
    'cache-control': 'no-cache, private',
    'transfer-encoding': 'chunked',
    ...(response.headers ?? {}),
  });
  res.flushHeaders();
  const closeListeners: Array<() => void> = [];
  let ended = false;
  const onClose = () => {
    for (const l of closeListeners.splice(0)) l();
  };
  res.once('close', onClose);
  response.start({
    write: (chunk) => (ended || res.destroyed ? false : res.write(chunk)),
    end: () => {
      if (ended) return;
      ended = true;
      res.end();
    },
    onClose: (listener) => closeListeners.push(listener),
  });
  return reply;
}
