/**
 * The Rego subset KubeSphere's `iam.kubesphere.io/rego-override` policies use, evaluated without
 * OPA. KubeSphere queries `data.authz.allow` with the request attributes as `input`
 * (`input.User.Name`, `input.Verb`, `input.Resource`, `input.ResourceScope`, …) and treats a
 * policy that does not compile as granting nothing; so does this module.
 *
 * Supported: `package`, `default <name> = <value>`, rules `<name> [= <value>] { body }` (several
 * rules of one name are alternatives), body expressions separated by newlines or `;`, `:=` and `=`
 * assignment/unification, `==` `!=` `<` `<=` `>` `>=`, `not`, arrays, objects, refs with `.field`,
 * `[index]` and `[_]` iteration, and the built-ins startswith, endswith, contains, trim_prefix,
 * trim_suffix, lower, upper, count and concat. Anything else is a syntax error.
 */

export class RegoSyntaxError extends Error {
  constructor(message: string, readonly position: number) {
    super(message);
    this.name = 'RegoSyntaxError';
  }
}

// --- AST ------------------------------------------------------------------------------------

export type RegoTerm =
  | { type: 'scalar'; value: string | number | boolean | null }
  | { type: 'array'; items: RegoTerm[] }
  | { type: 'object'; entries: Array<[RegoTerm, RegoTerm]> }
  | { type: 'ref'; head: string; path: RegoRefStep[] }
  | { type: 'call'; name: string; args: RegoTerm[] };

export type RegoRefStep = { type: 'field'; name: string } | { type: 'index'; term: RegoTerm } | { type: 'any' };

export interface RegoExpression {
  negated: boolean;
  /** `term` alone, or `left operator right`. */
  left: RegoTerm;
  operator?: ':=' | '=' | '==' | '!=' | '<' | '<=' | '>' | '>=';
  right?: RegoTerm;
}

export interface RegoRule {
  name: string;
  value: RegoTerm;
  body: RegoExpression[];
}

export interface RegoModule {
  package: string;
  defaults: Map<string, RegoTerm>;
  rules: RegoRule[];
}

// --- tokens ---------------------------------------------------------------------------------

type TokenType = 'ident' | 'string' | 'number' | 'punct' | 'newline' | 'eof';
interface Token {
  type: TokenType;
  text: string;
  value?: string | number;
  pos: number;
}

const PUNCTUATION = [':=', '==', '!=', '<=', '>=', '{', '}', '[', ']', '(', ')', ',', '.', ';', '=', '<', '>', ':'];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  // Newlines separate body expressions, except inside () and [] where they are layout only.
  let nesting = 0;
  let i = 0;
  while (i < source.length) {
    const c = source[i];
    if (c === '\n') {
      if (nesting === 0) tokens.push({ type: 'newline', text: '\n', pos: i });
      i++;
      continue;
    }
    if (c === ' ' || c === '\t' || c === '\r') {
      i++;
      continue;
    }
    if (c === '#') {
      while (i < source.length && source[i] !== '\n') i++;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      const start = i;
      while (i < source.length && /[A-Za-z0-9_]/.test(source[i])) i++;
      tokens.push({ type: 'ident', text: source.slice(start, i), pos: start });
      continue;
    }
    if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?/.exec(source.slice(i))!;
      tokens.push({ type: 'number', text: match[0], value: Number(match[0]), pos: i });
      i += match[0].length;
      continue;
    }
    if (c === '"') {
      const start = i;
      i++;
      while (i < source.length && source[i] !== '"') {
        if (source[i] === '\\') i++;
        if (source[i] === '\n') throw new RegoSyntaxError('unterminated string', start);
        i++;
      }
      if (i >= source.length) throw new RegoSyntaxError('unterminated string', start);
      i++;
      const text = source.slice(start, i);
      let value: string;
      try {
        value = JSON.parse(text) as string;
      } catch {
        throw new RegoSyntaxError(`invalid string ${text}`, start);
      }
      tokens.push({ type: 'string', text, value, pos: start });
      continue;
    }
    if (c === '`') {
      const end = source.indexOf('`', i + 1);
      if (end < 0) throw new RegoSyntaxError('unterminated raw string', i);
      tokens.push({ type: 'string', text: source.slice(i, end + 1), value: source.slice(i + 1, end), pos: i });
      i = end + 1;
      continue;
    }
    const punct = PUNCTUATION.find((p) => source.startsWith(p, i));
    if (!punct) throw new RegoSyntaxError(`unexpected character ${JSON.stringify(c)}`, i);
    if (punct === '(' || punct === '[') nesting++;
    if ((punct === ')' || punct === ']') && nesting > 0) nesting--;
    tokens.push({ type: 'punct', text: punct, pos: i });
    i += punct.length;
  }
  tokens.push({ type: 'eof', text: '', pos: source.length });
  return tokens;
}

