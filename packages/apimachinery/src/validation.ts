/**
 * Syntax checks and ObjectMeta validation, worded as k8s.io/apimachinery/pkg/util/validation and
 * k8s.io/apimachinery/pkg/api/validation word them: clients (and people) match on these strings.
 *
 * The `is*` functions return a list of problems (empty when the value is valid), exactly like their
 * Go counterparts; the `validate*` functions turn them into StatusCauses at a field path.
 * Every function accepts anything a JSON parser can produce and never throws.
 */
import { fieldErrors, type StatusCause } from './errors.js';
import { isPlainObject } from './types.js';

// ---------------------------------------------------------------------------------------------
// Message builders (k8s.io/apimachinery/pkg/util/validation)

/** "must be no more than N characters" */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/**
 * A regex failure with examples. Go's wording has a double space before each "or"
 * ("(e.g. 'my-name',  or '123-abc', …)"), which is preserved on purpose.
 */
export function regexError(message: string, format: string, ...examples: string[]): string {
  if (examples.length === 0) return `${message} (regex used for validation is '${format}')`;
  let out = `${message} (e.g. `;
  examples.forEach((example, i) => {
    if (i > 0) out += ' or ';
    out += `'${example}', `;
  });
  return `${out}regex used for validation is '${format}')`;
}

export function emptyError(): string {
  return 'must be non-empty';
}

export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

// ---------------------------------------------------------------------------------------------
// DNS names

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123LabelErrMsg =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
export const DNS1123LabelMaxLength = 63;
const dns1123LabelRegexp = new RegExp(`^${dns1123LabelFmt}$`);

const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const dns1123SubdomainErrorMsg =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
export const DNS1123SubdomainMaxLength = 253;
const dns1123SubdomainRegexp = new RegExp(`^${dns1123SubdomainFmt}$`);

const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';
const dns1035LabelErrMsg =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
export const DNS1035LabelMaxLength = 63;
const dns1035LabelRegexp = new RegExp(`^${dns1035LabelFmt}$`);

const wildcardDNS1123SubdomainFmt = `\\*\\.${dns1123SubdomainFmt}`;
const wildcardDNS1123SubdomainErrMsg =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const wildcardDNS1123SubdomainRegexp = new RegExp(`^${wildcardDNS1123SubdomainFmt}$`);

/** Go measures strings in UTF-8 bytes. Counted by hand so the module also runs outside Node. */
function byteLength(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < value.length) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** A DNS label (RFC 1123): namespaces, container names, port names of services. */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123LabelMaxLength) errs.push(maxLenError(DNS1123LabelMaxLength));
  if (!dns1123LabelRegexp.test(value)) {
    // A valid subdomain that is not a valid label (length is already checked): it has dots.
    if (dns1123SubdomainRegexp.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(dns1123LabelErrMsg, dns1123LabelFmt, 'my-name', '123-abc'));
  }
  return errs;
}

/** A DNS subdomain (RFC 1123): the name of most kinds. */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!dns1123SubdomainRegexp.test(value)) errs.push(regexError(dns1123SubdomainErrorMsg, dns1123SubdomainFmt, 'example.com'));
  return errs;
}

/** A DNS-1035 label: Service names (they become DNS names and environment variables). */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1035LabelMaxLength) errs.push(maxLenError(DNS1035LabelMaxLength));
  if (!dns1035LabelRegexp.test(value)) errs.push(regexError(dns1035LabelErrMsg, dns1035LabelFmt, 'my-name', 'abc-123'));
  return errs;
}

/** `*.example.com` (Ingress hosts). */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!wildcardDNS1123SubdomainRegexp.test(value)) {
    errs.push(regexError(wildcardDNS1123SubdomainErrMsg, wildcardDNS1123SubdomainFmt, '*.example.com'));
  }
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Qualified names (label keys, annotation keys, finalizers) and label values

const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const qualifiedNameErrMsg =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const qualifiedNameMaxLength = 63;
const qualifiedNameRegexp = new RegExp(`^${qualifiedNameFmt}$`);

