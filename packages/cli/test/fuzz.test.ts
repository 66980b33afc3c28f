/**
 * Acceptance: `canopy server` withstands malformed and hostile requests. Thousands of seeded,
 * generated requests (bad JSON and YAML, wrong kinds, bad names, deep nesting, oversized bodies,
 * wrong content types, invalid selectors, bad patches of every type, bad resourceVersions,
 * continue tokens, limits and query options, unknown paths, odd methods) must each get a 4xx
 * Kubernetes `Status` (kind Status, code = HTTP status), never a 5xx, a hang or a crash; the
 * server must stay ready, and the stored state must not change.
 *
 * Requests are invalid by construction (`mustFail`: a 2xx is an accepted invalid write). The few
 * whose validity is debatable between implementations carry `dryRun=All`, so whatever the server
 * decides cannot change the store; only "no 5xx, Status on error" is asserted for them.
 *
 * The second part pins each server bug the fuzz found as a minimal case.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { apiClient, readCredentials, type ApiClient } from './support/http.js';
import { removeDir, startServer, type RunningServer } from './support/server.js';

const SEED = 20251124;
const CASES = 3000;
const CONCURRENCY = 16;
const NS = 'fuzz';
const CM = `/api/v1/namespaces/${NS}/configmaps`;
const SECRETS = `/api/v1/namespaces/${NS}/secrets`;
const DEPLOY = `/apis/apps/v1/namespaces/${NS}/deployments`;
const NAMESPACES = '/api/v1/namespaces';
const MiB = 1024 * 1024;

interface FuzzCase {
  category: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  /** Invalid by construction: anything but a 4xx (or `expect`) is a failure. */
  mustFail: boolean;
  /** The exact statuses acceptable (e.g. 413, 415). */
  expect?: number[];
  /** Send over a raw TLS socket, reading the answer even if the server stops reading the body. */
  raw?: boolean;
  /** Send the body with chunked transfer encoding (raw only). */
  chunked?: boolean;
}

interface Outcome {
  status: number;
  contentType: string;
  text: string;
  error?: string;
}

// ---- seeded randomness ---------------------------------------------------------------------------

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(SEED);
const int = (n: number) => Math.floor(random() * n);
const pick = <T>(items: readonly T[]): T => items[int(items.length)];
const chance = (p: number) => random() < p;
let serial = 0;
/** A fresh, valid name: if a request using it were wrongly accepted, the object would appear. */
const freshName = () => `fz-${serial++}`;
const lower = 'abcdefghijklmnopqrstuvwxyz0123456789';
const randomText = (len: number, alphabet = lower) => {
  const chars = Array.from(alphabet); // code points, so surrogate pairs stay whole
  return Array.from({ length: len }, () => chars[int(chars.length)]).join('');
};

const JSON_TYPE = { 'content-type': 'application/json' };
const YAML_TYPE = { 'content-type': 'application/yaml' };
const MERGE = { 'content-type': 'application/merge-patch+json' };
const STRATEGIC = { 'content-type': 'application/strategic-merge-patch+json' };
const JSON_PATCH = { 'content-type': 'application/json-patch+json' };
const PATCH_TYPES = [MERGE, STRATEGIC, JSON_PATCH];

const configMap = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { k: 'v' },
  ...extra,
});
const deepObject = (depth: number, leaf = '1') => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);
const deepArray = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** Existing objects the fuzz aims writes at (it must not change them). */
const EXISTING_CM = ['cm-0', 'cm-1', 'cm-2'];
const item = () => `${CM}/${pick(EXISTING_CM)}`;

// ---- generators ---------------------------------------------------------------------------------

/** Bodies that are not JSON at all, or not a JSON object. */
function badJson(): FuzzCase {
  const valid = JSON.stringify(configMap(freshName()));
  const malformed = [
    () => valid.slice(0, 1 + int(valid.length - 2)), // any proper prefix of an object is unterminated
    () => valid.slice(0, -1) + ',}',
    () => `{'apiVersion':'v1','kind':'ConfigMap','metadata':{'name':'${freshName()}'}}`,
    () => `{apiVersion: "v1", kind: "ConfigMap", metadata: {name: "${freshName()}"}}`,
    () => valid.replace('"k":"v"', '"k":NaN'),
    () => valid.replace('"k":"v"', '"k":Infinity'),
    () => valid.replace('"k":"v"', '"k":undefined'),
    () => valid.replace('"k":"v"', '"k":01'),
    () => valid.replace('"k":"v"', '"k":"\u0001"'),
    () => valid.replace('"k":"v"', '"k":"\\u12"'),
    () => valid.replace('"k":"v"', '"k":"\\x41"'),
    () => valid.replace('"k":"v"', '"k" "v"'),
    () => valid + '}',
    () => valid + ' trailing',
    () => valid + valid,
    () => '\uFEFF' + valid,
    () => randomText(1 + int(64), "}]:,#\\'`@!?<>"),
    () => '',
    () => ' \n\t ',
  ];
  const notObject = ['[]', '[{}]', '"ConfigMap"', '42', 'true', 'null', '-0.5e9'];
  const body = chance(0.75) ? pick(malformed)() : pick(notObject);
  const target = pick([
    { method: 'POST', path: CM },
    { method: 'PUT', path: item() },
    { method: 'POST', path: NAMESPACES },
    { method: 'POST', path: DEPLOY },
  ]);
  return { category: 'bad-json', ...target, headers: JSON_TYPE, body, mustFail: true };
}