// --- parser ---------------------------------------------------------------------------------

const KEYWORDS = new Set(['package', 'import', 'default', 'not', 'some', 'with', 'as', 'else', 'every', 'in', 'if', 'contains']);
const COMPARISON = new Set([':=', '=', '==', '!=', '<', '<=', '>', '>=']);

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i];
  }
  private next(): Token {
    return this.tokens[this.i++];
  }
  private is(text: string): boolean {
    const t = this.peek();
    return (t.type === 'punct' || t.type === 'ident') && t.text === text;
  }
  private expect(text: string): Token {
    const t = this.next();
    if (t.text !== text || (t.type !== 'punct' && t.type !== 'ident')) {
      throw new RegoSyntaxError(`expected ${JSON.stringify(text)}, found ${describe(t)}`, t.pos);
    }
    return t;
  }
  private skipNewlines(): void {
    while (this.peek().type === 'newline') this.i++;
  }

  parseModule(): RegoModule {
    this.skipNewlines();
    this.expect('package');
    const packageParts = [this.identifier()];
    while (this.is('.')) {
      this.next();
      packageParts.push(this.identifier());
    }
    const module: RegoModule = { package: packageParts.join('.'), defaults: new Map(), rules: [] };
    for (;;) {
      this.skipNewlines();
      const t = this.peek();
      if (t.type === 'eof') return module;
      if (this.is('default')) {
        this.next();
        const name = this.identifier();
        if (!this.is('=') && !this.is(':=')) throw new RegoSyntaxError(`expected "=" after default ${name}`, this.peek().pos);
        this.next();
        module.defaults.set(name, this.term());
        continue;
      }
      module.rules.push(this.rule());
    }
  }

  private identifier(): string {
    const t = this.next();
    if (t.type !== 'ident' || KEYWORDS.has(t.text)) throw new RegoSyntaxError(`expected a name, found ${describe(t)}`, t.pos);
    return t.text;
  }

  private rule(): RegoRule {
    const name = this.identifier();
    let value: RegoTerm = { type: 'scalar', value: true };
    if (this.is('=') || this.is(':=')) {
      this.next();
      value = this.term();
    }
    this.skipNewlines();
    this.expect('{');
    const body: RegoExpression[] = [];
    for (;;) {
      while (this.peek().type === 'newline' || this.is(';')) this.next();
      if (this.is('}')) {
        this.next();
        break;
      }
      if (this.peek().type === 'eof') throw new RegoSyntaxError(`rule ${name}: missing "}"`, this.peek().pos);
      body.push(this.expression());
      const t = this.peek();
      if (!(t.type === 'newline' || this.is(';') || this.is('}'))) {
        throw new RegoSyntaxError(`unexpected ${describe(t)} after expression`, t.pos);
      }
    }
    if (body.length === 0) throw new RegoSyntaxError(`rule ${name} has an empty body`, this.peek().pos);
    return { name, value, body };
  }

  private expression(): RegoExpression {
    let negated = false;
    if (this.is('not')) {
      this.next();
      negated = true;
    }
    const left = this.term();
    const t = this.peek();
    if (t.type === 'punct' && COMPARISON.has(t.text)) {
      this.next();
      const operator = t.text as RegoExpression['operator'];
      if (negated && (operator === ':=' || operator === '=')) throw new RegoSyntaxError('cannot negate an assignment', t.pos);
      if (operator === ':=' && !(left.type === 'ref' && left.path.length === 0)) {
        throw new RegoSyntaxError('can only assign to a variable', t.pos);
      }
      return { negated, left, operator, right: this.term() };
    }
    return { negated, left };
  }

  private term(): RegoTerm {
    const t = this.next();
    switch (t.type) {
      case 'string':
        return { type: 'scalar', value: t.value as string };
      case 'number':
        return { type: 'scalar', value: t.value as number };
      case 'ident': {
        if (t.text === 'true' || t.text === 'false') return { type: 'scalar', value: t.text === 'true' };
        if (t.text === 'null') return { type: 'scalar', value: null };
        if (KEYWORDS.has(t.text)) throw new RegoSyntaxError(`unsupported keyword ${t.text}`, t.pos);
        if (this.is('(')) {
          this.next();
          const args: RegoTerm[] = [];
          while (!this.is(')')) {
            args.push(this.term());
            if (!this.is(')')) this.expect(',');
          }
          this.next();
          if (!(t.text in BUILTINS)) throw new RegoSyntaxError(`unsupported function ${t.text}`, t.pos);
          if (BUILTINS[t.text].arity !== args.length) throw new RegoSyntaxError(`${t.text} takes ${BUILTINS[t.text].arity} arguments`, t.pos);
          return { type: 'call', name: t.text, args };
        }
        const path: RegoRefStep[] = [];
        for (;;) {
          if (this.is('.')) {
            this.next();
            const field = this.next();
            if (field.type !== 'ident') throw new RegoSyntaxError(`expected a field name, found ${describe(field)}`, field.pos);
            path.push({ type: 'field', name: field.text });
          } else if (this.is('[')) {
            this.next();
            if (this.peek().type === 'ident' && this.peek().text === '_') {
              this.next();
              path.push({ type: 'any' });
            } else {
              path.push({ type: 'index', term: this.term() });
            }
            this.expect(']');
          } else {
            break;
          }
        }
        return { type: 'ref', head: t.text, path };
      }
      case 'punct':
        if (t.text === '[') {
          const items: RegoTerm[] = [];
          while (!this.is(']')) {
            items.push(this.term());
            if (!this.is(']')) this.expect(',');
          }
          this.next();
          return { type: 'array', items };
        }
        if (t.text === '{') {
          const entries: Array<[RegoTerm, RegoTerm]> = [];
          this.skipNewlines();
          while (!this.is('}')) {
            const key = this.term();
            this.expect(':');
            entries.push([key, this.term()]);
            this.skipNewlines();
            if (!this.is('}')) this.expect(',');
            this.skipNewlines();
          }
          this.next();
          return { type: 'object', entries };
        }
        break;
    }
    throw new RegoSyntaxError(`unexpected ${describe(t)}`, t.pos);
  }
}

