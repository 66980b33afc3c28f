/**
 * What `/version` reports. The minor version is the Kubernetes API level Canopy serves (its
 * schemas come from the 1.34 API); the git version says it is Canopy.
 */
export const KUBERNETES_MINOR = 34;

export const SERVER_VERSION = {
  major: '1',
  minor: String(KUBERNETES_MINOR),
  gitVersion: `v1.${KUBERNETES_MINOR}.0+canopy`,
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-11-24T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'canopy',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};
