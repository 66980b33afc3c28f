/**
 * A Kubernetes API client over a `Transport`: typed paths, the verbs of the REST API, watches as
 * async iterables, errors as the server's `Status` (thrown as `StatusError`).
 */
import { StatusError, type KubeList, type KubeObject, type Status } from '@canopy/apimachinery';
import { loadKubeconfig } from './kubeconfig.js';
import { apiVersionOf, type ResourceType } from './resource-types.js';
import { HttpTransport, type StreamingResponse, type Transport, type TransportRequest } from './transport.js';

export interface ListOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  limit?: number;
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: 'Exact' | 'NotOlderThan';
}

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  allowWatchBookmarks?: boolean;
  timeoutSeconds?: number;
  sendInitialEvents?: boolean;
  signal?: AbortSignal;
}

export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  fieldValidation?: 'Strict' | 'Warn' | 'Ignore';
  signal?: AbortSignal;
}

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

export interface PatchOptions extends WriteOptions {
  namespace?: string;
  subresource?: string;
  /** Server-side apply: take ownership of conflicting fields. */
  force?: boolean;
}

export interface DeleteOptions {
  namespace?: string;
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export interface WatchEvent<T extends KubeObject = KubeObject> {
  type: WatchEventType;
  object: T;
}

export interface Watch<T extends KubeObject = KubeObject> extends AsyncIterable<WatchEvent<T>> {
  close(): void;
}

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
};

export interface KubeClientOptions {
  /** Sent as User-Agent; the server derives the default field manager from it. */
  userAgent?: string;
}

export class KubeClient {
  private readonly userAgent: string;

  constructor(
    readonly transport: Transport,
    options: KubeClientOptions = {},
  ) {
    this.userAgent = options.userAgent ?? 'canopy';
  }

  static fromKubeconfig(path: string, options: KubeClientOptions & { context?: string } = {}): KubeClient {
    return new KubeClient(new HttpTransport(loadKubeconfig(path, options.context)), options);
  }

  /** The same transport under another User-Agent (field manager). */
  withUserAgent(userAgent: string): KubeClient {
    return new KubeClient(this.transport, { userAgent });
  }

  path(type: ResourceType, namespace?: string, name?: string, subresource?: string): string {
    let path = type.group ? `/apis/${type.group}/${type.version}` : `/api/${type.version}`;
    if (type.namespaced && namespace) path += `/namespaces/${encodeURIComponent(namespace)}`;
    path += `/${type.resource}`;
    if (name !== undefined) path += `/${encodeURIComponent(name)}`;
    if (subresource) path += `/${subresource}`;
    return path;
  }

  /** Sends a request and returns the decoded JSON body; a non-2xx answer throws its Status. */
  async request<T = unknown>(req: TransportRequest): Promise<T> {
    const res = await this.transport.request({ ...req, headers: { 'user-agent': this.userAgent, accept: 'application/json', ...req.headers } });
    if (res.status < 200 || res.status > 299) throw statusError(res.status, res.body);
    if (!res.body) return undefined as T;
    const type = res.headers['content-type'] ?? '';
    if (!type.includes('json')) return res.body as T;
    return JSON.parse(res.body) as T;
  }

  /** Raw text of a GET (pod logs, kubelet endpoints). */
  async text(path: string, query?: URLSearchParams): Promise<string> {
    const res = await this.transport.request({ method: 'GET', path, query, headers: { 'user-agent': this.userAgent } });
    if (res.status < 200 || res.status > 299) throw statusError(res.status, res.body);
    return res.body;
  }

  async stream(path: string, query?: URLSearchParams, signal?: AbortSignal): Promise<StreamingResponse> {
    const res = await this.transport.stream({ method: 'GET', path, query, signal, headers: { 'user-agent': this.userAgent } });
    if (res.status < 200 || res.status > 299) {
      let body = '';
      for await (const chunk of res.chunks) body += chunk;
      throw statusError(res.status, body);
    }
    return res;
  }