function describe(t: Token): string {
  if (t.type === 'eof') return 'end of policy';
  if (t.type === 'newline') return 'end of line';
  return JSON.stringify(t.text);
}

export function parseRegoModule(source: string): RegoModule {
  return new Parser(tokenize(source)).parseModule();
}

// --- evaluation -----------------------------------------------------------------------------

type Value = unknown;
type Env = ReadonlyMap<string, Value>;

const BUILTINS: Record<string, { arity: number; fn: (...args: Value[]) => Value | undefined }> = {
  startswith: { arity: 2, fn: (s, p) => (typeof s === 'string' && typeof p === 'string' ? s.startsWith(p) : undefined) },
  endswith: { arity: 2, fn: (s, p) => (typeof s === 'string' && typeof p === 'string' ? s.endsWith(p) : undefined) },
  contains: { arity: 2, fn: (s, p) => (typeof s === 'string' && typeof p === 'string' ? s.includes(p) : undefined) },
  trim_prefix: {
    arity: 2,
    fn: (s, p) => (typeof s === 'string' && typeof p === 'string' ? (s.startsWith(p) ? s.slice(p.length) : s) : undefined),
  },
  trim_suffix: {
    arity: 2,
    fn: (s, p) =>
      typeof s === 'string' && typeof p === 'string' ? (p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s) : undefined,
  },
  lower: { arity: 1, fn: (s) => (typeof s === 'string' ? s.toLowerCase() : undefined) },
  upper: { arity: 1, fn: (s) => (typeof s === 'string' ? s.toUpperCase() : undefined) },
  count: {
    arity: 1,
    fn: (v) =>
      Array.isArray(v) ? v.length : typeof v === 'string' ? [...v].length : isObject(v) ? Object.keys(v).length : undefined,
  },
  concat: {
    arity: 2,
    fn: (sep, list) =>
      typeof sep === 'string' && Array.isArray(list) && list.every((x) => typeof x === 'string') ? list.join(sep) : undefined,
  },
};

