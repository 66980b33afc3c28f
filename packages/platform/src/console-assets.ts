/**
 * The web console's files on the platform front (packages/console builds them into its dist/).
 *
 * - `/assets/*` carry a content hash in their names: cached for a year as immutable; a missing
 *   one is a 404 (never index.html, which a browser would try to run as a script).
 * - Any other GET outside the API prefixes is a console page: index.html, never cached, so a new
 *   build shows on the next load (single-page app fallback; the console routes in the browser).
 * - API paths that no route serves stay Kubernetes 404 Status answers.
 * - Every answer carries the console's security headers: a Content-Security-Policy without
 *   'unsafe-eval' (scripts only from this origin), no framing, no MIME sniffing.
 * Text files are gzipped once and kept in memory; a rebuilt file is noticed by its mtime.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { errors } from '@canopy/apimachinery';
import type { RouteModule } from './server/types.js';

/** packages/console/dist, from src/ (tsx) and from dist/ (built) alike. */
export const DEFAULT_CONSOLE_DIR = fileURLToPath(new URL('../../console/dist/', import.meta.url));

/** Paths that belong to the APIs and the server, never to the console (a miss there is a Status 404). */
const API_PATH =
  /^\/(api|apis|kapis|oauth|\.well-known|version|healthz|livez|readyz|metrics|openapi|proxy|dist)(\/|$)|^\/clusters\/[^/]+\/(api|apis|kapis)(\/|$)/;

/**
 * CodeMirror and xterm add <style> elements, so styles may be inline; scripts may not, nor eval.
 * connect-src 'self' covers same-origin WebSockets (exec terminals) in current browsers.
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.mjs', '.css', '.json', '.svg', '.txt', '.map']);

interface Asset {
  mtimeMs: number;
  body: Buffer;
  gzip?: Buffer;
  etag: string;
  type: string;
}

export interface ConsoleAssetsOptions {
  /** Directory of the built console (default: packages/console/dist, or CANOPY_CONSOLE_DIR). */
  dir?: string;
}

export function consoleAssets(options: ConsoleAssetsOptions = {}): RouteModule {
  const dir = resolve(options.dir ?? process.env.CANOPY_CONSOLE_DIR ?? DEFAULT_CONSOLE_DIR);
  const cache = new Map<string, Asset>();

  const load = (file: string): Asset | undefined => {
    let mtimeMs: number;
    try {
      const stat = statSync(file);
      if (!stat.isFile()) return undefined;
      mtimeMs = stat.mtimeMs;
    } catch {
      return undefined;
    }
    const hit = cache.get(file);
    if (hit && hit.mtimeMs === mtimeMs) return hit;
    const body = readFileSync(file);
    const ext = extname(file).toLowerCase();
    const asset: Asset = {
      mtimeMs,
      body,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`,
      type: TYPES[ext] ?? 'application/octet-stream',
      ...(COMPRESSIBLE.has(ext) && body.length > 1024 ? { gzip: gzipSync(body, { level: 9 }) } : {}),
    };
    cache.set(file, asset);
    return asset;
  };

  const securityHeaders = (reply: FastifyReply) =>
    reply
      .header('content-security-policy', CONSOLE_CSP)
      .header('x-frame-options', 'DENY')
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('cross-origin-opener-policy', 'same-origin');

  const send = (req: FastifyRequest, reply: FastifyReply, asset: Asset, cacheControl: string) => {
    securityHeaders(reply)
      .header('cache-control', cacheControl)
      .header('etag', asset.etag)
      .header('vary', 'accept-encoding')
      .header('content-type', asset.type);
    if (req.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    if (asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? '')))
      return reply.header('content-encoding', 'gzip').send(asset.gzip);
    return reply.send(asset.body);
  };

  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const raw = req.url;
    const path = raw.includes('?') ? raw.slice(0, raw.indexOf('?')) : raw;
    if (API_PATH.test(path)) throw errors.pathNotFound();
    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      throw errors.badRequest('malformed path');
    }
    if (decoded.includes('\0')) throw errors.badRequest('malformed path');
    // Resolve inside dir only: `..` segments cannot leave it.
    const file = join(dir, normalize(decoded).replace(/^([/\\]*\.\.)+/, ''));
    const inside = file.startsWith(dir + sep);
    const isAsset = decoded.startsWith('/assets/');
    if (inside && decoded !== '/' && decoded !== '/index.html') {
      const asset = load(file);
      if (asset) return send(req, reply, asset, isAsset ? 'public, max-age=31536000, immutable' : 'no-cache');
    }
    if (isAsset) {
      securityHeaders(reply);
      throw errors.pathNotFound(`console asset ${decoded} not found`);
    }
    const index = load(join(dir, 'index.html'));
    if (!index) {
      return securityHeaders(reply)
        .code(503)
        .header('content-type', 'text/plain; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(`The Canopy console is not built (no ${join(dir, 'index.html')}): run "npm run build".\n`);
    }
    return send(req, reply, index, 'no-cache');
  };

  return (app: FastifyInstance) => {
    app.get('/', handler);
    app.get('/*', handler);
  };
}
