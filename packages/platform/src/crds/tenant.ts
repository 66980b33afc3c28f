/**
 * tenant.kubesphere.io (WorkspaceTemplate → Workspace per placed cluster) and
 * quota.kubesphere.io (workspace quotas across a workspace's projects), as KubeSphere 4.1 serves them.
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
  resourceList,
  root,
  type Schema,
  str,
  strings,
} from './schema-dsl.js';

export const TENANT_GROUP = 'tenant.kubesphere.io';
export const QUOTA_GROUP = 'quota.kubesphere.io';

/** Where a workspace template is placed: named clusters or a selector over cluster labels. */
const placement = (): Schema =>
  obj({
    clusterSelector: labelSelector(),
    clusters: arrayOf(obj({ name: str() }, { required: ['name'] }), { listType: 'map', mapKeys: ['name'] }),
  });

const workspaceSpec = (): Schema => obj({ manager: str() });

export function tenantCrds(): KubeObject[] {
  return [
    customResourceDefinition({
      group: TENANT_GROUP,
      categories: ['tenant'],
      kind: 'Workspace',
      plural: 'workspaces',
      scope: 'Cluster',
      versions: [
        {
          name: 'v1alpha1',
          deprecated: true,
          served: true,
          storage: false,
          schema: root({ spec: obj({ manager: str(), networkIsolation: bool() }), status: anyObject() }),
        },
        { name: 'v1beta1', served: true, storage: true, schema: root({ spec: workspaceSpec(), status: anyObject() }) },
      ],
    }),
    customResourceDefinition({
      group: TENANT_GROUP,
      categories: ['tenant'],
      kind: 'WorkspaceTemplate',
      plural: 'workspacetemplates',
      scope: 'Cluster',
      versions: [
        {
          name: 'v1alpha2',
          deprecated: true,
          served: true,
          storage: false,
          schema: root({
            spec: obj(
              {
                // KubeFed-era per-cluster overrides of the template (JSON patch operations).
                overrides: arrayOf(
                  obj(
                    {
                      clusterName: str(),
                      clusterOverrides: arrayOf(
                        obj({ op: str(), path: str(), value: anyObject({ preserveUnknown: true }) }, { required: ['path'] }),
                      ),
                    },
                    { required: ['clusterName'] },
                  ),
                ),
                placement: placement(),
                template: obj({ metadata: anyObject(), spec: workspaceSpec() }),
              },
              { required: ['placement', 'template'] },
            ),
          }),
        },
        {
          name: 'v1beta1',
          served: true,
          storage: true,
          schema: root({
            spec: obj(
              {
                placement: placement(),
                template: obj({
                  metadata: obj({ annotations: mapOf(str()), labels: mapOf(str()) }),
                  spec: workspaceSpec(),
                }),
              },
              { required: ['placement', 'template'] },
            ),
          }),
        },
      ],
    }),
  ];
}

export function quotaCrds(): KubeObject[] {
  return [
    customResourceDefinition({
      group: QUOTA_GROUP,
      categories: ['quota'],
      kind: 'ResourceQuota',
      plural: 'resourcequotas',
      scope: 'Cluster',
      versions: [
        {
          name: 'v1alpha2',
          served: true,
          storage: true,
          subresources: { status: true },
          schema: root(
            {
              spec: obj(
                {
                  // corev1.ResourceQuotaSpec, applied to the sum over the selected namespaces.
                  quota: obj({
                    hard: resourceList(),
                    scopeSelector: obj(
                      {
                        matchExpressions: arrayOf(
                          obj({ operator: str(), scopeName: str(), values: strings('atomic') }, { required: ['operator', 'scopeName'] }),
                          { listType: 'atomic' },
                        ),
                      },
                      { mapType: 'atomic' },
                    ),
                    scopes: strings('atomic'),
                  }),
                  // Label map selecting the namespaces (e.g. kubesphere.io/workspace=<ws>).
                  selector: mapOf(str()),
                },
                { required: ['quota', 'selector'] },
              ),
              status: obj(
                {
                  namespaces: arrayOf(
                    obj({ hard: resourceList(), namespace: str(), used: resourceList() }, { required: ['namespace'] }),
                  ),
                  total: obj({ hard: resourceList(), used: resourceList() }),
                },
                { required: ['namespaces', 'total'] },
              ),
            },
            { required: ['spec'] },
          ),
        },
      ],
    }),
  ];
}
