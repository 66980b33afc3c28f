import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isStatusError } from '@canopy/apimachinery';
import {
  aggregateClusterRoles,
  breakdownRule,
  checkBindingWrite,
  checkRoleWrite,
  compactRules,
  compactString,
  confirmNoEscalation,
  goQuote,
  nonResourceRequestAttributes,
  RbacAuthorizer,
  resourceRequestAttributes,
  ruleAllows,
  ruleCovers,
  serviceAccountUser,
  type ClusterRole,
  type PolicyRule,
  type RbacPolicySource,
  type RequestAttributes,
  type Role,
  type RoleBinding,
  type UserInfo,
  type WriteAuthorizer,
} from '../src/auth/rbac.js';
import { mastersOnlyAuthorizer, nonResourceAttributes, type AuthorizationAttributes } from '../src/server/authorization.js';
import { StoredRbacPolicy } from '../src/auth/rbac-server.js';
import { SqliteRevisionStore } from '../src/storage/sqlite-store.js';
import {
  controllerRoleBindings,
  defaultClusterRoleBindings,
  defaultClusterRoles,
  defaultRoleBindings,
  defaultRoles,
} from '../src/auth/bootstrap-policy.js';

const RBAC = 'rbac.authorization.k8s.io';

// --- fixtures ---------------------------------------------------------------------------------------

interface Policy {
  clusterRoles: ClusterRole[];
  clusterRoleBindings: RoleBinding[];
  roles: Role[];
  roleBindings: RoleBinding[];
}

/** A policy source over mutable arrays, with a version the test bumps after changing them. */
function sourceOf(policy: Policy, versioned = true): RbacPolicySource & { bump(): void; reads: number } {
  let version = 1;
  const src = {
    reads: 0,
    bump() {
      version++;
    },
    listClusterRoles: () => {
      src.reads++;
      return policy.clusterRoles;
    },
    listClusterRoleBindings: () => policy.clusterRoleBindings,
    listRoles: (ns: string) => policy.roles.filter((r) => r.metadata.namespace === ns),
    listRoleBindings: (ns: string) => policy.roleBindings.filter((b) => b.metadata.namespace === ns),
    ...(versioned ? { version: () => version } : {}),
  };
  return src;
}

function clusterRole(name: string, rules: PolicyRule[], labels?: Record<string, string>): ClusterRole {
  return { apiVersion: `${RBAC}/v1`, kind: 'ClusterRole', metadata: { name, ...(labels ? { labels } : {}) }, rules };
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { apiVersion: `${RBAC}/v1`, kind: 'Role', metadata: { name, namespace }, rules };
}

type SubjectSpec = { kind: 'User' | 'Group' | 'ServiceAccount'; name: string; namespace?: string };

function roleBinding(
  namespace: string,
  name: string,
  roleRef: { kind: string; name: string },
  subjects: SubjectSpec[],
): RoleBinding {
  return {
    kind: 'RoleBinding',
    metadata: { name, namespace },
    roleRef: { apiGroup: RBAC, ...roleRef },
    subjects: subjects.map((s) => (s.kind === 'ServiceAccount' ? { ...s } : { apiGroup: RBAC, ...s })),
  };
}

function clusterRoleBinding(name: string, roleName: string, subjects: SubjectSpec[]): RoleBinding {
  return {
    kind: 'ClusterRoleBinding',
    metadata: { name },
    roleRef: { apiGroup: RBAC, kind: 'ClusterRole', name: roleName },
    subjects: subjects.map((s) => (s.kind === 'ServiceAccount' ? { ...s } : { apiGroup: RBAC, ...s })),
  };
}

const person = (name: string, ...groups: string[]): UserInfo => ({ name, groups: [...groups, 'system:authenticated'] });

const ADMIN_CERT = person('kubernetes-admin', 'system:masters');
const ALICE = person('alice');
const EDDIE = person('eddie');
const VERA = person('vera');

/** The default policy plus the test's own objects. */
function defaultPolicy(extra: Partial<Policy> = {}): Policy {
  return {
    clusterRoles: [...defaultClusterRoles(), ...(extra.clusterRoles ?? [])],
    clusterRoleBindings: [...defaultClusterRoleBindings(), ...(extra.clusterRoleBindings ?? [])],
    roles: [...defaultRoles(), ...(extra.roles ?? [])],
    roleBindings: [...defaultRoleBindings(), ...(extra.roleBindings ?? [])],
  };
}

const userFacingBindings = [
  roleBinding('team-a', 'alice-admin', { kind: 'ClusterRole', name: 'admin' }, [{ kind: 'User', name: 'alice' }]),
  roleBinding('team-a', 'eddie-edit', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'User', name: 'eddie' }]),
  roleBinding('team-a', 'vera-view', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'vera' }]),
];

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'] as const;
type Verb = (typeof VERBS)[number];
const namedVerbs = new Set<Verb>(['get', 'update', 'patch', 'delete']);

interface Target {
  apiGroup: string;
  resource: string;
  subresource?: string;
  scope: 'namespaced' | 'cluster' | 'namespace-object';
}

const TARGETS: Record<string, Target> = {
  pods: { apiGroup: '', resource: 'pods', scope: 'namespaced' },
  'pods/log': { apiGroup: '', resource: 'pods', subresource: 'log', scope: 'namespaced' },
  'pods/exec': { apiGroup: '', resource: 'pods', subresource: 'exec', scope: 'namespaced' },
  secrets: { apiGroup: '', resource: 'secrets', scope: 'namespaced' },
  deployments: { apiGroup: 'apps', resource: 'deployments', scope: 'namespaced' },
  'deployments/scale': { apiGroup: 'apps', resource: 'deployments', subresource: 'scale', scope: 'namespaced' },
  roles: { apiGroup: RBAC, resource: 'roles', scope: 'namespaced' },
  rolebindings: { apiGroup: RBAC, resource: 'rolebindings', scope: 'namespaced' },
  resourcequotas: { apiGroup: '', resource: 'resourcequotas', scope: 'namespaced' },
  // get/update/patch/delete of the namespace object itself; list/watch/create/deletecollection are cluster-wide.
  namespaces: { apiGroup: '', resource: 'namespaces', scope: 'namespace-object' },
  nodes: { apiGroup: '', resource: 'nodes', scope: 'cluster' },
};

/** The request kube's RequestInfo would produce for `verb` on the target "in" namespace `ns`. */
function request(user: UserInfo, verb: Verb, target: Target, ns: string): RequestAttributes {
  const named = namedVerbs.has(verb);
  const attrs: RequestAttributes = {
    user,
    verb,
    resourceRequest: true,
    apiGroup: target.apiGroup,
    resource: target.resource,
    subresource: target.subresource ?? '',
  };
  if (target.scope === 'namespaced') return { ...attrs, namespace: ns, name: named ? 'x' : '' };
  if (target.scope === 'namespace-object') return named ? { ...attrs, namespace: ns, name: ns } : { ...attrs, namespace: '' };
  return { ...attrs, namespace: '', name: named ? 'node-1' : '' };
}