/** `[prefix/]name`: label and annotation keys, finalizers, taint keys. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  switch (parts.length) {
    case 1:
      name = parts[0];
      break;
    case 2: {
      const prefix = parts[0];
      name = parts[1];
      if (prefix.length === 0) errs.push(`prefix part ${emptyError()}`);
      else for (const msg of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${msg}`);
      break;
    }
    default:
      return [
        `a qualified name ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ];
  }
  if (name.length === 0) errs.push(`name part ${emptyError()}`);
  else if (byteLength(name) > qualifiedNameMaxLength) errs.push(`name part ${maxLenError(qualifiedNameMaxLength)}`);
  if (!qualifiedNameRegexp.test(name)) {
    errs.push(`name part ${regexError(qualifiedNameErrMsg, qualifiedNameFmt, 'MyName', 'my.name', '123-abc')}`);
  }
  return errs;
}

const labelValueFmt = `(${qualifiedNameFmt})?`;
const labelValueErrMsg =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
export const LabelValueMaxLength = 63;
const labelValueRegexp = new RegExp(`^${labelValueFmt}$`);

export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LabelValueMaxLength) errs.push(maxLenError(LabelValueMaxLength));
  if (!labelValueRegexp.test(value)) errs.push(regexError(labelValueErrMsg, labelValueFmt, 'MyValue', 'my_value', '12345'));
  return errs;
}

// ---------------------------------------------------------------------------------------------
// Ports, percentages, keys, identifiers

export function isValidPortNum(port: number): string[] {
  return Number.isInteger(port) && port >= 1 && port <= 65535 ? [] : [inclusiveRangeError(1, 65535)];
}

export function isInRange(value: number, min: number, max: number): string[] {
  return value >= min && value <= max ? [] : [inclusiveRangeError(min, max)];
}

/** IANA service names: ≤ 15 characters of [-a-z0-9] with at least one letter, no leading, trailing or double hyphen. */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) errs.push('must not begin or end with a hyphen');
  return errs;
}

const percentFmt = '[0-9]+%';
export function isValidPercent(percent: string): string[] {
  return /^[0-9]+%$/.test(percent)
    ? []
    : [regexError("a valid percent string must be a numeric string followed by an ending '%'", percentFmt, '1%', '93%')];
}

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return [`must not be '.'`];
  if (value === '..') return [`must not be '..'`];
  if (value.startsWith('..')) return [`must not start with '..'`];
  return [];
}

const configMapKeyFmt = '[-._a-zA-Z0-9]+';
/** Keys of ConfigMap and Secret data (they become file names in volumes). */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123SubdomainMaxLength) errs.push(maxLenError(DNS1123SubdomainMaxLength));
  if (!/^[-._a-zA-Z0-9]+$/.test(value)) {
    errs.push(
      regexError(
        "a valid config key must consist of alphanumeric characters, '-', '_' or '.'",
        configMapKeyFmt,
        'key.name',
        'KEY_NAME',
        'key-name',
      ),
    );
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

const envVarNameFmt = '[-._a-zA-Z][-._a-zA-Z0-9]*';
/** The strict environment variable name rule (still used for ConfigMap keys imported with envFrom prefixes). */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!/^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(value)) {
    errs.push(
      regexError(
        "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit",
        envVarNameFmt,
        'my.env-name',
        'MY_ENV.NAME',
        'MyEnvName1',
      ),
    );
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** The relaxed rule in force since Kubernetes 1.32 (RelaxedEnvironmentVariableValidation): printable ASCII except '='. */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push(`environment variable name ${emptyError()}`);
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (code > 0x7e || code < 0x20 || ch === '=') {
      errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='");
      break;
    }
  }
  return errs;
}

const cIdentifierFmt = '[A-Za-z_][A-Za-z0-9_]*';
export function isCIdentifier(value: string): string[] {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(value)
    ? []
    : [
        regexError(
          "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'",
          cIdentifierFmt,
          'my_name',
          'MY_NAME',
          'MyName',
        ),
      ];
}

const httpHeaderNameFmt = '[-A-Za-z0-9]+';
export function isHTTPHeaderName(value: string): string[] {
  return /^[-A-Za-z0-9]+$/.test(value)
    ? []
    : [regexError("a valid HTTP header must consist of alphanumeric characters or '-'", httpHeaderNameFmt, 'X-Header-Name')];
}

// ---------------------------------------------------------------------------------------------
// IP addresses and CIDRs. Kubernetes parses "sloppily" (Go 1.16 rules): IPv4 octets may carry
// leading zeros and are read as decimal. IPv6 zones are never accepted.

function parseIPv4Sloppy(value: string): number[] | undefined {
  const parts = value.split('.');
  if (parts.length !== 4) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^[0-9]{1,3}$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    octets.push(n);
  }
  return octets;
}

