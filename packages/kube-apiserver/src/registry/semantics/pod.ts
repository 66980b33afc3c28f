/**
 * Pod specs: the defaults of pkg/apis/core/v1/defaults.go (SetDefaults_PodSpec, _Container, _Probe,
 * _Volume…) and the validation of pkg/apis/core/validation (ValidatePodSpec, ValidatePodUpdate),
 * shared by Pods and by every kind that embeds a pod template.
 */
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isHTTPHeaderName,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidLabelValue,
  isValidPortName,
  isValidPortNum,
  validateAnnotations,
  validateLabelsField,
} from '@canopy/apimachinery';
import {
  asArr,
  asNum,
  asObj,
  asStr,
  Causes,
  clone,
  defaultInteger,
  defaultPointer,
  defaultString,
  describeDifferences,
  isUnset,
  objectsOf,
  type Obj,
  QUANTITY_FORMAT_MESSAGE,
  quantityNanos,
  quantityText,
  semanticEqual,
  SUPPORTED_PORT_PROTOCOLS,
} from './util.js';

// ---------------------------------------------------------------------------------------------
// Defaults

/**
 * The tag an image reference resolves to: `latest` when it names neither a tag nor a digest.
 * A colon after the last slash is a tag; before it, a registry port.
 */
export function imageTag(image: string): string {
  const at = image.indexOf('@');
  const hasDigest = at >= 0;
  const name = hasDigest ? image.slice(0, at) : image;
  const colon = name.lastIndexOf(':');
  const tag = colon > name.lastIndexOf('/') ? name.slice(colon + 1) : '';
  return tag || hasDigest ? tag : 'latest';
}

function defaultHTTPGet(handler: Obj | undefined): void {
  const httpGet = asObj(handler?.httpGet);
  if (!httpGet) return;
  defaultString(httpGet, 'path', '/');
  defaultString(httpGet, 'scheme', 'HTTP');
}

function defaultProbe(probe: Obj): void {
  defaultInteger(probe, 'timeoutSeconds', 1);
  defaultInteger(probe, 'periodSeconds', 10);
  defaultInteger(probe, 'successThreshold', 1);
  defaultInteger(probe, 'failureThreshold', 3);
  defaultHTTPGet(probe);
}

function defaultFieldRef(holder: Obj | undefined): void {
  const fieldRef = asObj(holder?.fieldRef);
  if (fieldRef) defaultString(fieldRef, 'apiVersion', 'v1');
}

function defaultContainer(container: Obj): void {
  if (isUnset(container.imagePullPolicy) || container.imagePullPolicy === '') {
    // An unparseable (empty) image resolves to no tag, hence IfNotPresent, as the kubelet parser does.
    const image = asStr(container.image);
    container.imagePullPolicy = image && imageTag(image) === 'latest' ? 'Always' : 'IfNotPresent';
  }
  defaultString(container, 'terminationMessagePath', '/dev/termination-log');
  defaultString(container, 'terminationMessagePolicy', 'File');
  // ResourceRequirements is a struct, not a pointer: Go always serializes it, as `{}` when empty.
  defaultPointer(container, 'resources', {});
  for (const port of objectsOf(container.ports)) defaultString(port, 'protocol', 'TCP');
  for (const key of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    const probe = asObj(container[key]);
    if (probe) defaultProbe(probe);
  }
  const lifecycle = asObj(container.lifecycle);
  defaultHTTPGet(asObj(lifecycle?.postStart));
  defaultHTTPGet(asObj(lifecycle?.preStop));
  for (const env of objectsOf(container.env)) defaultFieldRef(asObj(env.valueFrom));
}

const SECRET_VOLUME_DEFAULT_MODE = 0o644;

/**
 * The volume source fields, in the order kube-apiserver checks them (so the same one is reported
 * when several are given). A volume with none of them becomes an emptyDir.
 */
const VOLUME_SOURCES = [
  'emptyDir',
  'hostPath',
  'gitRepo',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'quobyte',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'vsphereVolume',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'configMap',
  'storageos',
  'projected',
  'csi',
  'ephemeral',
  'image',
];

