import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  JsonNestingError,
  JsonSyntaxError,
  MAX_JSON_NESTING_DEPTH,
  cloneJson,
  cloneJsonWithoutNulls,
  jsonDeepEqual,
  jsonEncodedLength,
  parseJsonStrict,
  setJsonProperty,
} from '../src/index.js';

describe('parseJsonStrict', () => {
  it('decodes like JSON.parse and reports no duplicates for ordinary documents', () => {
    const text = JSON.stringify(
      { kind: 'Pod', metadata: { name: 'a', labels: { x: 'y' } }, spec: { containers: [{ name: 'c' }] } },
      null,
      2,
    );
    const { value, duplicateFields } = parseJsonStrict(text);
    assert.deepEqual(value, JSON.parse(text));
    assert.deepEqual(duplicateFields, []);
  });

  const duplicateCases: Array<[string, string, string[]]> = [
    ['top-level key', '{"kind":"Pod","kind":"Service"}', ['kind']],
    ['nested key', '{"metadata":{"name":"a","name":"b"}}', ['metadata.name']],
    [
      'keys inside list items',
      '{"spec":{"containers":[{"name":"a"},{"name":"b","image":"x","image":"y"}]}}',
      ['spec.containers[1].image'],
    ],
    [
      'several duplicates, in order',
      '{"spec":{"replicas":1,"paused":true,"replicas":2,"paused":false}}',
      ['spec.replicas', 'spec.paused'],
    ],
    ['a repeated duplicate is reported once', '{"a":1,"a":2,"a":3}', ['a']],
    ['escaped key equal to a plain key', '{"name":1,"na\\u006de":2}', ['name']],
    ['same key in sibling objects is fine', '{"a":{"x":1},"b":{"x":2}}', []],
    ['same key at different depths is fine', '{"x":{"x":{"x":1}}}', []],
    ['strings that look like keys are ignored', '{"a":"\\"a\\":1","b":["a:","{\\"a\\":2}"]}', []],
    ['whitespace between key and colon', '{ "a" : 1 ,\n "a"\t: 2 }', ['a']],
    ['objects nested in arrays of arrays', '[[{"k":1}],[{"k":1,"k":2}]]', ['[1][0].k']],
    ['many keys (set lookup)', `{${Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',')},"k39":0}`, ['k39']],
    ['__proto__ keys are ordinary keys', '{"__proto__":1,"__proto__":2}', ['__proto__']],
  ];
  for (const [name, text, expected] of duplicateCases) {
    it(`duplicate detection: ${name}`, () => {
      const { value, duplicateFields } = parseJsonStrict(text);
      assert.deepEqual(duplicateFields, expected);
      assert.deepEqual(value, JSON.parse(text), 'the last occurrence wins, as in JSON.parse and Go');
    });
  }

  it('keeps a __proto__ key as data, not as the prototype', () => {
    const { value } = parseJsonStrict('{"__proto__":{"polluted":true}}');
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
    assert.deepEqual(Object.keys(value as object), ['__proto__']);
  });

  const syntaxCases: Array<[string, string]> = [
    ['', 'unexpected end of JSON input'],
    ['{', 'unexpected end of JSON input'],
    ['{"a" 1}', "invalid character '1' after object key"],
    ['{"a":1 "b":2}', `invalid character '"' after object key:value pair`],
    ['[1 2]', "invalid character '2' after array element"],
    ['[1,]', "invalid character ']' looking for beginning of value"],
    ['{x}', "invalid character 'x' looking for beginning of object key string"],
    ['{"a":1,}', "invalid character '}' looking for beginning of object key string"],
    ['tru', 'unexpected end of JSON input'],
    ['trUe', "invalid character 'U' in literal true (expecting 'u')"],
    ['"\\x"', "invalid character 'x' in string escape code"],
    ['"\\u12G4"', "invalid character 'G' in \\u hexadecimal character escape"],
    ['"a\nb"', "invalid character '\\n' in string literal"],
    ['01', "invalid character '1' after top-level value"],
    ['{"a":1}}', "invalid character '}' after top-level value"],
    ['-x', "invalid character 'x' in numeric literal"],
    ['1.x', "invalid character 'x' after decimal point in numeric literal"],
    ['1ex', "invalid character 'x' in exponent of numeric literal"],
    ["'a'", "invalid character '\\'' looking for beginning of value"],
    ['\u0001', "invalid character '\\x01' looking for beginning of value"],
  ];
  for (const [text, message] of syntaxCases) {
    it(`syntax error for ${JSON.stringify(text)}`, () => {
      assert.throws(
        () => parseJsonStrict(text),
        (err: unknown) => err instanceof JsonSyntaxError && err.message === message,
      );
    });
  }

  it('reports the offset of the offending character', () => {
    assert.throws(
      () => parseJsonStrict('{"a": [1, 2 3]}'),
      (err: unknown) => err instanceof JsonSyntaxError && err.offset === 12,
    );
  });

  it('accepts nesting up to the Go limit and rejects one level more', () => {
    const nested = (n: number) => '['.repeat(n) + ']'.repeat(n);
    assert.doesNotThrow(() => parseJsonStrict(nested(MAX_JSON_NESTING_DEPTH)));
    assert.throws(
      () => parseJsonStrict(nested(MAX_JSON_NESTING_DEPTH + 1)),
      (err: unknown) => err instanceof JsonSyntaxError && err.message === "invalid character '[' exceeded max depth",
    );
    const objects = '{"a":'.repeat(MAX_JSON_NESTING_DEPTH + 1) + '1' + '}'.repeat(MAX_JSON_NESTING_DEPTH + 1);
    assert.throws(() => parseJsonStrict(objects), JsonSyntaxError);
    const unbalanced = '['.repeat(200000);
    assert.throws(() => parseJsonStrict(unbalanced), JsonSyntaxError);
  });

  it('finds duplicates in large documents', () => {
    const data = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`key${i}`, 'v'.repeat(10)]));
    const text = JSON.stringify({ data }).replace('"key10":', '"key2999":"x","key10":');
    assert.ok(text.length > 2 * MAX_JSON_NESTING_DEPTH);
    assert.deepEqual(parseJsonStrict(text).duplicateFields, ['data.key2999']);
  });

  it('only ever throws JsonSyntaxError on garbage', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = '{}[],:"\\ 0123456789.eE+-truefalsnl\n\tabc\u00e9\u0000';
    const valid = JSON.stringify({ a: [1, { b: 'x"y' }], c: null, d: -1.5e3 });
    for (let n = 0; n < 3000; n++) {
      let text: string;
      if (n % 2 === 0) {
        const len = Math.floor(random() * 40);
        text = Array.from({ length: len }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
      } else {
        // Mutations of a valid document.
        const chars = valid.split('');
        const at = Math.floor(random() * chars.length);
        chars[at] = alphabet[Math.floor(random() * alphabet.length)];
        text = chars.join('');
      }
      try {
        const { value } = parseJsonStrict(text);
        assert.deepEqual(value, JSON.parse(text));
      } catch (err) {
        assert.ok(err instanceof JsonSyntaxError, `unexpected ${String(err)} for ${JSON.stringify(text)}`);
        assert.throws(() => JSON.parse(text), 'a syntax error must mean JSON.parse rejects it too');
      }
    }
  });

  it('stays within ~2x of JSON.parse for a typical 10 KB object', () => {
    const containers = Array.from({ length: 6 }, (_, i) => ({
      name: `c${i}`,
      image: `registry.example.com/team/app-${i}:v1.2.${i}`,
      args: ['--port=8080', '--config=/etc/app/config.yaml'],
      env: Array.from({ length: 8 }, (_, j) => ({ name: `ENV_${j}`, value: `value-${j} "quoted" \\ backslash` })),
      resources: { limits: { cpu: '500m', memory: '256Mi' } },
    }));
    const text = JSON.stringify(
      { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: { template: { spec: { containers } } } },
      null,
      2,
    );
    const time = (fn: () => unknown) => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < 2000; i++) fn();
      return Number(process.hrtime.bigint() - start);
    };
    time(() => parseJsonStrict(text)); // warm up
    time(() => JSON.parse(text));
    const ratio = Math.min(...[0, 1, 2].map(() => time(() => parseJsonStrict(text)) / time(() => JSON.parse(text))));
    // Measured around 1.5-1.7; the bound leaves room for noisy machines.
    assert.ok(ratio < 3, `parseJsonStrict took ${ratio.toFixed(2)}x JSON.parse`);
  });
});

