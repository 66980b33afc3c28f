/**
 * Kubernetes `Status` errors. Every failure that reaches a client is one of these, so clients
 * (kubectl, client-go, client-node) see the reasons and codes they switch on.
 */

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'TooManyRequests'
  | 'InternalError'
  | 'Timeout'
  | 'ServiceUnavailable';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never> | { resourceVersion?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason | string;
  details?: StatusDetails;
  code: number;
}

/** What identifies the object an error is about: the resource (plural) and group, as kube-apiserver words its messages. */
export interface ResourceRef {
  group: string;
  resource: string;
  kind?: string;
}

function qualifiedResource(ref: ResourceRef): string {
  return ref.group ? `${ref.resource}.${ref.group}` : ref.resource;
}

export class StatusError extends Error {
  readonly status: Status;

  constructor(code: number, reason: StatusReason | string, message: string, details?: StatusDetails) {
    super(message);
    this.name = 'StatusError';
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
    if (details) this.status.details = details;
  }

  get code(): number {
    return this.status.code;
  }

  get reason(): string | undefined {
    return this.status.reason;
  }
}

export function isStatusError(err: unknown): err is StatusError {
  return err instanceof StatusError;
}

export const errors = {
  badRequest(message: string, causes?: StatusCause[]): StatusError {
    return new StatusError(400, 'BadRequest', message, causes ? { causes } : undefined);
  },
  unauthorized(message = 'Unauthorized'): StatusError {
    return new StatusError(401, 'Unauthorized', message);
  },
  forbidden(ref: ResourceRef, name: string, message: string): StatusError {
    const what = name ? `${qualifiedResource(ref)} "${name}"` : qualifiedResource(ref);
    return new StatusError(403, 'Forbidden', `${what} is forbidden: ${message}`, {
      ...(name ? { name } : {}),
      group: ref.group,
      kind: ref.resource,
    });
  },
  notFound(ref: ResourceRef, name: string): StatusError {
    return new StatusError(404, 'NotFound', `${qualifiedResource(ref)} "${name}" not found`, {
      name,
      group: ref.group,
      kind: ref.resource,
    });
  },
  /** A URL that names no resource at all (kube-apiserver answers these with a bare 404 Status). */
  pathNotFound(message = 'the server could not find the requested resource'): StatusError {
    return new StatusError(404, 'NotFound', message, {});
  },
  alreadyExists(ref: ResourceRef, name: string): StatusError {
    return new StatusError(409, 'AlreadyExists', `${qualifiedResource(ref)} "${name}" already exists`, {
      name,
      group: ref.group,
      kind: ref.resource,
    });
  },
  conflict(ref: ResourceRef, name: string, why: string): StatusError {
    return new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${qualifiedResource(ref)} "${name}": ${why}`, {
      name,
      group: ref.group,
      kind: ref.resource,
    });
  },
  /** 422 with one cause per offending field, worded as kube-apiserver words them. */
  invalid(ref: ResourceRef & { kind: string }, name: string, causes: StatusCause[]): StatusError {
    const groupKind = ref.group ? `${ref.kind}.${ref.group}` : ref.kind;
    const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : String(c.message)));
    const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
    return new StatusError(422, 'Invalid', `${groupKind} "${name}" is invalid: ${summary}`, {
      name,
      group: ref.group,
      kind: ref.kind,
      causes,
    });
  },
  expired(message: string): StatusError {
    return new StatusError(410, 'Expired', message);
  },
  gone(message: string): StatusError {
    return new StatusError(410, 'Gone', message);
  },
  methodNotAllowed(message: string): StatusError {
    return new StatusError(405, 'MethodNotAllowed', message);
  },
  notAcceptable(message: string): StatusError {
    return new StatusError(406, 'NotAcceptable', message);
  },
  unsupportedMediaType(contentType: string): StatusError {
    return new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf${contentType ? '' : ''}`);
  },
  tooLarge(message = 'the request is too large'): StatusError {
    return new StatusError(413, 'RequestEntityTooLarge', message);
  },
  tooManyRequests(message: string, retryAfterSeconds = 1): StatusError {
    return new StatusError(429, 'TooManyRequests', message, { retryAfterSeconds });
  },
  internal(message: string): StatusError {
    return new StatusError(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] });
  },
};

/** Field error helpers with the exact wording of k8s.io/apimachinery/pkg/util/validation/field. */
export const fieldErrors = {
  required(field: string, detail = ''): StatusCause {
    return { reason: 'FieldValueRequired', message: detail ? `Required value: ${detail}` : 'Required value', field };
  },
  invalid(field: string, value: unknown, detail: string): StatusCause {
    return { reason: 'FieldValueInvalid', message: `Invalid value: ${formatValue(value)}: ${detail}`, field };
  },
  notSupported(field: string, value: unknown, valid: string[]): StatusCause {
    return {
      reason: 'FieldValueNotSupported',
      message: `Unsupported value: ${formatValue(value)}: supported values: ${valid.map((v) => `"${v}"`).join(', ')}`,
      field,
    };
  },
  forbidden(field: string, detail: string): StatusCause {
    return { reason: 'FieldValueForbidden', message: `Forbidden: ${detail}`, field };
  },
  duplicate(field: string, value: unknown): StatusCause {
    return { reason: 'FieldValueDuplicate', message: `Duplicate value: ${formatValue(value)}`, field };
  },
  tooLong(field: string, value: unknown, max: number): StatusCause {
    return { reason: 'FieldValueTooLong', message: `Too long: may not be more than ${max} bytes`, field: field + (value === undefined ? '' : '') };
  },
  typeInvalid(field: string, value: unknown, detail: string): StatusCause {
    return { reason: 'FieldValueTypeInvalid', message: `Invalid value: ${formatValue(value)}: ${detail}`, field };
  },
  unknownField(field: string): StatusCause {
    return { reason: 'FieldValueInvalid', message: `unknown field "${field}"`, field };
  },
};

function formatValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'object') {
    const json = JSON.stringify(value);
    return json.length > 100 ? json.slice(0, 97) + '...' : json;
  }
  return String(value);
}