function defaultVolume(volume: Obj): void {
  if (VOLUME_SOURCES.every((key) => isUnset(volume[key]))) volume.emptyDir = {};
  for (const key of ['secret', 'configMap', 'downwardAPI', 'projected']) {
    const source = asObj(volume[key]);
    if (source) defaultPointer(source, 'defaultMode', SECRET_VOLUME_DEFAULT_MODE);
  }
  for (const item of objectsOf(asObj(volume.downwardAPI)?.items)) defaultFieldRef(item);
  for (const source of objectsOf(asObj(volume.projected)?.sources)) {
    const token = asObj(source.serviceAccountToken);
    if (token) defaultPointer(token, 'expirationSeconds', 3600);
    for (const item of objectsOf(asObj(source.downwardAPI)?.items)) defaultFieldRef(item);
  }
  const hostPath = asObj(volume.hostPath);
  if (hostPath) defaultPointer(hostPath, 'type', '');
  const claimSpec = asObj(asObj(asObj(volume.ephemeral)?.volumeClaimTemplate)?.spec);
  if (claimSpec) defaultPointer(claimSpec, 'volumeMode', 'Filesystem');
}

/**
 * SetDefaults_PodSpec and what it reaches. `forPod` adds SetDefaults_Pod, which applies to Pods
 * only and not to templates: enableServiceLinks, requests copied from limits, host ports under
 * hostNetwork. (Templates would otherwise change on every API server upgrade that adds one.)
 */
export function defaultPodSpec(value: unknown, forPod: boolean): void {
  const spec = asObj(value);
  if (!spec) return;
  defaultString(spec, 'dnsPolicy', 'ClusterFirst');
  defaultString(spec, 'restartPolicy', 'Always');
  defaultPointer(spec, 'securityContext', {});
  defaultPointer(spec, 'terminationGracePeriodSeconds', 30);
  defaultString(spec, 'schedulerName', 'default-scheduler');
  for (const key of ['containers', 'initContainers', 'ephemeralContainers']) {
    for (const container of objectsOf(spec[key])) defaultContainer(container);
  }
  for (const volume of objectsOf(spec.volumes)) defaultVolume(volume);

  if (!forPod) return;
  defaultPointer(spec, 'enableServiceLinks', true);
  for (const key of ['containers', 'initContainers']) {
    for (const container of objectsOf(spec[key])) {
      const resources = asObj(container.resources);
      const limits = asObj(resources?.limits);
      if (!resources || !limits) continue;
      if (isUnset(resources.requests)) resources.requests = {};
      const requests = asObj(resources.requests);
      if (!requests) continue;
      for (const [name, quantity] of Object.entries(limits)) if (!(name in requests)) requests[name] = quantity;
    }
  }
  if (spec.hostNetwork === true) {
    for (const key of ['containers', 'initContainers']) {
      for (const container of objectsOf(spec[key])) {
        for (const port of objectsOf(container.ports)) {
          if (isUnset(port.hostPort) || port.hostPort === 0) port.hostPort = port.containerPort;
        }
      }
    }
  }
}

/** Defaults inside an embedded PodTemplateSpec (`spec.template` of workloads). */
export function defaultPodTemplate(value: unknown): void {
  defaultPodSpec(asObj(value)?.spec, false);
}

// ---------------------------------------------------------------------------------------------
// QoS class (pkg/apis/core/helper/qos)

/** Shared with the quota evaluators, which select pods by QoS class. */
export { podQOSClass } from '@canopy/apimachinery';

// ---------------------------------------------------------------------------------------------
// Validation

const SUPPORTED_PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const SUPPORTED_TERMINATION_MESSAGE_POLICIES = ['FallbackToLogsOnError', 'File'];
const SUPPORTED_RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const SUPPORTED_DNS_POLICIES = ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'];
const SUPPORTED_TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';
const MAX_INT32 = 2147483647;
const ENV_FIELD_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

export function validateDNS1123Label(c: Causes, value: string, path: string): void {
  c.each(path, value, isDNS1123Label(value));
}

/** IntOrString ports (`targetPort`, probe ports): numbers are port numbers, strings IANA port names. */
export function validatePortNumOrName(c: Causes, port: unknown, path: string): void {
  if (typeof port === 'number') c.each(path, port, isValidPortNum(port));
  else if (typeof port === 'string') c.each(path, port, isValidPortName(port));
  else if (isUnset(port)) c.each(path, 0, isValidPortNum(0));
  else c.invalid(path, port, 'must be an integer or a string');
}