  get<T extends KubeObject = KubeObject>(type: ResourceType, name: string, namespace?: string): Promise<T> {
    return this.request<T>({ method: 'GET', path: this.path(type, namespace, name) });
  }

  /** GET that answers undefined for 404. */
  async tryGet<T extends KubeObject = KubeObject>(type: ResourceType, name: string, namespace?: string): Promise<T | undefined> {
    try {
      return await this.get<T>(type, name, namespace);
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  list<T extends KubeObject = KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<KubeList<T>> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.limit) query.set('limit', String(options.limit));
    if (options.continue) query.set('continue', options.continue);
    if (options.resourceVersion !== undefined) query.set('resourceVersion', options.resourceVersion);
    if (options.resourceVersionMatch) query.set('resourceVersionMatch', options.resourceVersionMatch);
    return this.request<KubeList<T>>({ method: 'GET', path: this.path(type, options.namespace), query });
  }

  /** Every object of a list, following `continue` pages. */
  async listAll<T extends KubeObject = KubeObject>(type: ResourceType, options: ListOptions = {}): Promise<KubeList<T>> {
    const first = await this.list<T>(type, { limit: 500, ...options });
    let list = first;
    while (list.metadata.continue) {
      list = await this.list<T>(type, { ...options, limit: options.limit ?? 500, continue: list.metadata.continue });
      first.items.push(...list.items);
    }
    first.metadata = { resourceVersion: first.metadata.resourceVersion };
    return first;
  }

  create<T extends KubeObject = KubeObject>(type: ResourceType, object: KubeObject, options: WriteOptions & { namespace?: string } = {}): Promise<T> {
    const namespace = options.namespace ?? object.metadata.namespace;
    const body = { apiVersion: apiVersionOf(type), kind: type.kind, ...object };
    return this.request<T>({ method: 'POST', path: this.path(type, namespace), query: writeQuery(options), body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: options.signal });
  }