function badYaml(): FuzzCase {
  const name = freshName();
  const laughs = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++)
    laughs.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  const bodies = [
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n\tname: ${name}\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: "${name}\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata: [1, 2\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata: name: ${name}\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${freshName()}\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata: *undefined_alias\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n${laughs.join('\n')}\n`,
    `- apiVersion: v1\n- kind: ConfigMap\n`,
    `just a string\n`,
    `42\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n  - oops\n`,
    `apiVersion: v1\n kind: ConfigMap\nmetadata:\n  name: ${name}\n`,
    `%YAML 9.9\n---\napiVersion: v1\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: v\n  k: w\n`, // duplicate key, Strict below
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: ${'['.repeat(5000)}${']'.repeat(5000)}\n`,
    `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: 5\n`, // not a string
  ];
  const body = pick(bodies);
  const target = chance(0.7)
    ? { method: 'POST', path: `${CM}?fieldValidation=Strict` }
    : { method: 'PUT', path: `${item()}?fieldValidation=Strict` };
  return {
    category: 'bad-yaml',
    ...target,
    headers: pick([YAML_TYPE, { 'content-type': 'application/x-yaml' }, { 'content-type': 'text/yaml' }]),
    body,
    mustFail: true,
  };
}

function wrongKind(): FuzzCase {
  const pairs: Array<[unknown, unknown]> = [
    ['v1', 'Secret'],
    ['v1', 'Pod'],
    ['v1', 'configmap'],
    ['v1', 'ConfigMapList'],
    ['v1', 'Namespace'],
    ['apps/v1', 'ConfigMap'],
    ['v2', 'ConfigMap'],
    ['v1beta1', 'ConfigMap'],
    ['core/v1', 'ConfigMap'],
    ['/v1', 'ConfigMap'],
    ['v1/', 'ConfigMap'],
    ['v1', 'Widget'],
    ['example.com/v1', 'Widget'],
    ['v1', 42],
    [42, 'ConfigMap'],
    ['v1', ['ConfigMap']],
    [{ v: 1 }, 'ConfigMap'],
    ['v1', 'Status'],
  ];
  const [apiVersion, kind] = pick(pairs);
  const r = int(4);
  if (r === 0) {
    const name = pick(EXISTING_CM);
    return {
      category: 'wrong-kind',
      method: 'PUT',
      path: `${CM}/${name}`,
      body: JSON.stringify({ ...configMap(name), apiVersion, kind }),
      headers: JSON_TYPE,
      mustFail: true,
    };
  }
  if (r === 1) {
    const body = {
      apiVersion: apiVersion === 'v1' ? 'apps/v1' : apiVersion,
      kind: kind === 'ConfigMap' ? 'Pod' : kind,
      metadata: { name: freshName() },
      spec: {},
    };
    return {
      category: 'wrong-kind',
      method: 'POST',
      path: DEPLOY,
      body: JSON.stringify(body),
      headers: JSON_TYPE,
      mustFail: true,
    };
  }
  if (r === 2) {
    return {
      category: 'wrong-kind',
      method: 'POST',
      path: NAMESPACES,
      body: JSON.stringify({ apiVersion, kind: kind === 'Namespace' ? 'ConfigMap' : kind, metadata: { name: freshName() } }),
      headers: JSON_TYPE,
      mustFail: true,
    };
  }
  return {
    category: 'wrong-kind',
    method: 'POST',
    path: CM,
    body: JSON.stringify({ ...configMap(freshName()), apiVersion, kind }),
    headers: JSON_TYPE,
    mustFail: true,
  };
}

/** A name that is not a DNS-1123 subdomain (or label, for namespaces). */
function badName(label = false): string {
  const base = randomText(3 + int(10));
  const bad = [
    'A',
    'Z',
    '_',
    ' ',
    '/',
    '%',
    '@',
    ':',
    '!',
    '~',
    '*',
    '?',
    '#',
    'ñ',
    'é',
    '\u00a0',
    '\t',
    '\u0000',
    '\u2028',
    '😀',
    '"',
    "'",
    '\\',
    '+',
    '=',
    ',',
  ];
  switch (int(label ? 6 : 5)) {
    case 0:
      return '-' + base;
    case 1:
      return base + '-';
    case 2:
      return pick(['.', '..', '.a', 'a.', 'a..b', '-', '']);
    case 3:
      return base.toUpperCase();
    case 5:
      return `${base}.${base}`;
    default: {
      const at = int(base.length + 1);
      return base.slice(0, at) + pick(bad) + base.slice(at);
    }
  }
}

/** Not a valid generateName prefix even after the random suffix is appended. */
function badGenerateName(): string {
  const base = randomText(3 + int(8));
  return pick(['-' + base, '.' + base, base.toUpperCase(), `${base}_`, `${base} x`, `${base}@`, `${base}/`, `ñ${base}`]);
}

/** Not a valid label key: name part must be [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, ≤ 63, optional DNS-subdomain prefix. */
function badLabelKey(): string {
  const base = randomText(2 + int(8));
  return pick([
    '-' + base,
    base + '-',
    '_' + base,
    base + '.',
    `${base} x`,
    `${base}@x`,
    `${base}!`,
    `${base}:x`,
    'ñ' + base,
    '',
    'x'.repeat(64),
    `${base}/`,
    `/${base}`,
    `a/b/${base}`,
    `UPPER.example.com/${base}`,
    `${'p'.repeat(254)}/${base}`,
  ]);
}

/** A path segment that is a bad name but not "." or "..": DELETE on those is pinned in the findings. */
function badPathName(): string {
  for (;;) {
    const name = badName();
    if (name !== '.' && name !== '..' && name !== '') return encodeURIComponent(name);
  }
}

function badNames(): FuzzCase {
  const r = int(7);
  if (r === 0)
    return {
      category: 'bad-name',
      method: 'POST',
      path: CM,
      body: JSON.stringify(configMap(badName())),
      headers: JSON_TYPE,
      mustFail: true,
    };
  if (r === 1)
    return {
      category: 'bad-name',
      method: 'POST',
      path: NAMESPACES,
      body: JSON.stringify({ metadata: { name: badName(true) } }),
      headers: JSON_TYPE,
      mustFail: true,
    };
  if (r === 2) {
    return {
      category: 'bad-name',
      method: 'POST',
      path: CM,
      body: JSON.stringify({ ...configMap(''), metadata: { generateName: badGenerateName() } }),
      headers: JSON_TYPE,
      mustFail: true,
    };
  }
  if (r === 3) {
    // Label keys and values that are not allowed.
    const labels = chance(0.6) ? { [badLabelKey()]: 'v' } : { a: pick(['x'.repeat(64), '-x', 'x_', 'a b', 'a/b', 'ñ', 'x.']) };
    return {
      category: 'bad-name',
      method: 'POST',
      path: CM,
      body: JSON.stringify({ ...configMap(freshName()), metadata: { name: freshName(), labels } }),
      headers: JSON_TYPE,
      mustFail: true,
    };
  }
  // Bad names in the path: never found, never created.
  const name = encodeURIComponent(badName()) || '%20';
  if (r === 4) return { category: 'bad-name', method: 'GET', path: `${CM}/${name}`, mustFail: true };
  if (r === 5) return { category: 'bad-name', method: 'DELETE', path: `${CM}/${badPathName()}`, mustFail: true };
  return {
    category: 'bad-name',
    method: 'PUT',
    path: `${CM}/${name}`,
    body: JSON.stringify(configMap(decodeURIComponent(name))),
    headers: JSON_TYPE,
    mustFail: true,
  };
}

function hugeNames(): FuzzCase {
  const name = randomText(254 + int(2000));
  const r = int(6);
  if (r === 0)
    return {
      category: 'huge-name',
      method: 'POST',
      path: CM,
      body: JSON.stringify(configMap(name)),
      headers: JSON_TYPE,
      mustFail: true,
    };
  if (r === 1)
    return {
      category: 'huge-name',
      method: 'POST',
      path: NAMESPACES,
      body: JSON.stringify({ metadata: { name: randomText(64 + int(400)) } }),
      headers: JSON_TYPE,
      mustFail: true,
    };
  if (r === 2)
    return {
      category: 'huge-name',
      method: 'POST',
      path: CM,
      body: JSON.stringify({ ...configMap(''), metadata: { generateName: name.slice(0, 250) } }),
      headers: JSON_TYPE,
      mustFail: true,
    };
  if (r === 3) return { category: 'huge-name', method: 'GET', path: `${CM}/${name}`, mustFail: true };
  if (r === 4)
    return {
      category: 'huge-name',
      method: 'PUT',
      path: `${CM}/${name}`,
      body: JSON.stringify(configMap(name)),
      headers: JSON_TYPE,
      mustFail: true,
    };
  return {
    category: 'huge-name',
    method: 'DELETE',
    path: `/api/v1/namespaces/${randomText(300)}/configmaps/${name}`,
    mustFail: true,
  };
}

function deepNesting(): FuzzCase {
  const depth = 10_000 + int(2000);
  const nested = chance(0.5) ? deepObject(depth) : deepArray(depth);
  const name = freshName();
  const r = int(6);
  if (r === 0)
    return {
      category: 'deep-nesting',
      method: 'POST',
      path: CM,
      body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"data":${nested}}`,
      headers: JSON_TYPE,
      mustFail: true,
    };
  if (r === 1)
    return {
      category: 'deep-nesting',
      method: 'POST',
      path: `${CM}?fieldValidation=Strict`,
      body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"x":${nested}}`,
      headers: JSON_TYPE,
      mustFail: true,
    };
  if (r === 2)
    return {
      category: 'deep-nesting',
      method: 'PATCH',
      path: item(),
      body: `{"data":${nested}}`,
      headers: pick([MERGE, STRATEGIC]),
      mustFail: true,
    };
  if (r === 3)
    return {
      category: 'deep-nesting',
      method: 'PATCH',
      path: item(),
      body: `[{"op":"add","path":"/data/deep","value":${nested}}]`,
      headers: JSON_PATCH,
      mustFail: true,
    };
  if (r === 4)
    return {
      category: 'deep-nesting',
      method: 'PUT',
      path: item(),
      body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm-0","labels":${nested}}}`,
      headers: JSON_TYPE,
      mustFail: true,
    };
  const yaml = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata: ${'{a: '.repeat(depth)}1${'}'.repeat(depth)}\n`;
  return { category: 'deep-nesting', method: 'POST', path: CM, body: yaml, headers: YAML_TYPE, mustFail: true };
}

function bigBodies(): FuzzCase {
  const size = pick([3 * MiB + 1, 4 * MiB, 4 * MiB + 7, 6 * MiB]);
  const name = freshName();
  // Valid JSON (a ConfigMap with one huge value): only the size makes it fail.
  const json = () =>
    Buffer.from(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"${name}"},"data":{"k":"${'x'.repeat(size)}"}}`);
  const r = int(6);
  const chunked = chance(0.3);
  if (r === 0)
    return {
      category: 'too-large',
      method: 'POST',
      path: CM,
      body: json(),
      headers: JSON_TYPE,
      mustFail: true,
      expect: [413],
      raw: true,
      chunked,
    };
  if (r === 1)
    return {
      category: 'too-large',
      method: 'PUT',
      path: item(),
      body: json(),
      headers: JSON_TYPE,
      mustFail: true,
      expect: [413],
      raw: true,
      chunked,
    };
  if (r === 2)
    return {
      category: 'too-large',
      method: 'PATCH',
      path: item(),
      body: Buffer.from(`{"data":{"k":"${'x'.repeat(size)}"}}`),
      headers: pick([MERGE, STRATEGIC]),
      mustFail: true,
      expect: [413],
      raw: true,
      chunked,
    };
  if (r === 3)
    return {
      category: 'too-large',
      method: 'POST',
      path: CM,
      body: Buffer.from(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  k: ${'y'.repeat(size)}\n`),
      headers: YAML_TYPE,
      mustFail: true,
      expect: [413],
      raw: true,
      chunked,
    };
  if (r === 4)
    return {
      category: 'too-large',
      method: 'PATCH',
      path: item(),
      body: Buffer.from(`[{"op":"add","path":"/data/k","value":"${'z'.repeat(size)}"}]`),
      headers: JSON_PATCH,
      mustFail: true,
      expect: [413],
      raw: true,
      chunked,
    };
  return {
    category: 'too-large',
    method: 'POST',
    path: CM,
    body: Buffer.alloc(size, 0x41),
    headers: { 'content-type': 'text/plain' },
    mustFail: true,
    expect: [413, 415],
    raw: true,
    chunked,
  };
}

function wrongContentType(): FuzzCase {
  const name = freshName();
  const body = JSON.stringify(configMap(name));
  const unsupported = [
    'text/plain',
    'text/html',
    'application/xml',
    'application/x-www-form-urlencoded',
    'multipart/form-data; boundary=xyz',
    'image/png',
    'application/octet-stream',
    'application/jsonx',
    'application/json-seq',
    'json',
    'application/',
    '/json',
    ';;;',
    'application/vnd.kubernetes.protobuf;stream=watch;garbage',
  ];
  const r = int(4);
  if (r === 0)
    return {
      category: 'content-type',
      method: pick(['POST', 'POST', 'PUT']),
      path: chance(0.7) ? CM : `${CM}/${name}`,
      body,
      headers: { 'content-type': pick(unsupported.slice(0, -1)) },
      mustFail: true,
      expect: [415, 404, 405],
    };
  if (r === 1) {
    // Patch types are not create/update types.
    return {
      category: 'content-type',
      method: 'POST',
      path: CM,
      body,
      headers: pick(PATCH_TYPES),
      mustFail: true,
      expect: [415],
    };
  }
  if (r === 2) {
    // PATCH needs one of the patch types.
    return {
      category: 'content-type',
      method: 'PATCH',
      path: item(),
      body: '{"data":{"k":"patched"}}',
      headers: { 'content-type': pick(['application/json', 'application/yaml', 'text/plain', ...unsupported]) },
      mustFail: true,
      expect: [415],
    };
  }
  // Protobuf that is not a valid kube protobuf envelope.
  const garbage = Buffer.from(Array.from({ length: 1 + int(200) }, () => int(256)));
  const bytes = chance(0.5) ? Buffer.concat([Buffer.from('k8s\0'), garbage]) : garbage;
  return {
    category: 'content-type',
    method: 'POST',
    path: CM,
    body: bytes,
    headers: { 'content-type': 'application/vnd.kubernetes.protobuf' },
    mustFail: true,
  };
}

const BAD_LABEL_SELECTORS = [
  'a in (b',
  'a in b',
  '=b',
  'a=b=c',
  'a!',
  '!a=b',
  'a,',
  ',a',
  'a,,b',
  'a b',
  'a=(b)',
  'a>b',
  'a<',
  'a=b c',
  '@a=b',
  'a@=b',
  '-a=b',
  'a=-b',
  'a=b_',
  `${'k'.repeat(64)}=v`,
  `k=${'v'.repeat(64)}`,
  'a/b/c=d',
  'A.B/c=d',
  '/a=b',
  'a in (b c)',
  '!',
  '!!a',
  'a!=!b',
  'a==b==c',
  '(a)',
  'a=b)',
  'a=%',
  'ñ=1',
];
const BAD_FIELD_SELECTORS = [
  'spec.foo=bar',
  'data.k=v',
  'metadata.name in (a)',
  'metadata.name',
  'metadata.name!',
  '=x',
  'metadata.uid=x',
  'metadata.labels.a=b',
  'kind=ConfigMap',
  'metadata.name=a,spec.x=y',
];

function badLabelSelector(): string {
  if (chance(0.6)) return pick(BAD_LABEL_SELECTORS);
  // A valid requirement joined to an invalid one.
  return `${randomText(1 + int(8))}=${randomText(1 + int(8))},${pick(BAD_LABEL_SELECTORS)}`;
}

function badSelectors(): FuzzCase {
  const useLabel = chance(0.6);
  const selector = useLabel
    ? `labelSelector=${encodeURIComponent(badLabelSelector())}`
    : `fieldSelector=${encodeURIComponent(pick(BAD_FIELD_SELECTORS))}`;
  const base = pick([CM, SECRETS, DEPLOY, NAMESPACES, '/api/v1/configmaps']);
  switch (int(4)) {
    case 0:
    case 1:
      return { category: 'selector', method: 'GET', path: `${base}?${selector}`, mustFail: true };
    case 2:
      return { category: 'selector', method: 'GET', path: `${base}?watch=true&timeoutSeconds=1&${selector}`, mustFail: true };
    default:
      // deletecollection: dryRun too, so a selector wrongly taken for valid deletes nothing.
      return {
        category: 'selector',
        method: 'DELETE',
        path: `${pick([CM, SECRETS, DEPLOY])}?dryRun=All&${selector}`,
        mustFail: true,
      };
  }
}

function badJsonPatch(): FuzzCase {
  const ops: Array<[string, boolean]> = [
    ['{}', true],
    ['{"op":"add","path":"/data/x","value":"1"}', true],
    ['"add"', true],
    ['1', true],
    ['null', false], // Go decodes null into an empty patch list
    ['true', true],
    ['[1]', true],
    ['["add"]', true],
    ['[null]', true],
    ['[[]]', true],
    ['[{"op":"frobnicate","path":"/data/x","value":"1"}]', true],
    ['[{"path":"/data/x","value":"1"}]', true],
    ['[{"op":5,"path":"/data/x","value":"1"}]', true],
    ['[{"op":"add","value":"1"}]', true],
    ['[{"op":"add","path":5,"value":"1"}]', true],
    ['[{"op":"add","path":"data/x","value":"1"}]', true],
    ['[{"op":"add","path":"/data/~2","value":"1"}]', true],
    ['[{"op":"remove","path":"/data/nope"}]', true],
    ['[{"op":"remove","path":"/metadata/labels/nope"}]', true],
    ['[{"op":"remove","path":"/spec"}]', true],
    // kube's evanphx/json-patch v4 sets a missing object member on replace: that one succeeds.
    ['[{"op":"replace","path":"/data/nope","value":"1"}]', false],
    ['[{"op":"replace","path":"/nope/deeper","value":"1"}]', true],
    ['[{"op":"move","from":"/data/nope","path":"/data/x"}]', true],
    ['[{"op":"copy","from":"/data/nope","path":"/data/x"}]', true],
    ['[{"op":"move","path":"/data/x"}]', true],
    ['[{"op":"move","from":"/data","path":"/data/inner"}]', true],
    ['[{"op":"test","path":"/data/k","value":"definitely-not-this"}]', true],
    ['[{"op":"test","path":"/data/nope","value":"x"}]', true],
    ['[{"op":"add","path":"/metadata/finalizers/5","value":"x"}]', true],
    ['[{"op":"add","path":"/a/b/c","value":"x"}]', true],
    ['[{"op":"add","path":"/data/x","value":"1"},{"op":"remove","path":"/data/nope"}]', true],
    ['[{"op":"replace","path":"/metadata/name","value":"other"}]', true],
    ['[{"op":"replace","path":"/metadata/namespace","value":"default"}]', true],
    ['[{"op":"replace","path":"/kind","value":"Secret"}]', true],
    ['[{"op":"replace","path":"/apiVersion","value":"v2"}]', true],
    ['[{"op":"replace","path":"/metadata/resourceVersion","value":"abc"}]', true],
    ['[{"op":"replace","path":"/metadata/resourceVersion","value":"1"}]', true],
    ['[{"op":"replace","path":"/metadata/uid","value":"00000000-0000-0000-0000-000000000000"}]', true],
    ['[{"op":"replace","path":"/data","value":5}]', true],
    ['[{"op":"add","path":"/data/bad key","value":"v"}]', true],
    ['[{"op":"add","path":"/data/n","value":7}]', true],
    ['[{"op":"replace","path":"/metadata","value":"x"}]', true],
    ['[{"op":"remove","path":""}]', true],
    ['[{"op":"replace","path":"","value":[]}]', true],
    ['[{"op":"add","path":"/data/x"}]', false],
    ['[{"op":"remove","path":"/metadata/name"}]', true],
  ];
  const [body, mustFail] = pick(ops);
  const many = chance(0.05)
    ? `[${Array(2000).fill('{"op":"test","path":"/data/k","value":"v"}').join(',')},{"op":"remove","path":"/data/nope"}]`
    : undefined;
  return {
    category: 'json-patch',
    method: 'PATCH',
    path: `${item()}${mustFail ? '' : '?dryRun=All'}`,
    headers: JSON_PATCH,
    body: many ?? body,
    mustFail: many ? true : mustFail,
  };
}

function badMergePatch(): FuzzCase {
  const patches: Array<[string, boolean]> = [
    ['[]', true],
    ['[{"op":"add"}]', true],
    ['"data"', true],
    ['5', true],
    ['true', true],
    ['null', true],
    ['{"metadata":{"name":"other"}}', true],
    ['{"metadata":{"namespace":"default"}}', true],
    ['{"kind":"Secret"}', true],
    ['{"apiVersion":"v2"}', true],
    ['{"data":{"k":5}}', true],
    ['{"data":{"k":{"nested":"x"}}}', true],
    ['{"data":"str"}', true],
    ['{"data":[1]}', true],
    ['{"data":{"bad key":"v"}}', true],
    ['{"data":{"":"v"}}', true],
    ['{"binaryData":{"k":"not base64!"}}', true],
    ['{"metadata":{"labels":{"bad key":"v"}}}', true],
    ['{"metadata":{"labels":"x"}}', true],
    ['{"metadata":{"labels":{"a":5}}}', true],
    ['{"metadata":{"annotations":["x"]}}', true],
    ['{"metadata":"x"}', true],
    ['{"metadata":{"resourceVersion":"abc"}}', true],
    ['{"metadata":{"resourceVersion":"1"}}', true],
    ['{"metadata":{"resourceVersion":"-1"}}', true],
    ['{"metadata":{"resourceVersion":"99999999999999999999"}}', true],
    ['{"metadata":{"resourceVersion":5}}', true],
    ['{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"}}', true],
    ['{"metadata":{"finalizers":"x"}}', true],
    ['{"metadata":{"finalizers":["Not A Finalizer!"]}}', true],
    ['{"metadata":{"ownerReferences":[{"name":"x"}]}}', true],
    ['{"metadata":{"generateName":5}}', true],
    ['{"metadata":{"creationTimestamp":"not a time"}}', false],
    ['{"immutable":"yes"}', true],
  ];
  const [body, mustFail] = pick(patches);
  return {
    category: 'merge-patch',
    method: 'PATCH',
    path: `${item()}${mustFail ? '' : '?dryRun=All'}`,
    headers: MERGE,
    body,
    mustFail,
  };
}

function badStrategicPatch(): FuzzCase {
  const container = (extra: Record<string, unknown>) =>
    JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'nginx', ...extra }] } } } });
  const patches: Array<[string, boolean]> = [
    ['[]', true],
    ['"x"', true],
    ['7', true],
    ['null', true],
    ['{"$patch":"bogus"}', true],
    ['{"spec":{"$patch":"bogus"}}', true],
    [JSON.stringify({ spec: { template: { spec: { containers: [{ $patch: 'bogus', name: 'nginx' }] } } } }), true],
    [JSON.stringify({ spec: { template: { spec: { containers: [{ image: 'no-merge-key' }] } } } }), true],
    [JSON.stringify({ spec: { template: { spec: { containers: 'nope' } } } }), true],
    [JSON.stringify({ spec: { template: { spec: { containers: [5] } } } }), true],
    [JSON.stringify({ spec: { template: { spec: { $setElementOrder: 'x' } } } }), false],
    [JSON.stringify({ spec: { template: { spec: { '$setElementOrder/containers': 'nope' } } } }), true],
    [JSON.stringify({ spec: { template: { spec: { '$setElementOrder/containers': [{ image: 'no-key' }] } } } }), true],
    [JSON.stringify({ metadata: { '$deleteFromPrimitiveList/finalizers': 'x' } }), true],
    [JSON.stringify({ spec: { $retainKeys: 'x' } }), true],
    [JSON.stringify({ spec: { $retainKeys: [5] } }), true],
    [JSON.stringify({ spec: { $retainKeys: ['replicas'], other: 1 } }), false],
    [JSON.stringify({ spec: { replicas: 'three' } }), true],
    [JSON.stringify({ spec: { replicas: -1 } }), true],
    [JSON.stringify({ spec: { selector: { matchLabels: { app: 'other' } } } }), true],
    [container({ ports: [{ containerPort: 'x' }] }), true],
    [container({ ports: [{ containerPort: 99999 }] }), true],
    [container({ image: 5 }), true],
    [container({ env: [{ value: 'no-name' }] }), true],
    [container({ $patch: 'delete', image: 'x' }), false],
    [JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'nginx', $patch: 'delete' }] } } } }), true], // deleting the only container leaves none: invalid
    ['{"$patch":"delete"}', false],
    ['{"$patch":"replace"}', false],
    [JSON.stringify({ spec: { $foo: 'bar' } }), false],
    [JSON.stringify({ metadata: { name: 'other' } }), true],
    [JSON.stringify({ kind: 'StatefulSet' }), true],
    [JSON.stringify({ metadata: { resourceVersion: 'abc' } }), true],
  ];
  const [body, mustFail] = pick(patches);
  const onConfigMap = chance(0.2);
  const path = onConfigMap ? item() : `${DEPLOY}/web`;
  return {
    category: 'strategic-patch',
    method: 'PATCH',
    path: `${path}${mustFail && !onConfigMap ? '' : '?dryRun=All'}`,
    headers: STRATEGIC,
    body,
    mustFail: mustFail && !onConfigMap,
  };
}

const BAD_RVS = [
  'abc',
  '-1',
  '1.5',
  '0x10',
  '1e3',
  ' 1',
  '1 ',
  '+1',
  '99999999999999999999',
  '9223372036854775808',
  '18446744073709551616',
  '١',
  'NaN',
  '%00',
  '1,2',
];

function badResourceVersions(): FuzzCase {
  const rv = pick(BAD_RVS);
  const q = encodeURIComponent(rv);
  switch (int(9)) {
    case 0:
      return { category: 'resource-version', method: 'GET', path: `${item()}?resourceVersion=${q}`, mustFail: true };
    case 1:
      return {
        category: 'resource-version',
        method: 'GET',
        path: `${pick([CM, NAMESPACES, DEPLOY])}?resourceVersion=${q}${chance(0.5) ? '&resourceVersionMatch=NotOlderThan' : ''}`,
        mustFail: true,
      };
    case 2:
      return {
        category: 'resource-version',
        method: 'GET',
        path: `${CM}?watch=true&timeoutSeconds=1&resourceVersion=${q}`,
        mustFail: true,
      };
    case 3:
      return {
        category: 'resource-version',
        method: 'GET',
        path: `${CM}?resourceVersionMatch=${encodeURIComponent(pick(['Bogus', 'exact', 'notolderthan', 'Exact ']))}${chance(0.5) ? '&resourceVersion=1' : '&resourceVersion=abc'}`,
        mustFail: true,
      };
    case 4:
      return { category: 'resource-version', method: 'GET', path: `${CM}?resourceVersionMatch=Exact`, mustFail: true };
    case 5: {
      const name = pick(EXISTING_CM);
      return {
        category: 'resource-version',
        method: 'PUT',
        path: `${CM}/${name}`,
        body: JSON.stringify({ ...configMap(name), metadata: { name, resourceVersion: pick([...BAD_RVS, '1', '2']) } }),
        headers: JSON_TYPE,
        mustFail: true,
      };
    }
    case 6:
      return {
        category: 'resource-version',
        method: 'PATCH',
        path: item(),
        body: JSON.stringify({ metadata: { resourceVersion: pick([...BAD_RVS, '1']) }, data: { k: 'patched' } }),
        headers: pick([MERGE, STRATEGIC]),
        mustFail: true,
      };
    case 7:
      return {
        category: 'resource-version',
        method: 'DELETE',
        path: item(),
        body: JSON.stringify({ preconditions: { resourceVersion: pick([...BAD_RVS, '1']) } }),
        headers: JSON_TYPE,
        mustFail: true,
      };
    default:
      // Debatable: kube refuses a resourceVersion on create; dry-run keeps any answer harmless.
      return {
        category: 'resource-version',
        method: 'POST',
        path: `${CM}?dryRun=All`,
        body: JSON.stringify({ ...configMap(freshName()), metadata: { name: freshName(), resourceVersion: rv } }),
        headers: JSON_TYPE,
        mustFail: false,
      };
  }
}

function badContinue(): FuzzCase {
  const b64 = (s: string) => Buffer.from(s).toString(pick(['base64', 'base64url'] as const));
  const tokens = [
    () => randomText(1 + int(40), lower + '+/=_-'),
    () => '%%%',
    () => b64('not json'),
    () => b64('[]'),
    () => b64('{}'),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v2', rv: 1, start: '/registry/configmaps/fuzz/' })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: -5, start: '/registry/configmaps/fuzz/' })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 'x', start: '/registry/configmaps/fuzz/' })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1.5, start: '/registry/configmaps/fuzz/' })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1e30, start: '/registry/configmaps/fuzz/' })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: 5 })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: '/registry/secrets/fuzz/s-0' })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1, start: '/etc/passwd' })),
    () => b64(JSON.stringify({ v: 'meta.k8s.io/v1', rv: 1 })),
  ];
  const token = encodeURIComponent(pick(tokens)());
  if (chance(0.15)) {
    // A continue token with a resourceVersion is refused whatever the token.
    return {
      category: 'continue',
      method: 'GET',
      path: `${CM}?limit=1&continue=${token}&resourceVersion=${pick(['1', '5', 'abc'])}`,
      mustFail: true,
    };
  }
  return {
    category: 'continue',
    method: 'GET',
    path: `${pick([CM, '/api/v1/configmaps'])}?limit=${1 + int(3)}&continue=${token}`,
    mustFail: true,
  };
}

function badQueryOptions(): FuzzCase {
  const name = freshName();
  switch (int(8)) {
    case 0:
      return {
        category: 'query',
        method: 'GET',
        path: `${pick([CM, NAMESPACES])}?limit=${encodeURIComponent(pick(['abc', '1.5', '1e3', '0x10', ' 5', '5 ', '+5', '99999999999999999999', 'NaN', '--1', '1,2']))}`,
        mustFail: true,
      };
    case 1:
      return {
        category: 'query',
        method: 'POST',
        path: `${CM}?dryRun=${encodeURIComponent(pick(['all', 'true', 'false', 'ALL', 'All ', 'None', '1', 'All,All']))}`,
        body: JSON.stringify(configMap(name)),
        headers: JSON_TYPE,
        mustFail: true,
      };
    case 2:
      return {
        category: 'query',
        method: 'POST',
        path: `${CM}?fieldValidation=${encodeURIComponent(pick(['strict', 'STRICT', 'Error', 'true', '1', 'Strict,Warn', 'Warn ', 'none']))}`,
        body: JSON.stringify(configMap(name)),
        headers: JSON_TYPE,
        mustFail: true,
      };
    case 3:
      return {
        category: 'query',
        method: 'PATCH',
        path: `${item()}?fieldManager=${'m'.repeat(129 + int(300))}`,
        body: '{"data":{"k":"patched"}}',
        headers: MERGE,
        mustFail: true,
      };
    case 4:
      return {
        category: 'query',
        method: 'DELETE',
        path: `${item()}?${pick(['propagationPolicy=Sideways', 'propagationPolicy=background', 'gracePeriodSeconds=abc', 'gracePeriodSeconds=1.5', 'dryRun=all', 'dryRun=true'])}`,
        mustFail: true,
      };
    case 5: {
      const body = pick([
        '{"propagationPolicy":"Sideways"}',
        '{"propagationPolicy":5}',
        '{"gracePeriodSeconds":"x"}',
        '{"gracePeriodSeconds":1.5}',
        '{"dryRun":["all"]}',
        '{"dryRun":"All"}',
        '{"kind":"Pod"}',
        '{"kind":"DeleteOptions","apiVersion":"v9"}',
        '{"preconditions":{"uid":"00000000-0000-0000-0000-000000000000"}}',
        '{"preconditions":{"uid":5}}',
        '{"preconditions":"x"}',
        '[]',
        '"x"',
        '{"orphanDependents":"yes"}',
        '{bad json',
      ]);
      return { category: 'query', method: 'DELETE', path: item(), body, headers: JSON_TYPE, mustFail: true };
    }
    case 6:
      return {
        category: 'query',
        method: 'GET',
        path: `${CM}?watch=true&timeoutSeconds=1&${pick(['sendInitialEvents=maybe', 'sendInitialEvents=true', 'sendInitialEvents=false&resourceVersionMatch=Exact'])}`,
        mustFail: true,
      };
    default:
      // Accept headers nobody can satisfy (reads: any 4xx, never 5xx).
      return {
        category: 'query',
        method: 'GET',
        path: pick([CM, item(), NAMESPACES]),
        headers: { accept: pick(['application/xml', 'text/html', 'application/json;as=Table;g=bogus;v=v1', 'image/*']) },
        mustFail: true,
      };
  }
}

function unknownPaths(): FuzzCase {
  const segment = () =>
    chance(0.3) ? encodeURIComponent(randomText(1 + int(20), lower + '!$&()*+,;=:@~.-_ ñ😀')) : randomText(1 + int(12));
  const paths = [
    () => `/api/v3/${segment()}`,
    () => `/api/v1/${segment()}x`,
    () => `/api/v1/namespaces/${NS}/${segment()}x`,
    () => `/apis/${segment()}.example.com/v1/${segment()}`,
    () => `/apis/apps/v9/deployments`,
    () => `/apis/apps/v1/${segment()}x`,
    () => `${CM}/cm-0/status`,
    () => `${CM}/cm-0/scale`,
    () => `${CM}/cm-0/${segment()}/${segment()}`,
    () => `${DEPLOY}/web/${segment()}x`,
    () => `/openapi/v3/apis/${segment()}/v1`,
    () => `/openapi/v9`,
    () => `/${segment()}x`,
    () => `/.env`,
    () => `/../../etc/passwd`,
    () => `/api/v1/namespaces/${NS}/configmaps/%ZZ`,
    () => `/api/v1/namespaces/%ZZ/configmaps`,
    () => `/api/v1/namespaces/${NS}/configmaps/cm-0%00`,
    () => `//api//v1//namespaces//${NS}//configmaps//x//y`,
    () => `/api/v1/namespaces/${NS}/configmaps/${'a/'.repeat(200)}`,
    () => `/apis/${'x'.repeat(4000)}/v1/things`,
  ];
  const path = pick(paths)();
  const method = pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']);
  const body = method === 'GET' || method === 'DELETE' ? undefined : JSON.stringify(configMap(freshName()));
  return {
    category: 'unknown-path',
    method,
    path,
    ...(body ? { body, headers: method === 'PATCH' ? MERGE : JSON_TYPE } : {}),
    mustFail: true,
  };
}

