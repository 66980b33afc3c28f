/**
 * The `rbac.authorization.k8s.io` group: subject and roleRef defaults
 * (pkg/apis/rbac/v1/defaults.go) and validation (pkg/apis/rbac/validation).
 */
import { isDNS1123Subdomain, isValidPathSegmentName, validateLabelSelectorField, type KubeObject } from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import type { KindSemantics } from './types.js';
import { asArr, asObj, asStr, Causes, defaultString, objectsOf, type Obj, semanticEqual } from './util.js';

export const RBAC_GROUP = 'rbac.authorization.k8s.io';

function validatePolicyRules(c: Causes, object: Obj, namespaced: boolean): void {
  for (const [rule, at] of c.objects(object, 'rules', 'rules')) {
    if (asArr(rule.verbs).length === 0) c.required(`${at}.verbs`, 'verbs must contain at least one value');
    const nonResourceURLs = asArr(rule.nonResourceURLs);
    if (nonResourceURLs.length > 0) {
      if (namespaced) c.invalid(`${at}.nonResourceURLs`, nonResourceURLs, 'namespaced rules cannot apply to non-resource URLs');
      if (asArr(rule.apiGroups).length > 0 || asArr(rule.resources).length > 0 || asArr(rule.resourceNames).length > 0) {
        c.invalid(`${at}.nonResourceURLs`, nonResourceURLs, 'rules cannot apply to both regular resources and non-resource URLs');
      }
      continue;
    }
    if (asArr(rule.apiGroups).length === 0) c.required(`${at}.apiGroups`, 'resource rules must supply at least one api group');
    if (asArr(rule.resources).length === 0) c.required(`${at}.resources`, 'resource rules must supply at least one resource');
  }
}

function validateRole(role: KubeObject) {
  const c = new Causes();
  validatePolicyRules(c, role as Obj, true);
  return c.list;
}

function validateClusterRole(role: KubeObject) {
  const c = new Causes();
  validatePolicyRules(c, role as Obj, false);
  const aggregation = c.object(role as Obj, 'aggregationRule', 'aggregationRule');
  if (aggregation) {
    const selectors = c.array(aggregation, 'clusterRoleSelectors', 'aggregationRule.clusterRoleSelectors') ?? [];
    if (selectors.length === 0)
      c.required(
        'aggregationRule.clusterRoleSelectors',
        'at least one clusterRoleSelector required if aggregationRule is non-nil',
      );
    selectors.forEach((selector, i) =>
      c.push(...validateLabelSelectorField(selector, `aggregationRule.clusterRoleSelectors[${i}]`)),
    );
  }
  return c.list;
}

function defaultBinding(binding: KubeObject): void {
  const roleRef = asObj((binding as Obj).roleRef);
  if (roleRef) defaultString(roleRef, 'apiGroup', RBAC_GROUP);
  for (const subject of objectsOf((binding as Obj).subjects)) {
    if (asStr(subject.apiGroup)) continue;
    if (subject.kind === 'User' || subject.kind === 'Group') subject.apiGroup = RBAC_GROUP;
    else if (subject.kind === 'ServiceAccount') subject.apiGroup = '';
  }
}

function goRoleRef(roleRef: Obj): string {
  return `rbac.RoleRef{APIGroup:${JSON.stringify(asStr(roleRef.apiGroup))}, Kind:${JSON.stringify(asStr(roleRef.kind))}, Name:${JSON.stringify(asStr(roleRef.name))}}`;
}

function bindingValidator(namespaced: boolean) {
  return (binding: KubeObject, context: ValidationContext) => {
    const c = new Causes();
    const root = binding as Obj;
    const roleRef = c.object(root, 'roleRef', 'roleRef') ?? {};
    const apiGroup = asStr(roleRef.apiGroup);
    if (apiGroup !== RBAC_GROUP) c.notSupported('roleRef.apiGroup', apiGroup, [RBAC_GROUP]);
    const kinds = namespaced ? ['Role', 'ClusterRole'] : ['ClusterRole'];
    const kind = asStr(roleRef.kind);
    if (!kinds.includes(kind)) c.notSupported('roleRef.kind', kind, kinds);
    const name = asStr(roleRef.name);
    if (!name) c.required('roleRef.name');
    else c.each('roleRef.name', name, isValidPathSegmentName(name));
    for (const [subject, at] of c.objects(root, 'subjects', 'subjects')) {
      const subjectName = asStr(subject.name);
      if (!subjectName) c.required(`${at}.name`);
      const subjectGroup = asStr(subject.apiGroup);
      switch (subject.kind) {
        case 'ServiceAccount':
          if (subjectName) c.each(`${at}.name`, subjectName, isDNS1123Subdomain(subjectName));
          if (subjectGroup) c.notSupported(`${at}.apiGroup`, subjectGroup, ['']);
          if (!namespaced && !asStr(subject.namespace)) c.required(`${at}.namespace`);
          break;
        case 'User':
        case 'Group':
          if (subjectGroup !== RBAC_GROUP) c.notSupported(`${at}.apiGroup`, subjectGroup, [RBAC_GROUP]);
          break;
        default:
          c.notSupported(`${at}.kind`, subject.kind ?? '', ['ServiceAccount', 'User', 'Group']);
      }
    }
    const oldRoleRef = asObj((context.old as Obj | undefined)?.roleRef);
    if (context.old && !semanticEqual(oldRoleRef, roleRef))
      c.invalidRendered('roleRef', goRoleRef(roleRef), 'cannot change roleRef');
    return c.list;
  };
}

export const rbacSemantics: Record<string, KindSemantics> = {
  [`${RBAC_GROUP}/Role`]: { nameValidation: 'path-segment', validate: validateRole },
  [`${RBAC_GROUP}/ClusterRole`]: { nameValidation: 'path-segment', validate: validateClusterRole },
  [`${RBAC_GROUP}/RoleBinding`]: { nameValidation: 'path-segment', defaults: defaultBinding, validate: bindingValidator(true) },
  [`${RBAC_GROUP}/ClusterRoleBinding`]: {
    nameValidation: 'path-segment',
    defaults: defaultBinding,
    validate: bindingValidator(false),
  },
};
