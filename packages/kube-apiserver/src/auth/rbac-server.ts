/**
 * RBAC in the running server: the policy read from storage (cached until an RBAC object
 * changes), the default roles reconciled at start, the authorizer every request goes through,
 * escalation prevention as an admission plug-in, and the authorization.k8s.io reviews
 * (`kubectl auth can-i`, `--list`).
 */
import { errors, fieldErrors, isPlainObject, type KubeObject } from '@canopy/apimachinery';
import type { ResourceRegistry } from '../registry/registry.js';
import type { ResourceDefinition } from '../registry/types.js';
import { listPrefix, resourcePrefix } from '../storage/keys.js';
import type { RevisionStore } from '../storage/types.js';
import type { AdmissionPlugin } from '../server/admission.js';
import type { Authorizer, AuthorizationAttributes } from '../server/authorization.js';
import type { ObjectService } from '../server/objects.js';
import type { ActionHandler } from '../server/rest.js';
import type { UserInfo } from '../server/types.js';
import { defaultClusterRoleBindings, defaultClusterRoles, defaultRoleBindings, defaultRoles } from './bootstrap-policy.js';
import {
  checkBindingWrite,
  checkRoleWrite,
  RbacAuthorizer,
  type ClusterRole,
  type ClusterRoleBinding,
  type RbacPolicySource,
  type Role,
  type RoleBinding,
} from './rbac.js';

const RBAC = 'rbac.authorization.k8s.io';
const RBAC_RESOURCES = ['roles', 'clusterroles', 'rolebindings', 'clusterrolebindings'] as const;

/**
 * The policy as stored; its versions move with RBAC writes, which is when caches rebuild: the
 * cluster version with ClusterRoles and ClusterRoleBindings, a namespace's version with its Roles
 * and RoleBindings (values come from one counter, so a version never repeats).
 */
export class StoredRbacPolicy implements RbacPolicySource {
  private changes = 0;
  private clusterChanges = 0;
  private readonly namespaceChanges = new Map<string, number>();
  private readonly handles: Array<{ cancel(): void }> = [];

  constructor(private readonly store: RevisionStore) {
    for (const resource of RBAC_RESOURCES) {
      const prefix = resourcePrefix(RBAC, resource);
      const namespaced = resource === 'roles' || resource === 'rolebindings';
      this.handles.push(
        store.watch(prefix, store.currentRevision(), (event) => {
          this.changes++;
          if (!namespaced) this.clusterChanges = this.changes;
          else this.namespaceChanges.set(event.key.slice(prefix.length, event.key.indexOf('/', prefix.length)), this.changes);
        }),
      );
    }
  }

  private list<T>(resource: string, namespace = ''): T[] {
    return this.store.list(listPrefix(RBAC, resource, namespace)).items.map((s) => s.object as unknown as T);
  }

  listClusterRoles = () => this.list<ClusterRole>('clusterroles');
  listClusterRoleBindings = () => this.list<ClusterRoleBinding>('clusterrolebindings');
  listRoles = (namespace: string) => this.list<Role>('roles', namespace);
  listRoleBindings = (namespace: string) => this.list<RoleBinding>('rolebindings', namespace);
  version = () => this.changes;
  clusterVersion = () => this.clusterChanges;
  namespaceVersion = (namespace: string) => this.namespaceChanges.get(namespace) ?? 0;

  close(): void {
    for (const h of this.handles) h.cancel();
  }
}

export function rbacAuthorizer(rbac: RbacAuthorizer): Authorizer {
  return {
    authorize(attributes: AuthorizationAttributes) {
      const result = rbac.authorize(attributes);
      // A denial's reason is empty unless evaluation hit errors (a missing role), as in kube.
      return result.decision === 'allow' ? { allowed: true, reason: result.reason } : { allowed: false, ...(result.reason ? { reason: result.reason } : {}) };
    },
  };
}

/**
 * Creates the default roles and bindings, and brings those annotated
 * `rbac.authorization.kubernetes.io/autoupdate: "true"` back to the defaults (kube's reconciliation
 * at start: a default role someone changed is restored unless they turned auto-update off).
 */
