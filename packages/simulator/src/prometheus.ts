/**
 * The Prometheus text exposition format (version 0.0.4) as client_golang writes it: one HELP and
 * TYPE line per family, samples with labels in the order given, values formatted like Go's
 * strconv.FormatFloat(v, 'g', -1, 64) (`1.2345678e+07`, `0.5`, `NaN`, `+Inf`), optional
 * timestamps in milliseconds.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  labels: Array<[string, string]>;
  value: number;
  /** Milliseconds since the epoch (cAdvisor and /metrics/resource stamp their samples). */
  timestamp?: number;
  /** For histograms: `_bucket`, `_sum`, `_count`. */
  suffix?: string;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  samples: Sample[];
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * Go's strconv.FormatFloat(v, 'g', -1, 64): the shortest digits that round-trip, in exponent
 * form when the decimal exponent is below -4 or at least 6 (Go uses precision 6 for that choice
 * when formatting shortest), with at least two exponent digits.
 */
export function goFloat(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const [mantissa, exponentText] = Math.abs(value).toExponential().split('e');
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 6) {
    return `${value < 0 ? '-' : ''}${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  }
  return String(value);
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

export function renderFamilies(families: MetricFamily[]): string {
  const out: string[] = [];
  for (const f of families) {
    if (!f.samples.length) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`);
    out.push(`# TYPE ${f.name} ${f.type}`);
    for (const s of f.samples) {
      const labels = s.labels.length ? `{${s.labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out.push(`${f.name}${s.suffix ?? ''}${labels} ${goFloat(s.value)}${s.timestamp !== undefined ? ` ${Math.floor(s.timestamp)}` : ''}`);
    }
  }
  return out.join('\n') + '\n';
}

/** Builds families incrementally, keeping the order in which they were first named. */
export class FamilyBuilder {
  private readonly families = new Map<string, MetricFamily>();

  family(name: string, type: MetricType, help: string): MetricFamily {
    let f = this.families.get(name);
    if (!f) {
      f = { name, type, help, samples: [] };
      this.families.set(name, f);
    }
    return f;
  }

  add(name: string, type: MetricType, help: string, labels: Array<[string, string]>, value: number, timestamp?: number): void {
    this.family(name, type, help).samples.push({ labels, value, timestamp });
  }

  /** A histogram from bucket upper bounds and observations. */
  histogram(name: string, help: string, labels: Array<[string, string]>, bounds: number[], observations: number[]): void {
    const f = this.family(name, 'histogram', help);
    let sum = 0;
    for (const o of observations) sum += o;
    for (const le of bounds) f.samples.push({ suffix: '_bucket', labels: [...labels, ['le', goFloat(le)]], value: observations.filter((o) => o <= le).length });
    f.samples.push({ suffix: '_bucket', labels: [...labels, ['le', '+Inf']], value: observations.length });
    f.samples.push({ suffix: '_sum', labels, value: sum });
    f.samples.push({ suffix: '_count', labels, value: observations.length });
  }

  /**
   * Orders families by name and each family's samples by label values, as client_golang's
   * registry gathers them; families in `keepOrder` (histograms) keep their samples' order.
   */
  sort(keepOrder: string[] = []): void {
    const entries = [...this.families.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    this.families.clear();
    const key = (s: Sample) => s.labels.map(([, v]) => v).join('\u0000');
    for (const [name, f] of entries) {
      if (!keepOrder.includes(name)) f.samples.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
      this.families.set(name, f);
    }
  }

  render(): string {
    return renderFamilies([...this.families.values()]);
  }
}
