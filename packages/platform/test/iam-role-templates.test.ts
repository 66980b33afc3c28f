// Canopy's RoleTemplates, Categories, built-in roles and bindings against KubeSphere 4.1's chart
// (../shared/reference/kubesphere-chart), and role aggregation from templates.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  aggregatedRole,
  aggregateRole,
  mergeRoleTemplateRules,
  roleTemplateSource,
  selectRoleTemplates,
  templatesOfRoles,
} from '../src/iam/aggregation.js';
import { formatRegoModule, parseRegoModule } from '../src/iam/rego.js';
import {
  builtinClusterRoles,
  builtinGlobalRoleBindings,
  builtinGlobalRoles,
  builtinRoles,
  instantiateBuiltinRoles,
  memberRoleBinding,
  projectRoleFor,
  roleTemplateCategories,
  roleTemplates,
  workspaceRoleFor,
} from '../src/iam/role-templates.js';
import type { IamRole, RoleTemplate } from '../src/iam/types.js';
import { type Doc, readChart } from './support/kubesphere-reference.js';

const REGO = 'iam.kubesphere.io/rego-override';
const canonicalRego = (text: string): string => formatRegoModule(parseRegoModule(text));

/** The annotations that carry meaning for clients, compared by value rather than spelling. */
function assertSameAnnotations(
  actual: Record<string, string> | undefined,
  expected: Record<string, string> | undefined,
  where: string,
  describedRole = true,
) {
  const a = actual ?? {};
  const e = expected ?? {};
  const meaningful = (k: string) => k.startsWith('iam.kubesphere.io/') || k === 'kubesphere.io/creator';
  assert.deepEqual(Object.keys(a).filter(meaningful).sort(), Object.keys(e).filter(meaningful).sort(), `${where}: annotation keys`);
  for (const key of Object.keys(e).filter(meaningful)) {
    if (key === REGO) assert.equal(canonicalRego(a[key]), canonicalRego(e[key]), `${where}: ${key}`);
    else if (key.endsWith('/role-template-rules') || key.endsWith('/dependencies')) {
      assert.deepEqual(JSON.parse(a[key]), JSON.parse(e[key]), `${where}: ${key}`);
    } else assert.equal(a[key], e[key], `${where}: ${key}`);
  }
  // Role descriptions are Canopy's own words, but must be there where KubeSphere has one, in both
  // languages. (Templates carry display names only.)
  if (describedRole && e['kubesphere.io/description']) {
    const description = JSON.parse(a['kubesphere.io/description'] ?? 'null');
    assert.ok(description?.en && description?.zh, `${where}: description in en and zh`);
  }
}

test('RoleTemplates: same names, scopes, categories, labels, rules and annotations as KubeSphere', () => {
  const reference = readChart('roletemplates.yaml');
  const ours = new Map(roleTemplates().map((t) => [t.metadata.name!, t]));
  assert.equal(reference.length, 65);
  assert.deepEqual([...ours.keys()].sort(), reference.map((t) => t.metadata.name).sort());
  for (const expected of reference) {
    const name = expected.metadata.name;
    const actual = ours.get(name)!;
    assert.equal(actual.apiVersion, 'iam.kubesphere.io/v1beta1');
    assert.equal(actual.kind, 'RoleTemplate');
    assert.deepEqual(actual.metadata.labels, expected.metadata.labels, `${name}: labels (scope, category, aggregation)`);
    assert.deepEqual(actual.spec.rules, expected.spec.rules, `${name}: rules`);
    assert.deepEqual(actual.spec.displayName, expected.spec.displayName, `${name}: display name`);
    assertSameAnnotations(actual.metadata.annotations, expected.metadata.annotations, name, false);
  }
});

test('Categories: same names, scopes and display names', () => {
  const reference = readChart('roletemplate-categories.yaml');
  const ours = roleTemplateCategories();
  assert.deepEqual(
    ours.map((c) => [c.metadata.name, c.metadata.labels, c.spec.displayName]).sort(),
    reference.map((c) => [c.metadata.name, c.metadata.labels, c.spec.displayName]).sort(),
  );
  // Every template's category exists, in the template's scope.
  const scopeOf = new Map(ours.map((c) => [c.metadata.name, c.metadata.labels!['iam.kubesphere.io/scope']]));
  for (const t of roleTemplates()) {
    const category = t.metadata.labels!['iam.kubesphere.io/category'];
    assert.equal(scopeOf.get(category), t.metadata.labels!['iam.kubesphere.io/scope'], `${t.metadata.name} in ${category}`);
  }
});

