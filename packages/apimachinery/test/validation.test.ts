import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ipFamilyOf,
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isQualifiedName,
  isRelaxedEnvVarName,
  isValidCIDR,
  isValidIP,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  isWildcardDNS1123Subdomain,
  nameIsDNSSubdomain,
  validateLabelSelectorField,
  validateObjectMeta,
  validateObjectMetaUpdate,
  type StatusCause,
} from '@canopy/apimachinery';

const SUBDOMAIN_MESSAGE =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MESSAGE =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

function messages(causes: StatusCause[]): string[] {
  return causes.map((c) => `${c.field}: ${c.message}`);
}

describe('DNS names', () => {
  it('words subdomain errors exactly as kube', () => {
    assert.deepEqual(isDNS1123Subdomain('Example.com'), [SUBDOMAIN_MESSAGE]);
    assert.deepEqual(isDNS1123Subdomain('example.com'), []);
    assert.deepEqual(isDNS1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
    assert.deepEqual(isDNS1123Subdomain('-a'), [SUBDOMAIN_MESSAGE]);
  });

  it('tells a label with dots from a malformed one', () => {
    assert.deepEqual(isDNS1123Label('my.name'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label('My_Name'), [LABEL_MESSAGE]);
    assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
    assert.deepEqual(isDNS1123Label('123-abc'), []);
  });

  it('requires a DNS-1035 label to start with a letter', () => {
    assert.deepEqual(isDNS1035Label('abc-123'), []);
    assert.deepEqual(isDNS1035Label('1abc'), [
      "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
    ]);
  });

  it('accepts wildcard subdomains only with a leading *.', () => {
    assert.deepEqual(isWildcardDNS1123Subdomain('*.example.com'), []);
    assert.equal(isWildcardDNS1123Subdomain('*example.com').length, 1);
    assert.equal(isWildcardDNS1123Subdomain('a.*.example.com').length, 1);
  });

  it('lets a generateName end with a dash', () => {
    assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('web-', false), [SUBDOMAIN_MESSAGE]);
  });

  it('checks path segment names', () => {
    assert.deepEqual(isValidPathSegmentName('..'), ["may not be '..'"]);
    assert.deepEqual(isValidPathSegmentName('a/b%c'), ["may not contain '/'", "may not contain '%'"]);
    assert.deepEqual(isValidPathSegmentName('system:admin'), []);
  });
});

describe('qualified names and label values', () => {
  it('validates prefix and name parts separately', () => {
    assert.deepEqual(isQualifiedName('example.com/my-key'), []);
    assert.deepEqual(isQualifiedName('/name'), ['prefix part must be non-empty']);
    assert.deepEqual(isQualifiedName('example.com/'), [
      'name part must be non-empty',
      "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
    ]);
    assert.deepEqual(isQualifiedName('Example.com/key'), [`prefix part ${SUBDOMAIN_MESSAGE}`]);
    assert.match(
      isQualifiedName('a/b/c')[0],
      /^a qualified name must consist of .* with an optional DNS subdomain prefix and '\/' \(e\.g\. 'example\.com\/MyName'\)$/,
    );
    assert.deepEqual(isQualifiedName('a'.repeat(64)), ['name part must be no more than 63 characters']);
  });

  it('allows empty label values but not leading punctuation', () => {
    assert.deepEqual(isValidLabelValue(''), []);
    assert.deepEqual(isValidLabelValue('v1.2_3'), []);
    assert.equal(isValidLabelValue('-v').length, 1);
    assert.deepEqual(isValidLabelValue('a'.repeat(64)), ['must be no more than 63 characters']);
  });
});

describe('ports, percentages, keys', () => {
  it('checks port numbers and names', () => {
    assert.deepEqual(isValidPortNum(0), ['must be between 1 and 65535, inclusive']);
    assert.deepEqual(isValidPortNum(65535), []);
    assert.deepEqual(isValidPortName('http'), []);
    assert.deepEqual(isValidPortName('8080'), ['must contain at least one letter (a-z)']);
    assert.deepEqual(isValidPortName('-a--b-'), ['must not contain consecutive hyphens', 'must not begin or end with a hyphen']);
    assert.deepEqual(isValidPortName('a-very-long-port-name'), ['must be no more than 15 characters']);
  });

  it('checks percentages', () => {
    assert.deepEqual(isValidPercent('25%'), []);
    assert.deepEqual(isValidPercent('25'), [
      "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]);
  });

  it('checks config keys', () => {
    assert.deepEqual(isConfigMapKey('app.properties'), []);
    assert.deepEqual(isConfigMapKey('..data'), ["must not start with '..'"]);
    assert.equal(isConfigMapKey('a b').length, 1);
  });

  it('uses the relaxed environment variable rule', () => {
    assert.deepEqual(isRelaxedEnvVarName('1-weird.NAME'), []);
    assert.deepEqual(isRelaxedEnvVarName('A=B'), [
      "a valid environment variable name must consist only of printable ASCII characters other than '='",
    ]);
    assert.deepEqual(isRelaxedEnvVarName(''), ['environment variable name must be non-empty']);
  });
});

describe('IP addresses and CIDRs', () => {
  it('parses sloppily like Kubernetes', () => {
    assert.equal(ipFamilyOf('10.0.0.1'), 4);
    assert.equal(ipFamilyOf('010.000.0.1'), 4);
    assert.equal(ipFamilyOf('::1'), 6);
    assert.equal(ipFamilyOf('2001:db8::ffff'), 6);
    assert.equal(ipFamilyOf('::ffff:1.2.3.4'), 4);
    assert.equal(ipFamilyOf('1:2:3:4:5:6:7:8'), 6);
    for (const bad of ['', '256.0.0.1', '1.2.3', 'fe80::1%eth0', '1::2::3', '1:2:3:4:5:6:7:8:9', 'abc', '1.2.3.4.5']) {
      assert.deepEqual(isValidIP(bad), ['must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'], bad);
    }
  });

  it('checks CIDRs', () => {
    assert.deepEqual(isValidCIDR('10.0.0.0/8'), []);
    assert.deepEqual(isValidCIDR('2001:db8::/64'), []);
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '::/129', 'x/8', '10.0.0.0/-1']) {
      assert.deepEqual(isValidCIDR(bad), ['must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)'], bad);
    }
  });
});

describe('validateObjectMeta', () => {
  it('requires a name and checks it with the kind validator', () => {
    assert.deepEqual(messages(validateObjectMeta({ namespace: 'default' }, { namespaced: true })), [
      'metadata.name: Required value: name or generateName is required',
    ]);
    assert.deepEqual(messages(validateObjectMeta({ name: 'Web', namespace: 'default' }, { namespaced: true })), [
      `metadata.name: Invalid value: "Web": ${SUBDOMAIN_MESSAGE}`,
    ]);
    assert.deepEqual(messages(validateObjectMeta({ name: 'a.b' }, { namespaced: false, nameValidator: 'label' })), [
      'metadata.name: Invalid value: "a.b": must not contain dots',
    ]);
    assert.deepEqual(validateObjectMeta({ name: 'system:admin' }, { namespaced: false, nameValidator: 'path-segment' }), []);
  });

  it('checks the namespace against the scope', () => {
    assert.deepEqual(messages(validateObjectMeta({ name: 'a' }, { namespaced: true })), ['metadata.namespace: Required value']);
    assert.deepEqual(messages(validateObjectMeta({ name: 'a', namespace: 'x' }, { namespaced: false })), [
      'metadata.namespace: Forbidden: not allowed on this type',
    ]);
    assert.equal(validateObjectMeta({ name: 'a', namespace: 'Bad_NS' }, { namespaced: true })[0].field, 'metadata.namespace');
  });

  it('checks labels and annotations', () => {
    const causes = validateObjectMeta(
      { name: 'a', labels: { 'bad key!': 'v', ok: '-bad' }, annotations: { 'Example.COM/Key': 'fine' } },
      { namespaced: false },
    );
    assert.deepEqual(
      causes.map((c) => c.field),
      ['metadata.labels', 'metadata.labels'],
    );
    assert.match(causes[0].message ?? '', /^Invalid value: "bad key!": name part must consist of/);
    assert.match(causes[1].message ?? '', /^Invalid value: "-bad": a valid label must be an empty string/);
  });

  it('limits annotations to 256 KiB in total', () => {
    const big = { big: 'x'.repeat(256 * 1024 - 3) };
    assert.deepEqual(validateObjectMeta({ name: 'a', annotations: big }, { namespaced: false }), []);
    const tooBig = { big: 'x'.repeat(256 * 1024 - 2) };
    assert.deepEqual(messages(validateObjectMeta({ name: 'a', annotations: tooBig }, { namespaced: false })), [
      'metadata.annotations: Too long: may not be more than 262144 bytes',
    ]);
  });

  it('checks owner references and allows a single controller', () => {
    const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'rs', uid: 'u1', controller: true };
    assert.deepEqual(validateObjectMeta({ name: 'a', ownerReferences: [owner] }, { namespaced: false }), []);
    assert.deepEqual(
      messages(
        validateObjectMeta(
          { name: 'a', ownerReferences: [{ apiVersion: 'apps/', kind: '', name: '', uid: '' }] },
          { namespaced: false },
        ),
      ),
      [
        'metadata.ownerReferences.apiVersion: Invalid value: "apps/": version must not be empty',
        'metadata.ownerReferences.kind: Invalid value: "": must not be empty',
        'metadata.ownerReferences.name: Invalid value: "": must not be empty',
        'metadata.ownerReferences.uid: Invalid value: "": must not be empty',
      ],
    );
    const two = validateObjectMeta({ name: 'a', ownerReferences: [owner, { ...owner, name: 'rs2' }] }, { namespaced: false });
    assert.equal(two.length, 1);
    assert.match(
      two[0].message ?? '',
      /Only one reference can have Controller set to true\. Found "true" in references for ReplicaSet\/rs and ReplicaSet\/rs2$/,
    );
    const event = validateObjectMeta(
      { name: 'a', ownerReferences: [{ apiVersion: 'v1', kind: 'Event', name: 'e', uid: 'u' }] },
      { namespaced: false },
    );
    assert.match(event[0].message ?? '', /\/v1, Kind=Event is disallowed from being an owner$/);
  });

  it('checks finalizer names and the orphan/foreground conflict', () => {
    assert.deepEqual(
      validateObjectMeta({ name: 'a', finalizers: ['example.com/cleanup', 'kubernetes'] }, { namespaced: false }),
      [],
    );
    const causes = messages(
      validateObjectMeta({ name: 'a', finalizers: ['bad finalizer', 'orphan', 'foregroundDeletion'] }, { namespaced: false }),
    );
    assert.equal(causes.length, 2);
    assert.match(causes[0], /^metadata\.finalizers: Invalid value: "bad finalizer": name part must consist/);
    assert.match(causes[1], /finalizer orphan and foregroundDeletion cannot be both set$/);
  });

  it('reports values of the wrong type instead of throwing', () => {
    const causes = validateObjectMeta({ name: 5, labels: 'x', finalizers: {}, generation: -1 }, { namespaced: false });
    assert.deepEqual(
      causes.map((c) => c.field),
      ['metadata.name', 'metadata.name', 'metadata.generation', 'metadata.labels', 'metadata.finalizers'],
    );
    assert.deepEqual(messages(validateObjectMeta('nope', { namespaced: false })), [
      'metadata: Invalid value: "nope": must be of type object, not string',
    ]);
  });
});

