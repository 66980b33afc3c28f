/**
 * Label selectors, as k8s.io/apimachinery/pkg/labels parses, prints and matches them, plus the
 * label key/value syntax checks of k8s.io/apimachinery/pkg/util/validation.
 */
import { errors, fieldErrors, type StatusCause } from './errors.js';
import { isQualifiedName, isValidLabelValue, validateLabelsField } from './validation.js';

/** selection.Operator values. `=`/`==` are kept apart because the selector prints them back as written. */
export type LabelSelectorOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelSelectorOperator;
  /** Sorted and de-duplicated for parsed selectors, as labels.Parse leaves them. */
  values: string[];
}

export interface LabelSelector {
  /** Sorted by key. An empty list selects everything. */
  requirements: LabelRequirement[];
  /** labels.Nothing(): what a nil metav1.LabelSelector converts to. Matches no object. */
  nothing?: boolean;
}

/** metav1.LabelSelector, as found in object specs. */
export interface LabelSelectorObject {
  matchLabels?: Record<string, string> | null;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] | null }> | null;
}

// --- validation (k8s.io/apimachinery/pkg/util/validation) --------------------------------------

/**
 * validation.IsQualifiedName: the problems with a label (or annotation) key, empty when valid.
 * `[prefix/]name`: name ≤ 63 characters, prefix a DNS subdomain ≤ 253.
 */
export const validateLabelKey: (key: string) => string[] = isQualifiedName;

/** validation.IsValidLabelValue: the problems with a label value, empty when valid. */
export const validateLabelValue: (value: string) => string[] = isValidLabelValue;

/** metav1validation.ValidateLabels: field errors for `metadata.labels` (pass the field path, e.g. `metadata.labels`). */
export function validateLabels(labels: Record<string, unknown> | null | undefined, path: string): StatusCause[] {
  return validateLabelsField(labels, path);
}

/** metav1validation.ValidateLabelSelector: field errors for a metav1.LabelSelector at `path` (e.g. `spec.selector`). */
export function validateLabelSelector(selector: LabelSelectorObject | null | undefined, path: string): StatusCause[] {
  const causes: StatusCause[] = [];
  if (!selector) return causes;
  causes.push(...validateLabels(selector.matchLabels ?? undefined, `${path}.matchLabels`));
  (selector.matchExpressions ?? []).forEach((expr, i) => {
    const at = `${path}.matchExpressions[${i}]`;
    const values = expr.values ?? [];
    switch (expr.operator) {
      case 'In':
      case 'NotIn':
        if (values.length === 0)
          causes.push(fieldErrors.required(`${at}.values`, "must be specified when `operator` is 'In' or 'NotIn'"));
        break;
      case 'Exists':
      case 'DoesNotExist':
        if (values.length > 0)
          causes.push(
            fieldErrors.forbidden(`${at}.values`, "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"),
          );
        break;
      default:
        causes.push(fieldErrors.invalid(`${at}.operator`, expr.operator, 'not a valid selector operator'));
    }
    for (const msg of validateLabelKey(String(expr.key ?? ''))) causes.push(fieldErrors.invalid(`${at}.key`, expr.key, msg));
    values.forEach((v, j) => {
      for (const msg of validateLabelValue(String(v))) causes.push(fieldErrors.invalid(`${at}.values[${j}]`, v, msg));
    });
  });
  return causes;
}

// --- requirements (labels.NewRequirement) ------------------------------------------------------

/** Wording of field.Error.Error() for an Invalid value; a nil path prints as `<nil>`, as in Go. */
function invalidMessage(path: string, value: unknown, detail: string): string {
  return `${path}: Invalid value: ${goValue(value)}: ${detail}`;
}

function goValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return `[]string{${value.map((v) => JSON.stringify(v)).join(', ')}}`;
  return String(value);
}

const int64Pattern = /^[+-]?\d+$/;
function parseInt64(s: string): bigint | undefined {
  if (!int64Pattern.test(s)) return undefined;
  const v = BigInt(s);
  return v >= -(2n ** 63n) && v < 2n ** 63n ? v : undefined;
}

/**
 * labels.NewRequirement's checks. `pathPrefix` is the field path of the requirement
 * (`undefined` = none, as when parsing a selector string). Returns the Go error text, if any.
 */
