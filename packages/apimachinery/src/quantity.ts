/**
 * resource.Quantity (k8s.io/apimachinery/pkg/api/resource): fixed-point amounts such as `500m`,
 * `1.5Gi` or `2e3`. Parsing rounds up to nano units, as upstream does, so a BigInt count of
 * nano-units represents every parsed value exactly; the format (decimal SI, binary SI, decimal
 * exponent) and, for inputs already in canonical form, the original text are kept for printing.
 */

export type QuantityFormat = 'DecimalSI' | 'BinarySI' | 'DecimalExponent';

export const QUANTITY_FORMAT_ERROR =
  "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";
const NUMERIC_ERROR = 'unable to parse numeric part of quantity';
const SUFFIX_ERROR = "unable to parse quantity's suffix";

/** A malformed quantity; the message is upstream's (ErrFormatWrong, ErrNumeric or ErrSuffix). */
export class QuantityParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'QuantityParseError';
  }
}

const NANOS_PER_UNIT = 1_000_000_000n;
/** Binary quantities are capped at the largest int64 (upstream's maxAllowed). */
const MAX_BINARY_NANOS = (2n ** 63n - 1n) * NANOS_PER_UNIT;
/** Upstream accepts exponents up to MaxInt32; values that large would take gigabytes to print, so stop here. */
const MAX_DECIMAL_DIGITS = 4096;

const decimalSuffixes: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const binarySuffixes: Record<string, number> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const decimalSuffixByExponent = new Map(Object.entries(decimalSuffixes).map(([s, e]) => [e, s]));
const binarySuffixByPower = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

export class Quantity {
  /** The amount in units of 10^-9. */
  readonly nanos: bigint;
  readonly format: QuantityFormat;
  /** The parsed text when upstream would keep it verbatim (it was already canonical). */
  private readonly text: string | undefined;

  constructor(nanos: bigint, format: QuantityFormat, text?: string) {
    this.nanos = nanos;
    this.format = format;
    this.text = text;
  }

  /** The serialized form: the canonical text, as Quantity.String() / MarshalJSON. */
  toString(): string {
    return this.text ?? canonicalText(this.nanos, this.format);
  }

  toJSON(): string {
    return this.toString();
  }

  isZero(): boolean {
    return this.nanos === 0n;
  }

  sign(): -1 | 0 | 1 {
    return this.nanos < 0n ? -1 : this.nanos > 0n ? 1 : 0;
  }

  cmp(other: Quantity): -1 | 0 | 1 {
    return this.nanos < other.nanos ? -1 : this.nanos > other.nanos ? 1 : 0;
  }

  equals(other: Quantity): boolean {
    return this.nanos === other.nanos;
  }

  /** Sum. Keeps this quantity's format unless it is zero (then the other's), like Quantity.Add. */
  add(other: Quantity): Quantity {
    return new Quantity(this.nanos + other.nanos, this.isZero() ? other.format : this.format);
  }

  sub(other: Quantity): Quantity {
    return new Quantity(this.nanos - other.nanos, this.isZero() ? other.format : this.format);
  }

  neg(): Quantity {
    return new Quantity(-this.nanos, this.format);
  }

  /** Value in whole units, rounded away from zero (Quantity.Value). */
  value(): number {
    return Number(divideAwayFromZero(this.nanos, NANOS_PER_UNIT));
  }

  /** Value in thousandths, rounded away from zero (Quantity.MilliValue). */
  milliValue(): number {
    return Number(divideAwayFromZero(this.nanos, 1_000_000n));
  }

  /** Exact value in whole units, rounded away from zero. */
  bigValue(): bigint {
    return divideAwayFromZero(this.nanos, NANOS_PER_UNIT);
  }

  asApproximateNumber(): number {
    return Number(this.nanos) / 1e9;
  }
}

function divideAwayFromZero(n: bigint, d: bigint): bigint {
  const q = n / d;
  if (q * d === n) return q;
  return n < 0n ? q - 1n : q + 1n;
}