describe('validateLabelSelectorField', () => {
  it('checks operators and values', () => {
    const causes = validateLabelSelectorField(
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: [] },
          { key: 'tier', operator: 'Exists', values: ['x'] },
          { key: 'tier', operator: 'Near' },
        ],
      },
      'spec.selector',
    );
    assert.deepEqual(messages(causes), [
      "spec.selector.matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'",
      "spec.selector.matchExpressions[1].values: Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
      'spec.selector.matchExpressions[2].operator: Invalid value: "Near": not a valid selector operator',
    ]);
  });
});

describe('validateObjectMetaUpdate', () => {
  const old = {
    name: 'a',
    namespace: 'ns',
    uid: 'u1',
    creationTimestamp: '2024-01-01T00:00:00Z',
    generation: 2,
    resourceVersion: '5',
  };

  it('accepts label and annotation changes', () => {
    assert.deepEqual(validateObjectMetaUpdate({ ...old, labels: { a: 'b' }, annotations: { x: 'y' } }, old), []);
  });

  it('keeps identity fields immutable', () => {
    assert.deepEqual(
      messages(validateObjectMetaUpdate({ ...old, name: 'b', uid: 'u2', creationTimestamp: '2025-01-01T00:00:00Z' }, old)),
      [
        'metadata.name: Invalid value: "b": field is immutable',
        'metadata.uid: Invalid value: "u2": field is immutable',
        'metadata.creationTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable',
      ],
    );
    assert.deepEqual(messages(validateObjectMetaUpdate({ ...old, namespace: 'other' }, old)), [
      'metadata.namespace: Invalid value: "other": field is immutable',
    ]);
  });

  it('does not let generation go down', () => {
    assert.deepEqual(messages(validateObjectMetaUpdate({ ...old, generation: 1 }, old)), [
      'metadata.generation: Invalid value: 1: must not be decremented',
    ]);
  });

  it('refuses new finalizers on an object being deleted', () => {
    const deleting = { ...old, deletionTimestamp: '2024-02-01T00:00:00Z', finalizers: ['a.io/x'] };
    assert.deepEqual(validateObjectMetaUpdate({ ...deleting, finalizers: [] }, deleting), []);
    assert.deepEqual(messages(validateObjectMetaUpdate({ ...deleting, finalizers: ['a.io/x', 'b.io/y'] }, deleting)), [
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"b.io/y"}',
    ]);
  });
});