function parseIPv6(value: string): boolean {
  if (!value.includes(':') || value.includes('%')) return false;
  let text = value;
  let groupsNeeded = 8;
  // An embedded IPv4 tail ("::ffff:1.2.3.4") stands for two groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    if (!parseIPv4Sloppy(tail)) return false;
    text = text.slice(0, lastColon + 1) + '0';
    groupsNeeded = 7;
  }
  const doubleColon = text.indexOf('::');
  if (doubleColon !== text.lastIndexOf('::')) return false;
  const groupOk = (g: string) => /^[0-9a-fA-F]{1,4}$/.test(g);
  if (doubleColon >= 0) {
    const head = text.slice(0, doubleColon);
    const rest = text.slice(doubleColon + 2);
    const headGroups = head === '' ? [] : head.split(':');
    const restGroups = rest === '' ? [] : rest.split(':');
    if (![...headGroups, ...restGroups].every(groupOk)) return false;
    return headGroups.length + restGroups.length < groupsNeeded;
  }
  const groups = text.split(':');
  return groups.length === groupsNeeded && groups.every(groupOk);
}

/** The address family of a valid IP (4 or 6), or 0 when the value is not an IP address. */
export function ipFamilyOf(value: string): 0 | 4 | 6 {
  if (parseIPv4Sloppy(value)) return 4;
  if (parseIPv6(value)) {
    // IPv4-mapped IPv6 addresses count as IPv4, as Go's net.IP.To4 does.
    return /^::ffff:[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/i.test(value) ? 4 : 6;
  }
  return 0;
}

export function isValidIP(value: string): string[] {
  return ipFamilyOf(value) ? [] : ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'];
}

export function isValidIPv4Address(value: string): string[] {
  return ipFamilyOf(value) === 4 ? [] : ['must be a valid IPv4 address'];
}

export function isValidIPv6Address(value: string): string[] {
  return ipFamilyOf(value) === 6 ? [] : ['must be a valid IPv6 address'];
}

export function isValidCIDR(value: string): string[] {
  const invalid = ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'];
  const slash = value.indexOf('/');
  if (slash < 0) return invalid;
  const address = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(prefix)) return invalid;
  const bits = Number(prefix);
  if (parseIPv4Sloppy(address)) return bits <= 32 ? [] : invalid;
  if (parseIPv6(address)) return bits <= 128 ? [] : invalid;
  return invalid;
}

// ---------------------------------------------------------------------------------------------
// Names of objects (k8s.io/apimachinery/pkg/api/validation)

/** A name validator as ValidateNameFunc: `prefix` is true when validating a generateName. */
export type NameValidator = (name: string, prefix: boolean) => string[];

/** How a kind's names are validated. `path-segment` only forbids what cannot appear in a URL path segment. */
export type NameValidation = 'subdomain' | 'label' | 'dns1035-label' | 'path-segment';

/**
 * generateName gets random characters appended, so a trailing dash is fine there; Go masks it
 * with `name[:len(name)-2] + "a"` (dropping two characters, a quirk kept for identical results).
 */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? name.slice(0, -2) + 'a' : name;
}

export function nameIsDNSSubdomain(name: string, prefix: boolean): string[] {
  return isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);
}

export function nameIsDNSLabel(name: string, prefix: boolean): string[] {
  return isDNS1123Label(prefix ? maskTrailingDash(name) : name);
}

export function nameIsDNS1035Label(name: string, prefix: boolean): string[] {
  return isDNS1035Label(prefix ? maskTrailingDash(name) : name);
}

/** Names that must only be safe as one URL path segment (RBAC objects, HPA targets…). */
export function isValidPathSegmentName(name: string, prefix = false): string[] {
  if (!prefix) {
    for (const illegal of ['.', '..']) if (name === illegal) return [`may not be '${illegal}'`];
  }
  const errs: string[] = [];
  for (const illegal of ['/', '%']) if (name.includes(illegal)) errs.push(`may not contain '${illegal}'`);
  return errs;
}

export const validateNamespaceName: NameValidator = nameIsDNSLabel;

export function nameValidatorFor(kind: NameValidation | NameValidator): NameValidator {
  if (typeof kind === 'function') return kind;
  switch (kind) {
    case 'label':
      return nameIsDNSLabel;
    case 'dns1035-label':
      return nameIsDNS1035Label;
    case 'path-segment':
      return isValidPathSegmentName;
    case 'subdomain':
    default:
      return nameIsDNSSubdomain;
  }
}