function validatePorts(c: Causes, container: Obj, path: string, hostPorts: Set<string>): void {
  const names = new Set<string>();
  for (const [port, at] of c.objects(container, 'ports', `${path}.ports`)) {
    const name = c.string(port, 'name', `${at}.name`);
    if (name) {
      const msgs = isValidPortName(name);
      if (msgs.length) c.each(`${at}.name`, name, msgs);
      else if (names.has(name)) c.duplicate(`${at}.name`, name);
      else names.add(name);
    }
    const containerPort = c.integer(port, 'containerPort', `${at}.containerPort`);
    if (!containerPort) c.required(`${at}.containerPort`);
    else c.each(`${at}.containerPort`, containerPort, isValidPortNum(containerPort));
    const hostPort = c.integer(port, 'hostPort', `${at}.hostPort`);
    if (hostPort) c.each(`${at}.hostPort`, hostPort, isValidPortNum(hostPort));
    const protocol = c.string(port, 'protocol', `${at}.protocol`);
    if (!protocol) c.required(`${at}.protocol`);
    else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) c.notSupported(`${at}.protocol`, protocol, SUPPORTED_PORT_PROTOCOLS);
    if (hostPort && protocol) {
      const key = `${hostPort}/${protocol}`;
      if (hostPorts.has(key)) c.duplicate(`${at}.hostPort`, key);
      hostPorts.add(key);
    }
  }
}

function validateKeySelector(c: Causes, selector: Obj, path: string, nameField: string): void {
  const name = c.string(selector, nameField, `${path}.${nameField}`);
  if (!name) c.required(`${path}.${nameField}`);
  else c.each(`${path}.${nameField}`, name, isDNS1123Subdomain(name));
  const key = c.string(selector, 'key', `${path}.key`);
  if (!key) c.required(`${path}.key`);
  else c.each(`${path}.key`, key, isConfigMapKey(key));
}

function validateFieldRef(c: Causes, fieldRef: Obj, path: string): void {
  const apiVersion = c.string(fieldRef, 'apiVersion', `${path}.apiVersion`);
  if (!apiVersion) c.required(`${path}.apiVersion`);
  const fieldPath = c.string(fieldRef, 'fieldPath', `${path}.fieldPath`);
  if (!fieldPath) {
    c.required(`${path}.fieldPath`);
    return;
  }
  const subscript = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(fieldPath);
  if (subscript) {
    for (const msg of isQualifiedName(subscript[2].toLowerCase())) c.invalid(`${path}.fieldPath`, subscript[2], msg);
  } else if (!ENV_FIELD_PATHS.includes(fieldPath)) {
    c.notSupported(`${path}.fieldPath`, fieldPath, ENV_FIELD_PATHS);
  }
}