const ALL = 'get list watch create update patch delete deletecollection';
const READ = 'get list watch';
const NONE = '';

/**
 * What kube grants admin, edit and view bound by a RoleBinding in their namespace (from the
 * user-facing roles documentation and upstream's aggregate-to-* rules).
 */
const EXPECTED_IN_BOUND_NAMESPACE: Record<'admin' | 'edit' | 'view', Record<keyof typeof TARGETS, string>> = {
  admin: {
    pods: ALL,
    'pods/log': READ,
    'pods/exec': ALL,
    secrets: ALL,
    deployments: ALL,
    'deployments/scale': ALL,
    roles: ALL,
    rolebindings: ALL,
    resourcequotas: READ, // admin does not write quota
    namespaces: 'get', // its own namespace only; no listing, no writes
    nodes: NONE,
  },
  edit: {
    pods: ALL,
    'pods/log': READ,
    'pods/exec': ALL,
    secrets: ALL,
    deployments: ALL,
    'deployments/scale': ALL,
    roles: NONE, // edit neither reads nor writes roles and bindings
    rolebindings: NONE,
    resourcequotas: READ,
    namespaces: 'get',
    nodes: NONE,
  },
  view: {
    pods: READ,
    'pods/log': READ,
    'pods/exec': NONE, // exec escalates
    secrets: NONE, // reading secrets escalates
    deployments: READ,
    'deployments/scale': READ,
    roles: NONE,
    rolebindings: NONE,
    resourcequotas: READ,
    namespaces: 'get',
    nodes: NONE,
  },
};

function allowedVerbsByRequest(authorizer: RbacAuthorizer, user: UserInfo, target: Target, ns: string): string {
  return VERBS.filter((verb) => authorizer.authorize(request(user, verb, target, ns)).decision === 'allow').join(' ');
}

/** The stored form before the aggregation controller has run: aggregated roles without rules. */
function withoutAggregatedRules(roles: ClusterRole[]): ClusterRole[] {
  return roles.map((r) => (r.aggregationRule ? { ...r, rules: null } : r));
}

// --- the matrix ---------------------------------------------------------------------------------------

describe('RBAC matrix of the default user-facing roles', () => {
  for (const variant of ['as bootstrapped', 'before aggregation ran'] as const) {
    const policy = defaultPolicy({ roleBindings: userFacingBindings });
    if (variant === 'before aggregation ran') policy.clusterRoles = withoutAggregatedRules(policy.clusterRoles);
    const authorizer = new RbacAuthorizer(sourceOf(policy));

    for (const [roleName, user] of [
      ['admin', ALICE],
      ['edit', EDDIE],
      ['view', VERA],
    ] as const) {
      it(`${roleName} bound in team-a (${variant})`, () => {
        for (const [name, target] of Object.entries(TARGETS)) {
          assert.equal(
            allowedVerbsByRequest(authorizer, user, target, 'team-a'),
            EXPECTED_IN_BOUND_NAMESPACE[roleName][name],
            `${roleName} on ${name} in team-a`,
          );
          assert.equal(allowedVerbsByRequest(authorizer, user, target, 'team-b'), NONE, `${roleName} on ${name} in team-b`);
        }
      });
    }

    it(`cluster-admin through the system:masters binding (${variant})`, () => {
      for (const [name, target] of Object.entries(TARGETS)) {
        for (const ns of ['team-a', 'team-b'])
          assert.equal(allowedVerbsByRequest(authorizer, ADMIN_CERT, target, ns), ALL, `${name} in ${ns}`);
      }
      const nonResource = authorizer.authorize(nonResourceRequestAttributes(ADMIN_CERT, 'DELETE', '/anything/at/all'));
      assert.equal(nonResource.decision, 'allow');
      assert.equal(
        authorizer.authorize(request(ADMIN_CERT, 'get', TARGETS.nodes, '')).reason,
        'RBAC: allowed by ClusterRoleBinding "cluster-admin" of ClusterRole "cluster-admin" to Group "system:masters"',
      );
    });
  }

  it('names the binding that allowed a request, and stays silent (no-opinion) otherwise', () => {
    const authorizer = new RbacAuthorizer(sourceOf(defaultPolicy({ roleBindings: userFacingBindings })));
    assert.deepEqual(authorizer.authorize(request(ALICE, 'create', TARGETS.rolebindings, 'team-a')), {
      decision: 'allow',
      reason: 'RBAC: allowed by RoleBinding "alice-admin/team-a" of ClusterRole "admin" to User "alice"',
    });
    assert.deepEqual(authorizer.authorize(request(VERA, 'get', TARGETS.secrets, 'team-a')), {
      decision: 'no-opinion',
      reason: '',
    });
  });

  it('system:masters has no special case: without the cluster-admin binding it gets nothing', () => {
    const policy = defaultPolicy();
    policy.clusterRoleBindings = policy.clusterRoleBindings.filter((b) => b.metadata.name !== 'cluster-admin');
    const authorizer = new RbacAuthorizer(sourceOf(policy));
    assert.equal(authorizer.authorize(request(ADMIN_CERT, 'get', TARGETS.pods, 'team-a')).decision, 'no-opinion');
  });
});