function weirdMethods(): FuzzCase {
  const method = pick([
    'OPTIONS',
    'TRACE',
    'PROPFIND',
    'PROPPATCH',
    'MKCOL',
    'COPY',
    'MOVE',
    'LOCK',
    'UNLOCK',
    'SEARCH',
    'REPORT',
    'MKCALENDAR',
  ]);
  const path = pick([
    CM,
    item(),
    NAMESPACES,
    `${NAMESPACES}/${NS}`,
    DEPLOY,
    '/api',
    '/apis',
    '/api/v1',
    '/version',
    '/openapi/v2',
  ]);
  // Own connection: an answer that closes the connection must not break a pooled one.
  return { category: 'method', method, path, mustFail: true, expect: [400, 404, 405], raw: true };
}

const GENERATORS: Array<[number, () => FuzzCase]> = [
  [10, badJson],
  [6, badYaml],
  [5, wrongKind],
  [7, badNames],
  [4, hugeNames],
  [2, deepNesting],
  [1, bigBodies],
  [5, wrongContentType],
  [9, badSelectors],
  [8, badJsonPatch],
  [7, badMergePatch],
  [7, badStrategicPatch],
  [8, badResourceVersions],
  [5, badContinue],
  [8, badQueryOptions],
  [6, unknownPaths],
  [3, weirdMethods],
];

