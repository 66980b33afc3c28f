import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  StatusError,
  labelSelectorFromObject,
  labelSelectorToString,
  matchesLabels,
  parseLabelSelector,
  validateLabelKey,
  validateLabelSelector,
  validateLabelValue,
  validateLabels,
  type LabelSelector,
} from '../src/index.js';

// Upstream's RegexError really does put two spaces before each "or".
const NAME_REGEX_ERROR =
  "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
const VALUE_REGEX_ERROR =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

function badRequest(fn: () => unknown, message: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof StatusError, `expected StatusError, got ${String(err)}`);
    assert.equal(err.code, 400);
    assert.equal(err.reason, 'BadRequest');
    assert.equal(err.message, message);
    return true;
  });
}

describe('label key and value syntax', () => {
  const keyCases: Array<[string, string[]]> = [
    ['app', []],
    ['app.kubernetes.io/name', []],
    ['A_b-c.D', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), ['name part must be no more than 63 characters']],
    ['', ['name part must be non-empty', NAME_REGEX_ERROR]],
    ['-app', [NAME_REGEX_ERROR]],
    ['/app', ['prefix part must be non-empty']],
    [
      'Example.com/app',
      [
        "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
      ],
    ],
    [`${'a'.repeat(254)}/x`, ['prefix part must be no more than 253 characters']],
    [
      'a/b/c',
      [
        `a qualified name ${NAME_REGEX_ERROR.slice('name part '.length)} with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')`,
      ],
    ],
  ];
  for (const [key, expected] of keyCases) {
    it(`validateLabelKey(${JSON.stringify(key.length > 70 ? key.slice(0, 10) + '…' : key)})`, () => {
      assert.deepEqual(validateLabelKey(key), expected);
    });
  }

  const valueCases: Array<[string, string[]]> = [
    ['', []],
    ['v1.2_3-x', []],
    ['a'.repeat(63), []],
    ['a'.repeat(64), ['must be no more than 63 characters']],
    ['-x', [VALUE_REGEX_ERROR]],
    ['a b', [VALUE_REGEX_ERROR]],
    ['é', [VALUE_REGEX_ERROR]],
  ];
  for (const [value, expected] of valueCases) {
    it(`validateLabelValue(${JSON.stringify(value.slice(0, 10))})`, () => {
      assert.deepEqual(validateLabelValue(value), expected);
    });
  }

  it('validateLabels reports each bad key and value at the given path', () => {
    const causes = validateLabels({ ok: 'fine', 'bad key': 'x', good: 'bad value' }, 'metadata.labels');
    assert.deepEqual(
      causes.map((c) => [c.field, c.message?.slice(0, 30)]),
      [
        ['metadata.labels', 'Invalid value: "bad key": name'],
        ['metadata.labels', 'Invalid value: "bad value": a '],
      ],
    );
    assert.deepEqual(validateLabels(undefined, 'metadata.labels'), []);
  });

  it('validateLabelSelector checks operators, values and keys of metav1.LabelSelector', () => {
    const causes = validateLabelSelector(
      {
        matchLabels: { app: 'web' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: [] },
          { key: 'env', operator: 'Exists', values: ['x'] },
          { key: 'zone', operator: 'Near', values: ['a'] },
          { key: 'ok', operator: 'NotIn', values: ['bad value'] },
        ],
      },
      'spec.selector',
    );
    assert.deepEqual(
      causes.map((c) => [c.reason, c.field]),
      [
        ['FieldValueRequired', 'spec.selector.matchExpressions[0].values'],
        ['FieldValueForbidden', 'spec.selector.matchExpressions[1].values'],
        ['FieldValueInvalid', 'spec.selector.matchExpressions[2].operator'],
        ['FieldValueInvalid', 'spec.selector.matchExpressions[3].values[0]'],
      ],
    );
  });
});