  /** POST to a subresource (pods/binding, pods/eviction, serviceaccounts/token). */
  createSubresource<R = unknown>(type: ResourceType, name: string, subresource: string, body: unknown, options: WriteOptions & { namespace?: string } = {}): Promise<R> {
    return this.request<R>({ method: 'POST', path: this.path(type, options.namespace, name, subresource), query: writeQuery(options), body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  update<T extends KubeObject = KubeObject>(type: ResourceType, object: T, options: WriteOptions & { subresource?: string } = {}): Promise<T> {
    const body = { apiVersion: apiVersionOf(type), kind: type.kind, ...object };
    return this.request<T>({
      method: 'PUT',
      path: this.path(type, object.metadata.namespace, object.metadata.name, options.subresource),
      query: writeQuery(options),
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal: options.signal,
    });
  }

  updateStatus<T extends KubeObject = KubeObject>(type: ResourceType, object: T, options: WriteOptions = {}): Promise<T> {
    return this.update(type, object, { ...options, subresource: 'status' });
  }

  patch<T extends KubeObject = KubeObject>(type: ResourceType, name: string, patch: unknown, patchType: PatchType, options: PatchOptions = {}): Promise<T> {
    const query = writeQuery(options);
    if (options.force) query.set('force', 'true');
    if (patchType === 'apply' && !query.has('fieldManager')) query.set('fieldManager', this.userAgent);
    return this.request<T>({
      method: 'PATCH',
      path: this.path(type, options.namespace, name, options.subresource),
      query,
      body: typeof patch === 'string' ? patch : JSON.stringify(patch),
      headers: { 'content-type': PATCH_CONTENT_TYPES[patchType] },
      signal: options.signal,
    });
  }

  /** Deletes; answers the object (graceful or finalizers pending) or the Status of an immediate delete. */
  delete<T = KubeObject | Status>(type: ResourceType, name: string, options: DeleteOptions = {}): Promise<T> {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    if (options.preconditions) body.preconditions = options.preconditions;
    if (options.dryRun) body.dryRun = ['All'];
    return this.request<T>({ method: 'DELETE', path: this.path(type, options.namespace, name), body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  /** DELETE that treats 404 as done. */
  async tryDelete(type: ResourceType, name: string, options: DeleteOptions = {}): Promise<boolean> {
    try {
      await this.delete(type, name, options);
      return true;
    } catch (err) {
      if (err instanceof StatusError && err.code === 404) return false;
      throw err;
    }
  }

  deleteCollection(type: ResourceType, options: ListOptions & DeleteOptions = {}): Promise<unknown> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1' };
    if (options.propagationPolicy) body.propagationPolicy = options.propagationPolicy;
    if (options.gracePeriodSeconds !== undefined) body.gracePeriodSeconds = options.gracePeriodSeconds;
    return this.request({ method: 'DELETE', path: this.path(type, options.namespace), query, body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  }

  /**
   * Opens a watch. Events arrive in order; the iterable ends when the server closes the stream
   * (timeout) or `close()` is called. An `ERROR` event (e.g. 410 Expired) is yielded as is.
   */
  async watch<T extends KubeObject = KubeObject>(type: ResourceType, options: WatchOptions = {}): Promise<Watch<T>> {
    const query = new URLSearchParams({ watch: 'true' });
    if (options.labelSelector) query.set('labelSelector', options.labelSelector);
    if (options.fieldSelector) query.set('fieldSelector', options.fieldSelector);
    if (options.resourceVersion !== undefined) query.set('resourceVersion', options.resourceVersion);
    if (options.allowWatchBookmarks) query.set('allowWatchBookmarks', 'true');
    if (options.timeoutSeconds !== undefined) query.set('timeoutSeconds', String(options.timeoutSeconds));
    if (options.sendInitialEvents) {
      query.set('sendInitialEvents', 'true');
      query.set('resourceVersionMatch', 'NotOlderThan');
    }
    const res = await this.stream(this.path(type, options.namespace), query, options.signal);
    return {
      close: () => res.close(),
      [Symbol.asyncIterator]: () => decodeEvents<T>(res.chunks)[Symbol.asyncIterator](),
    };
  }
}

async function* decodeEvents<T extends KubeObject>(chunks: AsyncIterable<string>): AsyncIterable<WatchEvent<T>> {
  let buffered = '';
  for await (const chunk of chunks) {
    buffered += chunk;
    let newline: number;
    while ((newline = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, newline).trim();
      buffered = buffered.slice(newline + 1);
      if (line) yield JSON.parse(line) as WatchEvent<T>;
    }
  }
  if (buffered.trim()) yield JSON.parse(buffered) as WatchEvent<T>;
}

function writeQuery(options: WriteOptions): URLSearchParams {
  const query = new URLSearchParams();
  if (options.dryRun) query.set('dryRun', 'All');
  if (options.fieldManager) query.set('fieldManager', options.fieldManager);
  if (options.fieldValidation) query.set('fieldValidation', options.fieldValidation);
  return query;
}

/** The server's Status as a StatusError (or one synthesised from a non-Status body). */
export function statusError(code: number, body: string): StatusError {
  try {
    const status = JSON.parse(body) as Status;
    if (status?.kind === 'Status') return new StatusError(status.code ?? code, status.reason ?? 'Unknown', status.message ?? '', status.details);
  } catch {
    // not JSON: fall through
  }
  return new StatusError(code, code === 404 ? 'NotFound' : 'Unknown', body.slice(0, 500) || `HTTP ${code}`);
}

export function isNotFound(err: unknown): boolean {
  return err instanceof StatusError && err.code === 404;
}

export function isConflict(err: unknown): boolean {
  return err instanceof StatusError && err.code === 409 && err.reason === 'Conflict';
}

export function isAlreadyExists(err: unknown): boolean {
  return err instanceof StatusError && err.code === 409 && err.reason === 'AlreadyExists';
}