/** Integer division of a non-negative value, rounding up. */
function ceilDiv(n: bigint, d: bigint): bigint {
  return (n + d - 1n) / d;
}

/** parseQuantityString, byte for byte: sign, numerator (leading zeros dropped), fraction, suffix. */
function splitQuantity(str: string): { positive: boolean; num: string; denom: string; suffix: string } {
  let positive = true;
  let pos = 0;
  const end = str.length;
  if (pos < end && (str[0] === '-' || str[0] === '+')) {
    positive = str[0] === '+';
    pos++;
  }
  while (pos < end && str[pos] === '0') pos++;
  if (pos >= end) return { positive, num: '0', denom: '', suffix: '' };
  let i = pos;
  while (i < end && str[i] >= '0' && str[i] <= '9') i++;
  let num = str.slice(pos, i);
  pos = i;
  if (pos >= end) return { positive, num, denom: '', suffix: '' };
  if (num === '') num = '0';
  let denom = '';
  if (str[pos] === '.') {
    pos++;
    i = pos;
    while (i < end && str[i] >= '0' && str[i] <= '9') i++;
    denom = str.slice(pos, i);
    pos = i;
    if (pos >= end) return { positive, num, denom, suffix: '' };
  }
  const suffixStart = pos;
  while (pos < end && 'eEinumkKMGTP'.includes(str[pos])) pos++;
  if (pos >= end) return { positive, num, denom, suffix: str.slice(suffixStart) };
  if (str[pos] === '-' || str[pos] === '+') pos++;
  while (pos < end && str[pos] >= '0' && str[pos] <= '9') pos++;
  if (pos < end) throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
  return { positive, num, denom, suffix: str.slice(suffixStart) };
}

function interpretSuffix(suffix: string): { base: 10 | 2; exponent: number; format: QuantityFormat } {
  if (Object.prototype.hasOwnProperty.call(decimalSuffixes, suffix))
    return { base: 10, exponent: decimalSuffixes[suffix], format: 'DecimalSI' };
  if (Object.prototype.hasOwnProperty.call(binarySuffixes, suffix))
    return { base: 2, exponent: binarySuffixes[suffix], format: 'BinarySI' };
  if (suffix.length > 1 && (suffix[0] === 'e' || suffix[0] === 'E') && /^[+-]?\d+$/.test(suffix.slice(1))) {
    const exponent = Number(suffix.slice(1));
    // Exponents past int32 are rejected rather than truncated to an unrelated value.
    if (Math.abs(exponent) <= 2147483647) return { base: 10, exponent, format: 'DecimalExponent' };
  }
  throw new QuantityParseError(SUFFIX_ERROR);
}

const INT64_MAX = 2n ** 63n - 1n;

/**
 * resource.ParseQuantity. Numbers are taken in their JavaScript text form (`1e+21`), as an
 * unquoted JSON number is by Quantity.UnmarshalJSON. Throws {@link QuantityParseError}.
 */
export function parseQuantity(input: string | number): Quantity {
  let str: string;
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
    str = String(input);
  } else if (typeof input === 'string') str = input;
  else throw new QuantityParseError(QUANTITY_FORMAT_ERROR);

  if (str.length === 0) throw new QuantityParseError(QUANTITY_FORMAT_ERROR);
  if (str === '0') return new Quantity(0n, 'DecimalSI', '0');

  const { positive, num, denom, suffix } = splitQuantity(str);
  const interpreted = interpretSuffix(suffix);
  const { base, exponent } = interpreted;
  let format = interpreted.format;
  const digits = BigInt(num + denom);

  let nanos: bigint;
  if (digits === 0n) nanos = 0n;
  else if (base === 10) {
    const shift = exponent - denom.length + 9;
    if (shift >= 0) {
      if (num.length + shift > MAX_DECIMAL_DIGITS) throw new QuantityParseError(NUMERIC_ERROR);
      nanos = digits * 10n ** BigInt(shift);
    } else if (-shift > num.length + denom.length + 1) {
      nanos = 1n; // far below a nano-unit: rounds up to the smallest amount
    } else nanos = ceilDiv(digits, 10n ** BigInt(-shift));
  } else {
    nanos = ceilDiv(digits * 2n ** BigInt(exponent) * NANOS_PER_UNIT, 10n ** BigInt(denom.length));
    if (nanos > MAX_BINARY_NANOS) nanos = MAX_BINARY_NANOS;
    // Fractions of one unit print better in decimal.
    if (nanos > 0n && nanos < NANOS_PER_UNIT) format = 'DecimalSI';
  }
  if (!positive) nanos = -nanos;

  return new Quantity(nanos, format, keepsText(str, num, denom, base, exponent) ? str : undefined);
}

