/**
 * The `networking.k8s.io` group: Ingress, IngressClass and NetworkPolicy defaults
 * (pkg/apis/networking/v1/defaults.go) and validation (pkg/apis/networking/validation).
 */
import {
  ipFamilyOf,
  isDNS1035Label,
  isDNS1123Subdomain,
  isValidCIDR,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  validateLabelSelectorField,
  type KubeObject,
} from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import type { KindSemantics } from './types.js';
import { asArr, asObj, asStr, Causes, defaultPointer, isUnset, objectsOf, type Obj, SUPPORTED_PORT_PROTOCOLS } from './util.js';

// ---------------------------------------------------------------------------------------------
// Ingress

const PATH_TYPES = ['Exact', 'ImplementationSpecific', 'Prefix'];
const INVALID_PATH_SEQUENCES = ['//', '/./', '/../', '%2f', '%2F'];
const INVALID_PATH_SUFFIXES = ['/..', '/.'];

function validateBackend(c: Causes, backend: Obj | undefined, path: string): void {
  if (!backend) {
    c.required(path);
    return;
  }
  const resource = asObj(backend.resource);
  const service = asObj(backend.service);
  if (resource && service) {
    c.invalid(path, '', 'cannot set both resource and service backends');
    return;
  }
  if (resource) {
    if (!asStr(resource.kind)) c.required(`${path}.resource.kind`);
    if (!asStr(resource.name)) c.required(`${path}.resource.name`);
    return;
  }
  if (!service) {
    c.invalid(path, '', 'resource or service backend is required');
    return;
  }
  const name = asStr(service.name);
  if (!name) c.required(`${path}.service.name`);
  else c.each(`${path}.service.name`, name, isDNS1035Label(name));
  const port = asObj(service.port) ?? {};
  const portName = asStr(port.name);
  const portNumber = typeof port.number === 'number' ? port.number : 0;
  if (portName && portNumber) c.invalid(path, '', 'cannot set both port name & port number');
  else if (portName) c.each(`${path}.service.port.name`, portName, isValidPortName(portName));
  else if (portNumber) c.each(`${path}.service.port.number`, portNumber, isValidPortNum(portNumber));
  else c.required(path, 'port name or number is required');
}

function validateIngressPath(c: Causes, httpPath: Obj, at: string): void {
  const pathType = c.string(httpPath, 'pathType', `${at}.pathType`);
  const value = asStr(httpPath.path);
  if (pathType === undefined) {
    c.required(`${at}.pathType`, 'pathType must be specified');
    return;
  }
  if (pathType === 'Exact' || pathType === 'Prefix') {
    if (!value.startsWith('/')) c.invalid(`${at}.path`, value, 'must be an absolute path');
    if (value) {
      for (const seq of INVALID_PATH_SEQUENCES)
        if (value.includes(seq)) c.invalid(`${at}.path`, value, `must not contain '${seq}'`);
      for (const suffix of INVALID_PATH_SUFFIXES)
        if (value.endsWith(suffix)) c.invalid(`${at}.path`, value, `cannot end with '${suffix}'`);
    }
  } else if (pathType === 'ImplementationSpecific') {
    if (value && !value.startsWith('/')) c.invalid(`${at}.path`, value, 'must be an absolute path');
  } else {
    c.notSupported(`${at}.pathType`, pathType, PATH_TYPES);
  }
  validateBackend(c, c.object(httpPath, 'backend', `${at}.backend`), `${at}.backend`);
}

function validateIngressHost(c: Causes, host: string, path: string): void {
  if (ipFamilyOf(host)) c.invalid(path, host, 'must be a DNS name, not an IP address');
  if (host.includes('*')) c.each(path, host, isWildcardDNS1123Subdomain(host));
  else c.each(path, host, isDNS1123Subdomain(host));
}

