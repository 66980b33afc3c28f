/**
 * Field selectors, as k8s.io/apimachinery/pkg/fields parses, prints and matches them:
 * comma-separated `field=value`, `field==value` and `field!=value` terms, where values escape
 * `\`, `,` and `=` with a backslash.
 */
import { errors } from './errors.js';

export interface FieldRequirement {
  field: string;
  /** `==` parses to `=`: upstream keeps only "has" and "not has" terms. */
  operator: '=' | '!=';
  value: string;
}

export interface FieldSelector {
  /** Sorted as upstream sorts the terms. An empty list selects everything. */
  requirements: FieldRequirement[];
}

/** Backslash-escaped commas are data, not separators; the backslash is kept for unescaping later. */
function splitTerms(selector: string): string[] {
  if (selector.length === 0) return [];
  const terms: string[] = [];
  let start = 0;
  let inSlash = false;
  for (let i = 0; i < selector.length; i++) {
    const c = selector[i];
    if (inSlash) inSlash = false;
    else if (c === '\\') inSlash = true;
    else if (c === ',') {
      terms.push(selector.slice(start, i));
      start = i + 1;
    }
  }
  terms.push(selector.slice(start));
  return terms;
}

/** The first operator occurrence splits the term (`!=` before `==` before `=`); no escaping on the left. */
function splitTerm(term: string): { lhs: string; op: string; rhs: string } | undefined {
  for (let i = 0; i < term.length; i++) {
    for (const op of ['!=', '==', '=']) {
      if (term.startsWith(op, i)) return { lhs: term.slice(0, i), op, rhs: term.slice(i + op.length) };
    }
  }
  return undefined;
}

/** fields.UnescapeValue. Throws Error with the upstream message. */
export function unescapeFieldValue(s: string): string {
  if (!/[\\,=]/.test(s)) return s;
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else throw new Error(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    // Go formats the rune with %v, which prints its code point number.
    else if (c === ',' || c === '=') throw new Error(`invalid field selector: unescaped character in value: ${c.codePointAt(0)}`);
    else out += c;
  }
  if (inSlash) throw new Error('invalid field selector: invalid escape sequence: \\');
  return out;
}

/** fields.EscapeValue. */
export function escapeFieldValue(s: string): string {
  return s.replace(/[\\,=]/g, (c) => `\\${c}`);
}

/**
 * fields.ParseSelector. Throws StatusError 400 BadRequest with the upstream message
 * (`invalid selector: 'x'; can't understand 'x'`, escape errors).
 */
export function parseFieldSelector(selector: string): FieldSelector {
  const text = String(selector);
  const terms = splitTerms(text).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const requirements: FieldRequirement[] = [];
  for (const term of terms) {
    if (term === '') continue;
    const parts = splitTerm(term);
    if (!parts) throw errors.badRequest(`invalid selector: '${text}'; can't understand '${term}'`);
    let value: string;
    try {
      value = unescapeFieldValue(parts.rhs);
    } catch (err) {
      throw errors.badRequest((err as Error).message);
    }
    requirements.push({ field: parts.lhs, operator: parts.op === '!=' ? '!=' : '=', value });
  }
  return { requirements };
}

/** Selector.Matches over a field accessor; an absent field reads as the empty string, as in fields.Set. */
export function matchesFields(selector: FieldSelector, get: (field: string) => string | undefined): boolean {
  for (const r of selector.requirements) {
    const actual = get(r.field) ?? '';
    if (r.operator === '=' ? actual !== r.value : actual === r.value) return false;
  }
  return true;
}

/** The terms of a selector, sorted as upstream sorts them. */
export function fieldSelectorRequirements(selector: FieldSelector): FieldRequirement[] {
  return selector.requirements;
}

/** The field labels a selector uses, without repeats, in selector order. */
export function fieldSelectorFields(selector: FieldSelector): string[] {
  return [...new Set(selector.requirements.map((r) => r.field))];
}

/**
 * Rejects labels a resource does not support, as the registry's field label conversion does:
 * StatusError 400 `field label not supported: <label>`.
 */
export function assertSupportedFieldLabels(selector: FieldSelector, supported: Iterable<string>): void {
  const allowed = new Set(supported);
  for (const field of fieldSelectorFields(selector)) {
    if (!allowed.has(field)) throw errors.badRequest(`field label not supported: ${field}`);
  }
}

/** The value a selector requires for `field` with `=` (for index lookups such as `metadata.name`). */
export function fieldSelectorRequiresExactMatch(selector: FieldSelector, field: string): string | undefined {
  for (const r of selector.requirements) if (r.field === field && r.operator === '=') return r.value;
  return undefined;
}

/** Selector.String(). */
export function fieldSelectorToString(selector: FieldSelector): string {
  return selector.requirements.map((r) => `${r.field}${r.operator}${escapeFieldValue(r.value)}`).join(',');
}