function requirementError(
  key: string,
  operator: LabelSelectorOperator,
  values: string[],
  pathPrefix?: string,
): string | undefined {
  const errs: string[] = [];
  const child = (name: string) => (pathPrefix ? `${pathPrefix}.${name}` : name);
  const keyErrs = validateLabelKey(key);
  if (keyErrs.length) errs.push(invalidMessage(child('key'), key, keyErrs.join('; ')));
  const valuePath = child('values');
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0)
        errs.push(invalidMessage(valuePath, values, "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1)
        errs.push(invalidMessage(valuePath, values, 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0)
        errs.push(invalidMessage(valuePath, values, 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1)
        errs.push(invalidMessage(valuePath, values, "for 'Gt', 'Lt' operators, exactly one value is required"));
      values.forEach((v, i) => {
        if (parseInt64(v) === undefined)
          errs.push(invalidMessage(`${valuePath}[${i}]`, v, "for 'Gt', 'Lt' operators, the value must be an integer"));
      });
      break;
  }
  values.forEach((v, i) => {
    const valueErrs = validateLabelValue(v);
    if (valueErrs.length) errs.push(invalidMessage(`${valuePath}[${i}][${key}]`, v, valueErrs.join('; ')));
  });
  if (errs.length === 0) return undefined;
  return errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`;
}

// --- string syntax (labels.Parse) --------------------------------------------------------------

const enum Tok {
  Error,
  End,
  ClosedPar,
  Comma,
  DoesNotExist,
  DoubleEquals,
  Equals,
  GreaterThan,
  Identifier,
  In,
  LessThan,
  NotEquals,
  NotIn,
  OpenPar,
}

const keywordTokens: Record<string, Tok> = {
  ')': Tok.ClosedPar,
  ',': Tok.Comma,
  '!': Tok.DoesNotExist,
  '==': Tok.DoubleEquals,
  '=': Tok.Equals,
  '>': Tok.GreaterThan,
  in: Tok.In,
  '<': Tok.LessThan,
  '!=': Tok.NotEquals,
  notin: Tok.NotIn,
  '(': Tok.OpenPar,
};

const isSpecial = (ch: string) => ch === '=' || ch === '!' || ch === '(' || ch === ')' || ch === ',' || ch === '>' || ch === '<';
const isSpace = (ch: string) => ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n';

function lex(s: string): Array<{ tok: Tok; lit: string }> {
  const items: Array<{ tok: Tok; lit: string }> = [];
  let pos = 0;
  for (;;) {
    // Go's lexer reads bytes and treats NUL as end of input.
    while (pos < s.length && isSpace(s[pos])) pos++;
    if (pos >= s.length || s[pos] === '\0') {
      items.push({ tok: Tok.End, lit: '' });
      return items;
    }
    if (isSpecial(s[pos])) {
      let buffer = '';
      let last: { tok: Tok; lit: string } | undefined;
      while (pos < s.length && isSpecial(s[pos])) {
        const candidate = buffer + s[pos];
        const tok = keywordTokens[candidate];
        if (tok !== undefined) {
          buffer = candidate;
          last = { tok, lit: candidate };
          pos++;
        } else if (last) break;
        else {
          buffer = candidate;
          pos++;
        }
      }
      items.push(last ?? { tok: Tok.Error, lit: `error expected: keyword found '${buffer}'` });
      continue;
    }
    const start = pos;
    while (pos < s.length && s[pos] !== '\0' && !isSpecial(s[pos]) && !isSpace(s[pos])) pos++;
    const word = s.slice(start, pos);
    const keyword = Object.prototype.hasOwnProperty.call(keywordTokens, word) ? keywordTokens[word] : undefined;
    items.push({ tok: keyword ?? Tok.Identifier, lit: word });
  }
}

const binaryOperators = 'in, notin, =, ==, !=, gt, lt';

class SelectorParser {
  private position = 0;
  private readonly items: Array<{ tok: Tok; lit: string }>;

  constructor(input: string) {
    this.items = lex(input);
  }

  /** In value context the keywords `in`/`notin` are plain identifiers. */
  private lookahead(values: boolean): { tok: Tok; lit: string } {
    const item = this.items[Math.min(this.position, this.items.length - 1)];
    if (values && (item.tok === Tok.In || item.tok === Tok.NotIn)) return { tok: Tok.Identifier, lit: item.lit };
    return item;
  }

  private consume(values: boolean): { tok: Tok; lit: string } {
    const item = this.lookahead(values);
    if (this.position < this.items.length - 1) this.position++;
    return item;
  }

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.lookahead(true);
      switch (tok) {
        case Tok.Identifier:
        case Tok.DoesNotExist: {
          let requirement: LabelRequirement;
          try {
            requirement = this.parseRequirement();
          } catch (err) {
            throw new Error(`unable to parse requirement: ${(err as Error).message}`);
          }
          requirements.push(requirement);
          const next = this.consume(true);
          if (next.tok === Tok.End) return requirements;
          if (next.tok === Tok.Comma) {
            const after = this.lookahead(true);
            if (after.tok !== Tok.Identifier && after.tok !== Tok.DoesNotExist)
              throw new Error(`found '${after.lit}', expected: identifier after ','`);
            break;
          }
          throw new Error(`found '${next.lit}', expected: ',' or 'end of string'`);
        }
        case Tok.End:
          return requirements;
        default:
          throw new Error(`found '${lit}', expected: !, identifier, or 'end of string'`);
      }
    }
  }

  private parseRequirement(): LabelRequirement {
    let operator: LabelSelectorOperator | undefined;
    let { tok, lit } = this.consume(true);
    if (tok === Tok.DoesNotExist) {
      operator = '!';
      ({ tok, lit } = this.consume(true));
    }
    if (tok !== Tok.Identifier) throw new Error(`found '${lit}', expected: identifier`);
    const key = lit;
    const keyErrs = validateLabelKey(key);
    if (keyErrs.length) throw new Error(invalidMessage('<nil>', key, keyErrs.join('; ')));
    const next = this.lookahead(true).tok;
    if ((next === Tok.End || next === Tok.Comma) && operator !== '!') operator = 'exists';
    if (operator === 'exists' || operator === '!') return this.requirement(key, operator, []);

    operator = this.parseOperator();
    let values: string[];
    if (operator === 'in' || operator === 'notin') values = this.parseValues();
    else values = this.parseExactValue();
    return this.requirement(key, operator, values);
  }

  private requirement(key: string, operator: LabelSelectorOperator, values: string[]): LabelRequirement {
    const sorted = [...new Set(values)].sort(compareStrings);
    const err = requirementError(key, operator, sorted);
    if (err) throw new Error(err);
    return { key, operator, values: sorted };
  }

  private parseOperator(): LabelSelectorOperator {
    const { tok, lit } = this.consume(false);
    switch (tok) {
      case Tok.In:
        return 'in';
      case Tok.Equals:
        return '=';
      case Tok.DoubleEquals:
        return '==';
      case Tok.GreaterThan:
        return 'gt';
      case Tok.LessThan:
        return 'lt';
      case Tok.NotIn:
        return 'notin';
      case Tok.NotEquals:
        return '!=';
      default:
        throw new Error(`found '${lit}', expected: ${binaryOperators}`);
    }
  }

  private parseValues(): string[] {
    let { tok, lit } = this.consume(true);
    if (tok !== Tok.OpenPar) throw new Error(`found '${lit}' expected: '('`);
    ({ tok, lit } = this.lookahead(true));
    switch (tok) {
      case Tok.Identifier:
      case Tok.Comma: {
        const values = this.parseIdentifiersList();
        if (this.consume(true).tok !== Tok.ClosedPar) throw new Error(`found '${lit}', expected: ')'`);
        return values;
      }
      case Tok.ClosedPar:
        this.consume(true);
        return [''];
      default:
        throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    }
  }

  private parseIdentifiersList(): string[] {
    const values = new Set<string>();
    for (;;) {
      const { tok, lit } = this.consume(true);
      switch (tok) {
        case Tok.Identifier: {
          values.add(lit);
          const next = this.lookahead(true);
          if (next.tok === Tok.Comma) continue;
          if (next.tok === Tok.ClosedPar) return [...values];
          throw new Error(`found '${next.lit}', expected: ',' or ')'`);
        }
        case Tok.Comma: {
          // "(," ",," and ",)" each stand for an empty value.
          if (values.size === 0) values.add('');
          const next = this.lookahead(true).tok;
          if (next === Tok.ClosedPar) {
            values.add('');
            return [...values];
          }
          if (next === Tok.Comma) {
            this.consume(true);
            values.add('');
          }
          break;
        }
        default:
          throw new Error(`found '${lit}', expected: ',', or identifier`);
      }
    }
  }

  private parseExactValue(): string[] {
    const next = this.lookahead(true).tok;
    if (next === Tok.End || next === Tok.Comma) return [''];
    const { tok, lit } = this.consume(true);
    if (tok === Tok.Identifier) return [lit];
    throw new Error(`found '${lit}', expected: identifier`);
  }
}

/** Go's sort order for strings (byte-wise for the ASCII that valid selectors contain). */
function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortRequirements(requirements: LabelRequirement[]): LabelRequirement[] {
  return requirements.sort((a, b) => compareStrings(a.key, b.key));
}

/**
 * labels.Parse: `a=b,c!=d,e in (x,y),f notin (z),g,!h,i>3`. Throws StatusError 400 with the
 * upstream wording (e.g. `unable to parse requirement: found '', expected: identifier`).
 */
export function parseLabelSelector(selector: string): LabelSelector {
  try {
    return { requirements: sortRequirements(new SelectorParser(String(selector)).parse()) };
  } catch (err) {
    throw errors.badRequest((err as Error).message);
  }
}

/**
 * metav1.LabelSelectorAsSelector: null/undefined selects nothing, `{}` selects everything.
 * Throws StatusError 400 for invalid keys, values or operators.
 */
export function labelSelectorFromObject(selector: LabelSelectorObject | null | undefined): LabelSelector {
  if (selector === null || selector === undefined) return { requirements: [], nothing: true };
  if (typeof selector !== 'object' || Array.isArray(selector))
    throw errors.badRequest('invalid label selector: expected an object');
  const requirements: LabelRequirement[] = [];
  const matchLabels = selector.matchLabels ?? {};
  const matchExpressions = selector.matchExpressions ?? [];
  if (typeof matchLabels !== 'object' || Array.isArray(matchLabels) || !Array.isArray(matchExpressions)) {
    throw errors.badRequest('invalid label selector: matchLabels must be an object and matchExpressions a list');
  }
  for (const [key, value] of Object.entries(matchLabels)) {
    const values = [String(value)];
    const err = requirementError(key, '=', values, undefined);
    if (err) throw errors.badRequest(err);
    requirements.push({ key, operator: '=', values });
  }
  for (const expr of matchExpressions) {
    const operators: Record<string, LabelSelectorOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };
    const operator =
      expr && Object.prototype.hasOwnProperty.call(operators, expr.operator) ? operators[expr.operator] : undefined;
    if (!operator) throw errors.badRequest(`${JSON.stringify(expr?.operator ?? '')} is not a valid label selector operator`);
    const values = (expr.values ?? []).map(String);
    const key = String(expr.key ?? '');
    const err = requirementError(key, operator, values, undefined);
    if (err) throw errors.badRequest(err);
    requirements.push({ key, operator, values });
  }
  return { requirements: sortRequirements(requirements) };
}

/** Selector that matches everything. */
export function everythingLabelSelector(): LabelSelector {
  return { requirements: [] };
}

export function isEverythingLabelSelector(selector: LabelSelector): boolean {
  return !selector.nothing && selector.requirements.length === 0;
}

function requirementMatches(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const value = has ? labels[r.key] : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(value as string);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(value as string);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || r.values.length !== 1) return false;
      const actual = parseInt64(String(value));
      const bound = parseInt64(r.values[0]);
      if (actual === undefined || bound === undefined) return false;
      return r.operator === 'gt' ? actual > bound : actual < bound;
    }
  }
}

/** Selector.Matches. `labels` is an object's `metadata.labels` (absent = no labels). */
export function matchesLabels(selector: LabelSelector, labels: Record<string, string> | null | undefined): boolean {
  if (selector.nothing) return false;
  const set = labels ?? {};
  for (const r of selector.requirements) if (!requirementMatches(r, set)) return false;
  return true;
}

/** Selector.String(): the canonical text form (requirements sorted by key, values sorted). */
export function labelSelectorToString(selector: LabelSelector): string {
  if (selector.nothing) return '';
  return selector.requirements
    .map((r) => {
      const prefix = r.operator === '!' ? '!' : '';
      if (r.operator === 'exists' || r.operator === '!') return prefix + r.key;
      const op = { '=': '=', '==': '==', '!=': '!=', in: ' in ', notin: ' notin ', gt: '>', lt: '<' }[r.operator];
      const values = r.values.length === 1 ? r.values[0] : [...r.values].sort(compareStrings).join(',');
      return r.operator === 'in' || r.operator === 'notin' ? `${r.key}${op}(${values})` : `${r.key}${op}${values}`;
    })
    .join(',');
}
