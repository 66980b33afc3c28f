// KubeSphere request info: paths and methods to the authorizer's attributes, case by case.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { authorizationAttributes, newRequestInfo, type RequestInfo } from '../src/iam/request-info.js';

type Expected = Partial<RequestInfo>;

const CASES: Array<[method: string, url: string, expected: Expected]> = [
  // Kubernetes core group
  ['GET', '/api/v1/namespaces/p1/pods', { isResourceRequest: true, isKubernetesRequest: true, apiGroup: '', apiVersion: 'v1', resource: 'pods', namespace: 'p1', name: '', verb: 'list', resourceScope: 'Namespace' }],
  ['GET', '/api/v1/namespaces/p1/pods/web-0', { resource: 'pods', name: 'web-0', verb: 'get', resourceScope: 'Namespace' }],
  ['HEAD', '/api/v1/namespaces/p1/pods/web-0', { verb: 'get' }],
  ['GET', '/api/v1/namespaces/p1/pods/web-0/log', { resource: 'pods', name: 'web-0', subresource: 'log', verb: 'get' }],
  ['POST', '/api/v1/namespaces/p1/pods/web-0/exec', { resource: 'pods', subresource: 'exec', verb: 'create' }],
  ['GET', '/api/v1/namespaces', { resource: 'namespaces', namespace: '', verb: 'list', resourceScope: 'Cluster' }],
  ['GET', '/api/v1/namespaces/p1', { resource: 'namespaces', name: 'p1', namespace: 'p1', verb: 'get', resourceScope: 'Namespace' }],
  ['PUT', '/api/v1/namespaces/p1/finalize', { resource: 'namespaces', name: 'p1', subresource: 'finalize', verb: 'update' }],
  ['PUT', '/api/v1/namespaces/p1/status', { resource: 'namespaces', name: 'p1', subresource: 'status', verb: 'update' }],
  ['POST', '/api/v1/namespaces', { resource: 'namespaces', verb: 'create', resourceScope: 'Cluster' }],
  ['GET', '/api/v1/nodes/n1', { resource: 'nodes', name: 'n1', resourceScope: 'Cluster' }],
  ['GET', '/api/v1/watch/namespaces/p1/pods', { verb: 'watch', namespace: 'p1', resource: 'pods' }],
  ['GET', '/api/v1/pods?watch=true', { verb: 'watch', resource: 'pods', resourceScope: 'Cluster' }],
  ['GET', '/api/v1/namespaces/p1/pods?watch=1', { verb: 'watch' }],
  ['GET', '/api/v1/namespaces/p1/pods?watch=false', { verb: 'list' }],
  // An undecodable watch value: KubeSphere falls back to watching unless it reads false/0.
  ['GET', '/api/v1/namespaces/p1/pods?watch=maybe', { verb: 'watch' }],
  ['GET', '/api/v1/namespaces/p1/pods?fieldSelector=metadata.name%3Dweb-0', { verb: 'list', name: 'web-0' }],
  ['GET', '/api/v1/namespaces/p1/pods?fieldSelector=metadata.name%3D%3Dweb-0,status.phase%3DRunning', { verb: 'list', name: 'web-0' }],
  ['GET', '/api/v1/namespaces/p1/pods?fieldSelector=metadata.name!%3Dweb-0', { verb: 'list', name: '' }],
  ['GET', '/api/v1/namespaces/p1/pods?fieldSelector=metadata.name%3D..', { verb: 'list', name: '' }],
  ['GET', '/api/v1/namespaces?watch=true&labelSelector=kubesphere.io/workspace%3Dws1', { verb: 'watch', resource: 'namespaces', workspace: 'ws1', resourceScope: 'Workspace' }],
  ['GET', '/api/v1/namespaces?labelSelector=kubesphere.io/workspace%3Dws1', { verb: 'list', workspace: '', resourceScope: 'Cluster' }],
  ['DELETE', '/api/v1/namespaces/p1/pods', { verb: 'deletecollection', resource: 'pods' }],
  ['DELETE', '/api/v1/namespaces/p1/pods/web-0', { verb: 'delete', name: 'web-0' }],
  ['GET', '/api/v1/proxy/namespaces/p1/pods/web-0/path', { verb: 'proxy', namespace: 'p1', resource: 'pods', name: 'web-0', subresource: '' }],
  ['GET', '/api/v1/namespaces/p1/services/web:80/proxy/healthz', { verb: 'get', resource: 'services', name: 'web:80', subresource: 'proxy' }],
  ['GET', '/api/v1/watch', { isResourceRequest: true, verb: 'GET', error: 'unable to determine kind and namespace from url: /api/v1/watch' }],
  // Kubernetes named groups and discovery
  ['GET', '/apis/apps/v1/namespaces/p1/deployments', { apiGroup: 'apps', apiVersion: 'v1', resource: 'deployments', verb: 'list', isKubernetesRequest: true }],
  ['PATCH', '/apis/apps/v1/namespaces/p1/deployments/web/scale', { apiGroup: 'apps', resource: 'deployments', name: 'web', subresource: 'scale', verb: 'patch' }],
  ['GET', '/apis/apps/v1', { isResourceRequest: false, isKubernetesRequest: true, verb: 'GET', resourceScope: '' }],
  ['GET', '/apis', { isResourceRequest: false, isKubernetesRequest: true, verb: 'GET', path: '/apis' }],
  ['GET', '/api', { isResourceRequest: false, isKubernetesRequest: true }],
  ['GET', '/api/v1', { isResourceRequest: false, isKubernetesRequest: true }],
  ['PATCH', '/apis/tenant.kubesphere.io/v1beta1/workspacetemplates/ws1', { isKubernetesRequest: true, resource: 'workspacetemplates', name: 'ws1', workspace: 'ws1', verb: 'patch', resourceScope: 'Workspace' }],
  // Non-resource
  ['POST', '/oauth/token', { isResourceRequest: false, isKubernetesRequest: false, verb: 'POST', path: '/oauth/token', resourceScope: '' }],
  ['GET', '/kapis/version', { isResourceRequest: false, isKubernetesRequest: false, verb: 'GET' }],
  ['GET', '/healthz', { isResourceRequest: false, isKubernetesRequest: false }],
  ['GET', '/static/images/logo.png', { isResourceRequest: false, path: '/static/images/logo.png' }],
  // Platform APIs: global resources
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/users', { isKubernetesRequest: false, apiGroup: 'iam.kubesphere.io', apiVersion: 'v1beta1', resource: 'users', verb: 'list', resourceScope: 'Global' }],
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/users/alice', { resource: 'users', name: 'alice', verb: 'get', resourceScope: 'Global' }],
  ['PUT', '/kapis/iam.kubesphere.io/v1beta1/users/alice/password', { resource: 'users', name: 'alice', subresource: 'password', verb: 'update', resourceScope: 'Global' }],
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/users/alice/roletemplates?scope=global', { resource: 'users', name: 'alice', subresource: 'roletemplates', verb: 'get' }],
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/users/alice/loginrecords', { resource: 'users', subresource: 'loginrecords', resourceScope: 'Global' }],
  ['POST', '/kapis/iam.kubesphere.io/v1beta1/globalroles', { resource: 'globalroles', verb: 'create', resourceScope: 'Global' }],
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/globalrolebindings', { resource: 'globalrolebindings', resourceScope: 'Global' }],
  ['GET', '/kapis/tenant.kubesphere.io/v1beta1/workspaces', { resource: 'workspaces', verb: 'list', workspace: '', resourceScope: 'Global' }],
  ['POST', '/kapis/tenant.kubesphere.io/v1beta1/workspaces', { resource: 'workspaces', verb: 'create', resourceScope: 'Global' }],
  ['GET', '/kapis/cluster.kubesphere.io/v1alpha1/clusters', { resource: 'clusters', resourceScope: 'Global' }],
  ['GET', '/kapis/resources.kubesphere.io/v1alpha3/clusters', { resource: 'clusters', resourceScope: 'Global' }],
  ['GET', '/kapis/cluster.kubesphere.io/v1alpha1/labels', { resource: 'labels', resourceScope: 'Global' }],
  // A global resource named inside its workspace is workspace scope.
  ['GET', '/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1', { resource: 'workspaces', name: 'ws1', workspace: 'ws1', verb: 'get', resourceScope: 'Workspace' }],
  // Workspace templates are not global: listing them is cluster scope, one of them workspace scope.
  ['GET', '/kapis/tenant.kubesphere.io/v1beta1/workspacetemplates', { resource: 'workspacetemplates', verb: 'list', workspace: '', resourceScope: 'Cluster' }],
  ['POST', '/kapis/tenant.kubesphere.io/v1beta1/workspacetemplates', { resource: 'workspacetemplates', verb: 'create', resourceScope: 'Cluster' }],
  ['DELETE', '/kapis/tenant.kubesphere.io/v1beta1/workspacetemplates/ws1', { resource: 'workspacetemplates', name: 'ws1', workspace: 'ws1', verb: 'delete', resourceScope: 'Workspace' }],
  // Under a workspace
  ['GET', '/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1/namespaces', { resource: 'namespaces', workspace: 'ws1', verb: 'list', resourceScope: 'Workspace' }],
  ['POST', '/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1/namespaces', { resource: 'namespaces', workspace: 'ws1', verb: 'create', resourceScope: 'Workspace' }],
  ['GET', '/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1/namespaces/p1', { resource: 'namespaces', name: 'p1', namespace: 'p1', workspace: 'ws1', resourceScope: 'Namespace' }],
  ['GET', '/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1/clusters', { resource: 'clusters', workspace: 'ws1', resourceScope: 'Workspace' }],
  ['GET', '/kapis/tenant.kubesphere.io/v1beta1/workspaces/ws1/resourcequotas/q1', { resource: 'resourcequotas', name: 'q1', workspace: 'ws1', resourceScope: 'Workspace' }],
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/workspaces/ws1/workspacemembers', { resource: 'workspacemembers', workspace: 'ws1', verb: 'list', resourceScope: 'Workspace' }],
  ['DELETE', '/kapis/iam.kubesphere.io/v1beta1/workspaces/ws1/workspacemembers/bob', { resource: 'workspacemembers', name: 'bob', verb: 'delete' }],
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/workspaces/ws1/workspaceroles', { resource: 'workspaceroles', resourceScope: 'Workspace' }],
  // Under a namespace and at cluster scope
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/namespaces/p1/namespacemembers/bob', { resource: 'namespacemembers', name: 'bob', namespace: 'p1', verb: 'get', resourceScope: 'Namespace' }],
  ['POST', '/kapis/iam.kubesphere.io/v1beta1/namespaces/p1/roles', { resource: 'roles', namespace: 'p1', verb: 'create' }],
  ['GET', '/kapis/iam.kubesphere.io/v1beta1/clustermembers', { resource: 'clustermembers', verb: 'list', resourceScope: 'Cluster' }],
  ['GET', '/kapis/resources.kubesphere.io/v1alpha3/namespaces/p1/pods?name=web&sortBy=name', { apiGroup: 'resources.kubesphere.io', resource: 'pods', namespace: 'p1', verb: 'list' }],
  ['GET', '/kapi/v1/namespaces/p1/things', { apiGroup: '', apiVersion: 'v1', resource: 'things', namespace: 'p1' }],
  // Clusters
  ['GET', '/clusters/host/api/v1/namespaces/p1/pods', { cluster: 'host', path: '/api/v1/namespaces/p1/pods', resource: 'pods', namespace: 'p1', isKubernetesRequest: true }],
  ['GET', '/clusters/member1/kapis/resources.kubesphere.io/v1alpha3/namespaces/p1/pods', { cluster: 'member1', path: '/kapis/resources.kubesphere.io/v1alpha3/namespaces/p1/pods', apiGroup: 'resources.kubesphere.io', isKubernetesRequest: false }],
  ['GET', '/kapis/clusters/host/resources.kubesphere.io/v1alpha3/pods', { cluster: 'host', path: '/kapis/resources.kubesphere.io/v1alpha3/pods', apiGroup: 'resources.kubesphere.io', resource: 'pods' }],
  ['GET', '/clusters/host/apis', { cluster: 'host', isResourceRequest: false, path: '/apis' }],
];

