/**
 * Test support: raw HTTPS requests to `canopy server` authenticated as the kubeconfig's user
 * (client certificate), over keep-alive connections, for tests that need the exact bytes a
 * server answers rather than a client library's reading of them.
 */
import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parse } from 'yaml';

export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json(): any;
}

export interface RequestOptions {
  /** A string or Buffer is sent as is; anything else is JSON-encoded. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Give up (reject) after this long; default 30 s. */
  timeoutMs?: number;
}

export interface WatchEvent {
  type: string;
  object: any;
}

export interface WatchStream {
  /** HTTP status of the watch response. */
  status: number;
  /** Resolves with the next event, or undefined when the stream ended. */
  next(timeoutMs?: number): Promise<WatchEvent | undefined>;
  close(): void;
}

export interface ApiClient {
  readonly server: string;
  request(method: string, path: string, options?: RequestOptions): Promise<ApiResponse>;
  /** Opens a watch (`path` should carry `watch=true`) and reads newline-delimited events. */
  watch(path: string): Promise<WatchStream>;
  /** Closes the keep-alive connections. */
  close(): void;
}

interface Credentials {
  server: string;
  ca: Buffer;
  cert: Buffer;
  key: Buffer;
}

/** The current context's server and client certificate from a kubeconfig written by `canopy server`. */
export function readCredentials(kubeconfigPath: string): Credentials {
  const config = parse(readFileSync(kubeconfigPath, 'utf8'));
  const contextName = config['current-context'];
  const context = config.contexts.find((c: { name: string }) => c.name === contextName).context;
  const cluster = config.clusters.find((c: { name: string }) => c.name === context.cluster).cluster;
  const user = config.users.find((u: { name: string }) => u.name === context.user).user;
  const b64 = (s: string) => Buffer.from(s, 'base64');
  return {
    server: cluster.server,
    ca: b64(cluster['certificate-authority-data']),
    cert: b64(user['client-certificate-data']),
    key: b64(user['client-key-data']),
  };
}

export function apiClient(kubeconfigPath: string, options: { maxSockets?: number } = {}): ApiClient {
  const creds = readCredentials(kubeconfigPath);
  const base = new URL(creds.server);
  const agent = new Agent({
    keepAlive: true,
    maxSockets: options.maxSockets ?? 64,
    ca: creds.ca,
    cert: creds.cert,
    key: creds.key,
  });

  const send = (method: string, path: string, opts: RequestOptions): Promise<IncomingMessage> =>
    new Promise((resolve, reject) => {
      let payload: Buffer | undefined;
      if (opts.body !== undefined) {
        payload = Buffer.isBuffer(opts.body)
          ? opts.body
          : Buffer.from(typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body));
      }
      const headers: Record<string, string | number> = { accept: 'application/json', ...(opts.headers ?? {}) };
      if (payload) {
        headers['content-length'] = payload.length;
        if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['content-type'] = 'application/json';
      }
      const req = httpsRequest(
        {
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers,
          agent,
          ...(isIP(base.hostname.replace(/^\[|\]$/g, '')) ? {} : { servername: base.hostname }),
        },
        resolve,
      );
      req.setTimeout(opts.timeoutMs ?? 30_000, () => req.destroy(new Error(`${method} ${path.slice(0, 200)}: timed out`)));
      req.on('error', reject);
      req.end(payload);
    });

  return {
    server: creds.server,
    async request(method, path, opts = {}) {
      const res = await send(method, path, opts);
      const chunks: Buffer[] = [];
      for await (const chunk of res) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      return {
        status: res.statusCode ?? 0,
        headers: res.headers,
        text,
        json: () => JSON.parse(text),
      };
    },
    async watch(path) {
      const res = await send('GET', path, {});
      const events: WatchEvent[] = [];
      const waiters: Array<() => void> = [];
      let ended = false;
      let buffer = '';
      const wake = () => {
        for (const w of waiters.splice(0)) w();
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (line) events.push(JSON.parse(line));
        }
        wake();
      });
      const finish = () => {
        ended = true;
        wake();
      };
      res.on('end', finish);
      res.on('close', finish);
      res.on('error', finish);
      return {
        status: res.statusCode ?? 0,
        async next(timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (!events.length && !ended) {
            const left = deadline - Date.now();
            if (left <= 0) throw new Error(`watch ${path}: no event within ${timeoutMs} ms`);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, left);
              waiters.push(() => {
                clearTimeout(timer);
                resolve();
              });
            });
          }
          return events.shift();
        },
        close() {
          res.destroy();
        },
      };
    },
    close() {
      agent.destroy();
    },
  };
}
