/**
 * Content negotiation as kube-apiserver does it: what a response should be (plain object,
 * Table, PartialObjectMetadata, aggregated discovery) from the Accept header, and how a request
 * body is decoded from its Content-Type.
 */
import { errors } from '@canopy/apimachinery';

export interface MediaRange {
  type: string;
  subtype: string;
  params: Record<string, string>;
}

/** Splits an Accept header into media ranges in the order given (kube ignores q-values for its own types). */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header) return [];
  const out: MediaRange[] = [];
  for (const raw of header.split(',')) {
    const [mime, ...paramParts] = raw.split(';').map((s) => s.trim());
    if (!mime) continue;
    const slash = mime.indexOf('/');
    const type = slash < 0 ? mime : mime.slice(0, slash);
    const subtype = slash < 0 ? '*' : mime.slice(slash + 1);
    const params: Record<string, string> = {};
    for (const p of paramParts) {
      const eq = p.indexOf('=');
      if (eq > 0) params[p.slice(0, eq).trim().toLowerCase()] = p.slice(eq + 1).trim().replace(/^"|"$/g, '');
    }
    out.push({ type: type.toLowerCase(), subtype: subtype.toLowerCase(), params });
  }
  return out;
}

export type Representation =
  | { kind: 'object'; format: 'json' | 'yaml' }
  | { kind: 'table'; version: 'v1' | 'v1beta1'; includeObject?: string }
  | { kind: 'partial'; version: 'v1' | 'v1beta1'; list: boolean }
  /** `application/vnd.kubernetes.protobuf`; kinds without a protobuf message are answered in JSON. */
  | { kind: 'protobuf' };

export const PROTOBUF_MEDIA_TYPE = 'application/vnd.kubernetes.protobuf';

function isJsonLike(m: MediaRange): boolean {
  return (m.type === 'application' || m.type === '*') && (m.subtype === 'json' || m.subtype === '*');
}

/**
 * Chooses the representation of a resource response. Only protobuf (or only types we do not
 * serve) → 406, as kube-apiserver answers a client that accepts nothing it can produce.
 */
export function chooseRepresentation(accept: string | undefined, list: boolean): Representation {
  const ranges = parseAccept(accept);
  if (ranges.length === 0) return { kind: 'object', format: 'json' };
  for (const m of ranges) {
    if (m.type === 'application' && m.subtype === 'json' && m.params.as) {
      if (m.params.g !== 'meta.k8s.io' || (m.params.v !== 'v1' && m.params.v !== 'v1beta1')) continue;
      if (m.params.as === 'Table') return { kind: 'table', version: m.params.v };
      if (m.params.as === 'PartialObjectMetadata' || m.params.as === 'PartialObjectMetadataList') {
        return { kind: 'partial', version: m.params.v, list };
      }
      continue;
    }
    if (m.type === 'application' && m.subtype === 'yaml') return { kind: 'object', format: 'yaml' };
    // The first acceptable type in the client's order wins, so JSON listed first keeps JSON.
    if (m.type === 'application' && m.subtype === 'vnd.kubernetes.protobuf' && !m.params.as) return { kind: 'protobuf' };
    if (isJsonLike(m) && !m.params.as) return { kind: 'object', format: 'json' };
    if (m.type === '*' && m.subtype === '*') return { kind: 'object', format: 'json' };
  }
  throw errors.notAcceptable(
    'only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf, application/json;as=Table;v=v1;g=meta.k8s.io',
  );
}

/** Whether a response (an error Status included) to this Accept header should be protobuf. */
export function prefersProtobuf(accept: string | undefined): boolean {
  try {
    return chooseRepresentation(accept, false).kind === 'protobuf';
  } catch {
    return false;
  }
}

/** The aggregated discovery version a client accepts, honouring its order (v2 only if listed exactly). */
export function chooseDiscovery(accept: string | undefined): 'v2' | 'v2beta1' | undefined {
  for (const m of parseAccept(accept)) {
    if (m.type !== 'application' || m.subtype !== 'json') continue;
    if (m.params.g !== 'apidiscovery.k8s.io' || m.params.as !== 'APIGroupDiscoveryList') continue;
    if (m.params.v === 'v2') return 'v2';
    if (m.params.v === 'v2beta1') return 'v2beta1';
  }
  return undefined;
}

export type BodyFormat = 'json' | 'yaml' | 'protobuf' | 'json-patch' | 'merge-patch' | 'strategic-merge-patch' | 'apply-patch';

/** Maps a request Content-Type to a body format, or undefined when the type is not served. */
export function bodyFormatOf(contentType: string | undefined): BodyFormat | undefined {
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  switch (mime) {
    case '':
    case 'application/json':
      return 'json';
    case 'application/yaml':
    case 'application/x-yaml':
    case 'text/yaml':
      return 'yaml';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    case 'application/json-patch+json':
      return 'json-patch';
    case 'application/merge-patch+json':
      return 'merge-patch';
    case 'application/strategic-merge-patch+json':
      return 'strategic-merge-patch';
    case 'application/apply-patch+yaml':
    case 'application/apply-patch+json':
      return 'apply-patch';
    default:
      return undefined;
  }
}
