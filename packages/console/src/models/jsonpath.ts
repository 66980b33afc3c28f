/**
 * The subset of kubectl's JSONPath that CRD printer columns use: `.a.b`, `.a[0].b`, `.a[*].b`
 * and `.a[?(@.type=="Ready")].status`. Anything else reads as undefined rather than failing.
 */
type Step = { field: string } | { index: number } | { all: true } | { filter: { path: string[]; value: string } };

function parse(path: string): Step[] | undefined {
  const steps: Step[] = [];
  let rest = path.trim().replace(/^\{|\}$/g, '');
  if (rest.startsWith('$')) rest = rest.slice(1);
  while (rest.length) {
    let m: RegExpExecArray | null;
    if ((m = /^\.([A-Za-z0-9_\-/]+)/.exec(rest))) steps.push({ field: m[1] });
    else if ((m = /^\['([^']+)'\]/.exec(rest))) steps.push({ field: m[1] });
    else if ((m = /^\[(\d+)\]/.exec(rest))) steps.push({ index: Number(m[1]) });
    else if ((m = /^\[\*\]/.exec(rest))) steps.push({ all: true });
    else if ((m = /^\[\?\(@((?:\.[A-Za-z0-9_-]+)+)\s*==\s*["']([^"']*)["']\)\]/.exec(rest)))
      steps.push({ filter: { path: m[1].slice(1).split('.'), value: m[2] } });
    else return undefined;
    rest = rest.slice(m[0].length);
  }
  return steps;
}

function dig(value: unknown, path: string[]): unknown {
  let current = value;
  for (const p of path) current = current && typeof current === 'object' ? (current as Record<string, unknown>)[p] : undefined;
  return current;
}

export function evaluate(object: unknown, path: string): unknown[] {
  const steps = parse(path);
  if (!steps) return [];
  let values: unknown[] = [object];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const v of values) {
      if (v === null || v === undefined) continue;
      if ('field' in step) {
        if (typeof v === 'object') next.push((v as Record<string, unknown>)[step.field]);
      } else if ('index' in step) {
        if (Array.isArray(v)) next.push(v[step.index]);
      } else if ('all' in step) {
        if (Array.isArray(v)) next.push(...v);
      } else if (Array.isArray(v)) {
        next.push(...v.filter((item) => String(dig(item, step.filter.path)) === step.filter.value));
      }
    }
    values = next.filter((v) => v !== undefined);
  }
  return values;
}

/** The value as a printer column shows it: scalars as text, several values comma-separated. */
export function printable(object: unknown, path: string): string | undefined {
  const values = evaluate(object, path);
  if (!values.length) return undefined;
  return values.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
}