for (const [method, url, expected] of CASES) {
  test(`${method} ${url}`, () => {
    const info = newRequestInfo(method, url);
    for (const [key, value] of Object.entries(expected)) {
      assert.deepEqual(info[key as keyof RequestInfo], value, `${key} of ${method} ${url}`);
    }
    if (!('error' in expected)) assert.equal(info.error, undefined);
  });
}

test('global resources are configurable', () => {
  const info = newRequestInfo('GET', '/kapis/tenant.kubesphere.io/v1beta1/workspacetemplates', {
    globalResources: [{ group: 'tenant.kubesphere.io', resource: 'workspacetemplates' }],
  });
  assert.equal(info.resourceScope, 'Global');
  assert.equal(newRequestInfo('GET', '/kapis/iam.kubesphere.io/v1beta1/users', { globalResources: [] }).resourceScope, 'Cluster');
});

test('authorizationAttributes carries the request info and the user', () => {
  const user = { name: 'bob', groups: ['system:authenticated'] };
  const attributes = authorizationAttributes(user, newRequestInfo('POST', '/clusters/host/apis/apps/v1/namespaces/p1/deployments'));
  assert.deepEqual(attributes, {
    user,
    verb: 'create',
    resourceRequest: true,
    kubernetesRequest: true,
    path: '/apis/apps/v1/namespaces/p1/deployments',
    apiGroup: 'apps',
    apiVersion: 'v1',
    resource: 'deployments',
    subresource: '',
    name: '',
    resourceScope: 'Namespace',
    cluster: 'host',
    workspace: '',
    namespace: 'p1',
  });
});