function generate(count: number): FuzzCase[] {
  const total = GENERATORS.reduce((s, [w]) => s + w, 0);
  const cases: FuzzCase[] = [];
  for (let i = 0; i < count; i++) {
    let r = random() * total;
    const generator = GENERATORS.find(([w]) => (r -= w) < 0)?.[1] ?? GENERATORS[0][1];
    cases.push(generator());
  }
  return cases;
}

// ---- transport ----------------------------------------------------------------------------------

/**
 * One request over its own TLS socket, for bodies the server may refuse before reading them: the
 * answer is read even when writing the rest of the body fails, as Go's and curl's clients do.
 */
function rawRequest(kubeconfig: string, c: FuzzCase, timeoutMs = 15_000): Promise<Outcome> {
  const creds = readCredentials(kubeconfig);
  const url = new URL(creds.server);
  return new Promise((resolve) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), ca: creds.ca, cert: creds.cert, key: creds.key });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error('timed out')), timeoutMs);
    let socketError: string | undefined;
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', (err) => (socketError ??= err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks), socketError));
    });
    socket.on('secureConnect', async () => {
      const body = Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body ?? '');
      const head = [`${c.method} ${c.path} HTTP/1.1`, `Host: ${url.host}`, 'Connection: close', 'Accept: application/json'];
      for (const [k, v] of Object.entries(c.headers ?? {})) head.push(`${k}: ${v}`);
      if (body.length || c.chunked || !['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE'].includes(c.method)) {
        head.push(c.chunked ? 'Transfer-Encoding: chunked' : `Content-Length: ${body.length}`);
      }
      // Pace the body and stop once the server has answered: it refuses a large body early and
      // closes the connection, and a client still writing then may lose the answer to a reset
      // (see the findings below). The pauses give the answer time to arrive first.
      const write = async (data: Buffer | string) => {
        if (socket.destroyed || chunks.length) return false;
        const flushed = socket.write(data);
        await new Promise<void>((r) => {
          const done = () => {
            clearTimeout(pause);
            socket.off('drain', done).off('close', done);
            r();
          };
          const pause = setTimeout(done, flushed ? 2 : 1000);
          if (!flushed) socket.on('drain', done).on('close', done);
        });
        return !chunks.length;
      };
      await write(head.join('\r\n') + '\r\n\r\n');
      // A declared length over the limit is refused right after the headers: wait for that answer.
      for (let waited = 0; body.length > MiB && !chunks.length && waited < 300; waited += 10)
        await new Promise((r) => setTimeout(r, 10));
      const piece = 64 * 1024;
      for (let offset = 0; offset < body.length; offset += piece) {
        const part = body.subarray(offset, offset + piece);
        if (
          !(await write(
            c.chunked ? Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]) : part,
          ))
        )
          return;
      }
      if (c.chunked) await write('0\r\n\r\n');
    });
  });
}