function isObject(v: Value): v is Record<string, Value> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function equal(a: Value, b: Value): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

function compare(a: Value, b: Value): number | undefined {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return undefined;
}

/** Every value a term can take (refs with `[_]` iterate; undefined refs yield nothing). */
function* values(term: RegoTerm, env: Env, input: Value): Generator<Value> {
  switch (term.type) {
    case 'scalar':
      yield term.value;
      return;
    case 'array':
      yield* combinations(term.items, env, input);
      return;
    case 'object':
      for (const keys of combinations(term.entries.map(([k]) => k), env, input)) {
        for (const vals of combinations(term.entries.map(([, v]) => v), env, input)) {
          const out: Record<string, Value> = {};
          keys.forEach((k, i) => (out[String(k)] = vals[i]));
          yield out;
        }
      }
      return;
    case 'call': {
      const builtin = BUILTINS[term.name];
      for (const args of combinations(term.args, env, input)) {
        const result = builtin.fn(...args);
        if (result !== undefined) yield result;
      }
      return;
    }
    case 'ref': {
      let start: Value;
      if (term.head === 'input') start = input;
      else if (env.has(term.head)) start = env.get(term.head);
      else return; // unbound variable: undefined
      yield* walk(start, term.path, 0, env, input);
    }
  }
}

function* walk(current: Value, path: RegoRefStep[], at: number, env: Env, input: Value): Generator<Value> {
  if (current === undefined) return;
  if (at === path.length) {
    yield current;
    return;
  }
  const step = path[at];
  if (step.type === 'field') {
    if (isObject(current) && Object.hasOwn(current, step.name)) yield* walk(current[step.name], path, at + 1, env, input);
    return;
  }
  if (step.type === 'any') {
    const children = Array.isArray(current) ? current : isObject(current) ? Object.values(current) : [];
    for (const child of children) yield* walk(child, path, at + 1, env, input);
    return;
  }
  for (const key of values(step.term, env, input)) {
    if (Array.isArray(current) && typeof key === 'number' && Number.isInteger(key)) {
      if (key >= 0 && key < current.length) yield* walk(current[key], path, at + 1, env, input);
    } else if (isObject(current) && typeof key === 'string' && Object.hasOwn(current, key)) {
      yield* walk(current[key], path, at + 1, env, input);
    }
  }
}

function* combinations(terms: RegoTerm[], env: Env, input: Value): Generator<Value[]> {
  if (terms.length === 0) {
    yield [];
    return;
  }
  for (const head of values(terms[0], env, input)) {
    for (const rest of combinations(terms.slice(1), env, input)) yield [head, ...rest];
  }
}

/** The environments under which one expression holds. */
function* solutions(expr: RegoExpression, env: Env, input: Value): Generator<Env> {
  if (expr.negated) {
    const positive = { ...expr, negated: false };
    if (solutions(positive, env, input).next().done) yield env;
    return;
  }
  const { left, operator, right } = expr;
  if (!operator || !right) {
    for (const v of values(left, env, input)) {
      if (v !== false) {
        yield env;
        return;
      }
    }
    return;
  }
  const assignsVariable = left.type === 'ref' && left.path.length === 0 && left.head !== 'input' && !env.has(left.head);
  if (operator === ':=' || (operator === '=' && assignsVariable)) {
    if (!assignsVariable) return; // `:=` to a bound name is a compile error in OPA: grant nothing
    const name = (left as { head: string }).head;
    for (const v of values(right, env, input)) yield new Map([...env, [name, v]]);
    return;
  }
  for (const a of values(left, env, input)) {
    for (const b of values(right, env, input)) {
      let holds: boolean;
      if (operator === '=' || operator === '==') holds = equal(a, b);
      else if (operator === '!=') holds = !equal(a, b);
      else {
        const c = compare(a, b);
        holds =
          c !== undefined &&
          (operator === '<' ? c < 0 : operator === '<=' ? c <= 0 : operator === '>' ? c > 0 : c >= 0);
      }
      if (holds) {
        yield env;
        return;
      }
    }
  }
}

