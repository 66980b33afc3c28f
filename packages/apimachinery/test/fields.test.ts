import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  StatusError,
  assertSupportedFieldLabels,
  escapeFieldValue,
  fieldSelectorFields,
  fieldSelectorRequiresExactMatch,
  fieldSelectorToString,
  matchesFields,
  parseFieldSelector,
  unescapeFieldValue,
} from '../src/index.js';

function badRequest(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`);
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.message, message);
    return true;
  });
}

describe('parseFieldSelector', () => {
  const cases: Array<[string, Array<[string, string, string]>, string]> = [
    // input, requirements (field, operator, value), String()
    ['', [], ''],
    ['metadata.name=web', [['metadata.name', '=', 'web']], 'metadata.name=web'],
    ['metadata.name==web', [['metadata.name', '=', 'web']], 'metadata.name=web'],
    ['status.phase!=Running', [['status.phase', '!=', 'Running']], 'status.phase!=Running'],
    [
      'spec.nodeName=n1,metadata.namespace=default',
      [
        ['metadata.namespace', '=', 'default'],
        ['spec.nodeName', '=', 'n1'],
      ],
      'metadata.namespace=default,spec.nodeName=n1',
    ],
    [
      'a=,b!=',
      [
        ['a', '=', ''],
        ['b', '!=', ''],
      ],
      'a=,b!=',
    ],
    ['a=x,,', [['a', '=', 'x']], 'a=x'],
    ['a=x\\,y', [['a', '=', 'x,y']], 'a=x\\,y'],
    ['a=x\\=y\\\\z', [['a', '=', 'x=y\\z']], 'a=x\\=y\\\\z'],
  ];
  for (const [input, requirements, printed] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      const selector = parseFieldSelector(input);
      assert.deepEqual(
        selector.requirements.map((r) => [r.field, r.operator, r.value]),
        requirements,
      );
      assert.equal(fieldSelectorToString(selector), printed);
      assert.deepEqual(parseFieldSelector(printed), selector);
    });
  }

  const errorCases: Array<[string, string]> = [
    ['metadata.name', "invalid selector: 'metadata.name'; can't understand 'metadata.name'"],
    ['a=b,c', "invalid selector: 'a=b,c'; can't understand 'c'"],
    ['a==b=c', 'invalid field selector: unescaped character in value: 61'],
    ['a=b\\', 'invalid field selector: invalid escape sequence: \\'],
    ['a=b\\n', 'invalid field selector: invalid escape sequence: \\n'],
    ['a!==b', 'invalid field selector: unescaped character in value: 61'],
  ];
  for (const [input, message] of errorCases) {
    it(`rejects ${JSON.stringify(input)}`, () => badRequest(() => parseFieldSelector(input), message));
  }
});

describe('matching and field lists', () => {
  const pod: Record<string, string> = {
    'metadata.name': 'web-1',
    'metadata.namespace': 'default',
    'status.phase': 'Running',
    'spec.nodeName': '',
  };
  const get = (field: string) => pod[field];
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['metadata.name=web-1', true],
    ['metadata.name=web-2', false],
    ['metadata.name!=web-2', true],
    ['status.phase=Running,metadata.namespace=default', true],
    ['status.phase=Running,metadata.namespace=kube-system', false],
    ['spec.nodeName=', true],
    ['spec.nodeName!=', false],
    ['missing.field=', true],
    ['missing.field!=x', true],
  ];
  for (const [selector, expected] of cases) {
    it(`${JSON.stringify(selector)} ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(matchesFields(parseFieldSelector(selector), get), expected);
    });
  }

  it('lists the field labels used and finds exact-match values', () => {
    const selector = parseFieldSelector('metadata.name=a,status.phase!=Failed,metadata.name!=b');
    assert.deepEqual(fieldSelectorFields(selector), ['metadata.name', 'status.phase']);
    assert.equal(fieldSelectorRequiresExactMatch(selector, 'metadata.name'), 'a');
    assert.equal(fieldSelectorRequiresExactMatch(selector, 'status.phase'), undefined);
  });

  it('rejects unsupported field labels as the registry does', () => {
    const selector = parseFieldSelector('metadata.name=a,spec.foo=b');
    badRequest(
      () => assertSupportedFieldLabels(selector, ['metadata.name', 'metadata.namespace']),
      'field label not supported: spec.foo',
    );
    assert.doesNotThrow(() => assertSupportedFieldLabels(selector, new Set(['metadata.name', 'spec.foo'])));
  });

  it('escapes and unescapes values symmetrically', () => {
    for (const value of ['plain', 'a,b', 'x=y', 'back\\slash', '\\,=', '']) {
      assert.equal(unescapeFieldValue(escapeFieldValue(value)), value);
    }
  });
});