describe('value helpers', () => {
  it('cloneJson copies deeply and keeps key order', () => {
    const src = { b: 1, a: [{ x: [1, 2] }, null, 'y'], c: { d: true } };
    const copy = cloneJson(src);
    assert.deepEqual(copy, src);
    assert.deepEqual(Object.keys(copy), ['b', 'a', 'c']);
    (copy.a[0] as { x: number[] }).x.push(3);
    assert.deepEqual(src.a[0], { x: [1, 2] });
  });

  it('cloneJson handles nesting deeper than the call stack and rejects cycles', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 9000; i++) deep = [deep];
    assert.ok(jsonDeepEqual(cloneJson(deep), deep));
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => cloneJson(cyclic), JsonNestingError);
  });

  it('cloneJsonWithoutNulls drops null members at every depth but keeps null list items', () => {
    assert.deepEqual(cloneJsonWithoutNulls({ a: null, b: { c: null, d: 1 }, e: [null, { f: null, g: 2 }] }), {
      b: { d: 1 },
      e: [null, { g: 2 }],
    });
  });

  it('setJsonProperty creates __proto__ as an own property', () => {
    const target: Record<string, unknown> = {};
    setJsonProperty(target, '__proto__', { evil: true });
    assert.equal(Object.getPrototypeOf(target), Object.prototype);
    assert.deepEqual(Object.keys(target), ['__proto__']);
    assert.equal(({} as Record<string, unknown>).evil, undefined);
  });

  const equalityCases: Array<[unknown, unknown, boolean]> = [
    [{ a: 1, b: [1, { c: 2 }] }, { b: [1, { c: 2 }], a: 1 }, true],
    [{ a: 1 }, { a: 1, b: 2 }, false],
    [[1, 2], [2, 1], false],
    [{ a: null }, {}, false],
    [1, '1', false],
    [[], {}, false],
  ];
  for (const [a, b, expected] of equalityCases) {
    it(`jsonDeepEqual(${JSON.stringify(a)}, ${JSON.stringify(b)}) = ${expected}`, () => {
      assert.equal(jsonDeepEqual(a, b), expected);
      assert.equal(jsonDeepEqual(b, a), expected);
    });
  }

  it('jsonEncodedLength matches JSON.stringify', () => {
    for (const v of [null, 'a"b', 12.5, [1, 'x', { y: [true, null] }], { 'k"ey': { z: 'é' } }, [], {}]) {
      assert.equal(jsonEncodedLength(v), JSON.stringify(v).length);
    }
  });
});
