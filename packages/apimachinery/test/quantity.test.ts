import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  QUANTITY_FORMAT_ERROR,
  Quantity,
  QuantityParseError,
  compareQuantities,
  formatQuantity,
  parseQuantity,
  quantityFromMilliValue,
  quantityFromValue,
  type QuantityFormat,
} from '../src/index.js';

const NANO = 1_000_000_000n;
const KI = 1024n;

describe('parseQuantity values and formats', () => {
  // Cases from upstream's TestQuantityParse: input → exact value in nano-units and format.
  const cases: Array<[string, bigint, QuantityFormat]> = [
    ['0', 0n, 'DecimalSI'],
    ['0n', 0n, 'DecimalSI'],
    ['0Ki', 0n, 'BinarySI'],
    ['0M', 0n, 'DecimalSI'],
    ['1', NANO, 'DecimalSI'],
    ['1Ki', KI * NANO, 'BinarySI'],
    ['7Mi', 7n * KI ** 2n * NANO, 'BinarySI'],
    ['3Ei', 3n * KI ** 6n * NANO, 'BinarySI'],
    ['5n', 5n, 'DecimalSI'],
    ['4u', 4000n, 'DecimalSI'],
    ['3m', 3_000_000n, 'DecimalSI'],
    ['50k', 50_000n * NANO, 'DecimalSI'],
    ['1E', 10n ** 18n * NANO, 'DecimalSI'],
    ['1E-3', 1_000_000n, 'DecimalExponent'],
    ['1e3', 1000n * NANO, 'DecimalExponent'],
    ['1.3E+6', 1_300_000n * NANO, 'DecimalExponent'],
    ['100.035k', 100_035n * NANO, 'DecimalSI'],
    ['0.5', 500_000_000n, 'DecimalSI'],
    ['0.5e-2', 5_000_000n, 'DecimalExponent'],
    ['6.987654321G', 6_987_654_321n * NANO, 'DecimalSI'],
    // Rounded up to the nearest nano-unit.
    ['3.001n', 4n, 'DecimalSI'],
    ['1.1E-9', 2n, 'DecimalExponent'],
    ['0.0000000001', 1n, 'DecimalSI'],
    ['0.00000012345', 124n, 'DecimalSI'],
    ['1e-300', 1n, 'DecimalExponent'],
    // Binary values are capped at the largest int64.
    ['9Ei', (2n ** 63n - 1n) * NANO, 'BinarySI'],
    ['12E', 12n * 10n ** 18n * NANO, 'DecimalSI'],
    ['100.035Ki', 10_243_584n * 10_000_000n, 'BinarySI'],
    ['0.5Mi', 512n * KI * NANO, 'BinarySI'],
    // Fractions of a unit written in binary switch to decimal.
    ['0.000000000001Ki', 2n, 'DecimalSI'],
    ['.001', 1_000_000n, 'DecimalSI'],
    ['1.', NANO, 'DecimalSI'],
    ['1.G', NANO * NANO, 'DecimalSI'],
    ['-', 0n, 'DecimalSI'],
    ['.', 0n, 'DecimalSI'],
  ];
  for (const [input, nanos, format] of cases) {
    it(`${input} = ${nanos}n (${format})`, () => {
      const q = parseQuantity(input);
      assert.equal(q.nanos, nanos);
      assert.equal(q.format, format);
      if (nanos !== 0n) {
        const negative = parseQuantity(`-${input}`);
        assert.equal(negative.nanos, -nanos);
        assert.equal(parseQuantity(`+${input}`).nanos, nanos);
      }
    });
  }

  it('parses JSON numbers through their text form', () => {
    assert.equal(parseQuantity(1.5).toString(), '1500m');
    assert.equal(parseQuantity(2).toString(), '2');
    assert.equal(parseQuantity(1e21).nanos, 10n ** 21n * NANO);
    assert.throws(() => parseQuantity(Number.NaN), QuantityParseError);
  });

  const invalid: Array<[string, string]> = [
    ['', QUANTITY_FORMAT_ERROR],
    ['1.1.M', QUANTITY_FORMAT_ERROR],
    ['1+1.0M', QUANTITY_FORMAT_ERROR],
    ['0.1am', QUANTITY_FORMAT_ERROR],
    ['aoeu', QUANTITY_FORMAT_ERROR],
    [' 1', QUANTITY_FORMAT_ERROR],
    ['1 ', QUANTITY_FORMAT_ERROR],
    ['0.1mi', "unable to parse quantity's suffix"],
    ['.5i', "unable to parse quantity's suffix"],
    ['1i', "unable to parse quantity's suffix"],
    ['-3.01e-', "unable to parse quantity's suffix"],
    ['1e4294967297', "unable to parse quantity's suffix"],
    ['1Mi3', "unable to parse quantity's suffix"],
    ['1e100000', 'unable to parse numeric part of quantity'],
  ];
  for (const [input, message] of invalid) {
    it(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => parseQuantity(input),
        (err: unknown) => err instanceof QuantityParseError && err.message === message,
      );
    });
  }

  it('uses the exact upstream format message', () => {
    assert.equal(
      QUANTITY_FORMAT_ERROR,
      "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });
});

describe('canonical form', () => {
  // upstream TestQuantityParseEmit / TestQuantityString expectations.
  const cases: Array<[string, string]> = [
    ['1000m', '1'],
    ['1536Mi', '1536Mi'],
    ['1024Mi', '1Gi'],
    ['1Ki', '1Ki'],
    ['1000M', '1G'],
    ['.001Ki', '1024m'],
    ['.000001Ki', '1024u'],
    ['.000000001Ki', '1024n'],
    ['.000000000001Ki', '2n'],
    ['1.5', '1500m'],
    ['0.5Gi', '512Mi'],
    ['300Mi', '300Mi'],
    ['307200Ki', '300Mi'],
    ['5000m', '5'],
    ['0.5', '500m'],
    ['1080m', '1080m'],
    ['1.08', '1080m'],
    ['1080000000n', '1080m'],
    ['0.001T', '1G'],
    ['1000u', '1m'],
    ['.001e12', '1e9'],
    ['0.001e0', '1e-3'],
    ['1000e-12', '1e-9'],
    ['80e-3', '80e-3'],
    ['1.2e3', '1200'],
    ['1000E', '1e21'],
    ['5000E', '5e21'],
    ['100.035Ki', '102435840m'],
    ['9Ei', '9223372036854775807'],
    ['2048', '2048'],
    ['00', '0'],
    ['-0', '0'],
    // Upstream keeps the input verbatim when its fast path deems it canonical.
    ['+1', '+1'],
    ['01', '01'],
    ['1.G', '1.G'],
    ['1E3', '1E3'],
  ];
  for (const [input, canonical] of cases) {
    it(`${input} → ${canonical}`, () => {
      assert.equal(formatQuantity(input), canonical);
      assert.equal(parseQuantity(input).toString(), canonical);
      assert.equal(JSON.stringify({ q: parseQuantity(input) }), JSON.stringify({ q: canonical }));
      assert.equal(parseQuantity(canonical).cmp(parseQuantity(input)), 0, 'the canonical form has the same value');
    });
  }

  it('prints negatives with a leading minus', () => {
    assert.equal(parseQuantity('-1536Mi').toString(), '-1536Mi');
    assert.equal(parseQuantity('-.001Ki').toString(), '-1024m');
    assert.equal(parseQuantity('-1.5').toString(), '-1500m');
  });

  it('falls back to decimal when a binary value outgrows Ei', () => {
    const q = new Quantity(2n ** 70n * NANO, 'BinarySI');
    assert.equal(q.toString(), '1180591620717411303424');
    assert.equal(parseQuantity(q.toString()).nanos, q.nanos);
    assert.equal(new Quantity(10n ** 70n * NANO, 'BinarySI').toString(), '10e69');
  });
});

describe('arithmetic and accessors', () => {
  it('compares across formats', () => {
    assert.equal(compareQuantities('100m', '50m'), 1);
    assert.equal(compareQuantities('50m', '100m'), -1);
    assert.equal(compareQuantities('1Gi', '1073741824'), 0);
    assert.equal(compareQuantities('10000T', '100Gi'), 1);
    assert.ok(parseQuantity('1k').equals(parseQuantity('1000')));
  });

  it('adds and subtracts exactly, keeping the receiver format unless it is zero', () => {
    const sum = parseQuantity('100m').add(parseQuantity('1Gi'));
    assert.equal(sum.nanos, 100_000_000n + KI ** 3n * NANO);
    assert.equal(sum.format, 'DecimalSI');
    assert.equal(parseQuantity('0').add(parseQuantity('1Gi')).toString(), '1Gi');
    assert.equal(parseQuantity('1Gi').add(parseQuantity('0')).toString(), '1Gi');
    assert.equal(parseQuantity('1Gi').add(parseQuantity('512Mi')).toString(), '1536Mi');
    assert.equal(parseQuantity('1').sub(parseQuantity('250m')).toString(), '750m');
    assert.equal(parseQuantity('0').sub(parseQuantity('1Gi')).toString(), '-1Gi');
    assert.equal(parseQuantity('1Gi').neg().toString(), '-1Gi');
    // 0.1 + 0.2 is exact in fixed point.
    assert.equal(parseQuantity('0.1').add(parseQuantity('0.2')).toString(), '300m');
  });

  it('value() and milliValue() round away from zero', () => {
    const table: Array<[string, number, number]> = [
      ['1.5', 2, 1500],
      ['100m', 1, 100],
      ['1n', 1, 1],
      ['-1.5', -2, -1500],
      ['2Ki', 2048, 2048000],
      ['0', 0, 0],
    ];
    for (const [input, value, milli] of table) {
      const q = parseQuantity(input);
      assert.equal(q.value(), value, `${input}.value()`);
      assert.equal(q.milliValue(), milli, `${input}.milliValue()`);
    }
    assert.equal(parseQuantity('9Ei').bigValue(), 2n ** 63n - 1n);
  });

  it('builds quantities from unit and milli counts', () => {
    assert.equal(quantityFromValue(3).toString(), '3');
    assert.equal(quantityFromValue(2048, 'BinarySI').toString(), '2Ki');
    assert.equal(quantityFromMilliValue(1500).toString(), '1500m');
    assert.equal(quantityFromMilliValue(2000).toString(), '2');
  });
});