function validateEnv(c: Causes, container: Obj, path: string): void {
  for (const [env, at] of c.objects(container, 'env', `${path}.env`)) {
    const name = c.string(env, 'name', `${at}.name`);
    if (!name) c.required(`${at}.name`);
    else c.each(`${at}.name`, name, isRelaxedEnvVarName(name));
    const valueFrom = c.object(env, 'valueFrom', `${at}.valueFrom`);
    if (!valueFrom) continue;
    const from = `${at}.valueFrom`;
    let sources = 0;
    const fieldRef = c.object(valueFrom, 'fieldRef', `${from}.fieldRef`);
    if (fieldRef) {
      sources++;
      validateFieldRef(c, fieldRef, `${from}.fieldRef`);
    }
    const resourceFieldRef = c.object(valueFrom, 'resourceFieldRef', `${from}.resourceFieldRef`);
    if (resourceFieldRef) {
      sources++;
      if (!c.string(resourceFieldRef, 'resource', `${from}.resourceFieldRef.resource`))
        c.required(`${from}.resourceFieldRef.resource`);
    }
    const configMapKeyRef = c.object(valueFrom, 'configMapKeyRef', `${from}.configMapKeyRef`);
    if (configMapKeyRef) {
      sources++;
      validateKeySelector(c, configMapKeyRef, `${from}.configMapKeyRef`, 'name');
    }
    const secretKeyRef = c.object(valueFrom, 'secretKeyRef', `${from}.secretKeyRef`);
    if (secretKeyRef) {
      sources++;
      validateKeySelector(c, secretKeyRef, `${from}.secretKeyRef`, 'name');
    }
    if (sources === 0)
      c.invalid(from, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`');
    else if (asStr(env.value) !== '') c.invalid(from, '', 'may not be specified when `value` is not empty');
    else if (sources > 1) c.invalid(from, '', 'may not have more than one field specified at a time');
  }
}

function validateVolumeMounts(c: Causes, container: Obj, path: string, volumes: Set<string>): void {
  const mountPoints = new Set<string>();
  for (const [mount, at] of c.objects(container, 'volumeMounts', `${path}.volumeMounts`)) {
    const name = c.string(mount, 'name', `${at}.name`) ?? '';
    if (!name) c.required(`${at}.name`);
    if (!volumes.has(name)) c.notFound(`${at}.name`, name);
    const mountPath = c.string(mount, 'mountPath', `${at}.mountPath`) ?? '';
    if (!mountPath) c.required(`${at}.mountPath`);
    if (mountPoints.has(mountPath)) c.invalid(`${at}.mountPath`, mountPath, 'must be unique');
    mountPoints.add(mountPath);
    const subPath = c.string(mount, 'subPath', `${at}.subPath`);
    if (subPath) validateLocalDescendingPath(c, subPath, `${at}.subPath`);
  }
}

function validateLocalDescendingPath(c: Causes, target: string, path: string): void {
  if (target.startsWith('/')) c.invalid(path, target, 'must be a relative path');
  if (target.split(/[/\\]/).includes('..')) c.invalid(path, target, "must not contain '..'");
}

/** Exactly one handler (exec, httpGet, tcpSocket, grpc, sleep), each well-formed. */
function validateHandler(c: Causes, handler: Obj, path: string): void {
  let handlers = 0;
  const take = (key: string): Obj | undefined => {
    const value = c.object(handler, key, `${path}.${key}`);
    if (!value) return undefined;
    if (handlers > 0) {
      c.forbidden(`${path}.${key}`, 'may not specify more than 1 handler type');
      return undefined;
    }
    handlers++;
    return value;
  };
  const exec = take('exec');
  if (exec && asArr(exec.command).length === 0) c.required(`${path}.exec.command`);
  const httpGet = take('httpGet');
  if (httpGet) {
    if (!asStr(httpGet.path)) c.required(`${path}.httpGet.path`);
    validatePortNumOrName(c, httpGet.port, `${path}.httpGet.port`);
    const scheme = asStr(httpGet.scheme);
    if (!['HTTP', 'HTTPS'].includes(scheme)) c.notSupported(`${path}.httpGet.scheme`, scheme, ['HTTP', 'HTTPS']);
    for (const [header, at] of c.objects(httpGet, 'httpHeaders', `${path}.httpGet.httpHeaders`)) {
      const name = asStr(header.name);
      c.each(`${at}.name`, name, isHTTPHeaderName(name));
    }
  }
  const tcpSocket = take('tcpSocket');
  if (tcpSocket) validatePortNumOrName(c, tcpSocket.port, `${path}.tcpSocket.port`);
  const grpc = take('grpc');
  if (grpc) {
    const port = asNum(grpc.port) ?? 0;
    c.each(`${path}.grpc.port`, port, isValidPortNum(port));
  }
  const sleep = take('sleep');
  if (sleep) {
    const seconds = asNum(sleep.seconds) ?? 0;
    if (seconds < 0) c.invalid(`${path}.sleep.seconds`, seconds, 'must be non-negative integer');
  }
  if (handlers === 0) c.required(path, 'must specify a handler type');
}

function validateProbe(c: Causes, container: Obj, key: string, path: string, mustSucceedOnce: boolean): void {
  const probe = c.object(container, key, `${path}.${key}`);
  if (!probe) return;
  const at = `${path}.${key}`;
  validateHandler(c, probe, at);
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    c.nonNegative(c.integer(probe, field, `${at}.${field}`), `${at}.${field}`);
  }
  const grace = c.integer(probe, 'terminationGracePeriodSeconds', `${at}.terminationGracePeriodSeconds`);
  if (grace !== undefined && grace <= 0) c.invalid(`${at}.terminationGracePeriodSeconds`, grace, 'must be greater than 0');
  if (mustSucceedOnce) {
    const threshold = asNum(probe.successThreshold);
    if (threshold !== undefined && threshold !== 1) c.invalid(`${at}.successThreshold`, threshold, 'must be 1');
  }
}

/** Extended resources (`example.com/gpu`) cannot be overcommitted: request and limit must be equal. */
function isOvercommitAllowed(resource: string): boolean {
  return !resource.includes('/') || resource.startsWith('kubernetes.io/') || resource.includes('.kubernetes.io/');
}

export function validateResourceRequirements(c: Causes, resources: Obj | undefined, path: string): void {
  if (!resources) return;
  const limits = c.object(resources, 'limits', `${path}.limits`) ?? {};
  const requests = c.object(resources, 'requests', `${path}.requests`) ?? {};
  const parsed = (list: Obj, listPath: string) => {
    const out = new Map<string, bigint>();
    for (const [name, value] of Object.entries(list)) {
      const at = `${listPath}[${name}]`;
      for (const msg of isQualifiedName(name)) c.invalid(at, name, msg);
      const nanos = quantityNanos(value);
      if (nanos === undefined) c.invalid(at, value, QUANTITY_FORMAT_MESSAGE);
      else if (nanos < 0n) c.invalid(at, quantityText(value), 'must be greater than or equal to 0');
      else out.set(name, nanos);
    }
    return out;
  };
  const limitNanos = parsed(limits, `${path}.limits`);
  const requestNanos = parsed(requests, `${path}.requests`);
  for (const [name, request] of requestNanos) {
    const limit = limitNanos.get(name);
    if (limit === undefined) continue;
    const text = quantityText(requests[name]);
    if (request !== limit && !isOvercommitAllowed(name)) {
      c.invalid(`${path}.requests`, text, `must be equal to ${name} limit of ${quantityText(limits[name])}`);
    } else if (request > limit) {
      c.invalid(`${path}.requests`, text, `must be less than or equal to ${name} limit of ${quantityText(limits[name])}`);
    }
  }
}

type ContainerKind = 'container' | 'init';

function validateContainers(
  c: Causes,
  spec: Obj,
  key: 'containers' | 'initContainers',
  path: string,
  volumes: Set<string>,
  names: Set<string>,
  hostPorts: Set<string>,
): void {
  const kind: ContainerKind = key === 'containers' ? 'container' : 'init';
  for (const [container, at] of c.objects(spec, key, `${path}.${key}`)) {
    const name = c.string(container, 'name', `${at}.name`);
    if (!name) c.required(`${at}.name`);
    else {
      validateDNS1123Label(c, name, `${at}.name`);
      if (names.has(name)) c.duplicate(`${at}.name`, name);
      names.add(name);
    }
    const image = c.string(container, 'image', `${at}.image`);
    if (!image) c.required(`${at}.image`);
    else if (image.trim() !== image) c.invalid(`${at}.image`, image, 'must not have leading or trailing whitespace');

    const pullPolicy = c.string(container, 'imagePullPolicy', `${at}.imagePullPolicy`);
    if (!pullPolicy) c.required(`${at}.imagePullPolicy`);
    else if (!SUPPORTED_PULL_POLICIES.includes(pullPolicy))
      c.notSupported(`${at}.imagePullPolicy`, pullPolicy, SUPPORTED_PULL_POLICIES);

    const messagePolicy = c.string(container, 'terminationMessagePolicy', `${at}.terminationMessagePolicy`);
    if (!messagePolicy) c.required(`${at}.terminationMessagePolicy`);
    else if (!SUPPORTED_TERMINATION_MESSAGE_POLICIES.includes(messagePolicy)) {
      c.notSupported(`${at}.terminationMessagePolicy`, messagePolicy, SUPPORTED_TERMINATION_MESSAGE_POLICIES);
    }

    const restartPolicy = c.string(container, 'restartPolicy', `${at}.restartPolicy`);
    const sidecar = kind === 'init' && restartPolicy === 'Always';
    if (restartPolicy !== undefined) {
      if (kind === 'container') c.forbidden(`${at}.restartPolicy`, 'may not be set for non-init containers');
      else if (restartPolicy !== 'Always') c.notSupported(`${at}.restartPolicy`, restartPolicy, ['Always']);
    }

    validatePorts(c, container, at, hostPorts);
    validateEnv(c, container, at);
    validateVolumeMounts(c, container, at, volumes);
    if (kind === 'init' && !sidecar) {
      for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
        if (!isUnset(container[probe]))
          c.forbidden(`${at}.${probe}`, 'may not be set for init containers without restartPolicy=Always');
      }
    } else {
      validateProbe(c, container, 'livenessProbe', at, true);
      validateProbe(c, container, 'readinessProbe', at, false);
      validateProbe(c, container, 'startupProbe', at, true);
    }
    validateResourceRequirements(c, c.object(container, 'resources', `${at}.resources`), `${at}.resources`);
  }
}

function validateVolumeSource(c: Causes, volume: Obj, at: string): void {
  const present = VOLUME_SOURCES.filter((key) => !isUnset(volume[key]));
  if (present.length === 0) {
    c.required(at, 'must specify a volume type');
    return;
  }
  for (const extra of present.slice(1)) c.forbidden(`${at}.${extra}`, 'may not specify more than 1 volume type');
  const type = present[0];
  const source = c.object(volume, type, `${at}.${type}`);
  if (!source) return;
  const sourcePath = `${at}.${type}`;
  const checkMode = (field: string) => {
    const mode = c.integer(source, field, `${sourcePath}.${field}`);
    if (mode !== undefined && (mode < 0 || mode > 0o777)) c.invalid(`${sourcePath}.${field}`, mode, FILE_MODE_ERROR);
  };
  const checkItems = () => {
    for (const [item, itemPath] of c.objects(source, 'items', `${sourcePath}.items`)) {
      if (!asStr(item.key) && type !== 'downwardAPI') c.required(`${itemPath}.key`);
      const target = asStr(item.path);
      if (!target) c.required(`${itemPath}.path`);
      else validateLocalDescendingPath(c, target, `${itemPath}.path`);
      const mode = asNum(item.mode);
      if (mode !== undefined && (mode < 0 || mode > 0o777)) c.invalid(`${itemPath}.mode`, mode, FILE_MODE_ERROR);
    }
  };
  switch (type) {
    case 'configMap':
      if (!c.string(source, 'name', `${sourcePath}.name`)) c.required(`${sourcePath}.name`);
      checkMode('defaultMode');
      checkItems();
      break;
    case 'secret':
      if (!c.string(source, 'secretName', `${sourcePath}.secretName`)) c.required(`${sourcePath}.secretName`);
      checkMode('defaultMode');
      checkItems();
      break;
    case 'downwardAPI':
    case 'projected':
      checkMode('defaultMode');
      break;
    case 'persistentVolumeClaim':
      if (!c.string(source, 'claimName', `${sourcePath}.claimName`)) c.required(`${sourcePath}.claimName`);
      break;
    case 'hostPath': {
      if (!c.string(source, 'path', `${sourcePath}.path`)) c.required(`${sourcePath}.path`);
      const kinds = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
      const hostPathType = c.string(source, 'type', `${sourcePath}.type`);
      if (hostPathType !== undefined && !kinds.includes(hostPathType)) c.notSupported(`${sourcePath}.type`, hostPathType, kinds);
      break;
    }
    case 'nfs':
      if (!c.string(source, 'server', `${sourcePath}.server`)) c.required(`${sourcePath}.server`);
      if (!c.string(source, 'path', `${sourcePath}.path`)) c.required(`${sourcePath}.path`);
      break;
    case 'emptyDir': {
      const sizeLimit = source.sizeLimit;
      if (!isUnset(sizeLimit)) {
        const nanos = quantityNanos(sizeLimit);
        if (nanos === undefined) c.invalid(`${sourcePath}.sizeLimit`, sizeLimit, QUANTITY_FORMAT_MESSAGE);
        else if (nanos < 0n) c.forbidden(`${sourcePath}.sizeLimit`, 'SizeLimit field must be a valid resource quantity');
      }
      const medium = c.string(source, 'medium', `${sourcePath}.medium`);
      if (medium !== undefined && !['', 'Memory', 'HugePages'].includes(medium) && !medium.startsWith('HugePages-')) {
        c.notSupported(`${sourcePath}.medium`, medium, ['', 'Memory', 'HugePages']);
      }
      break;
    }
    case 'csi':
      if (!c.string(source, 'driver', `${sourcePath}.driver`)) c.required(`${sourcePath}.driver`);
      break;
    case 'image':
      if (!c.string(source, 'reference', `${sourcePath}.reference`)) c.required(`${sourcePath}.reference`);
      break;
  }
}

function validateVolumes(c: Causes, spec: Obj, path: string): Set<string> {
  const names = new Set<string>();
  for (const [volume, at] of c.objects(spec, 'volumes', `${path}.volumes`)) {
    validateVolumeSource(c, volume, at);
    const name = c.string(volume, 'name', `${at}.name`) ?? '';
    if (!name) c.required(`${at}.name`);
    else validateDNS1123Label(c, name, `${at}.name`);
    if (names.has(name)) c.duplicate(`${at}.name`, name);
    names.add(name);
  }
  return names;
}

export function validateTolerations(c: Causes, tolerations: Array<[Obj, string]>): void {
  for (const [toleration, at] of tolerations) {
    const key = asStr(toleration.key);
    const operator = asStr(toleration.operator);
    const effect = asStr(toleration.effect);
    const value = asStr(toleration.value);
    if (key) c.each(`${at}.key`, key, isQualifiedName(key));
    if (!key && operator !== 'Exists') {
      c.invalid(
        `${at}.operator`,
        operator,
        'operator must be Exists when `key` is empty, which means "match all values and all keys"',
      );
    }
    if (!isUnset(toleration.tolerationSeconds) && effect !== 'NoExecute') {
      c.invalid(`${at}.effect`, effect, "effect must be 'NoExecute' when `tolerationSeconds` is set");
    }
    switch (operator) {
      case 'Equal':
      case '':
        c.each(`${at}.operator`, value, isValidLabelValue(value));
        break;
      case 'Exists':
        if (value) c.invalid(`${at}.operator`, toleration, "value must be empty when `operator` is 'Exists'");
        break;
      default:
        c.notSupported(`${at}.operator`, operator, ['Equal', 'Exists']);
    }
    if (effect && !SUPPORTED_TAINT_EFFECTS.includes(effect)) c.notSupported(`${at}.effect`, effect, SUPPORTED_TAINT_EFFECTS);
  }
}

/**
 * ValidatePodSpec: the spec of a Pod or of a pod template, at `path` (`spec` or
 * `spec.template.spec`). `extraVolumes` are names mounts may refer to besides `volumes`
 * (a StatefulSet's volumeClaimTemplates).
 */
export function validatePodSpec(c: Causes, value: unknown, path: string, extraVolumes: Iterable<string> = []): void {
  if (isUnset(value)) {
    c.required(`${path}.containers`);
    return;
  }
  const spec = asObj(value);
  if (!spec) {
    c.invalid(path, value, 'must be an object');
    return;
  }
  const volumes = validateVolumes(c, spec, path);
  for (const name of extraVolumes) volumes.add(name);
  const names = new Set<string>();
  const hostPorts = new Set<string>();
  if (asArr(spec.containers).length === 0) c.required(`${path}.containers`);
  validateContainers(c, spec, 'containers', path, volumes, names, hostPorts);
  validateContainers(c, spec, 'initContainers', path, volumes, names, hostPorts);

  const restartPolicy = c.string(spec, 'restartPolicy', `${path}.restartPolicy`);
  if (!restartPolicy) c.required(`${path}.restartPolicy`);
  else if (!SUPPORTED_RESTART_POLICIES.includes(restartPolicy))
    c.notSupported(`${path}.restartPolicy`, restartPolicy, SUPPORTED_RESTART_POLICIES);

  const dnsPolicy = c.string(spec, 'dnsPolicy', `${path}.dnsPolicy`);
  if (!dnsPolicy) c.required(`${path}.dnsPolicy`);
  else if (!SUPPORTED_DNS_POLICIES.includes(dnsPolicy)) c.notSupported(`${path}.dnsPolicy`, dnsPolicy, SUPPORTED_DNS_POLICIES);
  else if (dnsPolicy === 'None' && isUnset(spec.dnsConfig))
    c.required(`${path}.dnsConfig`, 'must provide `dnsConfig` when `dnsPolicy` is None');

  c.push(...validateLabelsField(spec.nodeSelector, `${path}.nodeSelector`));
  const serviceAccountName = c.string(spec, 'serviceAccountName', `${path}.serviceAccountName`);
  if (serviceAccountName) c.each(`${path}.serviceAccountName`, serviceAccountName, isDNS1123Subdomain(serviceAccountName));
  const nodeName = c.string(spec, 'nodeName', `${path}.nodeName`);
  if (nodeName) c.each(`${path}.nodeName`, nodeName, isDNS1123Subdomain(nodeName));
  for (const key of ['hostname', 'subdomain']) {
    const name = c.string(spec, key, `${path}.${key}`);
    if (name) validateDNS1123Label(c, name, `${path}.${key}`);
  }
  const deadline = c.integer(spec, 'activeDeadlineSeconds', `${path}.activeDeadlineSeconds`);
  if (deadline !== undefined && (deadline < 1 || deadline > MAX_INT32)) {
    c.invalid(`${path}.activeDeadlineSeconds`, deadline, `must be between 1 and ${MAX_INT32}, inclusive`);
  }
  c.nonNegative(
    c.integer(spec, 'terminationGracePeriodSeconds', `${path}.terminationGracePeriodSeconds`),
    `${path}.terminationGracePeriodSeconds`,
  );
  validateTolerations(c, c.objects(spec, 'tolerations', `${path}.tolerations`));
  for (const [secret, at] of c.objects(spec, 'imagePullSecrets', `${path}.imagePullSecrets`)) {
    const name = asStr(secret.name);
    if (name) c.each(`${at}.name`, name, isDNS1123Subdomain(name));
  }
  for (const key of [
    'hostNetwork',
    'hostPID',
    'hostIPC',
    'enableServiceLinks',
    'automountServiceAccountToken',
    'shareProcessNamespace',
  ]) {
    c.boolean(spec, key, `${path}.${key}`);
  }
  c.object(spec, 'securityContext', `${path}.securityContext`);
}

/** ValidatePodTemplateSpec: template labels and annotations plus the pod spec. */
export function validatePodTemplate(
  c: Causes,
  value: unknown,
  path: string,
  extraVolumes: Iterable<string> = [],
): Obj | undefined {
  if (isUnset(value)) {
    c.required(path);
    return undefined;
  }
  const template = asObj(value);
  if (!template) {
    c.invalid(path, value, 'must be an object');
    return undefined;
  }
  const metadata = c.object(template, 'metadata', `${path}.metadata`);
  c.push(...validateLabelsField(metadata?.labels, `${path}.metadata.labels`));
  c.push(...validateAnnotations(metadata?.annotations, `${path}.metadata.annotations`));
  validatePodSpec(c, template.spec, `${path}.spec`, extraVolumes);
  return template;
}

// ---------------------------------------------------------------------------------------------
// Pod updates

const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

function validateOnlyAddedTolerations(c: Causes, newTolerations: unknown, oldTolerations: unknown): void {
  const added = asArr(newTolerations);
  for (const old of asArr(oldTolerations)) {
    const kept = added.some((candidate) => {
      const oldObj = asObj(old) ?? {};
      const newObj = asObj(candidate) ?? {};
      return semanticEqual({ ...oldObj, tolerationSeconds: newObj.tolerationSeconds }, newObj);
    });
    if (!kept) {
      c.forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds');
      return;
    }
  }
}

/**
 * ValidatePodUpdate's spec rules: only images, activeDeadlineSeconds (set or lowered),
 * tolerations (additions), terminationGracePeriodSeconds (negative to 1) and removals of
 * scheduling gates may change. Everything else is compared after copying those over.
 */
export function validatePodSpecUpdate(c: Causes, newValue: unknown, oldValue: unknown): void {
  const newSpec = asObj(newValue);
  const oldSpec = asObj(oldValue);
  if (!newSpec || !oldSpec) return;

  const newDeadline = asNum(newSpec.activeDeadlineSeconds);
  const oldDeadline = asNum(oldSpec.activeDeadlineSeconds);
  if (newDeadline !== undefined) {
    if (newDeadline < 0 || newDeadline > MAX_INT32) {
      c.invalid('spec.activeDeadlineSeconds', newDeadline, `must be between 0 and ${MAX_INT32}, inclusive`);
      return;
    }
    if (oldDeadline !== undefined && oldDeadline < newDeadline) {
      c.invalid('spec.activeDeadlineSeconds', newDeadline, 'must be less than or equal to previous value');
      return;
    }
  } else if (oldDeadline !== undefined) {
    c.invalid('spec.activeDeadlineSeconds', null, 'must not update from a positive integer to nil value');
  }

  for (const key of ['containers', 'initContainers'] as const) {
    if (asArr(newSpec[key]).length !== asArr(oldSpec[key]).length) {
      c.forbidden(`spec.${key}`, 'pod updates may not add or remove containers');
      return;
    }
  }

  const munged = clone(newSpec);
  for (const key of ['containers', 'initContainers'] as const) {
    const oldContainers = asArr(oldSpec[key]);
    asArr(munged[key]).forEach((container, i) => {
      const target = asObj(container);
      const source = asObj(oldContainers[i]);
      if (target && source) target.image = source.image;
    });
  }
  munged.activeDeadlineSeconds = oldSpec.activeDeadlineSeconds;
  validateOnlyAddedTolerations(c, newSpec.tolerations, oldSpec.tolerations);
  munged.tolerations = oldSpec.tolerations;
  const oldGrace = asNum(oldSpec.terminationGracePeriodSeconds);
  if (oldGrace !== undefined && oldGrace < 0 && newSpec.terminationGracePeriodSeconds === 1) {
    munged.terminationGracePeriodSeconds = oldSpec.terminationGracePeriodSeconds;
  }
  const oldGates = new Set(objectsOf(oldSpec.schedulingGates).map((g) => asStr(g.name)));
  const newGates = objectsOf(newSpec.schedulingGates).map((g) => asStr(g.name));
  const addedGate = newGates.find((name) => !oldGates.has(name));
  if (addedGate !== undefined)
    c.forbidden('spec.schedulingGates', `only deletion is allowed, but found new scheduling gate '${addedGate}'`);
  else munged.schedulingGates = oldSpec.schedulingGates;

  if (!semanticEqual(munged, oldSpec)) {
    const diff = describeDifferences(oldSpec, munged, 'spec');
    c.forbidden(
      'spec',
      `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}\n${diff.join('\n')}`,
    );
  }
}