function parseRawResponse(data: Buffer, error?: string): Outcome {
  const end = data.indexOf('\r\n\r\n');
  if (end < 0) return { status: 0, contentType: '', text: data.toString('utf8', 0, 200), error: error ?? 'no response' };
  const lines = data.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(lines[0].split(' ')[1]);
  const headers = new Map(
    lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
  );
  let body = data.subarray(end + 4);
  if (headers.get('transfer-encoding') === 'chunked') {
    const parts: Buffer[] = [];
    let at = 0;
    for (;;) {
      const nl = body.indexOf('\r\n', at);
      if (nl < 0) break;
      const size = parseInt(body.toString('latin1', at, nl), 16);
      if (!size) break;
      parts.push(body.subarray(nl + 2, nl + 2 + size));
      at = nl + 2 + size + 2;
    }
    body = Buffer.concat(parts);
  }
  return { status, contentType: headers.get('content-type') ?? '', text: body.toString('utf8') };
}

async function send(api: ApiClient, kubeconfig: string, c: FuzzCase): Promise<Outcome> {
  if (c.raw) return rawRequest(kubeconfig, c);
  try {
    const res = await api.request(c.method, c.path, {
      ...(c.body !== undefined ? { body: c.body } : {}),
      headers: c.headers ?? {},
      timeoutMs: 10_000,
    });
    return { status: res.status, contentType: String(res.headers['content-type'] ?? ''), text: res.text };
  } catch (err) {
    return { status: 0, contentType: '', text: '', error: (err as Error).message };
  }
}