function assertSameRole(actual: IamRole, expected: Doc, where: string) {
  assert.equal(actual.kind, expected.kind, `${where}: kind`);
  assert.equal(actual.metadata.name, expected.metadata.name, `${where}: name`);
  assert.deepEqual(actual.rules ?? [], expected.rules ?? [], `${where}: rules`);
  assert.deepEqual(actual.aggregationRoleTemplates, expected.aggregationRoleTemplates, `${where}: aggregationRoleTemplates`);
  assertSameAnnotations(actual.metadata.annotations, expected.metadata.annotations, where);
}

test('GlobalRoles: platform-admin, platform-regular, platform-self-provisioner and the internal roles', () => {
  const reference = readChart('globalroles.yaml');
  const ours = new Map(builtinGlobalRoles().map((r) => [r.metadata.name!, r]));
  assert.deepEqual([...ours.keys()].sort(), reference.map((r) => r.metadata.name).sort());
  for (const expected of reference) assertSameRole(ours.get(expected.metadata.name)!, expected, `GlobalRole ${expected.metadata.name}`);
});

test('ClusterRoles: cluster-admin and cluster-viewer', () => {
  const reference = readChart('clusterroles.yaml');
  const ours = new Map(builtinClusterRoles().map((r) => [r.metadata.name!, r]));
  assert.deepEqual([...ours.keys()].sort(), reference.map((r) => r.metadata.name).sort());
  for (const expected of reference) assertSameRole(ours.get(expected.metadata.name)!, expected, `ClusterRole ${expected.metadata.name}`);
});

test('BuiltinRoles: the per-workspace and per-project roles', () => {
  const reference = readChart('builtinroles.yaml');
  const ours = new Map(builtinRoles().map((r) => [r.metadata.name!, r]));
  assert.deepEqual([...ours.keys()].sort(), reference.map((r) => r.metadata.name).sort());
  for (const expected of reference) {
    const name = expected.metadata.name;
    const actual = ours.get(name)!;
    assert.equal(actual.kind, 'BuiltinRole');
    assert.deepEqual(actual.metadata.labels, expected.metadata.labels, `${name}: labels`);
    assert.deepEqual(actual.targetSelector, expected.targetSelector, `${name}: targetSelector`);
    assert.equal(actual.role.apiVersion, expected.role.apiVersion);
    assertSameRole(actual.role, expected.role, `BuiltinRole ${name}`);
  }
});

test('GlobalRoleBindings: admin, anonymous, authenticated, pre-registration', () => {
  const reference = readChart('globalrolebindings.yaml');
  assert.deepEqual(
    builtinGlobalRoleBindings().sort((a, b) => a.metadata.name!.localeCompare(b.metadata.name!)),
    reference.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)),
  );
});

test('the reference rego policies, including platform-admin\'s folded one, parse', () => {
  for (const role of [...readChart('globalroles.yaml'), ...readChart('roletemplates.yaml')]) {
    const rego = role.metadata.annotations?.[REGO];
    if (rego) assert.doesNotThrow(() => parseRegoModule(rego), role.metadata.name);
  }
});

// --- aggregation ----------------------------------------------------------------------------

const source = roleTemplateSource(roleTemplates());
const byName = (roles: IamRole[], name: string) => roles.find((r) => r.metadata.name === name)!;
const templateNamesOf = (templates: RoleTemplate[]) => templates.map((t) => t.metadata.name).sort();

