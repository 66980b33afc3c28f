/**
 * A strict parser of the Prometheus text exposition format (0.0.4), as Prometheus's own parser
 * and `promtool check metrics` enforce it: metric and label name syntax, quoted label values with
 * only \\, \" and \n escapes, Go float values, integer millisecond timestamps, one HELP and one
 * TYPE per family before its samples, families contiguous, no duplicate series, and histogram
 * structure (le labels, cumulative buckets, +Inf equal to _count). Throws on the first problem,
 * naming the line.
 */

export interface ParsedSample {
  name: string;
  labels: Record<string, string>;
  value: number;
  timestamp?: number;
}

export interface ParsedFamily {
  name: string;
  type: string;
  help?: string;
  samples: ParsedSample[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

function parseGoFloat(text: string, where: string): number {
  if (text === 'NaN') return NaN;
  if (text === '+Inf' || text === 'Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) throw new Error(`${where}: bad value ${JSON.stringify(text)}`);
  return Number(text);
}

/** The family a sample name belongs to (histogram and summary suffixes). */
function familyOf(name: string, families: Map<string, ParsedFamily>): ParsedFamily | undefined {
  if (families.has(name)) return families.get(name);
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (name.endsWith(suffix)) {
      const base = families.get(name.slice(0, -suffix.length));
      if (base && (base.type === 'histogram' || (base.type === 'summary' && suffix !== '_bucket'))) return base;
    }
  }
  return undefined;
}

function parseLabels(text: string, where: string): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1; // after '{'
  while (true) {
    while (text[i] === ' ') i++;
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const nameMatch = /^[a-zA-Z_][a-zA-Z0-9_]*/.exec(text.slice(i));
    if (!nameMatch) throw new Error(`${where}: bad label name at ${JSON.stringify(text.slice(i, i + 20))}`);
    const name = nameMatch[0];
    if (!LABEL_NAME.test(name) || name.startsWith('__')) throw new Error(`${where}: invalid label name ${name}`);
    if (name in labels) throw new Error(`${where}: duplicate label ${name}`);
    i += name.length;
    if (text[i] !== '=' || text[i + 1] !== '"') throw new Error(`${where}: expected =" after ${name}`);
    i += 2;
    let value = '';
    while (true) {
      const ch = text[i];
      if (ch === undefined) throw new Error(`${where}: unterminated label value`);
      if (ch === '"') break;
      if (ch === '\n') throw new Error(`${where}: raw newline in label value`);
      if (ch === '\\') {
        const next = text[i + 1];
        if (next === '\\') value += '\\';
        else if (next === '"') value += '"';
        else if (next === 'n') value += '\n';
        else throw new Error(`${where}: invalid escape \\${next}`);
        i += 2;
        continue;
      }
      value += ch;
      i++;
    }
    labels[name] = value;
    i++;
    if (text[i] === ',') i++;
    else if (text[i] !== '}') throw new Error(`${where}: expected , or } after label ${name}`);
  }
}

export function parsePrometheusText(text: string): Map<string, ParsedFamily> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline');
  const families = new Map<string, ParsedFamily>();
  const finished = new Set<string>();
  const series = new Set<string>();
  let current: ParsedFamily | undefined;
  const lines = text.split('\n');
  lines.pop();
  lines.forEach((line, index) => {
    const where = `line ${index + 1}`;
    if (line === '') return;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // other comments are allowed
      const [, kind, name, rest = ''] = m;
      if (!METRIC_NAME.test(name)) throw new Error(`${where}: invalid metric name ${name}`);
      let family = families.get(name);
      if (family && finished.has(name)) throw new Error(`${where}: ${kind} for ${name} after its samples ended`);
      if (!family) {
        if (current) finished.add(current.name);
        family = { name, type: 'untyped', samples: [] };
        families.set(name, family);
        current = family;
      }
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
        if ((family as { typed?: boolean }).typed) throw new Error(`${where}: second TYPE for ${name}`);
        if (family.samples.length) throw new Error(`${where}: TYPE for ${name} after its samples`);
        family.type = rest;
        (family as { typed?: boolean }).typed = true;
      } else {
        if (family.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        family.help = rest;
      }
      return;
    }
    const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
    if (!nameMatch) throw new Error(`${where}: bad sample line ${JSON.stringify(line.slice(0, 60))}`);
    const name = nameMatch[0];
    let rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
    const parts = rest.trim().split(/ +/);
    if (!rest.startsWith(' ') || parts.length < 1 || parts.length > 2) throw new Error(`${where}: expected value [timestamp]`);
    const value = parseGoFloat(parts[0], where);
    let timestamp: number | undefined;
    if (parts.length === 2) {
      if (!/^-?\d+$/.test(parts[1])) throw new Error(`${where}: bad timestamp ${parts[1]}`);
      timestamp = Number(parts[1]);
    }
    let family = familyOf(name, families);
    if (!family) {
      if (current) finished.add(current.name);
      family = { name, type: 'untyped', samples: [] };
      families.set(name, family);
    }
    if (finished.has(family.name)) throw new Error(`${where}: samples of ${family.name} are not contiguous`);
    current = family;
    const key = `${name}{${Object.entries(labels).sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}}`;
    if (series.has(key)) throw new Error(`${where}: duplicate series ${key}`);
    series.add(key);
    if (family.type === 'counter' && value < 0) throw new Error(`${where}: negative counter ${name}`);
    family.samples.push({ name, labels, value, timestamp });
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function checkHistogram(family: ParsedFamily): void {
  const groups = new Map<string, ParsedSample[]>();
  for (const s of family.samples) {
    const { le: _le, ...rest } = s.labels;
    const key = JSON.stringify(Object.entries(rest).sort());
    groups.set(key, [...(groups.get(key) ?? []), s]);
  }
  for (const samples of groups.values()) {
    const buckets = samples.filter((s) => s.name === `${family.name}_bucket`);
    const count = samples.find((s) => s.name === `${family.name}_count`);
    const sum = samples.find((s) => s.name === `${family.name}_sum`);
    if (!count || !sum) throw new Error(`histogram ${family.name} lacks _sum or _count`);
    let previous = -Infinity;
    let previousCount = 0;
    for (const b of buckets) {
      if (b.labels.le === undefined) throw new Error(`histogram ${family.name} bucket without le`);
      const le = parseGoFloat(b.labels.le, family.name);
      if (le <= previous) throw new Error(`histogram ${family.name}: buckets out of order`);
      if (b.value < previousCount) throw new Error(`histogram ${family.name}: buckets not cumulative`);
      previous = le;
      previousCount = b.value;
    }
    if (previous !== Infinity) throw new Error(`histogram ${family.name} lacks the +Inf bucket`);
    if (previousCount !== count.value) throw new Error(`histogram ${family.name}: +Inf bucket differs from _count`);
  }
}

/** The one sample of `name` whose labels include `match`. */
export function sampleOf(families: Map<string, ParsedFamily>, name: string, match: Record<string, string>): ParsedSample {
  const family = familyOf(name, families);
  if (!family) throw new Error(`no family ${name}`);
  const found = family.samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  if (found.length !== 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(match)}`);
  return found[0];
}
