/**
 * iam.kubesphere.io: users, the four role kinds and their bindings, role templates, built-in
 * roles, categories, groups and login records. Versions, names, printer columns and schemas
 * follow KubeSphere 4.1 so that objects written for KubeSphere validate and prune the same way.
 */
import type { KubeObject } from '@canopy/apimachinery';
import {
  anyObject,
  arrayOf,
  bool,
  customResourceDefinition,
  labelSelector,
  mapOf,
  obj,
  policyRule,
  type PrinterColumn,
  roleRef,
  root,
  type Schema,
  str,
  strings,
  subject,
  time,
} from './schema-dsl.js';

export const IAM_GROUP = 'iam.kubesphere.io';

const WORKSPACE_COLUMN: PrinterColumn = {
  jsonPath: '.metadata.labels.kubesphere\\.io/workspace',
  name: 'Workspace',
  type: 'string',
};
const ALIAS_COLUMN: PrinterColumn = {
  jsonPath: '.metadata.annotations.kubesphere\\.io/alias-name',
  name: 'Alias',
  type: 'string',
};

const rules = (): Schema => arrayOf(policyRule());

/** `aggregationRoleTemplates` of the v1beta1 role kinds. */
const aggregationRoleTemplates = (): Schema =>
  obj({ roleSelector: labelSelector(), templateNames: strings('set') });

/** Role kinds as v1beta1 serves them; GlobalRole alone requires `rules`. */
const roleSchema = (requireRules: boolean): Schema =>
  root({ aggregationRoleTemplates: aggregationRoleTemplates(), rules: rules() }, requireRules ? { required: ['rules'] } : {});

/** The deprecated v1alpha2 role shape: rules only. */
const legacyRoleSchema = (): Schema => root({ rules: rules() });

const bindingSchema = (): Schema => root({ roleRef: roleRef(), subjects: arrayOf(subject()) }, { required: ['roleRef'] });

/**
 * The user password rule the console enforces: lower, upper and digit in any order (Go regexps
 * have no look-ahead, so each of the six orders is spelled out), or an already hashed bcrypt value.
 */
function passwordPattern(): string {
  const classes = ['[a-z]', '[A-Z]', '[0-9]'];
  const orders: number[][] = [];
  const permute = (prefix: number[], rest: number[]): void => {
    if (rest.length === 0) orders.push(prefix);
    for (const n of rest) permute([...prefix, n], rest.filter((m) => m !== n));
  };
  permute([], [0, 1, 2]);
  const alternatives = orders.map((order) => `^(.*${order.map((i) => classes[i]).join('.*')}.*)$`);
  alternatives.push('^(\\$2[ayb]\\$.{56})$');
  return alternatives.join('|');
}

const userSchema = (): Schema =>
  root(
    {
      spec: obj(
        {
          description: str(),
          displayName: str(),
          email: str(),
          groups: arrayOf(str()),
          lang: str(),
          password: str({ maxLength: 64, minLength: 8, pattern: passwordPattern() }),
        },
        { required: ['email'] },
      ),
      status: obj({ lastLoginTime: time(), lastTransitionTime: time(), reason: str(), state: str() }),
    },
    { required: ['spec'] },
  );

const loginRecordSchema = (): Schema =>
  root(
    {
      spec: obj(
        { provider: str(), reason: str(), sourceIP: str(), success: bool(), type: str(), userAgent: str() },
        { required: ['provider', 'reason', 'sourceIP', 'success', 'type'] },
      ),
    },
    { required: ['spec'] },
  );

/** Localized text keyed by language (`{en: …, zh: …}`). */
const localized = (): Schema => mapOf(str());

/** A kind served as deprecated v1alpha2 and stored as v1beta1, both with the same extras. */
function alphaAndBeta(
  alphaSchema: Schema,
  betaSchema: Schema,
  extras: { printerColumns?: PrinterColumn[]; subresources?: { status?: boolean } } = {},
) {
  return [
    { name: 'v1alpha2', deprecated: true, served: true, storage: false, schema: alphaSchema, ...extras },
    { name: 'v1beta1', served: true, storage: true, schema: betaSchema, ...extras },
  ];
}

const beta = (schema: Schema, extras: { printerColumns?: PrinterColumn[]; subresources?: { status?: boolean } } = {}) => [
  { name: 'v1beta1', served: true, storage: true, schema, ...extras },
];

