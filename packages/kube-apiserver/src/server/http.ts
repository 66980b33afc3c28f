/**
 * The HTTP front of the API server (fastify over HTTPS): authentication by client certificate,
 * health, version, discovery, OpenAPI and the generic REST handler. Every failure leaves as a
 * Kubernetes Status; nothing a client sends can make it answer 5xx or stop the process.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { STATUS_CODES, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Duplex, Readable } from 'node:stream';
import { encodeKubernetesProtobuf, errors, isStatusError, StatusError } from '@canopy/apimachinery';
import { PROTOBUF_MEDIA_TYPE, prefersProtobuf } from './negotiation.js';
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
  /** Returns the user, undefined when the request carries no such credentials, 'invalid' when it carries bad ones. */
  authenticate?: (req: { headers: IncomingHttpHeaders }) => UserInfo | undefined | 'invalid' | Promise<UserInfo | undefined | 'invalid'>;
  logErrors?: (err: unknown, req: FastifyRequest) => void;
  /**
   * Protocol upgrades (WebSocket, SPDY/3.1: exec, attach, port-forward), after authentication.
   * Throwing before the socket is taken over answers the request with that Status.
   */
  upgrade?: (request: UpgradeRequest) => void | Promise<void>;
}

export interface UpgradeRequest {
  raw: IncomingMessage;
  socket: Duplex;
  /** Bytes already read past the request head (the start of the upgraded protocol). */
  head: Buffer;
  method: string;
  path: string;
  query: URLSearchParams;
  user: UserInfo;
}

/** The user a verified client certificate names: CN is the user, each O a group (as kube does). */
const certificateUsers = new WeakMap<TLSSocket, UserInfo | null>();

/** The client certificate's user, read once per TLS connection (the certificate cannot change on it). */
export function userFromCertificate(socket: TLSSocket): UserInfo | undefined {
  let user = certificateUsers.get(socket);
  if (user === undefined) {
    user = readCertificateUser(socket) ?? null;
    certificateUsers.set(socket, user);
  }
  return user ?? undefined;
}

function readCertificateUser(socket: TLSSocket): UserInfo | undefined {
  if (!socket.authorized) return undefined;
  const cert = socket.getPeerCertificate();
  if (!cert || !cert.subject) return undefined;
  const cn = cert.subject.CN;
  if (!cn || Array.isArray(cn)) return undefined;
  const o = cert.subject.O;
  const groups = o === undefined ? [] : Array.isArray(o) ? o : [o];
  return { name: cn, groups: [...groups, 'system:authenticated'] };
}

/** Past this much, an oversized body is no longer read through but the connection is closed. */
const MAX_DRAIN_BYTES = 16 * 1024 * 1024;

/**
 * Buffers a request body up to MAX_REQUEST_BYTES. A larger body is read through and discarded
 * (up to a bound) so the client, still sending, gets to read the 413 instead of a broken pipe.
 */
function readBodyWithLimit(payload: Readable, done: (err: Error | null, body?: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  let finished = false;
  const finish = (err: Error | null, body?: Buffer) => {
    if (finished) return;
    finished = true;
    done(err, body);
  };
  payload.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    else if (size > MAX_DRAIN_BYTES) {
      finish(errors.tooLarge('the request is too large: limit is 3MB'));
      payload.destroy();
    }
  });
  payload.on('end', () => {
    if (size > MAX_REQUEST_BYTES) finish(errors.tooLarge('the request is too large: limit is 3MB'));
    else finish(null, Buffer.concat(chunks, size));
  });
  payload.on('error', (err) => finish(errors.badRequest(`error reading the request body: ${err.message}`)));
}

