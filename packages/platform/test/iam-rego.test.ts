// The Rego subset used by rego-override policies: parsing, evaluation and merging.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRegoPolicy, formatRegoModule, mergeRegoPolicies, parseRegoModule, RegoSyntaxError } from '../src/iam/rego.js';

const input = (over: Record<string, unknown> = {}) => ({
  User: { Name: 'alice', UID: '', Groups: ['system:authenticated'], Extra: null },
  Verb: 'get',
  Resource: 'users',
  Subresource: '',
  Name: 'alice',
  Namespace: '',
  APIGroup: 'iam.kubesphere.io',
  KubernetesRequest: false,
  ResourceRequest: true,
  Path: '/kapis/iam.kubesphere.io/v1beta1/users/alice',
  ResourceScope: 'Global',
  ...over,
});

test('alternative allow rules, membership through [_], comparisons of refs', () => {
  const policy = compileRegoPolicy(`
    package authz
    default allow = false
    # a user may act on itself
    allow = true {
      input.Resource == "users"
      input.User.Name == input.Name
    }
    allow {
      verbs := ["get", "list"]; verbs[_] == input.Verb
      input.ResourceScope != "Global"
    }
  `);
  assert.equal(policy.allows(input()), true);
  assert.equal(policy.allows(input({ Name: 'bob' })), false);
  assert.equal(policy.allows(input({ Name: 'bob', ResourceScope: 'Cluster' })), true);
  assert.equal(policy.allows(input({ Name: 'bob', ResourceScope: 'Cluster', Verb: 'delete' })), false);
});

test('built-ins, variables, not, numbers and undefined refs', () => {
  const policy = compileRegoPolicy(`package authz
allow = true {
  prefix := "ks-managed-kubectl-"
  startswith(input.Name, prefix) == true
  input.User.Name == trim_prefix(input.Name, prefix)
  not input.Missing.Field
  count(input.User.Groups) >= 1
  input.User.Groups[0] == "system:authenticated"
}`);
  assert.equal(policy.allows(input({ Name: 'ks-managed-kubectl-alice' })), true);
  assert.equal(policy.allows(input({ Name: 'ks-managed-kubectl-bob' })), false);
  assert.equal(policy.allows(input({ Name: 'ks-managed-kubectl-alice', Missing: { Field: true } })), false);
  assert.equal(policy.allows(input({ Name: 'ks-managed-kubectl-alice', User: { Name: 'alice', Groups: [] } })), false);
  // An undefined ref makes the expression, hence the rule, fail.
  assert.equal(compileRegoPolicy('package authz\nallow { input.Nope == input.Nope }').allows(input()), false);
});

test('only package authz and rule allow = true decide', () => {
  assert.equal(compileRegoPolicy('package other\nallow { true }').allows(input()), false);
  assert.equal(compileRegoPolicy('package authz\ndeny { true }').allows(input()), false);
  assert.equal(compileRegoPolicy('package authz\nallow = false { true }').allows(input()), false);
  assert.equal(compileRegoPolicy('package authz\nallow = true { true }').allows(input()), true);
});

test('what the subset does not support is a syntax error, never a grant', () => {
  for (const source of [
    'package authz\nallow { input.Verb == }',
    'package authz\nimport future.keywords\nallow { true }',
    'package authz\nallow { some x; x == 1 }',
    'package authz\nallow { http.send({}) }',
    'package authz\nallow { input.Verb in ["get"] }',
    'package authz\nallow { input.Verb == "get"',
    'allow { true }',
    'package authz\nallow {}',
  ]) {
    assert.throws(() => compileRegoPolicy(source), RegoSyntaxError, source);
  }
});

test('a folded policy (YAML >-) reads the same as the literal one', () => {
  const literal = 'package authz\ndefault allow = false\nallow = true {\n  verbs := ["get","list","watch"]\n  verbs[_] == input.Verb\n}\nallow = true {\n  input.ResourceScope == "Cluster"\n}';
  const folded = 'package authz default allow = false allow = true {\n  verbs := ["get","list","watch"]\n  verbs[_] == input.Verb\n} allow = true {\n  input.ResourceScope == "Cluster"\n}';
  assert.equal(formatRegoModule(parseRegoModule(folded)), formatRegoModule(parseRegoModule(literal)));
});

test('merging unites the allow rules once each and drops broken policies', () => {
  const a = 'package authz\ndefault allow = false\nallow = true {\n  input.Verb == "get"\n}';
  const b = 'package authz\nallow { input.Verb == "list" }';
  const merged = mergeRegoPolicies([a, b, a, 'package authz\nallow {', '']);
  assert.equal(parseRegoModule(merged).rules.length, 2);
  const policy = compileRegoPolicy(merged);
  assert.equal(policy.allows(input({ Verb: 'get' })), true);
  assert.equal(policy.allows(input({ Verb: 'list' })), true);
  assert.equal(policy.allows(input({ Verb: 'delete' })), false);
  assert.equal(mergeRegoPolicies(['', 'broken {']), '');
});