/**
 * Upstream's int64 fast path keeps the input string as the canonical form when it looks canonical
 * (so `+1`, `01` and `1.G` print back as written); everything else is re-rendered.
 */
function keepsText(str: string, num: string, denom: string, base: 10 | 2, exponent: number): boolean {
  const shifted = num + denom;
  if (base === 10) {
    if (18 - shifted.length < 0) return false;
    const scale = exponent - denom.length;
    if (scale < -9) return false;
    return scale % 3 === 0 && !shifted.endsWith('000') && shifted[0] !== '0';
  }
  if (denom.length !== 0) return false;
  const precision = 15 - num.length - Math.trunc((exponent * 3) / 10) - 1;
  if (precision < 0) return false;
  const value = BigInt(shifted);
  if (value * 2n ** BigInt(exponent) > INT64_MAX) return false;
  return (value & 7n) !== 0n;
}

/** Quantity.CanonicalizeBytes. */
function canonicalText(nanos: bigint, format: QuantityFormat): string {
  if (nanos === 0n) return '0';
  const sign = nanos < 0n ? '-' : '';
  const abs = nanos < 0n ? -nanos : nanos;
  let effective = format;
  if (format === 'BinarySI') {
    if (abs < 1024n * NANOS_PER_UNIT || abs % NANOS_PER_UNIT !== 0n) effective = 'DecimalSI';
    else {
      let units = abs / NANOS_PER_UNIT;
      let power = 0;
      while (units % 1024n === 0n) {
        units /= 1024n;
        power++;
      }
      // Past Ei there is no binary suffix: fall back to decimal rather than drop the magnitude.
      if (power < binarySuffixByPower.length) return `${sign}${units}${binarySuffixByPower[power]}`;
      effective = 'DecimalSI';
    }
  }
  let mantissa = abs;
  let exp = -9;
  while (mantissa % 10n === 0n) {
    mantissa /= 10n;
    exp++;
  }
  const down = ((exp % 3) + 3) % 3;
  mantissa *= 10n ** BigInt(down);
  exp -= down;
  let suffix: string | undefined;
  if (effective === 'DecimalSI') suffix = decimalSuffixByExponent.get(exp);
  if (suffix === undefined) suffix = exp === 0 ? '' : `e${exp}`;
  return `${sign}${mantissa}${suffix}`;
}

/** The canonical serialization of a quantity string, as a decode/encode round trip produces it. */
export function formatQuantity(quantity: Quantity | string | number): string {
  return (quantity instanceof Quantity ? quantity : parseQuantity(quantity)).toString();
}

export function compareQuantities(a: Quantity | string, b: Quantity | string): -1 | 0 | 1 {
  const qa = a instanceof Quantity ? a : parseQuantity(a);
  const qb = b instanceof Quantity ? b : parseQuantity(b);
  return qa.cmp(qb);
}

/** A quantity from an integer count of units (resource.NewQuantity) or thousandths (NewMilliQuantity). */
export function quantityFromValue(units: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(BigInt(units) * NANOS_PER_UNIT, format);
}

export function quantityFromMilliValue(millis: number | bigint, format: QuantityFormat = 'DecimalSI'): Quantity {
  return new Quantity(BigInt(millis) * 1_000_000n, format);
}