function validateIngress(ingress: KubeObject, context: ValidationContext) {
  const c = new Causes();
  if (context.subresource) return c.list;
  const spec = c.object(ingress as Obj, 'spec', 'spec') ?? {};
  const defaultBackend = c.object(spec, 'defaultBackend', 'spec.defaultBackend');
  const rules = c.objects(spec, 'rules', 'spec.rules');
  if (defaultBackend) validateBackend(c, defaultBackend, 'spec.defaultBackend');
  else if (rules.length === 0)
    c.invalidRendered('spec.rules', '[]networking.IngressRule(nil)', 'either `defaultBackend` or `rules` must be specified');
  for (const [rule, at] of rules) {
    const host = c.string(rule, 'host', `${at}.host`);
    if (host) validateIngressHost(c, host, `${at}.host`);
    const http = c.object(rule, 'http', `${at}.http`);
    if (!http) continue;
    const paths = c.objects(http, 'paths', `${at}.http.paths`);
    if (paths.length === 0) c.required(`${at}.http.paths`);
    for (const [httpPath, pathAt] of paths) validateIngressPath(c, httpPath, pathAt);
  }
  for (const [tls, at] of c.objects(spec, 'tls', 'spec.tls')) {
    asArr(tls.hosts).forEach((host, i) => {
      const text = asStr(host);
      if (text.includes('*')) c.each(`${at}.hosts[${i}]`, text, isWildcardDNS1123Subdomain(text));
      else c.each(`${at}.hosts[${i}]`, text, isDNS1123Subdomain(text));
    });
    const secretName = asStr(tls.secretName);
    if (secretName) c.each(`${at}.secretName`, secretName, isDNS1123Subdomain(secretName));
  }
  const className = c.string(spec, 'ingressClassName', 'spec.ingressClassName');
  if (className) c.each('spec.ingressClassName', className, isDNS1123Subdomain(className));
  return c.list;
}

// ---------------------------------------------------------------------------------------------
// IngressClass

const MAX_CONTROLLER_LENGTH = 250;

function defaultIngressClass(ingressClass: KubeObject): void {
  const parameters = asObj(asObj(ingressClass.spec)?.parameters);
  if (parameters) defaultPointer(parameters, 'scope', 'Cluster');
}

