/**
 * The authentication.k8s.io API: TokenRequest (`serviceaccounts/<name>/token`, what
 * `kubectl create token` calls), TokenReview (verify a token for another component) and
 * SelfSubjectReview (`kubectl auth whoami`), plus the bearer-token authenticator.
 */
import { errors, fieldErrors, isPlainObject, type KubeObject } from '@canopy/apimachinery';
import type { ResourceDefinition } from '../registry/types.js';
import type { ActionHandler } from '../server/rest.js';
import type { ObjectService } from '../server/objects.js';
import type { ResourceRegistry } from '../registry/registry.js';
import { rfc3339 } from '../server/object-utils.js';
import type { UserInfo } from '../server/types.js';
import type { ObjectLookup, ServiceAccountTokens } from './service-account-tokens.js';

const DEFAULT_EXPIRATION_SECONDS = 3600;
const MIN_EXPIRATION_SECONDS = 600;
/** kube caps requested token lifetimes at a day unless configured otherwise. */
const MAX_EXPIRATION_SECONDS = 48 * 3600;

/** The virtual resources of authentication.k8s.io. SelfSubjectReview is served in every version kubectl 1.27+ asks for. */
export function authenticationResources(): ResourceDefinition[] {
  const review = (version: string, kind: string, resource: string): ResourceDefinition => ({
    group: 'authentication.k8s.io',
    version,
    kind,
    listKind: `${kind}List`,
    resource,
    singular: kind.toLowerCase(),
    namespaced: false,
    verbs: ['create'],
    virtual: true,
    // One shape in every version: the v1 schema describes them all.
    schemaName: `io.k8s.api.authentication.v1.${kind}`,
  });
  return [
    review('v1', 'TokenReview', 'tokenreviews'),
    review('v1', 'SelfSubjectReview', 'selfsubjectreviews'),
    review('v1beta1', 'SelfSubjectReview', 'selfsubjectreviews'),
    review('v1alpha1', 'SelfSubjectReview', 'selfsubjectreviews'),
  ];
}

function userInfoJson(user: UserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = { username: user.name, groups: user.groups };
  if (user.uid) out.uid = user.uid;
  if (user.extra && Object.keys(user.extra).length) out.extra = user.extra;
  return out;
}

function stringList(value: unknown, field: string, kind: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) {
    throw errors.invalid({ group: 'authentication.k8s.io', resource: kind.toLowerCase() + 's', kind }, '', [fieldErrors.typeInvalid(field, value, 'must be a list of strings')]);
  }
  return value as string[];
}

/** Resolves the uid of an object the tokens refer to, through the object pipeline. */
export function objectLookup(objects: ObjectService, registry: ResourceRegistry): ObjectLookup {
  const resources = { ServiceAccount: 'serviceaccounts', Pod: 'pods', Secret: 'secrets', Node: 'nodes' } as const;
  return (kind, namespace, name) => {
    const def = registry.get('', 'v1', resources[kind]);
    return def ? objects.tryGet(def, def.namespaced ? namespace : '', name)?.metadata.uid : undefined;
  };
}