function bodyHolds(body: RegoExpression[], at: number, env: Env, input: Value): boolean {
  if (at === body.length) return true;
  for (const next of solutions(body[at], env, input)) {
    if (bodyHolds(body, at + 1, next, input)) return true;
  }
  return false;
}

/** A compiled policy: `allows(input)` answers KubeSphere's query `data.authz.allow`. */
export interface RegoPolicy {
  readonly module: RegoModule;
  allows(input: unknown): boolean;
}

export const REGO_PACKAGE = 'authz';
export const REGO_DECISION = 'allow';

export function compileRegoPolicy(source: string): RegoPolicy {
  const module = parseRegoModule(source);
  const rules = module.package === REGO_PACKAGE ? module.rules.filter((r) => r.name === REGO_DECISION) : [];
  return {
    module,
    allows(input: unknown): boolean {
      for (const rule of rules) {
        if (!bodyHolds(rule.body, 0, new Map(), input)) continue;
        for (const v of values(rule.value, new Map(), input)) if (v === true) return true;
      }
      return false;
    },
  };
}

// --- printing and merging -------------------------------------------------------------------

export function formatRegoTerm(term: RegoTerm): string {
  switch (term.type) {
    case 'scalar':
      return JSON.stringify(term.value);
    case 'array':
      return `[${term.items.map(formatRegoTerm).join(',')}]`;
    case 'object':
      return `{${term.entries.map(([k, v]) => `${formatRegoTerm(k)}: ${formatRegoTerm(v)}`).join(', ')}}`;
    case 'call':
      return `${term.name}(${term.args.map(formatRegoTerm).join(', ')})`;
    case 'ref':
      return (
        term.head +
        term.path
          .map((s) => (s.type === 'field' ? `.${s.name}` : s.type === 'any' ? '[_]' : `[${formatRegoTerm(s.term)}]`))
          .join('')
      );
  }
}

function formatExpression(e: RegoExpression): string {
  const text = e.operator && e.right ? `${formatRegoTerm(e.left)} ${e.operator} ${formatRegoTerm(e.right)}` : formatRegoTerm(e.left);
  return e.negated ? `not ${text}` : text;
}

function formatRule(rule: RegoRule): string {
  return [`${rule.name} = ${formatRegoTerm(rule.value)} {`, ...rule.body.map((e) => `  ${formatExpression(e)}`), '}'].join('\n');
}

/** Canonical text of a module: one statement per line, two-space bodies. */
export function formatRegoModule(module: RegoModule): string {
  const lines = [`package ${module.package}`];
  for (const [name, value] of module.defaults) lines.push(`default ${name} = ${formatRegoTerm(value)}`);
  for (const rule of module.rules) lines.push(formatRule(rule));
  return lines.join('\n');
}

/**
 * Unites the allow rules of several policies into one module (how a role aggregated from
 * templates carries their rego-override annotations). Duplicate rules appear once. Returns ''
 * when no policy has rules; policies that do not parse are dropped, as KubeSphere ignores them.
 */
export function mergeRegoPolicies(sources: Iterable<string>): string {
  let merged: RegoModule | undefined;
  const seen = new Set<string>();
  for (const source of sources) {
    if (!source) continue;
    let module: RegoModule;
    try {
      module = parseRegoModule(source);
    } catch {
      continue;
    }
    merged ??= { package: module.package, defaults: new Map(), rules: [] };
    if (module.package !== merged.package) continue;
    for (const [name, value] of module.defaults) if (!merged.defaults.has(name)) merged.defaults.set(name, value);
    for (const rule of module.rules) {
      const key = formatRule(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      merged.rules.push(rule);
    }
  }
  return merged && merged.rules.length > 0 ? formatRegoModule(merged) : '';
}