/** Values a JSON parser can produce, nested a few levels, biased towards metadata-shaped keys. */
function randomJson(random: () => number, depth = 0): unknown {
  const keys = [
    'name',
    'namespace',
    'labels',
    'annotations',
    'finalizers',
    'ownerReferences',
    'generation',
    'uid',
    'controller',
    'kind',
    'apiVersion',
    'managedFields',
    'operation',
    'x',
  ];
  const pick = Math.floor(random() * (depth > 3 ? 5 : 7));
  switch (pick) {
    case 0:
      return null;
    case 1:
      return random() < 0.5;
    case 2:
      return [0, -1, 1.5, 1e308, 65536][Math.floor(random() * 5)];
    case 3:
      return ['', 'a', 'A_b', '-', 'x'.repeat(300), 'a/b/c', 'orphan', 'foregroundDeletion'][Math.floor(random() * 8)];
    case 4:
      return 'ok';
    case 5:
      return Array.from({ length: Math.floor(random() * 4) }, () => randomJson(random, depth + 1));
    default: {
      const out: Record<string, unknown> = {};
      for (let i = Math.floor(random() * 5); i > 0; i--)
        out[keys[Math.floor(random() * keys.length)]] = randomJson(random, depth + 1);
      return out;
    }
  }
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('robustness', () => {
  it('never throws on arbitrary JSON', () => {
    const random = seeded(42);
    for (let i = 0; i < 500; i++) {
      const a = randomJson(random);
      const b = randomJson(random);
      for (const namespaced of [true, false]) {
        assert.ok(Array.isArray(validateObjectMeta(a, { namespaced, nameValidator: 'label' })));
      }
      assert.ok(Array.isArray(validateObjectMetaUpdate(a, b)));
      assert.ok(Array.isArray(validateLabelSelectorField(a, 'spec.selector')));
    }
  });
});