// ---------------------------------------------------------------------------------------------
// Field-level validators that produce StatusCauses

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** A value of the wrong JSON type: what the Go decoder would have refused. */
export function wrongType(
  field: string,
  value: unknown,
  expected: 'string' | 'object' | 'array' | 'integer' | 'boolean',
): StatusCause {
  return fieldErrors.typeInvalid(field, value, `must be of type ${expected}, not ${typeName(value)}`);
}

/**
 * A label map (metadata.labels, nodeSelector, service selectors): each key a qualified name and
 * each value a label value, reported at the map's path as kube does. Unlike labels.ts's typed
 * validateLabels, this takes any decoded JSON and reports wrong types instead of throwing.
 */
export function validateLabelsField(labels: unknown, path: string): StatusCause[] {
  if (labels === undefined || labels === null) return [];
  if (!isPlainObject(labels)) return [wrongType(path, labels, 'object')];
  const causes: StatusCause[] = [];
  for (const [key, value] of Object.entries(labels)) {
    for (const msg of isQualifiedName(key)) causes.push(fieldErrors.invalid(path, key, msg));
    if (typeof value !== 'string') {
      causes.push(wrongType(`${path}[${key}]`, value, 'string'));
      continue;
    }
    for (const msg of isValidLabelValue(value)) causes.push(fieldErrors.invalid(path, value, msg));
  }
  return causes;
}

/** 256 KiB: the total of keys and values of an object's annotations. */
export const TotalAnnotationSizeLimitB = 256 * 1024;

/** Annotation keys are qualified names compared case-insensitively; the total size is bounded. */
export function validateAnnotations(annotations: unknown, path: string): StatusCause[] {
  if (annotations === undefined || annotations === null) return [];
  if (!isPlainObject(annotations)) return [wrongType(path, annotations, 'object')];
  const causes: StatusCause[] = [];
  let totalSize = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const msg of isQualifiedName(key.toLowerCase())) causes.push(fieldErrors.invalid(path, key, msg));
    if (typeof value !== 'string') {
      causes.push(wrongType(`${path}[${key}]`, value, 'string'));
      continue;
    }
    totalSize += byteLength(key) + byteLength(value);
  }
  if (totalSize > TotalAnnotationSizeLimitB) causes.push(fieldErrors.tooLong(path, '', TotalAnnotationSizeLimitB));
  return causes;
}

/** Kinds that may never own other objects. */
const bannedOwners = new Set(['/v1/Event']);

export function validateOwnerReferences(ownerReferences: unknown, path: string): StatusCause[] {
  if (ownerReferences === undefined || ownerReferences === null) return [];
  if (!Array.isArray(ownerReferences)) return [wrongType(path, ownerReferences, 'array')];
  const causes: StatusCause[] = [];
  let firstController = '';
  for (const ref of ownerReferences) {
    if (!isPlainObject(ref)) {
      causes.push(wrongType(path, ref, 'object'));
      continue;
    }
    const apiVersion = typeof ref.apiVersion === 'string' ? ref.apiVersion : '';
    const kind = typeof ref.kind === 'string' ? ref.kind : '';
    const name = typeof ref.name === 'string' ? ref.name : '';
    const uid = typeof ref.uid === 'string' ? ref.uid : '';
    const slash = apiVersion.indexOf('/');
    const group = slash < 0 ? '' : apiVersion.slice(0, slash);
    const version = slash < 0 ? apiVersion : apiVersion.slice(slash + 1);
    if (!version) causes.push(fieldErrors.invalid(`${path}.apiVersion`, apiVersion, 'version must not be empty'));
    if (!kind) causes.push(fieldErrors.invalid(`${path}.kind`, kind, 'must not be empty'));
    if (!name) causes.push(fieldErrors.invalid(`${path}.name`, name, 'must not be empty'));
    if (!uid) causes.push(fieldErrors.invalid(`${path}.uid`, uid, 'must not be empty'));
    if (bannedOwners.has(`${group}/${version}/${kind}`)) {
      causes.push(fieldErrors.invalid(path, ref, `${group}/${version}, Kind=${kind} is disallowed from being an owner`));
    }
    if (ref.controller === true) {
      const current = `${kind}/${name}`;
      if (firstController) {
        causes.push(
          fieldErrors.invalid(
            path,
            ownerReferences,
            `Only one reference can have Controller set to true. Found "true" in references for ${firstController} and ${current}`,
          ),
        );
      } else {
        firstController = current;
      }
    }
  }
  return causes;
}