describe('parseLabelSelector', () => {
  const cases: Array<[string, string, Array<[string, string, string[]]>]> = [
    // input, canonical string, requirements (key, operator, values)
    ['', '', []],
    ['a=b', 'a=b', [['a', '=', ['b']]]],
    ['a==b', 'a==b', [['a', '==', ['b']]]],
    ['a!=b', 'a!=b', [['a', '!=', ['b']]]],
    ['a', 'a', [['a', 'exists', []]]],
    ['!a', '!a', [['a', '!', []]]],
    ['a in (y,x)', 'a in (x,y)', [['a', 'in', ['x', 'y']]]],
    ['a notin (x)', 'a notin (x)', [['a', 'notin', ['x']]]],
    ['a in (x,x,y)', 'a in (x,y)', [['a', 'in', ['x', 'y']]]],
    ['a in ()', 'a in ()', [['a', 'in', ['']]]],
    ['a in (,x)', 'a in (,x)', [['a', 'in', ['', 'x']]]],
    ['a=', 'a=', [['a', '=', ['']]]],
    ['a>1', 'a>1', [['a', 'gt', ['1']]]],
    ['a<2', 'a<2', [['a', 'lt', ['2']]]],
    [
      ' z = 1 , y in ( a , b ) ,!x ',
      '!x,y in (a,b),z=1',
      [
        ['x', '!', []],
        ['y', 'in', ['a', 'b']],
        ['z', '=', ['1']],
      ],
    ],
    [
      'example.com/role=db,tier',
      'example.com/role=db,tier',
      [
        ['example.com/role', '=', ['db']],
        ['tier', 'exists', []],
      ],
    ],
    ['in=notin', 'in=notin', [['in', '=', ['notin']]]],
    ['a in (in,notin)', 'a in (in,notin)', [['a', 'in', ['in', 'notin']]]],
  ];
  for (const [input, canonical, requirements] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => {
      const selector = parseLabelSelector(input);
      assert.deepEqual(
        selector.requirements.map((r) => [r.key, r.operator, r.values]),
        requirements,
      );
      assert.equal(labelSelectorToString(selector), canonical);
      assert.deepEqual(parseLabelSelector(canonical), selector, 'the string form parses back to the same selector');
    });
  }

  const errorCases: Array<[string, string]> = [
    ['a b', "unable to parse requirement: found 'b', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=b c', "found 'c', expected: ',' or 'end of string'"],
    ['a<-2', `unable to parse requirement: values[0][a]: Invalid value: "-2": ${VALUE_REGEX_ERROR}`],
    ['a=b,', "found '', expected: identifier after ','"],
    [',a', "found ',', expected: !, identifier, or 'end of string'"],
    ['=a', "found '=', expected: !, identifier, or 'end of string'"],
    ['a in x', "unable to parse requirement: found 'x' expected: '('"],
    ['a in (x', "unable to parse requirement: found '', expected: ',' or ')'"],
    ['a in (x y)', "unable to parse requirement: found 'y', expected: ',' or ')'"],
    ['a (x)', "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"],
    ['a=(b)', "unable to parse requirement: found '(', expected: identifier"],
    ['!a=b', "found '=', expected: ',' or 'end of string'"],
    ['!', "unable to parse requirement: found '', expected: identifier"],
    ['-a=b', `unable to parse requirement: <nil>: Invalid value: "-a": ${NAME_REGEX_ERROR}`],
    ['a=-b', `unable to parse requirement: values[0][a]: Invalid value: "-b": ${VALUE_REGEX_ERROR}`],
    ['a>b', `unable to parse requirement: values[0]: Invalid value: "b": for 'Gt', 'Lt' operators, the value must be an integer`],
  ];
  for (const [input, message] of errorCases) {
    it(`rejects ${JSON.stringify(input)}`, () => badRequest(() => parseLabelSelector(input), message));
  }
});

describe('matchesLabels', () => {
  const labels = { app: 'web', tier: 'frontend', replicas: '3' };
  const cases: Array<[string, boolean]> = [
    ['', true],
    ['app=web', true],
    ['app==web', true],
    ['app=db', false],
    ['app!=db', true],
    ['missing!=x', true],
    ['app', true],
    ['missing', false],
    ['!missing', true],
    ['!app', false],
    ['tier in (backend,frontend)', true],
    ['tier in (backend)', false],
    ['missing in (x)', false],
    ['tier notin (backend)', true],
    ['tier notin (frontend)', false],
    ['missing notin (x)', true],
    ['replicas>2', true],
    ['replicas>3', false],
    ['replicas<4', true],
    ['app>1', false],
    ['missing<5', false],
    ['app=web,tier=frontend', true],
    ['app=web,tier=backend', false],
  ];
  for (const [selector, expected] of cases) {
    it(`${JSON.stringify(selector)} ${expected ? 'matches' : 'does not match'}`, () => {
      assert.equal(matchesLabels(parseLabelSelector(selector), labels), expected);
    });
  }

  it('treats absent labels as an empty set', () => {
    assert.equal(matchesLabels(parseLabelSelector('!app'), undefined), true);
    assert.equal(matchesLabels(parseLabelSelector('app'), null), false);
  });
});

describe('labelSelectorFromObject', () => {
  it('converts matchLabels and matchExpressions, sorted by key', () => {
    const selector = labelSelectorFromObject({
      matchLabels: { tier: 'db', app: 'web' },
      matchExpressions: [
        { key: 'env', operator: 'In', values: ['prod', 'dev'] },
        { key: 'zone', operator: 'NotIn', values: ['a'] },
        { key: 'gpu', operator: 'Exists' },
        { key: 'spot', operator: 'DoesNotExist', values: [] },
      ],
    });
    assert.equal(labelSelectorToString(selector), 'app=web,env in (dev,prod),gpu,!spot,tier=db,zone notin (a)');
    assert.equal(matchesLabels(selector, { app: 'web', tier: 'db', env: 'prod', gpu: '' }), true);
    assert.equal(matchesLabels(selector, { app: 'web', tier: 'db', env: 'prod', gpu: '', spot: 'y' }), false);
    assert.equal(matchesLabels(selector, { app: 'web', tier: 'db', env: 'qa', gpu: '' }), false);
  });

  it('selects everything for {} and nothing for null', () => {
    const everything = labelSelectorFromObject({});
    assert.equal(matchesLabels(everything, {}), true);
    const nothing: LabelSelector = labelSelectorFromObject(null);
    assert.equal(matchesLabels(nothing, {}), false);
    assert.equal(matchesLabels(nothing, { app: 'x' }), false);
  });

  it('rejects invalid selectors with upstream wording', () => {
    badRequest(
      () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Near', values: ['x'] }] }),
      '"Near" is not a valid label selector operator',
    );
    badRequest(
      () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }),
      `values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty`,
    );
    badRequest(
      () => labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }),
      `values: Invalid value: []string{"x"}: values set must be empty for exists and does not exist`,
    );
    badRequest(
      () => labelSelectorFromObject({ matchLabels: { 'bad key': 'x' } }),
      `key: Invalid value: "bad key": ${NAME_REGEX_ERROR}`,
    );
  });
});
