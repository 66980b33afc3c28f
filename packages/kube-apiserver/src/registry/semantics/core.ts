/**
 * The core (`v1`) group: defaults from pkg/apis/core/v1/defaults.go, create-time state from the
 * registry strategies (pkg/registry/core/*), validation from pkg/apis/core/validation.
 */
import {
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPortNum,
  validateLabelsField,
  type KubeObject,
} from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import {
  defaultPodSpec,
  defaultPodTemplate,
  podQOSClass,
  validateDNS1123Label,
  validatePodSpec,
  validatePodSpecUpdate,
  validatePodTemplate,
  validatePortNumOrName,
} from './pod.js';
import type { KindSemantics } from './types.js';
import {
  asArr,
  asNum,
  asObj,
  asStr,
  Causes,
  defaultPointer,
  defaultString,
  describeDifferences,
  ensureObj,
  goStringMap,
  isUnset,
  objectsOf,
  type Obj,
  QUANTITY_FORMAT_MESSAGE,
  quantityNanos,
  quantityText,
  semanticEqual,
  SUPPORTED_PORT_PROTOCOLS,
} from './util.js';

/** Max total size of a Secret's or ConfigMap's data (core.MaxSecretSize). */
export const MAX_SECRET_SIZE = 1024 * 1024;
const IMMUTABLE_WHEN_SET = 'field is immutable when `immutable` is set';

function spec(object: KubeObject): Obj | undefined {
  return asObj(object.spec);
}