describe('custom roles and subjects', () => {
  const policy = defaultPolicy({
    clusterRoles: [
      clusterRole('scaler', [{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['get', 'update', 'patch'] }]),
      clusterRole('health-checker', [{ nonResourceURLs: ['/healthz', '/api/*'], verbs: ['get'] }]),
      clusterRole('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]),
    ],
    clusterRoleBindings: [
      clusterRoleBinding('prober', 'health-checker', [{ kind: 'User', name: 'prober' }]),
      // A ServiceAccount subject of a ClusterRoleBinding must name its namespace; without one it matches nobody.
      clusterRoleBinding('unqualified-sa', 'pod-reader', [{ kind: 'ServiceAccount', name: 'builder' }]),
    ],
    roles: [
      role('team-a', 'app-config-editor', [
        { apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'], verbs: ['get', 'update'] },
      ]),
      role('team-a', 'deployer', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'update'] }]),
    ],
    roleBindings: [
      roleBinding('team-a', 'rita', { kind: 'Role', name: 'app-config-editor' }, [{ kind: 'User', name: 'rita' }]),
      roleBinding('team-a', 'sam-scales', { kind: 'ClusterRole', name: 'scaler' }, [{ kind: 'User', name: 'sam' }]),
      // Namespace omitted: the ServiceAccount of the binding's namespace.
      roleBinding('team-a', 'builder-deploys', { kind: 'Role', name: 'deployer' }, [{ kind: 'ServiceAccount', name: 'builder' }]),
      roleBinding('team-b', 'qa-edit', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'Group', name: 'qa' }]),
      roleBinding('team-b', 'team-b-sas-view', { kind: 'ClusterRole', name: 'view' }, [
        { kind: 'Group', name: 'system:serviceaccounts:team-b' },
      ]),
      roleBinding('team-b', 'ci-reads', { kind: 'ClusterRole', name: 'pod-reader' }, [
        { kind: 'ServiceAccount', name: 'ci', namespace: 'tools' },
      ]),
      roleBinding('team-a', 'ghost', { kind: 'Role', name: 'ghost' }, [{ kind: 'User', name: 'casper' }]),
    ],
  });
  const authorizer = new RbacAuthorizer(sourceOf(policy));
  const can = (attrs: RequestAttributes) => authorizer.authorize(attrs).decision === 'allow';
  const res = (
    user: UserInfo,
    verb: string,
    resource: string,
    ns: string,
    extra: Partial<RequestAttributes> = {},
  ): RequestAttributes => ({
    user,
    verb,
    resourceRequest: true,
    apiGroup: '',
    resource,
    namespace: ns,
    ...extra,
  });

  it('a namespaced Role with resourceNames grants only the named object', () => {
    const rita = person('rita');
    assert.equal(can(res(rita, 'get', 'configmaps', 'team-a', { name: 'app-config' })), true);
    assert.equal(can(res(rita, 'update', 'configmaps', 'team-a', { name: 'app-config' })), true);
    assert.equal(can(res(rita, 'delete', 'configmaps', 'team-a', { name: 'app-config' })), false);
    assert.equal(can(res(rita, 'get', 'configmaps', 'team-a', { name: 'other' })), false);
    // A list has no name, so a rule restricted to names never allows it.
    assert.equal(can(res(rita, 'list', 'configmaps', 'team-a')), false);
    assert.equal(can(res(rita, 'get', 'configmaps', 'team-b', { name: 'app-config' })), false);
  });

  it('a `*/scale` rule grants the scale subresource of every kind and nothing else', () => {
    const sam = person('sam');
    assert.equal(can(res(sam, 'update', 'deployments', 'team-a', { apiGroup: 'apps', subresource: 'scale', name: 'web' })), true);
    assert.equal(can(res(sam, 'patch', 'statefulsets', 'team-a', { apiGroup: 'apps', subresource: 'scale', name: 'db' })), true);
    assert.equal(can(res(sam, 'get', 'replicationcontrollers', 'team-a', { subresource: 'scale', name: 'rc' })), true);
    assert.equal(can(res(sam, 'update', 'deployments', 'team-a', { apiGroup: 'apps', name: 'web' })), false);
    assert.equal(can(res(sam, 'get', 'deployments', 'team-a', { apiGroup: 'apps', subresource: 'status', name: 'web' })), false);
    assert.equal(can(res(sam, 'get', 'scale', 'team-a', { name: 'x' })), false);
    assert.equal(
      can(res(sam, 'delete', 'deployments', 'team-a', { apiGroup: 'apps', subresource: 'scale', name: 'web' })),
      false,
    );
    assert.equal(
      can(res(sam, 'update', 'deployments', 'team-b', { apiGroup: 'apps', subresource: 'scale', name: 'web' })),
      false,
    );
  });

  it('group subjects', () => {
    const quinn = person('quinn', 'qa');
    assert.equal(can(res(quinn, 'create', 'pods', 'team-b')), true);
    assert.equal(can(res(quinn, 'create', 'pods', 'team-a')), false);
    assert.equal(can(res(person('quinn'), 'create', 'pods', 'team-b')), false);
  });

  it('service account subjects match the service account username; its groups are matched as groups', () => {
    const builder = serviceAccountUser('team-a', 'builder');
    assert.deepEqual(builder, {
      name: 'system:serviceaccount:team-a:builder',
      groups: ['system:serviceaccounts', 'system:serviceaccounts:team-a', 'system:authenticated'],
    });
    assert.deepEqual(authorizer.authorize(res(builder, 'create', 'deployments', 'team-a', { apiGroup: 'apps' })), {
      decision: 'allow',
      reason: 'RBAC: allowed by RoleBinding "builder-deploys/team-a" of Role "deployer" to ServiceAccount "builder/team-a"',
    });
    // Same name in another namespace, or a user merely called "builder": no.
    assert.equal(
      can(res(serviceAccountUser('team-b', 'builder'), 'create', 'deployments', 'team-a', { apiGroup: 'apps' })),
      false,
    );
    assert.equal(can(res(person('builder'), 'create', 'deployments', 'team-a', { apiGroup: 'apps' })), false);
    // The unqualified ServiceAccount subject of a ClusterRoleBinding matches nobody.
    assert.equal(can(res(builder, 'get', 'pods', 'team-c', { name: 'p' })), false);
    // A ServiceAccount of another namespace bound explicitly.
    assert.equal(can(res(serviceAccountUser('tools', 'ci'), 'list', 'pods', 'team-b')), true);
    assert.equal(can(res(serviceAccountUser('team-c', 'ci'), 'list', 'pods', 'team-b')), false);
    // Every service account of team-b through the system:serviceaccounts:team-b group.
    assert.equal(can(res(serviceAccountUser('team-b', 'anything'), 'list', 'pods', 'team-b')), true);
    assert.equal(can(res(serviceAccountUser('team-b', 'anything'), 'list', 'secrets', 'team-b')), false);
    assert.equal(can(res(serviceAccountUser('team-a', 'anything'), 'list', 'pods', 'team-b')), false);
  });

  it('nonResourceURLs: exact paths and trailing-* prefixes', () => {
    const prober = { name: 'prober', groups: [] };
    const get = (path: string, method = 'GET') =>
      authorizer.authorize(nonResourceRequestAttributes(prober, method, path)).decision;
    assert.equal(get('/healthz'), 'allow');
    assert.equal(get('/healthz/etcd'), 'no-opinion');
    assert.equal(get('/api/v1'), 'allow');
    assert.equal(get('/api/'), 'allow');
    assert.equal(get('/api'), 'no-opinion');
    assert.equal(get('/apis/apps/v1'), 'no-opinion');
    assert.equal(get('/healthz', 'POST'), 'no-opinion');
    // A non-resource rule never grants a resource request.
    assert.equal(can(res(prober, 'get', 'pods', 'team-a', { name: 'p' })), false);
  });

  it('anonymous and authenticated users get the public and discovery URLs from the default bindings', () => {
    const anonymous = { name: 'system:anonymous', groups: ['system:unauthenticated'] };
    const nobody = person('nobody');
    const get = (user: UserInfo, path: string) => authorizer.authorize(nonResourceRequestAttributes(user, 'GET', path)).decision;
    assert.equal(get(anonymous, '/healthz'), 'allow');
    assert.equal(get(anonymous, '/version'), 'allow');
    assert.equal(get(anonymous, '/api'), 'no-opinion');
    assert.equal(get(anonymous, '/metrics'), 'no-opinion');
    assert.equal(get(nobody, '/api'), 'allow');
    assert.equal(get(nobody, '/apis/apps/v1'), 'allow');
    assert.equal(get(nobody, '/openapi/v3'), 'allow');
    assert.equal(get(nobody, '/metrics'), 'no-opinion');
    assert.equal(
      can({
        user: nobody,
        verb: 'create',
        resourceRequest: true,
        apiGroup: 'authorization.k8s.io',
        resource: 'selfsubjectrulesreviews',
      }),
      true,
    );
    assert.equal(can(res(nobody, 'list', 'pods', 'default')), false);
  });

  it('a binding to a missing role grants nothing and says why', () => {
    assert.deepEqual(authorizer.authorize(res(person('casper'), 'get', 'pods', 'team-a', { name: 'p' })), {
      decision: 'no-opinion',
      reason: 'RBAC: role.rbac.authorization.k8s.io "ghost" not found',
    });
  });

  it('rulesFor reports the rules of a SelfSubjectRulesReview', () => {
    const rita = rbacRulesOf(authorizer, person('rita'), 'team-a');
    assert.deepEqual(
      rita.resourceRules.filter((r) => r.resources?.includes('configmaps')),
      [{ verbs: ['get', 'update'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['app-config'] }],
    );
    assert.ok(rita.resourceRules.some((r) => r.resources?.includes('selfsubjectrulesreviews')));
    assert.ok(rita.nonResourceRules.some((r) => r.nonResourceURLs?.includes('/apis/*') && r.verbs.includes('get')));
    assert.equal(rita.incomplete, false);
    assert.equal(rita.evaluationError, undefined);
    // In another namespace only the cluster-wide rules remain.
    assert.equal(
      rbacRulesOf(authorizer, person('rita'), 'team-b').resourceRules.some((r) => r.resources?.includes('configmaps')),
      false,
    );
    const casper = rbacRulesOf(authorizer, person('casper'), 'team-a');
    assert.equal(casper.incomplete, true);
    assert.equal(casper.evaluationError, 'role.rbac.authorization.k8s.io "ghost" not found');
  });

  it('allowedVerbs lists what a user may do with a resource', () => {
    assert.deepEqual(
      authorizer.allowedVerbs(person('rita'), { namespace: 'team-a', resource: 'configmaps', name: 'app-config' }),
      ['get', 'update'],
    );
    assert.deepEqual(
      authorizer.allowedVerbs(person('quinn', 'qa'), { namespace: 'team-b', apiGroup: RBAC, resource: 'roles' }),
      [],
    );
    assert.deepEqual(authorizer.allowedVerbs(ADMIN_CERT, { resource: 'nodes' }), ['*']);
  });
});

