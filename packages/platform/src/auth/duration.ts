/**
 * Go `time.Duration` text, as KubeSphere's configuration writes it (`10m0s`, `168h`, `2h`) and as its
 * messages print it ("Failed login attempts exceed 10 in last 10m0s"). Values are milliseconds.
 */

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Parses `1h30m`, `10m0s`, `1.5s`, `-2h`, `0`; throws on anything else (Go's rules: a unit after every number but a bare 0). */
export function parseGoDuration(text: string): number {
  const s = text.trim();
  if (s === '0' || s === '+0' || s === '-0') return 0;
  const match = /^([+-]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s);
  if (!match) throw new Error(`time: invalid duration "${text}"`);
  const sign = match[1] === '-' ? -1 : 1;
  let total = 0;
  for (const part of s.slice(match[1].length).matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * UNIT_MS[part[2]];
  }
  return sign * total;
}

/** Accepts a duration given either as Go text or as a number of seconds (YAML configuration may use both). */
export function durationFromConfig(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value * 1000;
  if (typeof value === 'string') {
    try {
      return parseGoDuration(value);
    } catch {
      throw new Error(`${field}: invalid duration ${JSON.stringify(value)}`);
    }
  }
  throw new Error(`${field}: must be a duration such as "10m0s"`);
}

/** Go's Duration.String for millisecond values: `0s`, `1.5s`, `10m0s`, `168h0m0s`, `250ms`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${trimNumber(rest)}ms`;
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = `${trimNumber(rest / 1000)}s`;
  if (hours > 0) return `${sign}${hours}h${minutes}m${seconds}`;
  if (minutes > 0) return `${sign}${minutes}m${seconds}`;
  return `${sign}${seconds}`;
}

function trimNumber(n: number): string {
  return String(Math.round(n * 1e6) / 1e6);
}