export function tokenRequestAction(tokens: ServiceAccountTokens, objects: ObjectService, registry: ResourceRegistry): ActionHandler {
  return {
    verbs: ['create'],
    handle({ info, def, body, respond }) {
      const account = objects.get(def, info.namespace, info.name);
      const request = isPlainObject(body) ? body : {};
      const spec = isPlainObject(request.spec) ? request.spec : {};
      const ref = { group: 'authentication.k8s.io', resource: 'tokenrequests', kind: 'TokenRequest' };
      const expirationSeconds = spec.expirationSeconds ?? DEFAULT_EXPIRATION_SECONDS;
      if (typeof expirationSeconds !== 'number' || !Number.isInteger(expirationSeconds)) {
        throw errors.invalid(ref, info.name, [fieldErrors.typeInvalid('spec.expirationSeconds', expirationSeconds, 'must be an integer')]);
      }
      if (expirationSeconds < MIN_EXPIRATION_SECONDS) {
        throw errors.invalid(ref, info.name, [fieldErrors.invalid('spec.expirationSeconds', expirationSeconds, 'may not specify a duration less than 10 minutes')]);
      }
      const audiences = stringList(spec.audiences, 'spec.audiences', 'TokenRequest');
      let boundObject: { kind: 'Pod' | 'Secret' | 'Node'; name: string; uid: string } | undefined;
      if (isPlainObject(spec.boundObjectRef)) {
        const b = spec.boundObjectRef;
        if (b.kind !== 'Pod' && b.kind !== 'Secret' && b.kind !== 'Node') {
          throw errors.invalid(ref, info.name, [fieldErrors.notSupported('spec.boundObjectRef.kind', b.kind, ['Pod', 'Secret', 'Node'])]);
        }
        const uid = objectLookup(objects, registry)(b.kind, info.namespace, String(b.name ?? ''));
        if (!uid) throw errors.notFound({ group: '', resource: `${b.kind.toLowerCase()}s` }, String(b.name ?? ''));
        if (b.uid && b.uid !== uid) throw errors.conflict({ group: '', resource: `${b.kind.toLowerCase()}s` }, String(b.name), `the UID in the bound object reference (${String(b.uid)}) does not match the UID in record. The object might have been deleted and then recreated`);
        boundObject = { kind: b.kind, name: String(b.name), uid };
      }
      const issued = tokens.issue({
        namespace: info.namespace,
        name: info.name,
        uid: account.metadata.uid ?? '',
        audiences: audiences.length ? audiences : [tokens.issuer],
        expirationSeconds: Math.min(expirationSeconds, MAX_EXPIRATION_SECONDS),
        ...(boundObject ? { boundObject } : {}),
      });
      const response: KubeObject = {
        kind: 'TokenRequest',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { name: info.name, namespace: info.namespace, creationTimestamp: rfc3339() },
        spec: { ...spec, audiences: audiences.length ? audiences : [tokens.issuer], expirationSeconds },
        status: { token: issued.token, expirationTimestamp: rfc3339(issued.expirationTimestamp) },
      };
      return respond(201, response);
    },
  };
}

export function tokenReviewAction(tokens: ServiceAccountTokens, lookup: ObjectLookup): ActionHandler {
  return {
    verbs: ['create'],
    handle({ body, respond }) {
      const review = isPlainObject(body) ? body : {};
      const spec = isPlainObject(review.spec) ? review.spec : {};
      if (typeof spec.token !== 'string' || !spec.token) {
        throw errors.invalid({ group: 'authentication.k8s.io', resource: 'tokenreviews', kind: 'TokenReview' }, '', [fieldErrors.required('spec.token', 'token must not be empty')]);
      }
      const audiences = stringList(spec.audiences, 'spec.audiences', 'TokenReview');
      const check = tokens.verify(spec.token, lookup, audiences.length ? audiences : undefined);
      const status = check.ok
        ? { authenticated: true, user: userInfoJson(check.user), audiences: check.audiences }
        : { authenticated: false, user: {}, error: check.error };
      return respond(201, {
        kind: 'TokenReview',
        apiVersion: 'authentication.k8s.io/v1',
        metadata: { creationTimestamp: null },
        // The token is the caller's secret: it is not echoed back.
        spec: { ...(audiences.length ? { audiences } : {}) },
        status,
      });
    },
  };
}

export function selfSubjectReviewAction(): ActionHandler {
  return {
    verbs: ['create'],
    handle({ req, info, respond }) {
      return respond(201, {
        kind: 'SelfSubjectReview',
        apiVersion: `authentication.k8s.io/${info.version}`,
        metadata: { creationTimestamp: rfc3339() },
        status: { userInfo: userInfoJson(req.user) },
      });
    },
  };
}

/** Reads `Authorization: Bearer <token>` and authenticates ServiceAccount tokens. */
export function bearerAuthenticator(tokens: ServiceAccountTokens, lookup: ObjectLookup) {
  return (authorization: string | undefined): UserInfo | undefined | 'invalid' => {
    if (!authorization) return undefined;
    const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!m) return undefined;
    const check = tokens.verify(m[1], lookup);
    return check.ok ? check.user : 'invalid';
  };
}