function rbacRulesOf(authorizer: RbacAuthorizer, user: UserInfo, ns: string) {
  return authorizer.rulesFor(user, ns);
}

describe('request attributes', () => {
  it('the Namespace object is "in" itself, as kube RequestInfo reports it', () => {
    const attrs = resourceRequestAttributes(ALICE, {
      group: '',
      namespace: '',
      resource: 'namespaces',
      name: 'team-a',
      subresource: '',
      verb: 'get',
    });
    assert.equal(attrs.namespace, 'team-a');
    const authorizer = new RbacAuthorizer(sourceOf(defaultPolicy({ roleBindings: userFacingBindings })));
    assert.equal(authorizer.authorize(attrs).decision, 'allow');
    const listAll = resourceRequestAttributes(ALICE, {
      group: '',
      namespace: '',
      resource: 'namespaces',
      name: '',
      subresource: '',
      verb: 'list',
    });
    assert.equal(listAll.namespace, '');
    assert.equal(authorizer.authorize(listAll).decision, 'no-opinion');
  });

  it('non-resource verbs are the lower-cased HTTP method', () => {
    assert.deepEqual(nonResourceRequestAttributes(ALICE, 'POST', '/x'), {
      user: ALICE,
      verb: 'post',
      resourceRequest: false,
      path: '/x',
    });
  });

  it('ruleAllows is kube RuleAllows', () => {
    const rule: PolicyRule = { apiGroups: ['apps'], resources: ['deployments', '*/status'], verbs: ['get'] };
    const base = { user: ALICE, verb: 'get', resourceRequest: true, apiGroup: 'apps', namespace: 'n' };
    assert.equal(ruleAllows({ ...base, resource: 'deployments' }, rule), true);
    assert.equal(ruleAllows({ ...base, resource: 'replicasets', subresource: 'status' }, rule), true);
    assert.equal(ruleAllows({ ...base, resource: 'replicasets' }, rule), false);
    assert.equal(ruleAllows({ ...base, resource: 'deployments', apiGroup: 'extensions' }, rule), false);
  });
});

// --- aggregation --------------------------------------------------------------------------------------