function isUpdate(context: ValidationContext): boolean {
  return context.old !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Pod

function preparePodForCreate(pod: KubeObject): void {
  const status: Obj = { phase: 'Pending', qosClass: podQOSClass(pod.spec) };
  if (asArr(spec(pod)?.schedulingGates).length > 0) {
    status.conditions = [
      {
        type: 'PodScheduled',
        status: 'False',
        reason: 'SchedulingGated',
        message: 'Scheduling is blocked due to non-empty scheduling gates',
      },
    ];
  }
  pod.status = status;
}

function validatePod(pod: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  if (context.subresource) return c;
  validatePodSpec(c, pod.spec, 'spec');
  if (!isUpdate(context)) {
    if (asArr(spec(pod)?.ephemeralContainers).length > 0) c.forbidden('spec.ephemeralContainers', 'cannot be set on create');
  } else {
    validatePodSpecUpdate(c, pod.spec, context.old?.spec);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// PodTemplate and ReplicationController

function defaultReplicationController(rc: KubeObject): void {
  const s = spec(rc);
  if (!s) return;
  const template = asObj(s.template);
  const labels = asObj(asObj(template?.metadata)?.labels);
  // An absent or empty map takes the template's labels; anything else is left for validation.
  const emptyMap = (value: unknown) =>
    isUnset(value) || (asObj(value) !== undefined && Object.keys(asObj(value) ?? {}).length === 0);
  if (labels) {
    if (emptyMap(s.selector)) s.selector = { ...labels };
    const meta = asObj(rc.metadata);
    if (meta && emptyMap(meta.labels)) meta.labels = { ...labels };
  }
  defaultPointer(s, 'replicas', 1);
  defaultPodTemplate(template);
}

function validateReplicationController(rc: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  if (context.subresource === 'status') return c;
  const s = c.object(rc as Obj, 'spec', 'spec') ?? {};
  c.nonNegative(c.integer(s, 'replicas', 'spec.replicas'), 'spec.replicas');
  if (context.subresource) return c;
  c.nonNegative(c.integer(s, 'minReadySeconds', 'spec.minReadySeconds'), 'spec.minReadySeconds');
  const selector = c.stringMap(s, 'selector', 'spec.selector') ?? {};
  if (Object.keys(selector).length === 0) c.required('spec.selector');
  else c.push(...validateLabelsField(selector, 'spec.selector'));
  const template = validatePodTemplate(c, s.template, 'spec.template');
  if (template) {
    const labels = asObj(asObj(template.metadata)?.labels);
    if (Object.keys(selector).length > 0 && !Object.entries(selector).every(([k, v]) => labels?.[k] === v)) {
      c.invalidRendered('spec.template.metadata.labels', goStringMap(labels), '`selector` does not match template `labels`');
    }
    const restartPolicy = asStr(asObj(template.spec)?.restartPolicy);
    if (restartPolicy !== 'Always') c.notSupported('spec.template.spec.restartPolicy', restartPolicy, ['Always']);
    if (!isUnset(asObj(template.spec)?.activeDeadlineSeconds)) {
      c.invalid(
        'spec.template.spec.activeDeadlineSeconds',
        asObj(template.spec)?.activeDeadlineSeconds,
        'activeDeadlineSeconds in ReplicationController is not Supported',
      );
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Service

function serviceExternallyAccessible(s: Obj): boolean {
  return s.type === 'LoadBalancer' || s.type === 'NodePort' || (s.type === 'ClusterIP' && asArr(s.externalIPs).length > 0);
}

function defaultService(service: KubeObject): void {
  const s = spec(service);
  if (!s) return;
  defaultString(s, 'sessionAffinity', 'None');
  if (s.sessionAffinity === 'None') delete s.sessionAffinityConfig;
  if (s.sessionAffinity === 'ClientIP') {
    const timeout = asObj(asObj(s.sessionAffinityConfig)?.clientIP)?.timeoutSeconds;
    if (isUnset(timeout)) s.sessionAffinityConfig = { clientIP: { timeoutSeconds: 10800 } };
  }
  defaultString(s, 'type', 'ClusterIP');
  for (const port of objectsOf(s.ports)) {
    defaultString(port, 'protocol', 'TCP');
    if (isUnset(port.targetPort) || port.targetPort === 0 || port.targetPort === '') port.targetPort = port.port;
  }
  if (serviceExternallyAccessible(s)) defaultString(s, 'externalTrafficPolicy', 'Cluster');
  if (s.type === 'ClusterIP' || s.type === 'NodePort' || s.type === 'LoadBalancer')
    defaultPointer(s, 'internalTrafficPolicy', 'Cluster');
  if (s.type === 'LoadBalancer') defaultPointer(s, 'allocateLoadBalancerNodePorts', true);
  // kube-apiserver's service REST fills these on a single-stack (IPv4) cluster; ExternalName has no IPs.
  if (s.type !== 'ExternalName') {
    defaultPointer(s, 'ipFamilyPolicy', 'SingleStack');
    if (isUnset(s.ipFamilies) || (Array.isArray(s.ipFamilies) && s.ipFamilies.length === 0)) s.ipFamilies = ['IPv4'];
  }
}

const SERVICE_TYPES = ['ClusterIP', 'ExternalName', 'LoadBalancer', 'NodePort'];

/** The cluster IPs as the allocator will store them: `clusterIPs`, or the single `clusterIP`. */
function serviceClusterIPs(s: Obj): string[] {
  const list = asArr(s.clusterIPs).filter((ip): ip is string => typeof ip === 'string');
  if (list.length > 0) return list;
  const single = asStr(s.clusterIP);
  return single ? [single] : [];
}

function goServicePortKey(protocol: string, port: number): string {
  return `core.ServicePort{Name:"", Protocol:${JSON.stringify(protocol)}, AppProtocol:(*string)(nil), Port:${port}, TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}`;
}

function validateService(service: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  if (context.subresource) return c;
  const s = c.object(service as Obj, 'spec', 'spec') ?? {};
  const type = c.string(s, 'type', 'spec.type');
  const clusterIPs = serviceClusterIPs(s);
  const headless = clusterIPs[0] === 'None';
  const ports = c.objects(s, 'ports', 'spec.ports');

  if (ports.length === 0 && !headless && type !== 'ExternalName') c.required('spec.ports');
  if ((type === 'LoadBalancer' || type === 'NodePort') && headless) {
    c.invalid('spec.clusterIPs[0]', 'None', `may not be set to 'None' for ${type} services`);
  }
  if (type === 'ExternalName') {
    if (clusterIPs.length > 0) c.forbidden('spec.clusterIPs', 'may not be set for ExternalName services');
    if (asArr(s.ipFamilies).length > 0) c.forbidden('spec.ipFamilies', 'may not be set for ExternalName services');
    if (!isUnset(s.ipFamilyPolicy)) c.forbidden('spec.ipFamilyPolicy', 'may not be set for ExternalName services');
    const cname = (c.string(s, 'externalName', 'spec.externalName') ?? '').replace(/\.$/, '');
    if (cname) c.each('spec.externalName', cname, isDNS1123Subdomain(cname));
    else c.required('spec.externalName');
  }

  const portNames = new Set<string>();
  const seenPorts = new Set<string>();
  const seenNodePorts = new Set<string>();
  for (const [port, at] of ports) {
    const name = c.string(port, 'name', `${at}.name`) ?? '';
    if (ports.length > 1 && !name) c.required(`${at}.name`);
    else if (name) {
      validateDNS1123Label(c, name, `${at}.name`);
      if (portNames.has(name)) c.duplicate(`${at}.name`, name);
      portNames.add(name);
    }
    const number = c.integer(port, 'port', `${at}.port`) ?? 0;
    c.each(`${at}.port`, number, isValidPortNum(number));
    const protocol = c.string(port, 'protocol', `${at}.protocol`) ?? '';
    if (!protocol) c.required(`${at}.protocol`);
    else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) c.notSupported(`${at}.protocol`, protocol, SUPPORTED_PORT_PROTOCOLS);
    validatePortNumOrName(c, port.targetPort, `${at}.targetPort`);
    const appProtocol = c.string(port, 'appProtocol', `${at}.appProtocol`);
    if (appProtocol !== undefined) c.each(`${at}.appProtocol`, appProtocol, isQualifiedName(appProtocol));
    const nodePort = c.integer(port, 'nodePort', `${at}.nodePort`);
    if (nodePort) {
      if (type === 'ClusterIP') c.forbidden(`${at}.nodePort`, "may not be used when `type` is 'ClusterIP'");
      else c.each(`${at}.nodePort`, nodePort, isValidPortNum(nodePort));
      const key = `${protocol}/${nodePort}`;
      if (seenNodePorts.has(key)) c.duplicate(`${at}.nodePort`, nodePort);
      seenNodePorts.add(key);
    }
    const key = `${protocol}/${number}`;
    if (seenPorts.has(key))
      c.push({ reason: 'FieldValueDuplicate', message: `Duplicate value: ${goServicePortKey(protocol, number)}`, field: at });
    seenPorts.add(key);
  }

  c.push(...validateLabelsField(s.selector, 'spec.selector'));
  const affinity = c.string(s, 'sessionAffinity', 'spec.sessionAffinity');
  if (!affinity) c.required('spec.sessionAffinity');
  else if (!['ClientIP', 'None'].includes(affinity)) c.notSupported('spec.sessionAffinity', affinity, ['ClientIP', 'None']);
  else if (affinity === 'None' && !isUnset(s.sessionAffinityConfig))
    c.forbidden('spec.sessionAffinityConfig', 'must not be set when session affinity is None');
  else if (affinity === 'ClientIP') {
    const timeout = asNum(asObj(asObj(s.sessionAffinityConfig)?.clientIP)?.timeoutSeconds);
    if (timeout === undefined || timeout <= 0 || timeout > 86400) {
      c.invalid('spec.sessionAffinityConfig.clientIP.timeoutSeconds', timeout ?? 0, 'must be greater than 0 and less than 86400');
    }
  }

  // Cluster IPs: a user may ask for specific addresses; allocation itself is the server's.
  clusterIPs.forEach((ip, i) => {
    if (i === 0 && ip === 'None') {
      if (clusterIPs.length > 1) c.invalid('spec.clusterIPs', clusterIPs, "'None' must be the first and only value");
      return;
    }
    c.each(`spec.clusterIPs[${i}]`, ip, isValidIP(ip));
  });
  if (clusterIPs.length > 2) c.invalid('spec.clusterIPs', clusterIPs, 'may only hold up to 2 values');
  const familyPolicy = c.string(s, 'ipFamilyPolicy', 'spec.ipFamilyPolicy');
  const policies = ['PreferDualStack', 'RequireDualStack', 'SingleStack'];
  if (familyPolicy !== undefined && !policies.includes(familyPolicy))
    c.notSupported('spec.ipFamilyPolicy', familyPolicy, policies);
  const families = new Set<unknown>();
  asArr(s.ipFamilies).forEach((family, i) => {
    if (family !== 'IPv4' && family !== 'IPv6') c.notSupported(`spec.ipFamilies[${i}]`, family, ['IPv4', 'IPv6']);
    if (families.has(family)) c.duplicate(`spec.ipFamilies[${i}]`, family);
    families.add(family);
  });
  asArr(s.externalIPs).forEach((ip, i) => c.each(`spec.externalIPs[${i}]`, ip, isValidIP(asStr(ip))));

  if (!type) c.required('spec.type');
  else if (!SERVICE_TYPES.includes(type)) c.notSupported('spec.type', type, SERVICE_TYPES);

  const external = c.string(s, 'externalTrafficPolicy', 'spec.externalTrafficPolicy');
  if (!serviceExternallyAccessible(s)) {
    if (external) c.invalid('spec.externalTrafficPolicy', external, 'may only be set for externally-accessible services');
  } else if (!external) c.required('spec.externalTrafficPolicy');
  else if (!['Cluster', 'Local'].includes(external)) c.notSupported('spec.externalTrafficPolicy', external, ['Cluster', 'Local']);
  const internal = c.string(s, 'internalTrafficPolicy', 'spec.internalTrafficPolicy');
  if (internal !== undefined && !['Cluster', 'Local'].includes(internal))
    c.notSupported('spec.internalTrafficPolicy', internal, ['Cluster', 'Local']);
  for (const [i, range] of asArr(s.loadBalancerSourceRanges).entries())
    c.each(`spec.loadBalancerSourceRanges[${i}]`, range, isValidCIDR(asStr(range)));

  if (isUpdate(context)) {
    const old = asObj(context.old?.spec) ?? {};
    if (type !== 'ExternalName' && old.type !== 'ExternalName') {
      const oldIPs = serviceClusterIPs(old);
      // A headless Service stays headless; others keep the addresses they were allocated.
      if (oldIPs.length > 0 && clusterIPs.length > 0 && !(oldIPs[0] === 'None' && clusterIPs[0] === 'None')) {
        oldIPs.forEach((ip, i) => {
          if (i < clusterIPs.length && clusterIPs[i] !== ip)
            c.invalid(`spec.clusterIPs[${i}]`, clusterIPs, 'may not change once set');
        });
      }
      const oldFamilies = asArr(old.ipFamilies);
      const newFamilies = asArr(s.ipFamilies);
      if (oldFamilies.length > 0 && newFamilies.length > 0 && oldFamilies[0] !== newFamilies[0]) {
        c.invalid('spec.ipFamilies[0]', newFamilies, 'may not change once set');
      }
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Secret and ConfigMap

/** Where Go's base64.StdEncoding would stop decoding (CorruptInputError), or undefined when it decodes. */
export function base64ErrorOffset(text: string): number | undefined {
  let inQuantum = 0;
  let quantumStart = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '\n' || ch === '\r') continue;
    if (ch === '=') {
      if (inQuantum < 2) return i;
      let end = i;
      if (inQuantum === 2) {
        let next = i + 1;
        while (next < text.length && (text[next] === '\n' || text[next] === '\r')) next++;
        if (next >= text.length) return text.length;
        if (text[next] !== '=') return next;
        end = next;
      }
      for (let rest = end + 1; rest < text.length; rest++) if (text[rest] !== '\n' && text[rest] !== '\r') return rest;
      return undefined;
    }
    if (!/[A-Za-z0-9+/]/.test(ch)) return i;
    if (inQuantum === 0) quantumStart = i;
    inQuantum = (inQuantum + 1) % 4;
  }
  return inQuantum === 0 ? undefined : quantumStart;
}

function decodedBase64Length(text: string): number {
  const clean = text.replace(/[\r\n]/g, '');
  const padding = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return (clean.length / 4) * 3 - padding;
}

/** Keys (config keys) and base64 values of a `data`/`binaryData` map; returns the decoded size. */
function validateBinaryMap(c: Causes, map: Obj | undefined, path: string): number {
  let size = 0;
  for (const [key, value] of Object.entries(map ?? {})) {
    const at = `${path}[${key}]`;
    c.each(at, key, isConfigMapKey(key));
    if (typeof value !== 'string') {
      if (!isUnset(value)) c.invalid(at, '<secret contents redacted>', 'must be a base64-encoded string');
      continue;
    }
    const offset = base64ErrorOffset(value);
    if (offset !== undefined) c.invalid(at, '<secret contents redacted>', `illegal base64 data at input byte ${offset}`);
    else size += decodedBase64Length(value);
  }
  return size;
}

/** kubectl and client libraries send stringData; the v1→internal conversion folds it into data. */
function defaultSecret(secret: KubeObject): void {
  defaultString(secret as Obj, 'type', 'Opaque');
  const stringData = asObj(secret.stringData);
  if (!stringData) return;
  if (isUnset(secret.data)) secret.data = {};
  const data = asObj(secret.data);
  if (!data) return;
  for (const [key, value] of Object.entries(stringData)) {
    if (typeof value !== 'string') continue;
    data[key] = Buffer.from(value, 'utf8').toString('base64');
    delete stringData[key];
  }
  if (Object.keys(stringData).length === 0) delete secret.stringData;
}

function validateSecret(secret: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  const root = secret as Obj;
  if (isUpdate(context)) {
    const old = context.old as Obj;
    if (asStr(old.type) !== asStr(root.type)) c.invalid('type', asStr(root.type), 'field is immutable');
    if (old.immutable === true) {
      if (root.immutable !== true) c.forbidden('immutable', IMMUTABLE_WHEN_SET);
      if (!semanticEqual(root.data, old.data)) c.forbidden('data', IMMUTABLE_WHEN_SET);
    }
  }
  const data = c.object(root, 'data', 'data');
  const size = validateBinaryMap(c, data, 'data');
  if (size > MAX_SECRET_SIZE) c.tooLong('data', MAX_SECRET_SIZE);
  for (const [key, value] of Object.entries(asObj(root.stringData) ?? {}))
    c.invalid(`stringData[${key}]`, value, 'must be a string');
  const type = c.string(root, 'type', 'type') ?? '';
  const has = (key: string) => data !== undefined && Object.prototype.hasOwnProperty.call(data, key);
  const annotations = asObj(asObj(secret.metadata)?.annotations);
  switch (type) {
    case 'kubernetes.io/service-account-token':
      if (!asStr(annotations?.['kubernetes.io/service-account.name']))
        c.required('metadata.annotations[kubernetes.io/service-account.name]');
      break;
    case 'kubernetes.io/dockercfg':
    case 'kubernetes.io/dockerconfigjson': {
      const key = type === 'kubernetes.io/dockercfg' ? '.dockercfg' : '.dockerconfigjson';
      if (!has(key)) {
        c.required(`data[${key}]`);
        break;
      }
      const raw = asStr(data?.[key]);
      if (base64ErrorOffset(raw) === undefined) {
        try {
          const parsed: unknown = JSON.parse(Buffer.from(raw, 'base64').toString('utf8'));
          if (!asObj(parsed)) throw new Error('json: cannot unmarshal into Go value of type map[string]interface {}');
        } catch (err) {
          c.invalid(`data[${key}]`, '<secret contents redacted>', (err as Error).message);
        }
      }
      break;
    }
    case 'kubernetes.io/basic-auth':
      if (!has('username') && !has('password')) {
        c.required('data[username]');
        c.required('data[password]');
      }
      break;
    case 'kubernetes.io/ssh-auth':
      if (!asStr(data?.['ssh-privatekey'])) c.required('data[ssh-privatekey]');
      break;
    case 'kubernetes.io/tls':
      if (!has('tls.crt')) c.required('data[tls.crt]');
      if (!has('tls.key')) c.required('data[tls.key]');
      break;
  }
  c.boolean(root, 'immutable', 'immutable');
  return c;
}

function validateConfigMap(configMap: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  const root = configMap as Obj;
  if (isUpdate(context) && (context.old as Obj).immutable === true) {
    const old = context.old as Obj;
    if (root.immutable !== true) c.forbidden('immutable', IMMUTABLE_WHEN_SET);
    if (!semanticEqual(root.data, old.data)) c.forbidden('data', IMMUTABLE_WHEN_SET);
    if (!semanticEqual(root.binaryData, old.binaryData)) c.forbidden('binaryData', IMMUTABLE_WHEN_SET);
  }
  const data = c.object(root, 'data', 'data') ?? {};
  const binaryData = c.object(root, 'binaryData', 'binaryData') ?? {};
  let size = 0;
  for (const [key, value] of Object.entries(data)) {
    const at = `data[${key}]`;
    c.each(at, key, isConfigMapKey(key));
    if (Object.prototype.hasOwnProperty.call(binaryData, key)) c.invalid(at, key, 'duplicate of key present in binaryData');
    if (typeof value === 'string') size += Buffer.byteLength(value, 'utf8');
    else if (!isUnset(value)) c.invalid(at, value, 'must be a string');
  }
  size += validateBinaryMap(c, binaryData, 'binaryData');
  if (size > MAX_SECRET_SIZE)
    c.push({ reason: 'FieldValueTooLong', message: `Too long: may not be more than ${MAX_SECRET_SIZE} bytes`, field: '' });
  c.boolean(root, 'immutable', 'immutable');
  return c;
}

// ---------------------------------------------------------------------------------------------
// Namespace

const STANDARD_FINALIZERS = ['kubernetes', 'orphan', 'foregroundDeletion'];

/** validateKubeFinalizerName: an unqualified finalizer must be one kube itself defines. */
export function validateKubeFinalizerName(c: Causes, name: string, path: string): void {
  if (!name.includes('/') && !STANDARD_FINALIZERS.includes(name)) {
    c.invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified');
  }
}

function defaultNamespace(namespace: KubeObject): void {
  const meta = asObj(namespace.metadata);
  const name = asStr(meta?.name);
  if (meta && name) {
    const labels = ensureObj(meta, 'labels');
    if (labels) labels['kubernetes.io/metadata.name'] = name;
  }
  const status = ensureObj(namespace as Obj, 'status');
  if (status) defaultString(status, 'phase', 'Active');
}

/** On create a namespace is Active and carries the `kubernetes` finalizer the namespace controller removes. */
function prepareNamespaceForCreate(namespace: KubeObject): void {
  namespace.status = { phase: 'Active' };
  if (isUnset(namespace.spec)) namespace.spec = {};
  const s = spec(namespace);
  if (!s) return;
  const finalizers = Array.isArray(s.finalizers) ? s.finalizers : [];
  if (!finalizers.includes('kubernetes')) s.finalizers = [...finalizers, 'kubernetes'];
}

function validateNamespace(namespace: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  const s = c.object(namespace as Obj, 'spec', 'spec');
  (c.array(s, 'finalizers', 'spec.finalizers') ?? []).forEach((finalizer, i) => {
    const at = `spec.finalizers[${i}]`;
    if (typeof finalizer !== 'string') {
      c.invalid(at, finalizer, 'must be a string');
      return;
    }
    c.each(at, finalizer, isQualifiedName(finalizer));
    validateKubeFinalizerName(c, finalizer, at);
  });
  if (context.subresource === 'status') {
    const phase = asObj(namespace.status)?.phase;
    if (!isUnset(phase) && phase !== 'Active' && phase !== 'Terminating')
      c.notSupported('status.phase', phase, ['Active', 'Terminating']);
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Node

const TAINT_EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function defaultNode(node: KubeObject): void {
  const status = asObj(node.status);
  if (status && isUnset(status.allocatable) && asObj(status.capacity)) status.allocatable = { ...asObj(status.capacity) };
}

function validateNode(node: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  const s = c.object(node as Obj, 'spec', 'spec') ?? {};
  const seen = new Set<string>();
  for (const [taint, at] of c.objects(s, 'taints', 'spec.taints')) {
    const key = asStr(taint.key);
    c.each(`${at}.key`, key, isQualifiedName(key));
    const value = asStr(taint.value);
    const valueErrors = isValidLabelValue(value);
    if (valueErrors.length) c.invalid(`${at}.value`, value, valueErrors.join(';'));
    const effect = asStr(taint.effect);
    if (!effect) c.required(`${at}.effect`);
    else if (!TAINT_EFFECTS.includes(effect)) c.notSupported(`${at}.effect`, effect, TAINT_EFFECTS);
    const id = `${effect}\u0000${key}`;
    if (seen.has(id))
      c.push({
        reason: 'FieldValueDuplicate',
        message: `Duplicate value: ${JSON.stringify(taint)}: taints must be unique by key and effect pair`,
        field: at,
      });
    seen.add(id);
  }
  const cidrs = asArr(s.podCIDRs);
  cidrs.forEach((cidr, i) => c.each(`spec.podCIDRs[${i}]`, cidr, isValidCIDR(asStr(cidr))));
  if (cidrs.length > 2) c.invalid('spec.podCIDRs', cidrs, 'may specify no more than one CIDR for each IP family');
  const podCIDR = asStr(s.podCIDR);
  if (podCIDR) c.each('spec.podCIDR', podCIDR, isValidCIDR(podCIDR));
  if (isUpdate(context) && !context.subresource) {
    const old = asObj(context.old?.spec) ?? {};
    if (asArr(old.podCIDRs).length > 0 && !semanticEqual(old.podCIDRs, s.podCIDRs)) {
      c.forbidden('spec.podCIDRs', 'node updates may not change podCIDR except from "" to valid');
    }
    if (asStr(old.providerID) && old.providerID !== s.providerID) {
      c.forbidden('spec.providerID', 'node updates may not change providerID except from "" to valid');
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// PersistentVolume and PersistentVolumeClaim

const ACCESS_MODES = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const PV_SOURCES = [
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'hostPath',
  'glusterfs',
  'nfs',
  'rbd',
  'iscsi',
  'cinder',
  'cephfs',
  'fc',
  'flocker',
  'flexVolume',
  'azureFile',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'local',
  'storageos',
  'csi',
];

function pickPVSource(s: Obj): Obj {
  const out: Obj = {};
  for (const key of PV_SOURCES) if (!isUnset(s[key])) out[key] = s[key];
  return out;
}

function defaultPersistentVolume(pv: KubeObject): void {
  const s = spec(pv);
  if (s) {
    defaultString(s, 'persistentVolumeReclaimPolicy', 'Retain');
    defaultPointer(s, 'volumeMode', 'Filesystem');
  }
  const status = ensureObj(pv as Obj, 'status');
  if (status) defaultString(status, 'phase', 'Pending');
}

function validateAccessModes(c: Causes, s: Obj, path: string, requiredDetail: string): void {
  const modes = c.array(s, 'accessModes', path) ?? [];
  if (modes.length === 0) c.required(path, requiredDetail);
  for (const mode of modes) if (!ACCESS_MODES.includes(asStr(mode))) c.notSupported(path, mode, ACCESS_MODES);
  if (modes.includes('ReadWriteOncePod') && modes.length > 1)
    c.forbidden(path, 'may not use ReadWriteOncePod with other access modes');
}

function validatePositiveQuantity(c: Causes, value: unknown, path: string): void {
  const nanos = quantityNanos(value);
  if (nanos === undefined) c.invalid(path, value, QUANTITY_FORMAT_MESSAGE);
  else if (nanos <= 0n) c.invalid(path, quantityText(value), 'must be greater than zero');
}

function validateVolumeMode(c: Causes, s: Obj, path: string): void {
  const mode = c.string(s, 'volumeMode', path);
  if (mode !== undefined && mode !== 'Block' && mode !== 'Filesystem') c.notSupported(path, mode, ['Block', 'Filesystem']);
}

function validatePersistentVolume(pv: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  if (context.subresource) return c;
  const s = c.object(pv as Obj, 'spec', 'spec') ?? {};
  validateAccessModes(c, s, 'spec.accessModes', '');
  const capacity = c.object(s, 'capacity', 'spec.capacity') ?? {};
  if (Object.keys(capacity).length === 0) c.required('spec.capacity');
  if (!('storage' in capacity) || Object.keys(capacity).length > 1) c.notSupported('spec.capacity', capacity, ['storage']);
  for (const [name, value] of Object.entries(capacity)) validatePositiveQuantity(c, value, `spec.capacity[${name}]`);
  const reclaim = c.string(s, 'persistentVolumeReclaimPolicy', 'spec.persistentVolumeReclaimPolicy');
  const policies = ['Delete', 'Recycle', 'Retain'];
  if (reclaim && !policies.includes(reclaim)) c.notSupported('spec.persistentVolumeReclaimPolicy', reclaim, policies);
  validateVolumeMode(c, s, 'spec.volumeMode');
  const sources = Object.keys(pickPVSource(s));
  if (sources.length === 0) c.required('spec', 'must specify a volume type');
  for (const extra of sources.slice(1)) c.forbidden(`spec.${extra}`, 'may not specify more than 1 volume type');
  const hostPath = asObj(s.hostPath);
  if (hostPath && !asStr(hostPath.path)) c.required('spec.hostPath.path');
  const local = asObj(s.local);
  if (local && !asStr(local.path)) c.required('spec.local.path');
  const storageClass = asStr(s.storageClassName);
  if (storageClass) c.each('spec.storageClassName', storageClass, isDNS1123Subdomain(storageClass));
  if (isUpdate(context)) {
    const old = asObj(context.old?.spec) ?? {};
    const before = pickPVSource(old);
    const after = pickPVSource(s);
    if (!semanticEqual(before, after)) {
      c.forbidden(
        'spec.persistentvolumesource',
        `spec.persistentvolumesource is immutable after creation\n${describeDifferences(before, after, 'spec').join('\n')}`,
      );
    }
    if (!semanticEqual(s.volumeMode, old.volumeMode)) c.invalid('volumeMode', s.volumeMode ?? null, 'field is immutable');
  }
  return c;
}

/**
 * Volumes and claims start with an empty status; kube-apiserver's read path re-applies defaults,
 * so what clients see is phase Pending. Stored that way here, since reads do not re-default.
 */
function preparePendingStatus(object: KubeObject): void {
  object.status = { phase: 'Pending' };
}

function defaultPersistentVolumeClaim(pvc: KubeObject): void {
  const s = spec(pvc);
  if (s) defaultPointer(s, 'volumeMode', 'Filesystem');
  const status = ensureObj(pvc as Obj, 'status');
  if (status) defaultString(status, 'phase', 'Pending');
}

/** A PVC spec (also used for StatefulSet volumeClaimTemplates) at `path`. */
export function validatePersistentVolumeClaimSpec(c: Causes, value: unknown, path: string): void {
  const s = asObj(value);
  if (!s) {
    c.required(`${path}.accessModes`, 'at least 1 access mode is required');
    return;
  }
  validateAccessModes(c, s, `${path}.accessModes`, 'at least 1 access mode is required');
  const requests = asObj(asObj(s.resources)?.requests) ?? {};
  if (!('storage' in requests)) c.required(`${path}.resources[storage]`);
  else validatePositiveQuantity(c, requests.storage, `${path}.resources[storage]`);
  validateVolumeMode(c, s, `${path}.volumeMode`);
  const storageClass = c.string(s, 'storageClassName', `${path}.storageClassName`);
  if (storageClass) c.each(`${path}.storageClassName`, storageClass, isDNS1123Subdomain(storageClass));
  const selector = s.selector;
  if (!isUnset(selector) && !asObj(selector)) c.invalid(`${path}.selector`, selector, 'must be an object');
}

function validatePersistentVolumeClaim(pvc: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  if (context.subresource) return c;
  validatePersistentVolumeClaimSpec(c, pvc.spec, 'spec');
  if (!isUpdate(context)) return c;
  const newSpec = asObj(pvc.spec) ?? {};
  const oldSpec = asObj(context.old?.spec) ?? {};
  const oldStatus = asObj(context.old?.status) ?? {};
  const comparableNew = structuredClone(newSpec);
  const comparableOld = structuredClone(oldSpec);
  // The volume binder sets volumeName once; the attributes class may change.
  if (!asStr(oldSpec.volumeName)) comparableOld.volumeName = comparableNew.volumeName;
  // Retroactive default StorageClass: a claim created without any class may be given one, once.
  const oldAnnotations = asObj(asObj((context.old as Obj | undefined)?.metadata)?.annotations) ?? {};
  if (isUnset(oldSpec.storageClassName) && asStr(comparableNew.storageClassName) && oldAnnotations['volume.beta.kubernetes.io/storage-class'] === undefined) {
    comparableOld.storageClassName = comparableNew.storageClassName;
  }
  comparableOld.volumeAttributesClassName = comparableNew.volumeAttributesClassName;
  // Bound claims may be resized: compare everything else.
  const bound = oldStatus.phase === 'Bound' || asObj(pvc.status)?.phase === 'Bound';
  const newRequests = asObj(asObj(comparableNew.resources)?.requests);
  if (bound && newRequests) {
    const oldRequests = asObj(asObj(comparableOld.resources)?.requests);
    const newSize = quantityNanos(newRequests.storage);
    const oldSize = quantityNanos(oldRequests?.storage);
    const allocated = quantityNanos(asObj(oldStatus.capacity)?.storage) ?? 0n;
    if (newSize !== undefined && oldSize !== undefined && newSize !== oldSize && newSize <= allocated) {
      c.forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity');
    }
    newRequests.storage = oldRequests?.storage;
  }
  if (!semanticEqual(comparableNew, comparableOld)) {
    c.forbidden(
      'spec',
      `spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims\n${describeDifferences(comparableOld, comparableNew, 'spec').join('\n')}`,
    );
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// ResourceQuota and LimitRange

const QUOTA_SCOPES = [
  'BestEffort',
  'CrossNamespacePodAffinity',
  'NotBestEffort',
  'NotTerminating',
  'PriorityClass',
  'Terminating',
  'VolumeAttributesClass',
];

function validateResourceList(c: Causes, list: Obj | undefined, path: string): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const [name, value] of Object.entries(list ?? {})) {
    const at = `${path}[${name}]`;
    c.each(at, name, isQualifiedName(name));
    const nanos = quantityNanos(value);
    if (nanos === undefined) c.invalid(at, value, QUANTITY_FORMAT_MESSAGE);
    else if (nanos < 0n) c.invalid(at, quantityText(value), 'must be greater than or equal to 0');
    else out.set(name, nanos);
  }
  return out;
}

function validateResourceQuota(quota: KubeObject, context: ValidationContext): Causes {
  const c = new Causes();
  const s = c.object(quota as Obj, 'spec', 'spec') ?? {};
  validateResourceList(c, c.object(s, 'hard', 'spec.hard'), 'spec.hard');
  for (const [i, scope] of (c.array(s, 'scopes', 'spec.scopes') ?? []).entries()) {
    if (!QUOTA_SCOPES.includes(asStr(scope))) c.notSupported(`spec.scopes[${i}]`, scope, QUOTA_SCOPES);
  }
  if (context.subresource === 'status') {
    const status = asObj(quota.status);
    validateResourceList(c, asObj(status?.hard), 'status.hard');
    validateResourceList(c, asObj(status?.used), 'status.used');
  }
  return c;
}

const LIMIT_TYPES = ['Container', 'Pod', 'PersistentVolumeClaim'];

function defaultLimitRange(limitRange: KubeObject): void {
  for (const item of objectsOf(spec(limitRange)?.limits)) {
    if (item.type !== 'Container') continue;
    const max = asObj(item.max) ?? {};
    const min = asObj(item.min) ?? {};
    if (isUnset(item.default) && Object.keys(max).length > 0) item.default = {};
    const limitDefault = asObj(item.default);
    if (limitDefault) for (const [k, v] of Object.entries(max)) if (!(k in limitDefault)) limitDefault[k] = v;
    const candidates = { ...min, ...(limitDefault ?? {}) };
    if (isUnset(item.defaultRequest) && Object.keys(candidates).length > 0) item.defaultRequest = {};
    const defaultRequest = asObj(item.defaultRequest);
    if (!defaultRequest) continue;
    for (const [k, v] of Object.entries(limitDefault ?? {})) if (!(k in defaultRequest)) defaultRequest[k] = v;
    for (const [k, v] of Object.entries(min)) if (!(k in defaultRequest)) defaultRequest[k] = v;
  }
}

function validateLimitRange(limitRange: KubeObject): Causes {
  const c = new Causes();
  const s = c.object(limitRange as Obj, 'spec', 'spec') ?? {};
  const types = new Set<string>();
  for (const [item, at] of c.objects(s, 'limits', 'spec.limits')) {
    const type = asStr(item.type);
    if (!type) c.required(`${at}.type`);
    else {
      c.each(`${at}.type`, type, isQualifiedName(type));
      if (!type.includes('/') && !LIMIT_TYPES.includes(type))
        c.invalid(`${at}.type`, type, 'must be a standard limit type or fully qualified');
      if (types.has(type)) c.duplicate(`${at}.type`, type);
      types.add(type);
    }
    const lists: Record<string, Map<string, bigint>> = {};
    for (const key of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio']) {
      lists[key] = validateResourceList(c, c.object(item, key, `${at}.${key}`), `${at}.${key}`);
    }
    const text = (key: string, name: string) => quantityText(asObj(item[key])?.[name]);
    for (const [name, min] of lists.min) {
      const max = lists.max.get(name);
      if (max !== undefined && min > max)
        c.invalid(
          `${at}.min[${name}]`,
          text('min', name),
          `min value ${text('min', name)} is greater than max value ${text('max', name)}`,
        );
    }
    for (const [name, request] of lists.defaultRequest) {
      const min = lists.min.get(name);
      const max = lists.max.get(name);
      const limit = lists.default.get(name);
      const at2 = `${at}.defaultRequest[${name}]`;
      if (min !== undefined && min > request)
        c.invalid(
          at2,
          text('defaultRequest', name),
          `min value ${text('min', name)} is greater than default request value ${text('defaultRequest', name)}`,
        );
      if (max !== undefined && request > max)
        c.invalid(
          at2,
          text('defaultRequest', name),
          `default request value ${text('defaultRequest', name)} is greater than max value ${text('max', name)}`,
        );
      if (limit !== undefined && request > limit)
        c.invalid(
          at2,
          text('defaultRequest', name),
          `default request value ${text('defaultRequest', name)} is greater than default limit value ${text('default', name)}`,
        );
    }
    for (const [name, limit] of lists.default) {
      const min = lists.min.get(name);
      const max = lists.max.get(name);
      if (min !== undefined && min > limit)
        c.invalid(
          `${at}.default[${name}]`,
          text('min', name),
          `min value ${text('min', name)} is greater than default value ${text('default', name)}`,
        );
      if (max !== undefined && limit > max)
        c.invalid(
          `${at}.default[${name}]`,
          text('max', name),
          `default value ${text('default', name)} is greater than max value ${text('max', name)}`,
        );
    }
  }
  return c;
}

// ---------------------------------------------------------------------------------------------
// Endpoints and Event

function defaultEndpoints(endpoints: KubeObject): void {
  for (const subset of objectsOf((endpoints as Obj).subsets))
    for (const port of objectsOf(subset.ports)) defaultString(port, 'protocol', 'TCP');
}

function validateEndpoints(endpoints: KubeObject): Causes {
  const c = new Causes();
  for (const [subset, at] of c.objects(endpoints as Obj, 'subsets', 'subsets')) {
    for (const key of ['addresses', 'notReadyAddresses']) {
      for (const [address, addressPath] of c.objects(subset, key, `${at}.${key}`)) {
        const ip = asStr(address.ip);
        c.each(`${addressPath}.ip`, ip, isValidIP(ip));
        const hostname = asStr(address.hostname);
        if (hostname) c.each(`${addressPath}.hostname`, hostname, isDNS1123Label(hostname));
        const nodeName = asStr(address.nodeName);
        if (nodeName) c.each(`${addressPath}.nodeName`, nodeName, isDNS1123Subdomain(nodeName));
      }
    }
    const ports = c.objects(subset, 'ports', `${at}.ports`);
    const names = new Set<string>();
    for (const [port, portPath] of ports) {
      const name = asStr(port.name);
      if (ports.length > 1 && !name) c.required(`${portPath}.name`);
      else if (name) {
        c.each(`${portPath}.name`, name, isDNS1123Label(name));
        if (names.has(name)) c.duplicate(`${portPath}.name`, name);
        names.add(name);
      }
      const number = asNum(port.port) ?? 0;
      c.each(`${portPath}.port`, number, isValidPortNum(number));
      const protocol = asStr(port.protocol);
      if (!protocol) c.required(`${portPath}.protocol`);
      else if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol))
        c.notSupported(`${portPath}.protocol`, protocol, SUPPORTED_PORT_PROTOCOLS);
    }
  }
  return c;
}

function validateEvent(event: KubeObject): Causes {
  const c = new Causes();
  const involved = c.object(event as Obj, 'involvedObject', 'involvedObject') ?? {};
  const namespace = asStr(asObj(event.metadata)?.namespace);
  const involvedNamespace = asStr(involved.namespace);
  if (isUnset((event as Obj).eventTime)) {
    // Legacy events: the event lives in its object's namespace (or default, for cluster objects).
    if (!involvedNamespace) {
      if (namespace && namespace !== 'default')
        c.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace');
    } else if (namespace !== involvedNamespace) {
      c.invalid('involvedObject.namespace', involvedNamespace, 'does not match event.namespace');
    }
  }
  const type = asStr((event as Obj).type);
  if (type && type !== 'Normal' && type !== 'Warning') c.notSupported('type', type, ['Normal', 'Warning']);
  return c;
}

// ---------------------------------------------------------------------------------------------

const list =
  (run: (object: KubeObject, context: ValidationContext) => Causes) => (object: KubeObject, context: ValidationContext) =>
    run(object, context).list;

export const coreSemantics: Record<string, KindSemantics> = {
  '/Pod': {
    nameValidation: 'subdomain',
    defaults: (pod) => defaultPodSpec(pod.spec, true),
    prepareForCreate: preparePodForCreate,
    validate: list(validatePod),
  },
  '/PodTemplate': {
    nameValidation: 'subdomain',
    defaults: (template) => defaultPodTemplate((template as Obj).template),
    validate: list((template) => {
      const c = new Causes();
      validatePodTemplate(c, (template as Obj).template, 'template');
      return c;
    }),
  },
  '/ReplicationController': {
    nameValidation: 'subdomain',
    defaults: defaultReplicationController,
    validate: list(validateReplicationController),
  },
  '/Service': { nameValidation: 'dns1035-label', defaults: defaultService, validate: list(validateService) },
  '/Secret': { nameValidation: 'subdomain', defaults: defaultSecret, validate: list(validateSecret) },
  '/ConfigMap': { nameValidation: 'subdomain', validate: list(validateConfigMap) },
  '/Namespace': {
    nameValidation: 'label',
    defaults: defaultNamespace,
    prepareForCreate: prepareNamespaceForCreate,
    validate: list(validateNamespace),
  },
  '/ServiceAccount': { nameValidation: 'subdomain' },
  '/Node': { nameValidation: 'subdomain', defaults: defaultNode, validate: list(validateNode) },
  '/PersistentVolume': {
    nameValidation: 'subdomain',
    defaults: defaultPersistentVolume,
    prepareForCreate: preparePendingStatus,
    validate: list(validatePersistentVolume),
  },
  '/PersistentVolumeClaim': {
    nameValidation: 'subdomain',
    defaults: defaultPersistentVolumeClaim,
    prepareForCreate: preparePendingStatus,
    validate: list(validatePersistentVolumeClaim),
  },
  '/ResourceQuota': { nameValidation: 'subdomain', validate: list(validateResourceQuota) },
  '/LimitRange': { nameValidation: 'subdomain', defaults: defaultLimitRange, validate: list((o) => validateLimitRange(o)) },
  '/Endpoints': { nameValidation: 'subdomain', defaults: defaultEndpoints, validate: list((o) => validateEndpoints(o)) },
  '/Event': { nameValidation: 'subdomain', validate: list((o) => validateEvent(o)) },
};