export function validateFinalizers(finalizers: unknown, path: string): StatusCause[] {
  if (finalizers === undefined || finalizers === null) return [];
  if (!Array.isArray(finalizers)) return [wrongType(path, finalizers, 'array')];
  const causes: StatusCause[] = [];
  let orphan = false;
  let foreground = false;
  for (const finalizer of finalizers) {
    if (typeof finalizer !== 'string') {
      causes.push(wrongType(path, finalizer, 'string'));
      continue;
    }
    for (const msg of isQualifiedName(finalizer)) causes.push(fieldErrors.invalid(path, finalizer, msg));
    if (finalizer === 'orphan') orphan = true;
    if (finalizer === 'foregroundDeletion') foreground = true;
  }
  if (orphan && foreground)
    causes.push(fieldErrors.invalid(path, finalizers, 'finalizer orphan and foregroundDeletion cannot be both set'));
  return causes;
}

function validateManagedFields(managedFields: unknown, path: string): StatusCause[] {
  if (managedFields === undefined || managedFields === null) return [];
  if (!Array.isArray(managedFields)) return [wrongType(path, managedFields, 'array')];
  const causes: StatusCause[] = [];
  managedFields.forEach((entry, i) => {
    const at = `${path}[${i}]`;
    if (!isPlainObject(entry)) {
      causes.push(wrongType(at, entry, 'object'));
      return;
    }
    if (entry.operation !== 'Apply' && entry.operation !== 'Update') {
      causes.push(fieldErrors.invalid(`${at}.operation`, entry.operation ?? '', 'must be `Apply` or `Update`'));
    }
    if (entry.fieldsType !== undefined && entry.fieldsType !== '' && entry.fieldsType !== 'FieldsV1') {
      causes.push(fieldErrors.invalid(`${at}.fieldsType`, entry.fieldsType, 'must be `FieldsV1`'));
    }
  });
  return causes;
}

export function validateNonnegativeField(value: number, path: string): StatusCause[] {
  return value < 0 ? [fieldErrors.invalid(path, value, 'must be greater than or equal to 0')] : [];
}

/**
 * metav1.LabelSelector syntax, for any decoded JSON value. Operators: In, NotIn (values
 * required), Exists, DoesNotExist (values forbidden).
 */
export function validateLabelSelectorField(selector: unknown, path: string): StatusCause[] {
  if (selector === undefined || selector === null) return [];
  if (!isPlainObject(selector)) return [wrongType(path, selector, 'object')];
  const causes = validateLabelsField(selector.matchLabels, `${path}.matchLabels`);
  const expressions = selector.matchExpressions;
  if (expressions === undefined || expressions === null) return causes;
  if (!Array.isArray(expressions)) return [...causes, wrongType(`${path}.matchExpressions`, expressions, 'array')];
  expressions.forEach((expr, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    if (!isPlainObject(expr)) {
      causes.push(wrongType(at, expr, 'object'));
      return;
    }
    const values = Array.isArray(expr.values) ? expr.values : [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          causes.push(fieldErrors.required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0) {
          causes.push(
            fieldErrors.forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
          );
        }
        break;
      default:
        causes.push(fieldErrors.invalid(`${at}.operator`, expr.operator ?? '', 'not a valid selector operator'));
    }
    const key = typeof expr.key === 'string' ? expr.key : '';
    for (const msg of isQualifiedName(key)) causes.push(fieldErrors.invalid(`${at}.key`, key, msg));
    values.forEach((value, j) => {
      if (typeof value !== 'string') {
        causes.push(wrongType(`${at}.values[${j}]`, value, 'string'));
        return;
      }
      for (const msg of isValidLabelValue(value)) causes.push(fieldErrors.invalid(`${at}.values[${j}]`, value, msg));
    });
  });
  return causes;
}

// ---------------------------------------------------------------------------------------------
// ObjectMeta

export interface ObjectMetaValidationOptions {
  /** Whether the kind is namespaced: namespaced objects need a namespace, cluster-scoped ones may not have one. */
  namespaced: boolean;
  /** How names are checked (default: DNS subdomain). */
  nameValidator?: NameValidation | NameValidator;
  /** Field path of the metadata (default `metadata`). */
  path?: string;
}

function stringField(meta: Record<string, unknown>, key: string, path: string, causes: StatusCause[]): string {
  const value = meta[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') {
    causes.push(wrongType(`${path}.${key}`, value, 'string'));
    return '';
  }
  return value;
}

/**
 * ObjectMeta of an object being created (ValidateObjectMeta). Name generation must already have
 * happened: a name is required even when generateName is set, as in kube-apiserver.
 */