describe('ClusterRole aggregation', () => {
  const r1: PolicyRule = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
  const r2: PolicyRule = { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get'] };
  const r3: PolicyRule = { apiGroups: ['batch'], resources: ['jobs'], verbs: ['get'] };

  it('collects rules of matching roles sorted by name, without duplicates, nested to a fixed point', () => {
    const roles: ClusterRole[] = [
      { metadata: { name: 'outer' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'to-outer': 'true' } }] } },
      {
        metadata: { name: 'inner', labels: { 'to-outer': 'true' } },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'to-inner': 'true' } }] },
        rules: [{ apiGroups: ['stale'], resources: ['x'], verbs: ['get'] }],
      },
      clusterRole('zz-part', [r1, r3], { 'to-inner': 'true' }),
      clusterRole('aa-part', [r2, { ...r1, apiGroups: [''] }], { 'to-inner': 'true' }),
      clusterRole('direct', [r3], { 'to-outer': 'true' }),
      clusterRole('unlabelled', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
      {
        metadata: { name: 'broken' },
        aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'bad key!': 'x' } }] },
        rules: [r2],
      },
    ];
    const aggregated = aggregateClusterRoles(roles);
    assert.deepEqual(aggregated.get('inner'), [r2, r1, r3]);
    // outer: "direct" (r3) then "inner" (its aggregated rules), r3 not repeated.
    assert.deepEqual(aggregated.get('outer'), [r3, r2, r1]);
    assert.equal(aggregated.has('zz-part'), false);
    assert.equal(aggregated.has('broken'), false);
  });

  it('a new aggregate-to-view role extends view, edit and admin once the authorizer sees the new version', () => {
    const policy = defaultPolicy({ roleBindings: userFacingBindings });
    const source = sourceOf(policy);
    const authorizer = new RbacAuthorizer(source);
    const listWidgets = (user: UserInfo) =>
      request(user, 'list', { apiGroup: 'example.com', resource: 'widgets', scope: 'namespaced' }, 'team-a');
    assert.equal(authorizer.authorize(listWidgets(VERA)).decision, 'no-opinion');
    policy.clusterRoles = [
      ...policy.clusterRoles,
      clusterRole('widgets-view', [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list', 'watch'] }], {
        'rbac.authorization.k8s.io/aggregate-to-view': 'true',
      }),
    ];
    // Same version: the cached policy still answers.
    assert.equal(authorizer.authorize(listWidgets(VERA)).decision, 'no-opinion');
    source.bump();
    for (const user of [VERA, EDDIE, ALICE]) assert.equal(authorizer.authorize(listWidgets(user)).decision, 'allow', user.name);
  });

  it('with cluster and namespace versions, a namespaced change re-reads only its namespace, at once', () => {
    const policy = defaultPolicy();
    let cluster = 1;
    const namespaces = new Map<string, number>();
    let changes = 1;
    const base = sourceOf(policy, false);
    const source: RbacPolicySource = {
      ...base,
      clusterVersion: () => cluster,
      namespaceVersion: (ns) => namespaces.get(ns) ?? 0,
    };
    const authorizer = new RbacAuthorizer(source);
    const dana = person('dana');
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-a')).decision, 'no-opinion');
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-b')).decision, 'no-opinion');
    const clusterReads = base.reads;

    policy.roleBindings.push(
      roleBinding('team-a', 'dana', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'dana' }]),
    );
    namespaces.set('team-a', ++changes);
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-a')).decision, 'allow');
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-b')).decision, 'no-opinion');
    assert.equal(base.reads, clusterReads, 'no ClusterRole was re-read for a RoleBinding');

    // A ClusterRole change still reaches every namespace's decisions.
    policy.clusterRoles = policy.clusterRoles.map((r) =>
      r.metadata.name === 'view'
        ? { ...r, aggregationRule: undefined, rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get'] }] }
        : r,
    );
    cluster = ++changes;
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-a')).decision, 'no-opinion');
    assert.equal(base.reads, clusterReads + 1);
  });

  it('the stored policy versions ClusterRoles and each namespace apart', async () => {
    const store = SqliteRevisionStore.open(':memory:');
    const stored = new StoredRbacPolicy(store);
    try {
      const versions = () => [stored.clusterVersion(), stored.namespaceVersion('team-a'), stored.namespaceVersion('team-b')];
      const settle = () => new Promise((r) => setImmediate(r));
      const before = versions();
      store.create(
        `/registry/rolebindings.${RBAC}/team-a/dana`,
        roleBinding('team-a', 'dana', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'dana' }]) as never,
      );
      await settle();
      const afterBinding = versions();
      assert.equal(afterBinding[0], before[0], 'a RoleBinding leaves the cluster version');
      assert.notEqual(afterBinding[1], before[1], "it moves its namespace's version");
      assert.equal(afterBinding[2], before[2], 'and no other namespace');
      store.create(`/registry/clusterroles.${RBAC}/widgets`, clusterRole('widgets', []) as never);
      await settle();
      assert.notEqual(stored.clusterVersion(), afterBinding[0]);
      assert.equal(stored.namespaceVersion('team-a'), afterBinding[1]);
    } finally {
      stored.close();
      store.close();
    }
  });

  it('invalidate() re-reads a source without a version', () => {
    const policy = defaultPolicy();
    const source = sourceOf(policy, false);
    const authorizer = new RbacAuthorizer(source);
    const dana = person('dana');
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-a')).decision, 'no-opinion');
    policy.roleBindings.push(
      roleBinding('team-a', 'dana', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'dana' }]),
    );
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-a')).decision, 'no-opinion');
    authorizer.invalidate();
    assert.equal(authorizer.authorize(request(dana, 'get', TARGETS.pods, 'team-a')).decision, 'allow');
  });
});

// --- bootstrap policy ------------------------------------------------------------------------------------

