/**
 * `discovery.k8s.io` EndpointSlice: port defaults (pkg/apis/discovery/v1/defaults.go) and
 * validation (pkg/apis/discovery/validation).
 */
import {
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isValidIPv4Address,
  isValidIPv6Address,
  isValidPortNum,
  type KubeObject,
} from '@canopy/apimachinery';
import type { ValidationContext } from '../types.js';
import type { KindSemantics } from './types.js';
import { asArr, asStr, Causes, defaultPointer, objectsOf, type Obj, SUPPORTED_PORT_PROTOCOLS } from './util.js';

const ADDRESS_TYPES = ['FQDN', 'IPv4', 'IPv6'];
const MAX_ENDPOINTS = 1000;
const MAX_PORTS = 20000;
const MAX_ADDRESSES = 100;

function defaultEndpointSlice(slice: KubeObject): void {
  for (const port of objectsOf((slice as Obj).ports)) {
    defaultPointer(port, 'name', '');
    defaultPointer(port, 'protocol', 'TCP');
  }
}

function validateAddress(c: Causes, addressType: string, address: string, path: string): void {
  if (addressType === 'IPv4') c.each(path, address, isValidIPv4Address(address));
  else if (addressType === 'IPv6') c.each(path, address, isValidIPv6Address(address));
  else if (addressType === 'FQDN') c.each(path, address, isDNS1123Subdomain(address));
}

function validateEndpointSlice(slice: KubeObject, context: ValidationContext) {
  const c = new Causes();
  const root = slice as Obj;
  const addressType = c.string(root, 'addressType', 'addressType') ?? '';
  if (!addressType) c.required('addressType');
  else if (!ADDRESS_TYPES.includes(addressType)) c.notSupported('addressType', addressType, ADDRESS_TYPES);
  const endpoints = c.objects(root, 'endpoints', 'endpoints');
  if (endpoints.length > MAX_ENDPOINTS) c.tooMany('endpoints', endpoints.length, MAX_ENDPOINTS);
  for (const [endpoint, at] of endpoints) {
    const addresses = asArr(endpoint.addresses);
    if (addresses.length === 0) c.required(`${at}.addresses`, 'must contain at least 1 address');
    else if (addresses.length > MAX_ADDRESSES) c.tooMany(`${at}.addresses`, addresses.length, MAX_ADDRESSES);
    addresses.forEach((address, i) => validateAddress(c, addressType, asStr(address), `${at}.addresses[${i}]`));
    const hostname = asStr(endpoint.hostname);
    if (hostname) c.each(`${at}.hostname`, hostname, isDNS1123Label(hostname));
    const nodeName = asStr(endpoint.nodeName);
    if (nodeName) c.each(`${at}.nodeName`, nodeName, isDNS1123Subdomain(nodeName));
  }
  const ports = c.objects(root, 'ports', 'ports');
  if (ports.length > MAX_PORTS) c.tooMany('ports', ports.length, MAX_PORTS);
  const names = new Set<string>();
  for (const [port, at] of ports) {
    const name = asStr(port.name);
    if (name) c.each(`${at}.name`, name, isDNS1123Label(name));
    if (names.has(name)) c.duplicate(`${at}.name`, name);
    names.add(name);
    const protocol = asStr(port.protocol);
    if (!SUPPORTED_PORT_PROTOCOLS.includes(protocol)) c.notSupported(`${at}.protocol`, protocol, SUPPORTED_PORT_PROTOCOLS);
    if (typeof port.port === 'number') c.each(`${at}.port`, port.port, isValidPortNum(port.port));
    const appProtocol = asStr(port.appProtocol);
    if (appProtocol) c.each(`${at}.appProtocol`, appProtocol, isQualifiedName(appProtocol));
  }
  if (context.old && asStr((context.old as Obj).addressType) !== addressType)
    c.invalid('addressType', addressType, 'field is immutable');
  return c.list;
}

export const discoverySemantics: Record<string, KindSemantics> = {
  'discovery.k8s.io/EndpointSlice': {
    nameValidation: 'subdomain',
    defaults: defaultEndpointSlice,
    validate: validateEndpointSlice,
  },
};
