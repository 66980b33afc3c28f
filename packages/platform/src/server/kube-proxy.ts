/**
 * The Kubernetes proxy of the platform's front (ks-apiserver's): `/api` and `/apis` requests the
 * platform has authorized are forwarded under the platform's own identity. The caller's
 * credentials and any impersonation headers are dropped — the platform identity is
 * cluster-admin, so forwarding `Impersonate-*` would let any user become anyone.
 *
 * Plain requests and streams (watches, followed logs) go through the client transport (in-process
 * in all-in-one, HTTPS otherwise); protocol upgrades (exec, attach, port-forward over WebSocket
 * or SPDY) are tunnelled byte for byte over a TLS connection to the API server.
 */
import { connect as tlsConnect } from 'node:tls';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Transport } from '@canopy/client';
import type { UpgradeTarget } from './types.js';

/** Request headers that are never forwarded. */
const DROPPED_HEADERS = new Set(['authorization', 'cookie', 'host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'proxy-authorization', 'x-remote-user', 'x-remote-group']);

export function forwardedHeaders(headers: IncomingMessage['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || DROPPED_HEADERS.has(lower) || lower.startsWith('impersonate-')) continue;
    out[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function isStreaming(query: URLSearchParams, path: string): boolean {
  return query.get('watch') === 'true' || query.get('watch') === '1' || query.get('follow') === 'true' || /\/watch\//.test(path);
}

/** Forwards one authorized request (path already stripped of any `/clusters/<name>` prefix). */
export async function proxyRequest(transport: Transport, req: FastifyRequest, reply: FastifyReply, path: string, query: URLSearchParams): Promise<string | undefined> {
  const headers = forwardedHeaders(req.headers);
  const body = Buffer.isBuffer(req.body) ? req.body : undefined;
  if (isStreaming(query, path)) {
    const controller = new AbortController();
    req.raw.once('close', () => controller.abort());
    const res = await transport.stream({ method: req.method, path, query, headers, body, signal: controller.signal });
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(res.status, { 'content-type': res.headers['content-type'] ?? 'application/json', 'cache-control': 'no-cache, private', 'transfer-encoding': 'chunked' });
    raw.flushHeaders();
    raw.once('close', () => res.close());
    try {
      for await (const chunk of res.chunks) {
        if (raw.destroyed) break;
        if (!raw.write(chunk)) await new Promise<void>((resolve) => raw.once('drain', resolve).once('close', resolve));
      }
    } catch {
      // The client or the server went away: end our side.
    } finally {
      res.close();
      raw.end();
    }
    return undefined;
  }
  const res = await transport.request({ method: req.method, path, query, headers, body });
  reply.code(res.status);
  for (const name of ['content-type', 'warning', 'audit-id', 'retry-after', 'etag']) if (res.headers[name]) reply.header(name, res.headers[name]);
  reply.header('cache-control', 'no-cache, private');
  reply.send(Buffer.from(res.body));
  return res.body;
}

/**
 * Tunnels an authorized upgrade request to the API server: writes the request with the
 * platform's credentials and then copies bytes both ways until either side closes.
 */
export async function tunnelUpgrade(target: UpgradeTarget, req: IncomingMessage, socket: Duplex, head: Buffer, path: string, query: URLSearchParams): Promise<void> {
  const url = new URL(target.server);
  const upstream = tlsConnect({
    host: url.hostname,
    port: Number(url.port || 443),
    ca: target.ca,
    cert: target.cert,
    key: target.key,
    rejectUnauthorized: !target.insecureSkipTlsVerify,
    servername: url.hostname === '127.0.0.1' || url.hostname.includes(':') ? undefined : url.hostname,
    ALPNProtocols: ['http/1.1'],
  });
  const headers = forwardedHeaders(req.headers);
  headers.host = url.host;
  headers.connection = 'Upgrade';
  if (target.token) headers.authorization = `Bearer ${await target.token()}`;
  const q = query.toString();
  const lines = [`${req.method} ${path}${q ? `?${q}` : ''} HTTP/1.1`, ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.once('secureConnect', () => {
    upstream.write(lines.join('\r\n'));
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.once('error', () => {
    if (!socket.destroyed) socket.end('HTTP/1.1 502 Bad Gateway\r\ncontent-type: application/json\r\n\r\n{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"cannot reach the cluster API","reason":"ServiceUnavailable","code":503}');
    close();
  });
  socket.once('error', close);
  socket.once('close', () => upstream.destroy());
  upstream.once('close', () => socket.destroy());
}