describe('bootstrap policy', () => {
  const roles = defaultClusterRoles();
  const bindings = defaultClusterRoleBindings();
  const byName = new Map(roles.map((r) => [r.metadata.name, r]));

  it('labels and annotates every object as kube does, with unique names', () => {
    const all = [...roles, ...bindings, ...defaultRoles(), ...defaultRoleBindings()];
    for (const o of all) {
      assert.equal(o.metadata.labels?.['kubernetes.io/bootstrapping'], 'rbac-defaults', o.metadata.name);
      assert.equal(o.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate'], 'true', o.metadata.name);
      assert.equal(o.apiVersion, 'rbac.authorization.k8s.io/v1');
    }
    assert.equal(new Set(roles.map((r) => r.metadata.name)).size, roles.length);
    assert.equal(new Set(bindings.map((b) => b.metadata.name)).size, bindings.length);
    for (const b of bindings) assert.ok(byName.has(b.roleRef.name), `${b.metadata.name} refers to an existing role`);
  });

  it('binds cluster-admin to system:masters and the public roles as kube does', () => {
    const subjects = (name: string) =>
      bindings.find((b) => b.metadata.name === name)?.subjects?.map((s) => `${s.kind}:${s.name}`);
    assert.deepEqual(subjects('cluster-admin'), ['Group:system:masters']);
    assert.deepEqual(subjects('system:public-info-viewer'), ['Group:system:authenticated', 'Group:system:unauthenticated']);
    assert.deepEqual(subjects('system:discovery'), ['Group:system:authenticated']);
    assert.deepEqual(subjects('system:basic-user'), ['Group:system:authenticated']);
    assert.deepEqual(subjects('system:kube-scheduler'), ['User:system:kube-scheduler']);
    assert.deepEqual(subjects('system:kube-controller-manager'), ['User:system:kube-controller-manager']);
    assert.equal(subjects('system:node'), undefined);
  });

  it('admin, edit and view aggregate through the aggregate-to-* labels', () => {
    const selectorLabel = (name: string) =>
      Object.keys(byName.get(name)?.aggregationRule?.clusterRoleSelectors?.[0]?.matchLabels ?? {});
    assert.deepEqual(selectorLabel('admin'), ['rbac.authorization.k8s.io/aggregate-to-admin']);
    assert.deepEqual(selectorLabel('edit'), ['rbac.authorization.k8s.io/aggregate-to-edit']);
    assert.deepEqual(selectorLabel('view'), ['rbac.authorization.k8s.io/aggregate-to-view']);
    assert.equal(byName.get('edit')?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
    assert.equal(byName.get('view')?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
  });

  it('has a role and a kube-system service account binding for each in-process controller', () => {
    const controllers = [
      'deployment-controller',
      'replicaset-controller',
      'statefulset-controller',
      'daemon-set-controller',
      'job-controller',
      'cronjob-controller',
      'namespace-controller',
      'generic-garbage-collector',
      'endpoint-controller',
      'endpointslice-controller',
      'service-account-controller',
      'node-controller',
      'persistent-volume-binder',
      'horizontal-pod-autoscaler',
      'disruption-controller',
      'resourcequota-controller',
      'ttl-after-finished-controller',
      'root-ca-cert-publisher',
      'clusterrole-aggregation-controller',
    ];
    const controllerBindings = new Map(controllerRoleBindings().map((b) => [b.metadata.name, b]));
    for (const c of controllers) {
      const name = `system:controller:${c}`;
      assert.ok(byName.has(name), name);
      assert.deepEqual(controllerBindings.get(name)?.subjects, [{ kind: 'ServiceAccount', name: c, namespace: 'kube-system' }]);
    }
  });

  it('controller service accounts can do their jobs and no more', () => {
    const authorizer = new RbacAuthorizer(sourceOf(defaultPolicy()));
    const sa = (name: string) => serviceAccountUser('kube-system', name);
    const can = (user: UserInfo, verb: string, apiGroup: string, resource: string, subresource = '', ns = 'team-a') =>
      authorizer.authorize({
        user,
        verb,
        resourceRequest: true,
        apiGroup,
        resource,
        subresource,
        namespace: ns,
        name: verb === 'create' ? '' : 'x',
      }).decision === 'allow';
    const deployments = sa('deployment-controller');
    assert.equal(can(deployments, 'create', 'apps', 'replicasets'), true);
    assert.equal(can(deployments, 'update', 'apps', 'deployments', 'status'), true);
    assert.equal(can(deployments, 'delete', 'apps', 'deployments'), false);
    assert.equal(can(deployments, 'create', '', 'pods'), false);
    const replicasets = sa('replicaset-controller');
    assert.equal(can(replicasets, 'create', '', 'pods'), true);
    assert.equal(can(replicasets, 'create', 'events.k8s.io', 'events'), true);
    const gc = sa('generic-garbage-collector');
    assert.equal(can(gc, 'delete', 'example.com', 'widgets'), true);
    assert.equal(can(gc, 'create', '', 'pods'), false);
    assert.equal(can(sa('namespace-controller'), 'deletecollection', 'anything.io', 'things'), true);
    assert.equal(can(sa('namespace-controller'), 'update', '', 'namespaces', 'finalize', ''), true);
    assert.equal(can(sa('horizontal-pod-autoscaler'), 'update', 'apps', 'deployments', 'scale'), true);
    assert.equal(can(sa('disruption-controller'), 'update', 'apps', 'deployments', 'scale'), false);
    assert.equal(can(sa('resourcequota-controller'), 'update', '', 'resourcequotas', 'status'), true);
    assert.equal(can(sa('resourcequota-controller'), 'update', '', 'resourcequotas'), false);
    // A controller's account in another namespace is not the controller.
    assert.equal(can(serviceAccountUser('team-a', 'deployment-controller'), 'create', 'apps', 'replicasets'), false);
    const scheduler = { name: 'system:kube-scheduler', groups: ['system:authenticated'] };
    assert.equal(can(scheduler, 'create', '', 'pods', 'binding'), true);
    // Its lease by name anywhere (the ClusterRole), other leases only through the kube-system Role.
    assert.equal(can(scheduler, 'update', coordination, 'leases', '', 'team-a'), false);
    assert.equal(can(scheduler, 'update', coordination, 'leases', '', 'kube-system'), true);
    assert.equal(
      authorizer.authorize({
        user: scheduler,
        verb: 'update',
        resourceRequest: true,
        apiGroup: coordination,
        resource: 'leases',
        namespace: 'team-a',
        name: 'kube-scheduler',
      }).decision,
      'allow',
    );
  });
});

const coordination = 'coordination.k8s.io';

// --- escalation ------------------------------------------------------------------------------------------

describe('escalation prevention', () => {
  it('ruleCovers breaks rules down the way kube Covers does', () => {
    const pods = (verbs: string[], extra: Partial<PolicyRule> = {}): PolicyRule => ({
      apiGroups: [''],
      resources: ['pods'],
      verbs,
      ...extra,
    });
    assert.equal(ruleCovers([pods(['get', 'list'])], pods(['get'])), true);
    assert.equal(ruleCovers([pods(['get'])], pods(['get', 'list'])), false);
    assert.equal(ruleCovers([pods(['get']), pods(['list'])], pods(['get', 'list'])), true, 'covered by two rules together');
    assert.equal(ruleCovers([pods(['*'])], pods(['escalate'])), true);
    assert.equal(
      ruleCovers([{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['get'] }], {
        apiGroups: ['apps'],
        resources: ['deployments/scale'],
        verbs: ['get'],
      }),
      true,
    );
    assert.equal(
      ruleCovers([{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['get'] }], {
        apiGroups: ['apps'],
        resources: ['deployments'],
        verbs: ['get'],
      }),
      false,
    );
    // Names: a named owner rule covers the same names only; an unnamed one covers any name.
    assert.equal(ruleCovers([pods(['get'], { resourceNames: ['a'] })], pods(['get'])), false);
    assert.equal(ruleCovers([pods(['get'], { resourceNames: ['a', 'b'] })], pods(['get'], { resourceNames: ['b'] })), true);
    assert.equal(ruleCovers([pods(['get'])], pods(['get'], { resourceNames: ['z'] })), true);
    // Non-resource URLs.
    assert.equal(
      ruleCovers([{ nonResourceURLs: ['/api/*'], verbs: ['get'] }], { nonResourceURLs: ['/api/v1'], verbs: ['get'] }),
      true,
    );
    assert.equal(
      ruleCovers([{ nonResourceURLs: ['/api/*'], verbs: ['get'] }], { nonResourceURLs: ['/apis'], verbs: ['get'] }),
      false,
    );
    assert.equal(
      ruleCovers([{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], { nonResourceURLs: ['/healthz'], verbs: ['get'] }),
      false,
    );
  });

  it('confirmNoEscalation returns the missing atomic rules; they compact to kube wording', () => {
    const { ok, missing } = confirmNoEscalation(
      [{ apiGroups: [''], resources: ['pods'], verbs: ['*'] }],
      [
        { apiGroups: [''], resources: ['pods', 'secrets'], verbs: ['get', 'list'] },
        { nonResourceURLs: ['/metrics'], verbs: ['get'] },
      ],
    );
    assert.equal(ok, false);
    assert.deepEqual(missing, [
      { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['list'] },
      { nonResourceURLs: ['/metrics'], verbs: ['get'] },
    ]);
    assert.deepEqual(compactRules(missing).map(compactString).sort(), [
      '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
      '{NonResourceURLs:["/metrics"], Verbs:["get"]}',
    ]);
    assert.equal(
      breakdownRule({ apiGroups: ['a', 'b'], resources: ['x'], resourceNames: ['n1', 'n2'], verbs: ['get'] }).length,
      4,
    );
    assert.equal(goQuote('say "hi"\n'), '"say \\"hi\\"\\n"');
  });

  // dev may manage pods and create roles and bindings in team-a, but holds no secrets rights.
  const devRole = role('team-a', 'dev', [
    { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
    { apiGroups: [RBAC], resources: ['roles', 'rolebindings'], verbs: ['create', 'update'] },
  ]);
  const secretReader = clusterRole('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
  const podReader = clusterRole('pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }]);
  const dev = person('dev', 'devs');
  const DEV_GROUPS = '(groups=["devs" "system:authenticated"])';

  function devContext(extraRoles: Role[] = [], extraBindings: RoleBinding[] = [], ns = 'team-a') {
    const policy = defaultPolicy({
      clusterRoles: [secretReader, podReader],
      roles: [devRole, ...extraRoles],
      roleBindings: [
        roleBinding('team-a', 'dev', { kind: 'Role', name: 'dev' }, [{ kind: 'Group', name: 'devs' }]),
        ...extraBindings,
      ],
    });
    const authorizer = new RbacAuthorizer(sourceOf(policy));
    return { user: dev, namespace: ns, ruleResolver: authorizer };
  }

  const newRole = (name: string, rules: PolicyRule[], ns = 'team-a') => role(ns, name, rules);

  it('a user cannot create a Role granting what they do not hold (kube message)', () => {
    const result = checkRoleWrite(
      devContext(),
      'roles',
      newRole('secret-getter', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]),
    );
    assert.equal(result.allowed, false);
    assert.ok(!result.allowed);
    assert.equal(
      result.message,
      `roles.rbac.authorization.k8s.io "secret-getter" is forbidden: user "dev" ${DEV_GROUPS} is attempting to grant RBAC permissions not currently held:\n` +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
    assert.ok(isStatusError(result.error));
    assert.equal(result.error.code, 403);
    assert.deepEqual(result.error.status.details, { name: 'secret-getter', group: RBAC, kind: 'roles' });
  });

  it('lists every missing permission, compacted and sorted', () => {
    const result = checkRoleWrite(
      devContext(),
      'roles',
      newRole('wide', [
        { apiGroups: [''], resources: ['secrets', 'configmaps'], verbs: ['get', 'list'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'deletecollection'] },
      ]),
    );
    assert.ok(!result.allowed);
    assert.equal(
      result.message,
      `roles.rbac.authorization.k8s.io "wide" is forbidden: user "dev" ${DEV_GROUPS} is attempting to grant RBAC permissions not currently held:\n` +
        '{APIGroups:[""], Resources:["configmaps"], Verbs:["get" "list"]}\n' +
        '{APIGroups:[""], Resources:["pods"], Verbs:["deletecollection"]}\n' +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get" "list"]}',
    );
  });

  it('a Role within the user’s own rights may be created; only in the namespace where they hold them', () => {
    const podRules = [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }];
    assert.deepEqual(checkRoleWrite(devContext(), 'roles', newRole('pods', podRules)), { allowed: true });
    const elsewhere = checkRoleWrite(devContext([], [], 'team-b'), 'roles', newRole('pods', podRules, 'team-b'));
    assert.ok(!elsewhere.allowed);
    assert.match(elsewhere.message, /Resources:\["pods"\], Verbs:\["get" "list"\]/);
  });

  it('the escalate verb lifts the check, also per resource name on update', () => {
    const escalateAll = role('team-a', 'escalator', [{ apiGroups: [RBAC], resources: ['roles'], verbs: ['escalate'] }]);
    const ctx = devContext(
      [escalateAll],
      [roleBinding('team-a', 'esc', { kind: 'Role', name: 'escalator' }, [{ kind: 'User', name: 'dev' }])],
    );
    const secrets = newRole('secret-getter', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
    assert.deepEqual(checkRoleWrite(ctx, 'roles', secrets), { allowed: true });

    const escalateOne = role('team-a', 'escalator', [
      { apiGroups: [RBAC], resources: ['roles'], resourceNames: ['special'], verbs: ['escalate'] },
    ]);
    const named = devContext(
      [escalateOne],
      [roleBinding('team-a', 'esc', { kind: 'Role', name: 'escalator' }, [{ kind: 'User', name: 'dev' }])],
    );
    // A create has no name in its request, so a name-restricted escalate does not apply.
    assert.equal(
      checkRoleWrite(named, 'roles', { ...secrets, metadata: { ...secrets.metadata, name: 'special' } }).allowed,
      false,
    );
    const old = newRole('special', []);
    assert.equal(
      checkRoleWrite(named, 'roles', { ...secrets, metadata: { ...secrets.metadata, name: 'special' } }, old).allowed,
      true,
    );
    assert.equal(checkRoleWrite(named, 'roles', secrets, newRole('secret-getter', [])).allowed, false);
  });

  it('system:masters may grant anything', () => {
    const ctx = {
      user: ADMIN_CERT,
      namespace: '',
      ruleResolver: new RbacAuthorizer(sourceOf({ clusterRoles: [], clusterRoleBindings: [], roles: [], roleBindings: [] })),
    };
    assert.deepEqual(
      checkRoleWrite(ctx, 'clusterroles', clusterRole('anything', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }])),
      { allowed: true },
    );
  });

  it('an aggregationRule needs full authority', () => {
    const roleWriter = clusterRole('role-writer', [
      { apiGroups: [RBAC], resources: ['clusterroles'], verbs: ['create', 'update'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get'] },
    ]);
    const authorizer = new RbacAuthorizer(
      sourceOf({
        clusterRoles: [roleWriter],
        clusterRoleBindings: [clusterRoleBinding('w', 'role-writer', [{ kind: 'User', name: 'wes' }])],
        roles: [],
        roleBindings: [],
      }),
    );
    const ctx = { user: person('wes'), namespace: '', ruleResolver: authorizer };
    const aggregated: ClusterRole = {
      metadata: { name: 'agg' },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { a: 'b' } }] },
      rules: [],
    };
    const result = checkRoleWrite(ctx, 'clusterroles', aggregated);
    assert.ok(!result.allowed);
    assert.equal(
      result.message,
      'clusterroles.rbac.authorization.k8s.io "agg" is forbidden: must have cluster-admin privileges to use the aggregationRule',
    );
    assert.deepEqual(
      checkRoleWrite(ctx, 'clusterroles', clusterRole('plain', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }])),
      { allowed: true },
    );
    // Removing an aggregationRule is a change to it too.
    assert.equal(checkRoleWrite(ctx, 'clusterroles', { metadata: { name: 'agg' }, rules: [] }, aggregated).allowed, false);
  });

  it('binding a role requires holding its rules, or the bind verb on it', () => {
    const binding = (name: string, roleName: string, kind = 'ClusterRole') =>
      roleBinding('team-a', name, { kind, name: roleName }, [{ kind: 'User', name: 'someone' }]);
    const ctx = devContext();
    assert.deepEqual(checkBindingWrite(ctx, 'rolebindings', binding('b1', 'pod-reader')), { allowed: true });
    const denied = checkBindingWrite(ctx, 'rolebindings', binding('b2', 'secret-reader'));
    assert.ok(!denied.allowed);
    assert.equal(
      denied.message,
      `rolebindings.rbac.authorization.k8s.io "b2" is forbidden: user "dev" ${DEV_GROUPS} is attempting to grant RBAC permissions not currently held:\n` +
        '{APIGroups:[""], Resources:["secrets"], Verbs:["get"]}',
    );
    const missing = checkBindingWrite(ctx, 'rolebindings', binding('b3', 'nope'));
    assert.ok(!missing.allowed);
    assert.equal(
      missing.message,
      'rolebindings.rbac.authorization.k8s.io "b3" is forbidden: clusterrole.rbac.authorization.k8s.io "nope" not found',
    );

    const binder = role('team-a', 'binder', [
      { apiGroups: [RBAC], resources: ['clusterroles'], resourceNames: ['secret-reader'], verbs: ['bind'] },
    ]);
    const withBind = devContext(
      [binder],
      [roleBinding('team-a', 'binder', { kind: 'Role', name: 'binder' }, [{ kind: 'User', name: 'dev' }])],
    );
    assert.deepEqual(checkBindingWrite(withBind, 'rolebindings', binding('b2', 'secret-reader')), { allowed: true });
    assert.equal(checkBindingWrite(withBind, 'rolebindings', binding('b4', 'admin')).allowed, false);
  });

  it("takes the server's authorizer chain (answering {allowed}) for the bind and escalate questions", () => {
    const asked: AuthorizationAttributes[] = [];
    const chain: WriteAuthorizer = {
      authorize: (a) => {
        asked.push(a);
        return { allowed: a.verb === 'bind' && a.resource === 'clusterroles' && a.name === 'secret-reader' };
      },
    };
    const ctx = { ...devContext(), authorizer: chain };
    const b = roleBinding('team-a', 'b', { kind: 'ClusterRole', name: 'secret-reader' }, [{ kind: 'User', name: 'x' }]);
    assert.deepEqual(checkBindingWrite(ctx, 'rolebindings', b), { allowed: true });
    assert.deepEqual(asked, [
      {
        user: dev,
        verb: 'bind',
        resourceRequest: true,
        apiGroup: RBAC,
        apiVersion: '*',
        resource: 'clusterroles',
        subresource: '',
        namespace: 'team-a',
        name: 'secret-reader',
        path: '',
      },
    ]);
    // The server's own Authorizer type fits, and its attributes are RBAC request attributes.
    const serverChain: WriteAuthorizer = mastersOnlyAuthorizer;
    assert.equal(
      checkRoleWrite(
        { ...devContext(), authorizer: serverChain },
        'roles',
        newRole('r', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }]),
      ).allowed,
      false,
    );
    const attrs: RequestAttributes = nonResourceAttributes(dev, 'GET', '/api');
    assert.equal(ctx.ruleResolver.authorize(attrs).decision, 'allow');
  });

  it('a ClusterRoleBinding is checked against cluster-wide rights only', () => {
    const ctx = { ...devContext(), namespace: '' };
    const crb = clusterRoleBinding('pods-everywhere', 'pod-reader', [{ kind: 'User', name: 'someone' }]);
    const result = checkBindingWrite(ctx, 'clusterrolebindings', crb);
    assert.ok(!result.allowed);
    assert.match(result.message, /^clusterrolebindings\.rbac\.authorization\.k8s\.io "pods-everywhere" is forbidden: user "dev"/);
  });

  it('updates that only touch garbage-collection fields are not checked', () => {
    const ctx = devContext();
    const old = roleBinding('team-a', 'b', { kind: 'ClusterRole', name: 'secret-reader' }, [{ kind: 'User', name: 'x' }]);
    const finalized = { ...old, metadata: { ...old.metadata, finalizers: ['example.com/keep'], resourceVersion: '9' } };
    assert.deepEqual(checkBindingWrite(ctx, 'rolebindings', finalized, old), { allowed: true });
    const resubjected = { ...old, subjects: [{ kind: 'User', name: 'y', apiGroup: RBAC }] };
    assert.equal(checkBindingWrite(ctx, 'rolebindings', resubjected, old).allowed, false);
  });
});