export function validateObjectMeta(meta: unknown, options: ObjectMetaValidationOptions): StatusCause[] {
  const path = options.path ?? 'metadata';
  if (!isPlainObject(meta)) {
    return meta === undefined || meta === null
      ? [fieldErrors.required(`${path}.name`, 'name or generateName is required')]
      : [wrongType(path, meta, 'object')];
  }
  const causes: StatusCause[] = [];
  const nameFn = nameValidatorFor(options.nameValidator ?? 'subdomain');
  const generateName = stringField(meta, 'generateName', path, causes);
  const name = stringField(meta, 'name', path, causes);
  const namespace = stringField(meta, 'namespace', path, causes);

  if (generateName) {
    for (const msg of nameFn(generateName, true)) causes.push(fieldErrors.invalid(`${path}.generateName`, generateName, msg));
  }
  if (!name) causes.push(fieldErrors.required(`${path}.name`, 'name or generateName is required'));
  else for (const msg of nameFn(name, false)) causes.push(fieldErrors.invalid(`${path}.name`, name, msg));

  if (options.namespaced) {
    if (!namespace) causes.push(fieldErrors.required(`${path}.namespace`));
    else
      for (const msg of validateNamespaceName(namespace, false))
        causes.push(fieldErrors.invalid(`${path}.namespace`, namespace, msg));
  } else if (namespace) {
    causes.push(fieldErrors.forbidden(`${path}.namespace`, 'not allowed on this type'));
  }
  causes.push(...validateMetaCommon(meta, path));
  return causes;
}

/** The checks shared by create and update: generation, labels, annotations, owners, finalizers, managedFields. */
function validateMetaCommon(meta: Record<string, unknown>, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  const generation = meta.generation;
  if (generation !== undefined && generation !== null) {
    if (typeof generation !== 'number' || !Number.isInteger(generation))
      causes.push(wrongType(`${path}.generation`, generation, 'integer'));
    else causes.push(...validateNonnegativeField(generation, `${path}.generation`));
  }
  causes.push(...validateLabelsField(meta.labels, `${path}.labels`));
  causes.push(...validateAnnotations(meta.annotations, `${path}.annotations`));
  causes.push(...validateOwnerReferences(meta.ownerReferences, `${path}.ownerReferences`));
  causes.push(...validateFinalizers(meta.finalizers, `${path}.finalizers`));
  causes.push(...validateManagedFields(meta.managedFields, `${path}.managedFields`));
  return causes;
}

function sameValue(a: unknown, b: unknown): boolean {
  const norm = (v: unknown) => (v === null || v === '' ? undefined : v);
  return norm(a) === norm(b);
}

/**
 * ObjectMeta of an update (ValidateObjectMetaUpdate): name, namespace, uid, creationTimestamp,
 * deletionTimestamp and deletionGracePeriodSeconds may not change, generation may not go down,
 * and an object being deleted may not gain finalizers. Requiring a resourceVersion is left to the
 * store, which fills it in for unconditional updates.
 */
export function validateObjectMetaUpdate(newMeta: unknown, oldMeta: unknown, path = 'metadata'): StatusCause[] {
  if (!isPlainObject(newMeta)) return [wrongType(path, newMeta, 'object')];
  const old = isPlainObject(oldMeta) ? oldMeta : {};
  const causes: StatusCause[] = [];

  if (old.deletionTimestamp) {
    const oldFinalizers = new Set(Array.isArray(old.finalizers) ? old.finalizers : []);
    const added = (Array.isArray(newMeta.finalizers) ? newMeta.finalizers : []).filter((f) => !oldFinalizers.has(f));
    if (added.length > 0) {
      const list = [...new Set(added.map(String))].sort();
      causes.push(
        fieldErrors.forbidden(
          `${path}.finalizers`,
          `no new finalizers can be added if the object is being deleted, found new finalizers []string{${list.map((f) => JSON.stringify(f)).join(', ')}}`,
        ),
      );
    }
  }

  const newGeneration = typeof newMeta.generation === 'number' ? newMeta.generation : 0;
  const oldGeneration = typeof old.generation === 'number' ? old.generation : 0;
  if (newGeneration < oldGeneration)
    causes.push(fieldErrors.invalid(`${path}.generation`, newGeneration, 'must not be decremented'));

  for (const key of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds']) {
    if (!sameValue(newMeta[key], old[key]))
      causes.push(fieldErrors.invalid(`${path}.${key}`, newMeta[key] ?? '', 'field is immutable'));
  }
  causes.push(...validateMetaCommon(newMeta, path));
  return causes;
}