export function reconcileDefaultPolicy(objects: ObjectService, registry: ResourceRegistry): void {
  const defs = {
    clusterroles: registry.get(RBAC, 'v1', 'clusterroles')!,
    clusterrolebindings: registry.get(RBAC, 'v1', 'clusterrolebindings')!,
    roles: registry.get(RBAC, 'v1', 'roles')!,
    rolebindings: registry.get(RBAC, 'v1', 'rolebindings')!,
  };
  const ensure = (def: ResourceDefinition, wanted: KubeObject) => {
    const namespace = wanted.metadata.namespace ?? '';
    const name = wanted.metadata.name ?? '';
    const current = objects.tryGet(def, namespace, name);
    if (!current) {
      objects.create(def, namespace, { ...wanted, apiVersion: `${RBAC}/v1`, kind: def.kind });
      return;
    }
    if (current.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'] === 'false') return;
    const next: KubeObject = { ...current, metadata: { ...current.metadata } };
    for (const field of ['rules', 'aggregationRule', 'subjects', 'roleRef']) {
      if (wanted[field] === undefined) delete next[field];
      else next[field] = wanted[field];
    }
    next.metadata.labels = { ...current.metadata.labels, ...wanted.metadata.labels };
    next.metadata.annotations = { ...current.metadata.annotations, ...wanted.metadata.annotations };
    delete next.metadata.resourceVersion;
    objects.update(def, namespace, name, next);
  };
  for (const r of defaultClusterRoles()) ensure(defs.clusterroles, r as unknown as KubeObject);
  for (const b of defaultClusterRoleBindings()) ensure(defs.clusterrolebindings, b as unknown as KubeObject);
  for (const r of defaultRoles()) ensure(defs.roles, r as unknown as KubeObject);
  for (const b of defaultRoleBindings()) ensure(defs.rolebindings, b as unknown as KubeObject);
}

/** Escalation prevention: nobody grants (or binds to) permissions they do not hold themselves. */
export function rbacEscalationAdmission(rbac: RbacAuthorizer): AdmissionPlugin {
  return {
    name: 'RBACEscalation',
    validate(a) {
      if (a.def.group !== RBAC || !a.object || (a.operation !== 'CREATE' && a.operation !== 'UPDATE')) return;
      const ctx = { user: a.user, namespace: a.namespace, ruleResolver: rbac };
      const resource = a.def.resource;
      const check =
        resource === 'roles' || resource === 'clusterroles'
          ? checkRoleWrite(ctx, resource, a.object as unknown as Role, a.oldObject as unknown as Role | undefined)
          : resource === 'rolebindings' || resource === 'clusterrolebindings'
            ? checkBindingWrite(ctx, resource, a.object as unknown as RoleBinding, a.oldObject as unknown as RoleBinding | undefined)
            : { allowed: true as const };
      if (!check.allowed) throw check.error;
    },
  };
}

/** authorization.k8s.io/v1: the review resources (create-only, never stored). */
export function authorizationResources(): ResourceDefinition[] {
  const review = (kind: string, resource: string, namespaced = false): ResourceDefinition => ({
    group: 'authorization.k8s.io',
    version: 'v1',
    kind,
    listKind: `${kind}List`,
    resource,
    singular: kind.toLowerCase(),
    namespaced,
    verbs: ['create'],
    virtual: true,
    schemaName: `io.k8s.api.authorization.v1.${kind}`,
  });
  return [
    review('SubjectAccessReview', 'subjectaccessreviews'),
    review('SelfSubjectAccessReview', 'selfsubjectaccessreviews'),
    review('LocalSubjectAccessReview', 'localsubjectaccessreviews', true),
    review('SelfSubjectRulesReview', 'selfsubjectrulesreviews'),
  ];
}

const reviewRef = (kind: string) => ({ group: 'authorization.k8s.io', resource: `${kind.toLowerCase()}s`, kind });

/** The attributes a review asks about (spec.resourceAttributes or spec.nonResourceAttributes). */
function reviewAttributes(kind: string, user: UserInfo, spec: Record<string, unknown>, namespaceOverride?: string): AuthorizationAttributes {
  const resource = isPlainObject(spec.resourceAttributes) ? spec.resourceAttributes : undefined;
  const nonResource = isPlainObject(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined;
  if (!!resource === !!nonResource) {
    throw errors.invalid(reviewRef(kind), '', [
      fieldErrors.invalid('spec.resourceAttributes', resource ?? null, 'exactly one of nonResourceAttributes or resourceAttributes must be specified'),
    ]);
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  if (resource) {
    return {
      user,
      verb: str(resource.verb),
      resourceRequest: true,
      apiGroup: str(resource.group),
      apiVersion: str(resource.version),
      resource: str(resource.resource),
      subresource: str(resource.subresource),
      namespace: namespaceOverride ?? str(resource.namespace),
      name: str(resource.name),
      path: '',
    };
  }
  return { user, verb: str(nonResource!.verb), resourceRequest: false, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path: str(nonResource!.path) };
}

function specOf(kind: string, body: unknown): Record<string, unknown> {
  if (!isPlainObject(body) || !isPlainObject(body.spec)) {
    throw errors.invalid(reviewRef(kind), '', [fieldErrors.required('spec')]);
  }
  return body.spec;
}

function reviewResponse(kind: string, body: unknown, spec: Record<string, unknown>, status: Record<string, unknown>, namespace?: string) {
  const metadata = isPlainObject(body) && isPlainObject(body.metadata) ? { ...body.metadata } : {};
  if (namespace) metadata.namespace = namespace;
  return { kind, apiVersion: 'authorization.k8s.io/v1', metadata: { ...metadata, creationTimestamp: null }, spec, status };
}

function decide(authorizer: Authorizer, attributes: AuthorizationAttributes) {
  const decision = authorizer.authorize(attributes);
  return { allowed: decision.allowed, ...(decision.reason ? { reason: decision.reason } : {}) };
}

export function selfSubjectAccessReviewAction(authorizer: () => Authorizer): ActionHandler {
  return {
    verbs: ['create'],
    handle({ req, body, respond }) {
      const spec = specOf('SelfSubjectAccessReview', body);
      return respond(201, reviewResponse('SelfSubjectAccessReview', body, spec, decide(authorizer(), reviewAttributes('SelfSubjectAccessReview', req.user, spec))));
    },
  };
}

/** SubjectAccessReview and LocalSubjectAccessReview: about another user, given in the spec. */
export function subjectAccessReviewAction(kind: 'SubjectAccessReview' | 'LocalSubjectAccessReview', authorizer: () => Authorizer): ActionHandler {
  return {
    verbs: ['create'],
    handle({ info, body, respond }) {
      const spec = specOf(kind, body);
      const user = typeof spec.user === 'string' ? spec.user : '';
      const groups = Array.isArray(spec.groups) ? spec.groups.filter((g): g is string => typeof g === 'string') : [];
      if (!user && groups.length === 0) {
        throw errors.invalid(reviewRef(kind), '', [fieldErrors.invalid('spec.user', user, 'at least one of user or group must be specified')]);
      }
      const extra = isPlainObject(spec.extra) ? (spec.extra as Record<string, string[]>) : undefined;
      const subject: UserInfo = { name: user, groups, ...(typeof spec.uid === 'string' ? { uid: spec.uid } : {}), ...(extra ? { extra } : {}) };
      const namespace = kind === 'LocalSubjectAccessReview' ? info.namespace : undefined;
      if (namespace !== undefined && isPlainObject(spec.resourceAttributes) && spec.resourceAttributes.namespace && spec.resourceAttributes.namespace !== namespace) {
        throw errors.invalid(reviewRef(kind), '', [
          fieldErrors.invalid('spec.resourceAttributes.namespace', spec.resourceAttributes.namespace, 'must match metadata.namespace'),
        ]);
      }
      return respond(201, reviewResponse(kind, body, spec, decide(authorizer(), reviewAttributes(kind, subject, spec, namespace)), namespace));
    },
  };
}

export function selfSubjectRulesReviewAction(rbac: RbacAuthorizer): ActionHandler {
  return {
    verbs: ['create'],
    handle({ req, body, respond }) {
      const spec = specOf('SelfSubjectRulesReview', body);
      const namespace = typeof spec.namespace === 'string' ? spec.namespace : '';
      return respond(201, reviewResponse('SelfSubjectRulesReview', body, spec, rbac.rulesFor(req.user, namespace) as unknown as Record<string, unknown>));
    },
  };
}