function validateIngressClass(ingressClass: KubeObject, context: ValidationContext) {
  const c = new Causes();
  const spec = c.object(ingressClass as Obj, 'spec', 'spec') ?? {};
  const controller = c.string(spec, 'controller', 'spec.controller') ?? '';
  if (controller.length > MAX_CONTROLLER_LENGTH) c.tooLong('spec.controller', MAX_CONTROLLER_LENGTH);
  if (!controller) c.required('spec.controller');
  else {
    const slash = controller.indexOf('/');
    const domain = controller.slice(0, slash);
    const rest = controller.slice(slash + 1);
    if (slash <= 0 || !rest) c.invalid('spec.controller', controller, 'must be a domain-prefixed path (such as "acme.io/foo")');
    else {
      c.each('spec.controller', domain, isDNS1123Subdomain(domain));
      if (!/^[A-Za-z0-9/\-._~%!$&'()*+,;=:]+$/.test(rest)) {
        c.invalid('spec.controller', rest, "Invalid path (regex used for validation is '[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+')");
      }
    }
  }
  const parameters = c.object(spec, 'parameters', 'spec.parameters');
  if (parameters) {
    if (!asStr(parameters.kind)) c.required('spec.parameters.kind');
    if (!asStr(parameters.name)) c.required('spec.parameters.name');
    const scope = asStr(parameters.scope);
    if (scope !== 'Cluster' && scope !== 'Namespace') c.notSupported('spec.parameters.scope', scope, ['Cluster', 'Namespace']);
    if (scope === 'Namespace' && !asStr(parameters.namespace))
      c.required('spec.parameters.namespace', '`parameters.scope` is set to "Namespace"');
    if (scope === 'Cluster' && asStr(parameters.namespace))
      c.forbidden('spec.parameters.namespace', '`parameters.scope` is set to "Cluster"');
  }
  if (context.old) {
    const old = asStr(asObj(context.old.spec)?.controller);
    if (old !== controller) c.invalid('spec.controller', controller, 'field is immutable');
  }
  return c.list;
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy

function defaultNetworkPolicy(policy: KubeObject): void {
  const spec = asObj(policy.spec);
  if (!spec) return;
  for (const direction of ['ingress', 'egress']) {
    for (const rule of objectsOf(spec[direction]))
      for (const port of objectsOf(rule.ports)) defaultPointer(port, 'protocol', 'TCP');
  }
  // A policy that does not say which directions it covers covers Ingress, and Egress if it has egress rules.
  if (asArr(spec.policyTypes).length === 0 && (isUnset(spec.policyTypes) || Array.isArray(spec.policyTypes))) {
    spec.policyTypes = asArr(spec.egress).length > 0 ? ['Ingress', 'Egress'] : ['Ingress'];
  }
}

function validatePeer(c: Causes, peer: Obj, at: string): void {
  let peers = 0;
  for (const key of ['podSelector', 'namespaceSelector']) {
    if (isUnset(peer[key])) continue;
    peers++;
    c.push(...validateLabelSelectorField(peer[key], `${at}.${key}`));
  }
  const ipBlock = c.object(peer, 'ipBlock', `${at}.ipBlock`);
  if (ipBlock) {
    peers++;
    const cidr = asStr(ipBlock.cidr);
    if (!cidr) c.required(`${at}.ipBlock.cidr`);
    else c.each(`${at}.ipBlock.cidr`, cidr, isValidCIDR(cidr));
    asArr(ipBlock.except).forEach((except, i) => c.each(`${at}.ipBlock.except[${i}]`, except, isValidCIDR(asStr(except))));
  }
  if (peers === 0) c.required(at, 'must specify a peer');
  else if (ipBlock && peers > 1) c.forbidden(at, 'may not specify both ipBlock and another peer');
}

function validateNetworkPolicyPort(c: Causes, port: Obj, at: string): void {
  const protocol = asStr(port.protocol);
  if (protocol && !SUPPORTED_PORT_PROTOCOLS.includes(protocol))
    c.notSupported(`${at}.protocol`, protocol, SUPPORTED_PORT_PROTOCOLS);
  const value = port.port;
  if (typeof value === 'number') c.each(`${at}.port`, value, isValidPortNum(value));
  else if (typeof value === 'string') {
    c.each(`${at}.port`, value, isValidPortName(value));
    if (!isUnset(port.endPort)) c.forbidden(`${at}.endPort`, 'may not be specified when `port` is non-numeric');
  } else if (!isUnset(port.endPort)) c.required(`${at}.port`, 'must be specified when `endPort` is specified');
  const endPort = port.endPort;
  if (typeof endPort === 'number' && typeof value === 'number') {
    if (endPort < value) c.invalid(`${at}.endPort`, endPort, 'must be greater than or equal to `port`');
    c.each(`${at}.endPort`, endPort, isValidPortNum(endPort));
  }
}

function validateNetworkPolicy(policy: KubeObject) {
  const c = new Causes();
  const spec = c.object(policy as Obj, 'spec', 'spec') ?? {};
  c.push(...validateLabelSelectorField(spec.podSelector, 'spec.podSelector'));
  for (const [direction, peersKey] of [
    ['ingress', 'from'],
    ['egress', 'to'],
  ]) {
    for (const [rule, at] of c.objects(spec, direction, `spec.${direction}`)) {
      for (const [port, portAt] of c.objects(rule, 'ports', `${at}.ports`)) validateNetworkPolicyPort(c, port, portAt);
      for (const [peer, peerAt] of c.objects(rule, peersKey, `${at}.${peersKey}`)) validatePeer(c, peer, peerAt);
    }
  }
  const types = c.array(spec, 'policyTypes', 'spec.policyTypes') ?? [];
  types.forEach((type, i) => {
    if (type !== 'Ingress' && type !== 'Egress') c.notSupported(`spec.policyTypes[${i}]`, type, ['Egress', 'Ingress']);
  });
  if (types.length > 2) c.invalid('spec.policyTypes', types, 'may not specify more than two policyTypes');
  return c.list;
}

export const networkingSemantics: Record<string, KindSemantics> = {
  'networking.k8s.io/Ingress': { nameValidation: 'subdomain', validate: validateIngress },
  'networking.k8s.io/IngressClass': {
    nameValidation: 'subdomain',
    defaults: defaultIngressClass,
    validate: validateIngressClass,
  },
  'networking.k8s.io/NetworkPolicy': {
    nameValidation: 'subdomain',
    defaults: defaultNetworkPolicy,
    validate: validateNetworkPolicy,
  },
};