// ---- checks -------------------------------------------------------------------------------------

/** What is wrong with an answer, or undefined. */
function judge(c: FuzzCase, out: Outcome): string | undefined {
  if (out.error || out.status === 0) return `no answer: ${out.error}`;
  if (out.status >= 500) return `server error ${out.status}`;
  if (c.expect && !c.expect.includes(out.status)) return `status ${out.status}, expected ${c.expect.join(' or ')}`;
  if (c.mustFail && out.status < 400) return `accepted (${out.status}) a request that must fail`;
  if (out.status >= 400 && c.method !== 'HEAD') {
    let status: any;
    try {
      status = JSON.parse(out.text);
    } catch {
      return `error body is not JSON (${out.contentType})`;
    }
    if (!/^application\/json/.test(out.contentType)) return `error content type ${out.contentType}`;
    if (status?.kind !== 'Status' || status.apiVersion !== 'v1') return 'error body is not a v1 Status';
    if (status.code !== out.status) return `Status code ${status.code} differs from HTTP ${out.status}`;
    if (status.status !== 'Failure') return `Status.status ${status.status}`;
    if (typeof status.reason !== 'string' || !status.reason) return 'Status without a reason';
    if (typeof status.message !== 'string') return 'Status without a message';
  }
  return undefined;
}

const show = (c: FuzzCase, out: Outcome) => {
  const body =
    c.body === undefined
      ? ''
      : Buffer.isBuffer(c.body)
        ? `<${c.body.length} bytes>`
        : c.body.length > 300
          ? `${JSON.stringify(c.body.slice(0, 300))}… (${c.body.length} chars)`
          : JSON.stringify(c.body);
  const path = c.path.length > 300 ? `${c.path.slice(0, 300)}… (${c.path.length} chars)` : c.path;
  return `[${c.category}] ${c.method} ${path} ${JSON.stringify(c.headers ?? {})} ${body}\n    → ${out.status} ${out.contentType} ${out.error ?? ''} ${out.text.slice(0, 400)}`;
};

