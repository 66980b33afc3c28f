/**
 * How a client reaches a Kubernetes API server. Two transports share one contract:
 * `HttpTransport` speaks HTTPS to any cluster (from a kubeconfig), `InProcessTransport` calls the
 * embedded API server's request handler directly — the all-in-one optimisation the architecture
 * allows because it keeps HTTP semantics exactly: the same authentication identity, authorization,
 * status codes, `Status` bodies and serialised (never shared) objects.
 */
import { Agent, request as undiciRequest } from 'undici';
import { StatusError, type Status } from '@canopy/apimachinery';

export interface TransportRequest {
  method: string;
  /** Path without query, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  query?: URLSearchParams;
  headers?: Record<string, string>;
  body?: string | Buffer;
  signal?: AbortSignal;
}

export interface TransportResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A streamed response (watch, follow logs): text chunks in arrival order. */
export interface StreamingResponse {
  status: number;
  headers: Record<string, string>;
  chunks: AsyncIterable<string>;
  /** Stops the stream (closes the connection or tells the server the client went away). */
  close(): void;
}

export interface Transport {
  /** The server's base URL, for messages and kubeconfigs. */
  readonly server: string;
  request(req: TransportRequest): Promise<TransportResponse>;
  /** Opens a streaming request; a non-2xx answer is returned whole in `chunks`. */
  stream(req: TransportRequest): Promise<StreamingResponse>;
  close(): Promise<void>;
}

export interface HttpTransportOptions {
  server: string;
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  token?: string;
  insecureSkipTlsVerify?: boolean;
  /** Connections kept per origin (default 32). */
  connections?: number;
}

export class HttpTransport implements Transport {
  readonly server: string;
  private readonly agent: Agent;
  private readonly authorization?: string;

  constructor(options: HttpTransportOptions) {
    this.server = options.server.replace(/\/$/, '');
    this.authorization = options.token ? `Bearer ${options.token}` : undefined;
    this.agent = new Agent({
      connections: options.connections ?? 32,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      // Watches and followed logs stay open for as long as the server keeps them.
      bodyTimeout: 0,
      headersTimeout: 60_000,
      connect: {
        ca: options.ca,
        cert: options.cert,
        key: options.key,
        rejectUnauthorized: !options.insecureSkipTlsVerify,
      },
    });
  }

  private url(req: TransportRequest): string {
    const q = req.query?.toString();
    return `${this.server}${req.path}${q ? `?${q}` : ''}`;
  }

  private headers(req: TransportRequest): Record<string, string> {
    const headers: Record<string, string> = { ...req.headers };
    if (this.authorization && !headers.authorization) headers.authorization = this.authorization;
    return headers;
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const res = await undiciRequest(this.url(req), {
      method: req.method as never,
      headers: this.headers(req),
      body: req.body,
      dispatcher: this.agent,
      signal: req.signal,
    });
    const body = await res.body.text();
    return { status: res.statusCode, headers: flatHeaders(res.headers), body };
  }

  async stream(req: TransportRequest): Promise<StreamingResponse> {
    const controller = new AbortController();
    req.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const res = await undiciRequest(this.url(req), {
      method: req.method as never,
      headers: this.headers(req),
      body: req.body,
      dispatcher: this.agent,
      signal: controller.signal,
    });
    res.body.setEncoding('utf8');
    const body = res.body;
    async function* chunks(): AsyncIterable<string> {
      try {
        for await (const chunk of body) yield chunk as string;
      } catch (err) {
        // Closing our own stream aborts the body: that is the normal end, not an error.
        if (!controller.signal.aborted) throw err;
      }
    }
    return { status: res.statusCode, headers: flatHeaders(res.headers), chunks: chunks(), close: () => controller.abort() };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}

function flatHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

// --- in-process ---------------------------------------------------------------------------------

/** The identity an in-process caller acts as (the API server authorizes it like any user). */
export interface InProcessUser {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** Structurally the API server's `ApiRequest` (kept here so the client does not depend on the server). */
export interface InProcessRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body?: Buffer;
  user: InProcessUser;
}

export interface InProcessSink {
  write(chunk: string): boolean;
  end(): void;
  onClose(listener: () => void): void;
  onDrain(listener: () => void): void;
}

export type InProcessResponse =
  | { type: 'body'; status: number; body: unknown; contentType: string; headers?: Record<string, string | string[]> }
  | { type: 'stream'; status: number; contentType: string; headers?: Record<string, string | string[]>; start(sink: InProcessSink): void };

export type InProcessHandler = (req: InProcessRequest) => InProcessResponse | Promise<InProcessResponse>;

export class InProcessTransport implements Transport {
  constructor(
    private readonly handler: InProcessHandler,
    private readonly user: InProcessUser,
    readonly server = 'in-process',
  ) {}

