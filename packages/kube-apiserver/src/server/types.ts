/** Framework-independent request and response shapes of the API server core. */

export interface UserInfo {
  name: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export interface ApiRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: Record<string, string | string[] | undefined>;
  body?: Buffer;
  user: UserInfo;
}

/** Where a streaming response writes; `write` returns false under back-pressure. */
export interface StreamSink {
  write(chunk: string): boolean;
  end(): void;
  /** Called once when the client disconnects or the stream ends. */
  onClose(listener: () => void): void;
  /** Called once when a write that returned false has been flushed. */
  onDrain(listener: () => void): void;
}

export type ApiResponse =
  | {
      type: 'body';
      status: number;
      /** An object to serialise, or text already serialised. */
      body: unknown;
      contentType: string;
      headers?: Record<string, string | string[]>;
    }
  | {
      type: 'stream';
      status: number;
      contentType: string;
      headers?: Record<string, string | string[]>;
      start(sink: StreamSink): void;
    };

export function header(req: ApiRequest, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(', ') : v;
}

export function jsonResponse(status: number, body: unknown, headers?: Record<string, string | string[]>): ApiResponse {
  return { type: 'body', status, body, contentType: 'application/json', ...(headers ? { headers } : {}) };
}