interface Snapshot {
  revision: string;
  objects: string[];
}

async function snapshot(api: ApiClient): Promise<Snapshot> {
  const objects: string[] = [];
  let revision = '';
  for (const path of [NAMESPACES, '/api/v1/configmaps', '/api/v1/secrets', '/apis/apps/v1/deployments', '/api/v1/services']) {
    const res = await api.request('GET', path);
    assert.equal(res.status, 200, `${path}: ${res.text}`);
    const list = res.json();
    revision = list.metadata.resourceVersion;
    for (const o of list.items)
      objects.push(`${path} ${o.metadata.namespace ?? ''}/${o.metadata.name}@${o.metadata.resourceVersion}`);
  }
  return { revision, objects: objects.sort() };
}

// ---- the tests ----------------------------------------------------------------------------------

let server: RunningServer;
let api: ApiClient;

before(async () => {
  // API-level semantics: no workloads run (kube-apiserver with only the lifecycle controllers).
  server = await startServer({ extraArgs: ['--controllers', 'lifecycle', '--nodes', '0'] });
  api = apiClient(server.kubeconfig, { maxSockets: CONCURRENCY });
  const setup: Array<[string, unknown]> = [
    [NAMESPACES, { metadata: { name: NS } }],
    ...EXISTING_CM.map((name, i): [string, unknown] => [
      CM,
      { metadata: { name, labels: { app: 'fuzz', i: String(i) } }, data: { k: 'v' } },
    ]),
    [SECRETS, { metadata: { name: 's-0' }, stringData: { password: 'x' } }],
    [
      DEPLOY,
      {
        metadata: { name: 'web', labels: { app: 'web' } },
        spec: {
          replicas: 1,
          selector: { matchLabels: { app: 'web' } },
          template: {
            metadata: { labels: { app: 'web' } },
            spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }] }] },
          },
        },
      },
    ],
  ];
  for (const [path, body] of setup) {
    const res = await api.request('POST', path, { body });
    assert.equal(res.status, 201, `${path}: ${res.text}`);
  }
});

after(async () => {
  api?.close();
  if (server) {
    await server.stop();
    removeDir(server.dataDir);
  }
});

describe('fuzz', () => {
  test(`${CASES} malformed and hostile requests: 4xx Status each, server up, store unchanged`, async () => {
    const cases = generate(CASES);
    const before = await snapshot(api);
    const outcomes: Outcome[] = new Array(cases.length);
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < cases.length) {
          const i = next++;
          outcomes[i] = await send(api, server.kubeconfig, cases[i]);
        }
      }),
    );
    const elapsed = Date.now() - started;

    // Distribution of answers, by status and by category.
    const byStatus = new Map<string, number>();
    const byCategory = new Map<string, Map<string, number>>();
    cases.forEach((c, i) => {
      const key = outcomes[i].error ? 'no answer' : String(outcomes[i].status);
      byStatus.set(key, (byStatus.get(key) ?? 0) + 1);
      if (!byCategory.has(c.category)) byCategory.set(c.category, new Map());
      const m = byCategory.get(c.category)!;
      m.set(key, (m.get(key) ?? 0) + 1);
    });
    const fmt = (m: Map<string, number>) =>
      [...m]
        .sort()
        .map(([k, v]) => `${k}×${v}`)
        .join(' ');
    console.log(`fuzz: ${cases.length} requests in ${elapsed} ms; statuses: ${fmt(byStatus)}`);
    for (const [category, m] of [...byCategory].sort()) console.log(`  ${category.padEnd(18)} ${fmt(m)}`);

    const failures = cases.map((c, i) => ({ c, out: outcomes[i], why: judge(c, outcomes[i]) })).filter((f) => f.why);
    // One example per distinct problem keeps the report readable.
    const distinct = new Map<string, string>();
    for (const f of failures) {
      const key = `${f.c.category} ${f.why} ${f.out.status}`;
      if (!distinct.has(key)) distinct.set(key, `${f.why}: ${show(f.c, f.out)}`);
    }
    if (failures.length)
      console.log(`fuzz failures (${failures.length}, ${distinct.size} distinct):\n${[...distinct.values()].join('\n')}`);

    // The server is still up and ready, and nothing changed.
    assert.equal(server.process.exitCode, null, `the server exited:\n${server.output().slice(-3000)}`);
    const ready = await api.request('GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    const afterwards = await snapshot(api);
    assert.deepEqual(afterwards.objects, before.objects, 'the fuzz changed stored objects');
    // Every revision written meanwhile is a lease renewal of a controller (leader election and
    // node heartbeats go on during the fuzz); anything else would be a write the fuzz caused.
    const leaseWrites = await writesToLeasesBetween(api, before.revision, afterwards.revision);
    assert.equal(Number(afterwards.revision) - Number(before.revision), leaseWrites, 'the fuzz wrote to the store');
    assert.deepEqual([...distinct.values()], [], `${failures.length} bad answers`);
  });
});

/** Lease writes with revisions in (from, to], read back from the watch history. */
async function writesToLeasesBetween(api: ApiClient, from: string, to: string): Promise<number> {
  if (from === to) return 0;
  const watch = await api.watch(`/apis/coordination.k8s.io/v1/leases?watch=true&resourceVersion=${from}&allowWatchBookmarks=false`);
  let count = 0;
  try {
    while (true) {
      const event = await watch.next(2000);
      if (!event) break;
      const rv = Number(event.object?.metadata?.resourceVersion);
      if (rv > Number(to)) break;
      count++;
      if (rv === Number(to)) break;
    }
  } finally {
    watch.close();
  }
  return count;
}

/**
 * Server bugs the fuzz found, each as its smallest request, with what kube-apiserver answers.
 * They fail until the server is fixed. Each works on its own objects.
 */