export function iamCrds(): KubeObject[] {
  const iam = { group: IAM_GROUP, categories: ['iam'] };
  return [
    customResourceDefinition({
      ...iam,
      kind: 'User',
      plural: 'users',
      scope: 'Cluster',
      versions: alphaAndBeta(userSchema(), userSchema(), {
        printerColumns: [
          { jsonPath: '.spec.email', name: 'Email', type: 'string' },
          { jsonPath: '.status.state', name: 'Status', type: 'string' },
        ],
        subresources: {},
      }),
    }),
    customResourceDefinition({
      ...iam,
      kind: 'GlobalRole',
      plural: 'globalroles',
      scope: 'Cluster',
      versions: alphaAndBeta(legacyRoleSchema(), roleSchema(true)),
    }),
    customResourceDefinition({
      ...iam,
      kind: 'GlobalRoleBinding',
      plural: 'globalrolebindings',
      scope: 'Cluster',
      versions: alphaAndBeta(bindingSchema(), bindingSchema()),
    }),
    customResourceDefinition({
      ...iam,
      kind: 'WorkspaceRole',
      plural: 'workspaceroles',
      scope: 'Cluster',
      versions: alphaAndBeta(legacyRoleSchema(), roleSchema(false), {
        printerColumns: [WORKSPACE_COLUMN, ALIAS_COLUMN],
        subresources: {},
      }),
    }),
    customResourceDefinition({
      ...iam,
      kind: 'WorkspaceRoleBinding',
      plural: 'workspacerolebindings',
      scope: 'Cluster',
      versions: alphaAndBeta(bindingSchema(), bindingSchema(), { printerColumns: [WORKSPACE_COLUMN], subresources: {} }),
    }),
    customResourceDefinition({ ...iam, kind: 'ClusterRole', plural: 'clusterroles', scope: 'Cluster', versions: beta(roleSchema(false)) }),
    customResourceDefinition({
      ...iam,
      kind: 'ClusterRoleBinding',
      plural: 'clusterrolebindings',
      scope: 'Cluster',
      versions: beta(bindingSchema()),
    }),
    customResourceDefinition({ ...iam, kind: 'Role', plural: 'roles', scope: 'Namespaced', versions: beta(roleSchema(false)) }),
    customResourceDefinition({ ...iam, kind: 'RoleBinding', plural: 'rolebindings', scope: 'Namespaced', versions: beta(bindingSchema()) }),
    customResourceDefinition({
      ...iam,
      kind: 'RoleTemplate',
      plural: 'roletemplates',
      scope: 'Cluster',
      versions: beta(
        root({ spec: obj({ description: localized(), displayName: localized(), rules: rules() }, { required: ['rules'] }) }),
      ),
    }),
    customResourceDefinition({
      ...iam,
      kind: 'BuiltinRole',
      plural: 'builtinroles',
      scope: 'Cluster',
      versions: beta(
        root(
          { role: anyObject({ embedded: true, preserveUnknown: true }), targetSelector: labelSelector() },
          { required: ['role'] },
        ),
      ),
    }),
    customResourceDefinition({
      ...iam,
      kind: 'Category',
      plural: 'categories',
      singular: 'category',
      scope: 'Cluster',
      versions: beta(root({ spec: obj({ description: localized(), displayName: localized(), icon: str() }) })),
    }),
    customResourceDefinition({
      group: IAM_GROUP,
      categories: ['group'],
      kind: 'Group',
      plural: 'groups',
      scope: 'Cluster',
      versions: alphaAndBeta(
        root({ spec: anyObject(), status: anyObject() }),
        root({ spec: anyObject(), status: anyObject() }),
        { printerColumns: [WORKSPACE_COLUMN], subresources: {} },
      ),
    }),
    customResourceDefinition({
      group: IAM_GROUP,
      categories: ['group'],
      kind: 'GroupBinding',
      plural: 'groupbindings',
      scope: 'Cluster',
      versions: alphaAndBeta(groupBindingSchema(), groupBindingSchema(), {
        printerColumns: [
          { jsonPath: '.groupRef.name', name: 'Group', type: 'string' },
          { jsonPath: '.users', name: 'Users', type: 'string' },
        ],
        subresources: {},
      }),
    }),
    customResourceDefinition({
      ...iam,
      kind: 'LoginRecord',
      plural: 'loginrecords',
      scope: 'Cluster',
      versions: alphaAndBeta(loginRecordSchema(), loginRecordSchema(), {
        printerColumns: [
          { jsonPath: '.spec.type', name: 'Type', type: 'string' },
          { jsonPath: '.spec.provider', name: 'Provider', type: 'string' },
          { jsonPath: '.spec.sourceIP', name: 'From', type: 'string' },
          { jsonPath: '.spec.success', name: 'Success', type: 'string' },
          { jsonPath: '.spec.reason', name: 'Reason', type: 'string' },
          { jsonPath: '.metadata.creationTimestamp', name: 'Age', type: 'date' },
        ],
        subresources: {},
      }),
    }),
  ];
}

function groupBindingSchema(): Schema {
  return root({ groupRef: obj({ apiGroup: str(), kind: str(), name: str() }), users: arrayOf(str()) });
}