test('a role selector picks the templates of the role\'s own scope only', () => {
  const admin = byName(builtinGlobalRoles(), 'platform-admin');
  const selected = templateNamesOf(selectRoleTemplates(admin, source));
  assert.deepEqual(selected, roleTemplates().filter((t) => t.metadata.labels!['iam.kubesphere.io/scope'] === 'global').map((t) => t.metadata.name).sort());
  assert.equal(selected.length, 11);
  // A GlobalRole whose selector names a workspace label still gets global templates only.
  const odd: IamRole = {
    kind: 'GlobalRole',
    metadata: { name: 'odd' },
    aggregationRoleTemplates: { roleSelector: { matchLabels: { 'iam.kubesphere.io/aggregate-to-viewer': '' } } },
  };
  assert.deepEqual(templateNamesOf(selectRoleTemplates(odd, source)), []);
  // The workspace viewer label selects workspace templates for a WorkspaceRole.
  const viewer = workspaceRoleFor(builtinRoles().find((b) => b.metadata.name === 'workspace-viewer')!, 'ws1');
  assert.deepEqual(templateNamesOf(selectRoleTemplates(viewer, source)), [
    'workspace-delete-app-templates',
    'workspace-view-app-repos',
    'workspace-view-app-templates',
    'workspace-view-create-app-templates',
    'workspace-view-members',
    'workspace-view-projects',
    'workspace-view-roles',
    'workspace-view-workspace-settings',
  ]);
});

test('without a selector the named templates are taken and unknown names skipped', () => {
  const provisioner = byName(builtinGlobalRoles(), 'platform-self-provisioner');
  const result = aggregateRole(provisioner, source);
  assert.deepEqual(result.templateNames, ['global-create-workspaces']);
  assert.equal(result.changed, false, 'its rules already cover the template');
  const custom: IamRole = {
    kind: 'GlobalRole',
    metadata: { name: 'user-viewer' },
    aggregationRoleTemplates: { templateNames: ['global-view-users', 'no-such-template'] },
    rules: [],
  };
  const aggregated = aggregateRole(custom, source);
  assert.deepEqual(aggregated.templateNames, ['global-view-users']);
  assert.deepEqual(aggregated.rules, [{ apiGroups: ['*'], resources: ['users', 'users/loginrecords'], verbs: ['get', 'list', 'watch'] }]);
  assert.equal(aggregated.changed, true);
});