describe('fuzz findings', () => {
  const FNS = 'findings';
  const FCM = `/api/v1/namespaces/${FNS}/configmaps`;
  const status = (c: FuzzCase, out: Outcome) =>
    `${c.method} ${c.path.slice(0, 120)} ${JSON.stringify(c.headers ?? {})} ${String(c.body ?? '').slice(0, 80)} → ${out.status} ${out.error ?? ''} ${out.text.slice(0, 300)}`;
  /** Sends each case and asserts each got a 4xx Status (and one of `expect`, when given). */
  const expectRefused = async (cases: FuzzCase[], raw = false) => {
    const problems: string[] = [];
    for (const c of cases) {
      const out = raw ? await rawRequest(server.kubeconfig, c, 3000) : await send(api, server.kubeconfig, c);
      const why = judge({ ...c, mustFail: true }, out);
      if (why) problems.push(`${why}: ${status(c, out)}`);
    }
    assert.deepEqual(problems, []);
  };
  const create = async (namespace: string, name: string) => {
    const res = await api.request('POST', `/api/v1/namespaces/${namespace}/configmaps`, { body: configMap(name) });
    assert.equal(res.status, 201, res.text);
    return res.json();
  };
  const exists = async (path: string) => (await api.request('GET', path)).status === 200;

  before(async () => {
    for (const ns of [FNS, 'dots'])
      assert.equal((await api.request('POST', NAMESPACES, { body: { metadata: { name: ns } } })).status, 201);
  });

  test('malformed JSON bodies are 400 BadRequest, not 500 InternalError', async () => {
    // Today: 500 "Internal error occurred: unexpected end of JSON input" / "invalid character …"
    // (the JSON decoder's syntax error is not turned into a BadRequest Status).
    await create(FNS, 'json-target');
    await expectRefused([
      { category: 'bad-json', method: 'POST', path: FCM, headers: JSON_TYPE, body: '{', mustFail: true, expect: [400] },
      { category: 'bad-json', method: 'POST', path: FCM, headers: JSON_TYPE, body: ' ', mustFail: true, expect: [400] },
      {
        category: 'bad-json',
        method: 'PUT',
        path: `${FCM}/json-target`,
        headers: JSON_TYPE,
        body: "{'a':1}",
        mustFail: true,
        expect: [400],
      },
      {
        category: 'bad-json',
        method: 'DELETE',
        path: `${FCM}/json-target`,
        headers: JSON_TYPE,
        body: '{bad json',
        mustFail: true,
        expect: [400],
      },
    ]);
    assert.ok(await exists(`${FCM}/json-target`));
  });

  test('JSON nested 10,000 levels deep is a 400 BadRequest, not a 500', async () => {
    // Today: 500 "Internal error occurred: invalid character '{' exceeded max depth".
    await create(FNS, 'deep-target');
    const deep = deepObject(10_000);
    await expectRefused([
      {
        category: 'deep',
        method: 'POST',
        path: FCM,
        headers: JSON_TYPE,
        body: `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"deep"},"data":${deep}}`,
        mustFail: true,
        expect: [400],
      },
      {
        category: 'deep',
        method: 'PATCH',
        path: `${FCM}/deep-target`,
        headers: MERGE,
        body: `{"data":${deep}}`,
        mustFail: true,
        expect: [400],
      },
    ]);
  });

  test('"." and ".." in a path are names, never resolved as dot-segments', async () => {
    // Today the front resolves them (WHATWG URL): GET …/configmaps/. lists, DELETE …/configmaps/.
    // deletes every ConfigMap of the namespace and DELETE …/configmaps/%2e%2e deletes the namespace.
    // kube-apiserver takes the segment as the name: 404 NotFound (or 400), and deletes nothing.
    await create('dots', 'a');
    await create('dots', 'b');
    await expectRefused([
      { category: 'dots', method: 'GET', path: '/api/v1/namespaces/dots/configmaps/.', mustFail: true },
      { category: 'dots', method: 'GET', path: '/api/v1/namespaces/dots/configmaps/..', mustFail: true },
      { category: 'dots', method: 'DELETE', path: '/api/v1/namespaces/dots/configmaps/.', mustFail: true },
    ]);
    assert.ok(
      (await exists('/api/v1/namespaces/dots/configmaps/a')) && (await exists('/api/v1/namespaces/dots/configmaps/b')),
      'the ConfigMaps survive',
    );
    await expectRefused([
      { category: 'dots', method: 'DELETE', path: '/api/v1/namespaces/dots/configmaps/%2e%2e', mustFail: true },
    ]);
    const ns = await api.request('GET', '/api/v1/namespaces/dots');
    assert.equal(ns.status, 200, 'the namespace survives');
    assert.equal(ns.json().metadata.deletionTimestamp, undefined, 'the namespace is not being deleted');
  });

  test('DeleteOptions with wrongly typed fields are refused, not ignored', async () => {
    // Today the object is deleted (200): the bad field is dropped, so a malformed precondition
    // becomes an unconditional delete. kube-apiserver: 400 BadRequest (the body does not decode).
    await create(FNS, 'del-target');
    await expectRefused([
      {
        category: 'delete',
        method: 'DELETE',
        path: `${FCM}/del-target`,
        headers: JSON_TYPE,
        body: '{"preconditions":{"uid":5}}',
        mustFail: true,
        expect: [400],
      },
      {
        category: 'delete',
        method: 'DELETE',
        path: `${FCM}/del-target`,
        headers: JSON_TYPE,
        body: '{"orphanDependents":"yes"}',
        mustFail: true,
        expect: [400],
      },
    ]);
    assert.ok(await exists(`${FCM}/del-target`), 'the object survives');
  });

  test('create and update refuse patch media types with 415', async () => {
    // Today POST with a patch Content-Type decodes the body as JSON and creates the object (201).
    await create(FNS, 'media-target');
    await expectRefused([
      ...PATCH_TYPES.map((headers, i): FuzzCase => ({
        category: 'media',
        method: 'POST',
        path: FCM,
        headers,
        body: JSON.stringify(configMap(`media-${i}`)),
        mustFail: true,
        expect: [415],
      })),
      {
        category: 'media',
        method: 'PUT',
        path: `${FCM}/media-target`,
        headers: MERGE,
        body: JSON.stringify(configMap('media-target')),
        mustFail: true,
        expect: [415],
      },
    ]);
    for (let i = 0; i < PATCH_TYPES.length; i++) assert.ok(!(await exists(`${FCM}/media-${i}`)), `media-${i} was not created`);
  });

  test('changing metadata.name or metadata.uid is refused, not silently undone', async () => {
    // Today each answers 200 with the object unchanged. kube-apiserver: 400 (name does not match
    // the URL), 422 (uid is immutable), 409 (PUT: UID precondition failed).
    const object = await create(FNS, 'imm-target');
    await expectRefused([
      {
        category: 'immutable',
        method: 'PATCH',
        path: `${FCM}/imm-target`,
        headers: JSON_PATCH,
        body: '[{"op":"remove","path":"/metadata/name"}]',
        mustFail: true,
      },
      {
        category: 'immutable',
        method: 'PATCH',
        path: `${FCM}/imm-target`,
        headers: JSON_PATCH,
        body: '[{"op":"replace","path":"/metadata/uid","value":"00000000-0000-0000-0000-000000000000"}]',
        mustFail: true,
      },
      {
        category: 'immutable',
        method: 'PATCH',
        path: `${FCM}/imm-target`,
        headers: MERGE,
        body: '{"metadata":{"uid":"00000000-0000-0000-0000-000000000000"}}',
        mustFail: true,
      },
      {
        category: 'immutable',
        method: 'PUT',
        path: `${FCM}/imm-target`,
        headers: JSON_TYPE,
        body: JSON.stringify({
          ...configMap('imm-target'),
          metadata: {
            name: 'imm-target',
            uid: '00000000-0000-0000-0000-000000000000',
            resourceVersion: object.metadata.resourceVersion,
          },
        }),
        mustFail: true,
      },
    ]);
  });

  test('/version, /api, /apis and /openapi/v2 answer only GET', async () => {
    // Today any method gets the GET answer (200). kube-apiserver: 405 MethodNotAllowed.
    await expectRefused(
      [
        { category: 'method', method: 'POST', path: '/api', headers: JSON_TYPE, body: '{}', mustFail: true },
        { category: 'method', method: 'DELETE', path: '/version', mustFail: true },
        { category: 'method', method: 'OPTIONS', path: '/apis', mustFail: true },
        { category: 'method', method: 'TRACE', path: '/openapi/v2', mustFail: true },
      ],
      true,
    );
  });

  test('errors raised before routing are Status objects too', async () => {
    // Today fastify's own bodies: {"error":"Bad Request","message":"Client Error","statusCode":400}
    // for an unknown method, {"error":"Bad Request","code":"FST_ERR_BAD_URL",…} for a malformed
    // percent-escape and {"error":"Request Header Fields Too Large",…} for an over-long request line.
    await expectRefused(
      [
        { category: 'method', method: 'FOO', path: CM, mustFail: true },
        { category: 'path', method: 'GET', path: `${FCM}/%ZZ`, mustFail: true },
        { category: 'path', method: 'GET', path: `${FCM}/${'a'.repeat(20_000)}`, mustFail: true },
      ],
      true,
    );
  });

  test('watch with a non-numeric timeoutSeconds is a 400, not a 30-minute watch', async () => {
    // Today the bad value is ignored and the watch stays open with the default timeout.
    await expectRefused(
      [{ category: 'query', method: 'GET', path: `${CM}?watch=true&timeoutSeconds=abc`, mustFail: true, expect: [400] }],
      true,
    );
  });

  test('a client sending a whole oversized body still reads the 413', async () => {
    // Today the server answers 413 right after the headers and closes at once; the client, still
    // writing, gets a connection reset (EPIPE/ECONNRESET) and loses the answer about half the
    // time. Go's server (kube-apiserver) drains part of the body and half-closes first.
    const body = Buffer.alloc(4 * MiB, 0x61);
    const outcomes: string[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await api.request('POST', FCM, { body, headers: JSON_TYPE }).then(
        (r) => String(r.status),
        (err: Error) => err.message,
      );
      outcomes.push(res);
    }
    assert.deepEqual(outcomes, Array(10).fill('413'));
  });
});