// --- performance -------------------------------------------------------------------------------------------

describe('performance', () => {
  it('authorizes 10,000 requests against 1,000 RoleBindings well within 200 ms', () => {
    const namespaces = Array.from({ length: 50 }, (_, i) => `ns-${i}`);
    const roleBindings: RoleBinding[] = [];
    const roles: Role[] = [];
    for (const ns of namespaces)
      roles.push(role(ns, 'deployer', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'update'] }]));
    for (let i = 0; i < 1000; i++) {
      const ns = namespaces[i % namespaces.length];
      const roleRef =
        i % 3 === 0 ? { kind: 'Role', name: 'deployer' } : { kind: 'ClusterRole', name: i % 3 === 1 ? 'edit' : 'view' };
      // A few bindings also name a group, shared by users across namespaces.
      const subjects: SubjectSpec[] = [{ kind: 'User', name: `user-${i}` }];
      if (i % 50 === 0) subjects.push({ kind: 'Group', name: `team-${i % 20}` });
      roleBindings.push(roleBinding(ns, `rb-${i}`, roleRef, subjects));
    }
    const source = sourceOf(defaultPolicy({ roles, roleBindings }));
    const authorizer = new RbacAuthorizer(source);
    const users = Array.from({ length: 1000 }, (_, i) => person(`user-${i}`, `team-${i % 20}`));
    const verbs = ['get', 'list', 'create', 'delete'];
    // Deterministic pseudo-random requests, half in the user's own namespace.
    let seed = 42;
    const next = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const requests: RequestAttributes[] = [];
    for (let i = 0; i < 10_000; i++) {
      const u = next() % users.length;
      const ns = next() % 2 === 0 ? namespaces[u % namespaces.length] : namespaces[next() % namespaces.length];
      requests.push({
        user: users[u],
        verb: verbs[next() % verbs.length],
        resourceRequest: true,
        apiGroup: '',
        resource: 'pods',
        namespace: ns,
        name: '',
      });
    }
    const start = process.hrtime.bigint();
    let allowed = 0;
    for (const r of requests) if (authorizer.authorize(r).decision === 'allow') allowed++;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.ok(ms < 200, `10,000 authorizations took ${ms.toFixed(1)} ms`);
    // A sanity check that the requests exercised both outcomes.
    assert.ok(allowed > 1000 && allowed < 9000, `allowed ${allowed}`);
    // The policy was read once, not per request.
    assert.equal(source.reads, 1);
  });
});