function writeRawClientError(err: Error & { code?: string }, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new StatusError(431, 'RequestHeaderFieldsTooLarge', 'request header fields too large')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new StatusError(408, 'Timeout', 'request timeout')
        : errors.badRequest(`malformed HTTP request: ${err.code ?? err.message}`);
  const body = statusBody(status);
  socket.end(
    `HTTP/1.1 ${status.code} ${status.reason}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/** Answers a not-yet-upgraded request with a Status and closes the connection. */
export function writeStatusToSocket(socket: Duplex, err: StatusError): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = statusBody(err);
  socket.end(
    `HTTP/1.1 ${err.code} ${STATUS_CODES[err.code] ?? 'Error'}\r\nContent-Type: application/json\r\nCache-Control: no-cache, private\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
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
    // Errors fastify raises before routing (malformed URLs) are Statuses too.
    frameworkErrors: (err: Error & { code?: string }, _req: unknown, reply: FastifyReply) =>
      sendError(reply, err.code === 'FST_ERR_BAD_URL' ? errors.badRequest(`invalid URL: ${err.message}`) : errors.badRequest(err.message)),
    // Requests Node's HTTP parser refuses never reach a route; answer them as kube-apiserver would.
    clientErrorHandler: (err: Error & { code?: string }, socket: Duplex) => writeRawClientError(err, socket),
  } as never) as unknown as FastifyInstance;

  // Bodies are decoded by the API layer (JSON, YAML, patches, protobuf), so take every type raw.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, payload, done) => readBodyWithLimit(payload, done));

  app.setErrorHandler((err: unknown, req, reply) => {
    sendError(reply, toStatusError(err, options, req), req.headers.accept);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, errors.pathNotFound(), req.headers.accept));

  if (options.upgrade) {
    const upgrade = options.upgrade;
    // Node emits requests carrying `Upgrade` here instead of to the router.
    app.server.on('upgrade', (raw: IncomingMessage, socket: Duplex, head: Buffer) => {
      socket.on('error', () => socket.destroy());
      void (async () => {
        const target = raw.url ?? '/';
        const queryAt = target.indexOf('?');
        let user: UserInfo | undefined = userFromCertificate(socket as TLSSocket);
        if (!user && options.authenticate) {
          const found = await options.authenticate(raw);
          if (found === 'invalid') return writeStatusToSocket(socket, errors.unauthorized());
          user = found;
        }
        if (!user) return writeStatusToSocket(socket, errors.unauthorized());
        await upgrade({
          raw,
          socket,
          head,
          method: raw.method ?? 'GET',
          path: queryAt < 0 ? target : target.slice(0, queryAt),
          query: new URLSearchParams(queryAt < 0 ? '' : target.slice(queryAt + 1)),
          user,
        });
      })().catch((err: unknown) => {
        if (!isStatusError(err)) options.logErrors?.(err, { method: raw.method, url: raw.url } as FastifyRequest);
        writeStatusToSocket(socket, isStatusError(err) ? err : errors.internal((err as Error)?.message ?? 'unexpected error'));
      });
    });
  }

  app.all('/*', async (req, reply) => {
    // The path is taken as sent: URL parsing would resolve "." and ".." segments, which in the
    // Kubernetes API are (invalid) names, never navigation.
    const queryAt = req.url.indexOf('?');
    const url = {
      pathname: queryAt < 0 ? req.url : req.url.slice(0, queryAt),
      searchParams: new URLSearchParams(queryAt < 0 ? '' : req.url.slice(queryAt + 1)),
    };
    let user: UserInfo | undefined = userFromCertificate(req.raw.socket as TLSSocket);
    if (!user && options.authenticate) {
      const found = await options.authenticate(req);
      // Bad credentials are refused even on public paths, as kube's authentication filter does.
      if (found === 'invalid') {
        sendError(reply, errors.unauthorized(), req.headers.accept);
        return reply;
      }
      user = found;
    }
    if (!user) {
      if (!options.publicPaths.has(url.pathname)) {
        sendError(reply, errors.unauthorized(), req.headers.accept);
        return reply;
      }
      user = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    }
    const apiRequest: ApiRequest = {
      method: req.method,
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      user,
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

/** Sends a Status: protobuf when the client's Accept header picks protobuf (as kube-apiserver does), else JSON. */
function sendError(reply: FastifyReply, err: StatusError, accept?: string): void {
  let protobuf: Uint8Array | undefined;
  try {
    if (prefersProtobuf(accept)) protobuf = encodeKubernetesProtobuf({ ...err.status });
  } catch {
    // A Status the tables cannot carry is still an answer: JSON.
  }
  reply.code(err.code).header('content-type', protobuf ? PROTOBUF_MEDIA_TYPE : 'application/json').header('cache-control', 'no-cache, private');
  if (err.code === 429 || err.status.details?.retryAfterSeconds) reply.header('retry-after', String(err.status.details?.retryAfterSeconds ?? 1));
  reply.send(protobuf ? Buffer.from(protobuf) : Buffer.from(statusBody(err)));
}

function send(reply: FastifyReply, response: ApiResponse): FastifyReply {
  for (const [k, v] of Object.entries(response.headers ?? {})) reply.header(k, v);
  if (response.type === 'body') {
    // Sent as a Buffer so the content type stays exactly as set (fastify rewrites the JSON types
    // of string payloads, e.g. `application/json;as=Table;…` gains quotes and a charset).
    const payload = Buffer.isBuffer(response.body)
      ? response.body
      : Buffer.from(typeof response.body === 'string' ? response.body : JSON.stringify(response.body));
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
    onDrain: (listener) => res.once('drain', listener),
  });
  return reply;
}