  /** The same transport acting as another identity (each controller has its own). */
  as(user: InProcessUser): InProcessTransport {
    return new InProcessTransport(this.handler, user, this.server);
  }

  private async call(req: TransportRequest): Promise<InProcessResponse> {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    const apiRequest: InProcessRequest = {
      method: req.method,
      path: req.path,
      query: new URLSearchParams(req.query),
      headers,
      user: this.user,
    };
    if (req.body !== undefined) apiRequest.body = Buffer.isBuffer(req.body) ? req.body : Buffer.from(req.body);
    try {
      return await this.handler(apiRequest);
    } catch (err) {
      const status = err instanceof StatusError ? err.status : internalStatus(err);
      return { type: 'body', status: status.code, body: status, contentType: 'application/json' };
    }
  }

  async request(req: TransportRequest): Promise<TransportResponse> {
    const res = await this.call(req);
    if (res.type === 'body') return { status: res.status, headers: responseHeaders(res), body: serialise(res.body) };
    // A stream asked for as a plain request (e.g. logs without follow): collect it.
    const stream = this.open(res, req.signal);
    let body = '';
    for await (const chunk of stream.chunks) body += chunk;
    return { status: res.status, headers: responseHeaders(res), body };
  }

  async stream(req: TransportRequest): Promise<StreamingResponse> {
    const res = await this.call(req);
    if (res.type === 'body') {
      const body = serialise(res.body);
      return {
        status: res.status,
        headers: responseHeaders(res),
        chunks: (async function* () {
          yield body;
        })(),
        close: () => {},
      };
    }
    return this.open(res, req.signal);
  }

  /** Runs a streaming response into an async queue, with back-pressure reported to the server. */
  private open(res: Extract<InProcessResponse, { type: 'stream' }>, signal?: AbortSignal): StreamingResponse {
    const queue: string[] = [];
    let queued = 0;
    let ended = false;
    let wake: (() => void) | undefined;
    const closeListeners: Array<() => void> = [];
    const drainListeners: Array<() => void> = [];
    const HIGH_WATER = 1 << 20;
    const notify = () => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const close = () => {
      if (ended) return;
      ended = true;
      for (const l of closeListeners.splice(0)) l();
      notify();
    };
    signal?.addEventListener('abort', close, { once: true });
    res.start({
      write: (chunk) => {
        if (ended) return false;
        queue.push(chunk);
        queued += chunk.length;
        notify();
        return queued < HIGH_WATER;
      },
      end: () => {
        if (ended) return;
        ended = true;
        notify();
      },
      onClose: (l) => closeListeners.push(l),
      onDrain: (l) => drainListeners.push(l),
    });
    async function* chunks(): AsyncIterable<string> {
      try {
        while (true) {
          if (queue.length) {
            const chunk = queue.shift()!;
            queued -= chunk.length;
            if (queued < HIGH_WATER && drainListeners.length) for (const l of drainListeners.splice(0)) l();
            yield chunk;
            continue;
          }
          if (ended) return;
          await new Promise<void>((resolve) => (wake = resolve));
        }
      } finally {
        close();
      }
    }
    return { status: res.status, headers: responseHeaders(res), chunks: chunks(), close };
  }

  async close(): Promise<void> {}
}

function serialise(body: unknown): string {
  if (typeof body === 'string') return body;
  if (Buffer.isBuffer(body)) return body.toString('utf8');
  return JSON.stringify(body);
}

function responseHeaders(res: InProcessResponse): Record<string, string> {
  const out: Record<string, string> = { 'content-type': res.contentType };
  for (const [k, v] of Object.entries(res.headers ?? {})) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

function internalStatus(err: unknown): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: (err as Error)?.message ?? String(err), reason: 'InternalError', code: 500 };
}