test('aggregation adds only what the role does not grant and keeps its own rules', () => {
  const regular = workspaceRoleFor(builtinRoles().find((b) => b.metadata.name === 'workspace-regular')!, 'ws1');
  assert.equal(regular.metadata.name, 'ws1-regular');
  assert.equal(regular.metadata.labels!['kubesphere.io/workspace'], 'ws1');
  const aggregated = aggregatedRole(regular, source);
  assert.deepEqual(aggregated.aggregationRoleTemplates!.templateNames, [
    'workspace-view-app-repos',
    'workspace-view-members',
    'workspace-view-roles',
    'workspace-view-workspace-settings',
  ]);
  assert.deepEqual(aggregated.rules, [
    { apiGroups: ['application.kubesphere.io'], resources: ['repos', 'repos/events'], verbs: ['get', 'list'] },
    { apiGroups: ['*'], resources: ['workspacemembers'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['*'], resources: ['workspaceroles'], verbs: ['get', 'list', 'watch'] },
    { apiGroups: ['*'], resources: ['workspaces'], verbs: ['get', 'list', 'watch'] },
  ]);
  // A role that grants everything gains no rules, only the template names.
  const admin = aggregatedRole(byName(builtinClusterRoles(), 'cluster-admin'), source);
  assert.deepEqual(admin.rules, byName(builtinClusterRoles(), 'cluster-admin').rules);
  assert.equal(admin.aggregationRoleTemplates!.templateNames!.length, 19);
  // Aggregating twice changes nothing.
  assert.equal(aggregateRole(aggregated, source).changed, false);
});

test('template rego policies are united with the role\'s own', () => {
  const clusterWatcher: IamRole = {
    kind: 'GlobalRole',
    metadata: { name: 'cluster-watcher' },
    aggregationRoleTemplates: { templateNames: ['global-view-clusters'] },
    rules: [],
  };
  const aggregated = aggregatedRole(clusterWatcher, source);
  const rego = aggregated.metadata.annotations![REGO];
  assert.match(rego, /allowedScopes\[_\] == input\.ResourceScope/);
  const admin = aggregatedRole(byName(builtinGlobalRoles(), 'platform-admin'), source);
  // platform-admin's own two policy rules equal the two templates' rules: nothing is repeated.
  assert.equal(parseRegoModule(admin.metadata.annotations![REGO]).rules.length, 2);
});

test('project roles are instantiated per namespace and aggregate namespace templates', () => {
  const operator = projectRoleFor(builtinRoles().find((b) => b.metadata.name === 'project-operator')!, 'p1');
  assert.equal(operator.metadata.namespace, 'p1');
  assert.equal(operator.metadata.name, 'operator');
  const names = aggregateRole(operator, source).templateNames;
  assert.ok(names.includes('namespace-manage-app-workloads'));
  assert.ok(!names.includes('namespace-manage-members'), 'operators do not manage members');
  assert.ok(!names.includes('namespace-manage-serviceaccount'));
  assert.throws(() => workspaceRoleFor(builtinRoles().find((b) => b.metadata.name === 'project-admin')!, 'ws1'), /does not hold a WorkspaceRole/);
});

test('role-template-rules annotations merge into module → actions for the console', () => {
  const provisioner = aggregatedRole(workspaceRoleFor(builtinRoles().find((b) => b.metadata.name === 'workspace-self-provisioner')!, 'ws1'), source);
  const viewer = aggregatedRole(workspaceRoleFor(builtinRoles().find((b) => b.metadata.name === 'workspace-viewer')!, 'ws1'), source);
  const rules = mergeRoleTemplateRules(templatesOfRoles([provisioner, viewer], source));
  assert.deepEqual(rules, {
    'app-repos': ['view'],
    projects: ['create', 'view'],
    members: ['view'],
    roles: ['view'],
    'workspace-settings': ['view'],
    'app-templates': ['view'],
  });
  const broken = { metadata: { name: 'x', annotations: { 'iam.kubesphere.io/role-template-rules': '{not json' } }, spec: { rules: [] } } as RoleTemplate;
  assert.deepEqual(mergeRoleTemplateRules([broken]), {});
});

test('built-in objects are fresh copies', () => {
  const first = roleTemplates();
  first[0].spec.rules.push({ verbs: ['*'] });
  assert.notDeepEqual(roleTemplates()[0].spec.rules, first[0].spec.rules);
});

test('BuiltinRoles instantiate per workspace, and per project only for managed namespaces', () => {
  const names = (roles: IamRole[]) => roles.map((r) => `${r.kind} ${r.metadata.namespace ?? ''}/${r.metadata.name}`).sort();
  assert.deepEqual(names(instantiateBuiltinRoles('workspace', { name: 'ws1' })), [
    'WorkspaceRole /ws1-admin',
    'WorkspaceRole /ws1-regular',
    'WorkspaceRole /ws1-self-provisioner',
    'WorkspaceRole /ws1-viewer',
  ]);
  assert.deepEqual(names(instantiateBuiltinRoles('namespace', { name: 'p1', labels: { 'kubesphere.io/managed': 'true' } })), [
    'Role p1/admin',
    'Role p1/operator',
    'Role p1/viewer',
  ]);
  assert.deepEqual(instantiateBuiltinRoles('namespace', { name: 'kube-system', labels: {} }), []);
});

test('member bindings are named and labelled as KubeSphere\'s member APIs write them', () => {
  assert.deepEqual(memberRoleBinding('WorkspaceRoleBinding', 'bob', 'ws1-viewer', { workspace: 'ws1' }), {
    apiVersion: 'iam.kubesphere.io/v1beta1',
    kind: 'WorkspaceRoleBinding',
    metadata: {
      name: 'bob-ws1-viewer',
      labels: { 'iam.kubesphere.io/user-ref': 'bob', 'iam.kubesphere.io/role-ref': 'ws1-viewer', 'kubesphere.io/workspace': 'ws1' },
    },
    roleRef: { apiGroup: 'iam.kubesphere.io', kind: 'WorkspaceRole', name: 'ws1-viewer' },
    subjects: [{ apiGroup: 'iam.kubesphere.io', kind: 'User', name: 'bob' }],
  });
  const rb = memberRoleBinding('RoleBinding', 'bob', 'operator', { namespace: 'p1' });
  assert.equal(rb.metadata.namespace, 'p1');
  assert.equal(rb.roleRef.kind, 'Role');
  assert.equal(memberRoleBinding('GlobalRoleBinding', 'bob', 'platform-regular').roleRef.kind, 'GlobalRole');
  assert.throws(() => memberRoleBinding('WorkspaceRoleBinding', 'bob', 'ws1-viewer'), /needs a workspace/);
  assert.throws(() => memberRoleBinding('RoleBinding', 'bob', 'viewer'), /needs a namespace/);
});
