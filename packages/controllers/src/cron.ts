/**
 * Cron schedules as the CronJob controller reads them: robfig/cron v3's standard parser (five
 * fields or a descriptor, `TZ=`/`CRON_TZ=` prefixes, `@every <duration>`) and its `Next`
 * algorithm, ported step by step so that days of month vs days of week, steps, names and
 * daylight-saving transitions behave as in kube-controller-manager. Time-zone arithmetic follows
 * Go's `time.Date` / `AddDate` normalization over the IANA database that Intl carries.
 */

/** A parsed schedule: the next activation strictly after `after` (ms since epoch), or undefined if none within five years. */
export interface CronSchedule {
  next(after: number): number | undefined;
}

export class CronParseError extends Error {}

interface Bounds {
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTH_NAMES: Record<string, number> = { jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12 };
const DOW_NAMES: Record<string, number> = { sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6 };
const MINUTES: Bounds = { min: 0, max: 59 };
const HOURS: Bounds = { min: 0, max: 23 };
const DOM: Bounds = { min: 1, max: 31 };
const MONTHS: Bounds = { min: 1, max: 12, names: MONTH_NAMES };
const DOW: Bounds = { min: 0, max: 6, names: DOW_NAMES };

const DESCRIPTORS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

/** A field's allowed values, and whether it was written as `*` or `?` (robfig's star bit). */
interface Field {
  values: Set<number>;
  star: boolean;
}

function parseNumber(text: string): number {
  if (!/^[+-]?[0-9]+$/.test(text)) throw new CronParseError(`failed to parse int from ${text}: strconv.Atoi: parsing ${JSON.stringify(text)}: invalid syntax`);
  const n = Number(text);
  if (n < 0) throw new CronParseError(`negative number (${n}) not allowed: ${text}`);
  return n;
}

function parseRange(expr: string, bounds: Bounds): Field {
  const rangeAndStep = expr.split('/');
  const lowAndHigh = rangeAndStep[0].split('-');
  const single = lowAndHigh.length === 1;
  let start: number;
  let end: number;
  let star = false;
  const named = (text: string) => bounds.names?.[text.toLowerCase()] ?? parseNumber(text);
  if (lowAndHigh[0] === '*' || lowAndHigh[0] === '?') {
    start = bounds.min;
    end = bounds.max;
    star = true;
  } else {
    start = named(lowAndHigh[0]);
    if (lowAndHigh.length === 1) end = start;
    else if (lowAndHigh.length === 2) end = named(lowAndHigh[1]);
    else throw new CronParseError(`too many hyphens: ${expr}`);
  }
  let step = 1;
  if (rangeAndStep.length === 2) {
    step = parseNumber(rangeAndStep[1]);
    // "N/step" means "N-max/step".
    if (single) end = bounds.max;
    // `*/2` is a restriction, not "every": the day-of-month/day-of-week rule treats it as such.
    if (step > 1) star = false;
  } else if (rangeAndStep.length > 2) throw new CronParseError(`too many slashes: ${expr}`);
  if (start < bounds.min) throw new CronParseError(`beginning of range (${start}) below minimum (${bounds.min}): ${expr}`);
  if (end > bounds.max) throw new CronParseError(`end of range (${end}) above maximum (${bounds.max}): ${expr}`);
  if (start > end) throw new CronParseError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  if (step === 0) throw new CronParseError(`step of range should be a positive number: ${expr}`);
  const values = new Set<number>();
  for (let v = start; v <= end; v += step) values.add(v);
  return { values, star };
}

function parseField(text: string, bounds: Bounds): Field {
  const field: Field = { values: new Set(), star: false };
  for (const part of text.split(',')) {
    const range = parseRange(part, bounds);
    for (const v of range.values) field.values.add(v);
    field.star ||= range.star;
  }
  return field;
}

// ---------------------------------------------------------------------------------------------
// Zoned time: Go's time.Time in a Location, as an instant plus the zone's name.

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
      era: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

export interface WallClock {
  year: number;
  /** 1–12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
}

const WEEKDAYS: Record<string, number> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };

/** The wall clock of an instant in `zone` (an IANA name or `UTC`). */
export function wallClock(instant: number, zone: string): WallClock {
  if (zone === 'UTC') {
    const d = new Date(instant);
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
    };
  }
  const parts: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  const year = Number(parts.year);
  return {
    year: parts.era === 'BC' ? 1 - year : year,
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday] ?? 0,
  };
}

/** Seconds east of UTC in `zone` at `instant`, in ms. */
export function zoneOffset(instant: number, zone: string): number {
  if (zone === 'UTC') return 0;
  const base = Math.floor(instant / 1000) * 1000;
  const w = wallClock(base, zone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return asUtc - base;
}

/**
 * Go's time.Date(y, mo, d, h, mi, s, 0, loc): out-of-range fields normalize (month 13 is January
 * of the next year), and a wall time that a transition skips or repeats resolves as Go resolves
 * it (the offset in effect just before the local time, re-checked once).
 */
export function zonedDate(year: number, month: number, day: number, hour: number, minute: number, second: number, zone: string): number {
  const local = Date.UTC(year, month - 1, day, hour, minute, second);
  if (zone === 'UTC') return local;
  let offset = zoneOffset(local, zone);
  if (offset !== 0) {
    const utc = local - offset;
    const there = zoneOffset(utc, zone);
    if (there !== offset) offset = there;
  }
  return local - offset;
}

/** Whether `zone` names a time zone this runtime knows (Go's time.LoadLocation succeeding). */
export function isKnownTimeZone(zone: string): boolean {
  if (zone === '' || zone === 'UTC' || zone === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** The process's own zone: what kube-controller-manager's `time.Local` is. */
export function localTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function resolveZone(zone: string): string {
  if (zone === '' || zone === 'UTC') return 'UTC';
  if (zone === 'Local') return localTimeZone();
  return zone;
}

// ---------------------------------------------------------------------------------------------
// Schedules

class SpecSchedule implements CronSchedule {
  constructor(
    private readonly minute: Field,
    private readonly hour: Field,
    private readonly dom: Field,
    private readonly month: Field,
    private readonly dow: Field,
    private readonly zone: string,
  ) {}

  private dayMatches(w: WallClock): boolean {
    const domMatch = this.dom.values.has(w.day);
    const dowMatch = this.dow.values.has(w.weekday);
    if (this.dom.star || this.dow.star) return domMatch && dowMatch;
    return domMatch || dowMatch;
  }

  /** robfig/cron SpecSchedule.Next, step for step (seconds are always 0 in the standard format). */
  next(after: number): number | undefined {
    const zone = this.zone;
    // Start at the earliest possible time (the upcoming second).
    let t = Math.floor(after / 1000) * 1000 + 1000;
    let added = false;
    const yearLimit = wallClock(t, zone).year + 5;
    wrap: while (true) {
      let w = wallClock(t, zone);
      if (w.year > yearLimit) return undefined;
      while (!this.month.values.has(w.month)) {
        if (!added) {
          added = true;
          t = zonedDate(w.year, w.month, 1, 0, 0, 0, zone);
          w = wallClock(t, zone);
        }
        t = zonedDate(w.year, w.month + 1, w.day, w.hour, w.minute, w.second, zone);
        w = wallClock(t, zone);
        if (w.month === 1) continue wrap;
      }
      while (!this.dayMatches(w)) {
        if (!added) {
          added = true;
          t = zonedDate(w.year, w.month, w.day, 0, 0, 0, zone);
          w = wallClock(t, zone);
        }
        t = zonedDate(w.year, w.month, w.day + 1, w.hour, w.minute, w.second, zone);
        w = wallClock(t, zone);
        // Notice if the hour is no longer midnight due to DST.
        if (w.hour !== 0) {
          t += (w.hour > 12 ? 24 - w.hour : -w.hour) * 3_600_000;
          w = wallClock(t, zone);
        }
        if (w.day === 1) continue wrap;
      }
      while (!this.hour.values.has(w.hour)) {
        if (!added) {
          added = true;
          t = zonedDate(w.year, w.month, w.day, w.hour, 0, 0, zone);
        }
        t += 3_600_000;
        w = wallClock(t, zone);
        if (w.hour === 0) continue wrap;
      }
      while (!this.minute.values.has(w.minute)) {
        if (!added) {
          added = true;
          t = Math.floor(t / 60_000) * 60_000;
        }
        t += 60_000;
        w = wallClock(t, zone);
        if (w.minute === 0) continue wrap;
      }
      while (w.second !== 0) {
        if (!added) {
          added = true;
          t = Math.floor(t / 1000) * 1000;
        }
        t += 1000;
        w = wallClock(t, zone);
        if (w.second === 0) continue wrap;
      }
      return t;
    }
  }
}

/** `@every <duration>`: a constant delay, rounded down to whole seconds (at least one). */
class ConstantDelaySchedule implements CronSchedule {
  constructor(private readonly delayMs: number) {}
  next(after: number): number {
    return Math.floor(after / 1000) * 1000 + this.delayMs;
  }
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go's time.ParseDuration, in ms. */
function parseGoDuration(text: string): number {
  if (text === '0') return 0;
  const match = /^([-+]?)((?:(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+)$/.exec(text);
  if (!match) throw new CronParseError(`failed to parse duration @every ${text}: time: invalid duration ${JSON.stringify(text)}`);
  let total = 0;
  for (const part of match[2].matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * DURATION_UNITS[part[2]];
  return match[1] === '-' ? -total : total;
}

/**
 * cron.ParseStandard. `defaultZone` is the zone of schedules without a `TZ=` prefix (kube
 * prefixes `TZ=<spec.timeZone>`; without one the controller's local zone applies).
 */
export function parseCronSchedule(spec: string, defaultZone = localTimeZone()): CronSchedule {
  let text = spec;
  if (text.length === 0) throw new CronParseError('empty spec string');
  let zone = resolveZone(defaultZone);
  if (text.startsWith('TZ=') || text.startsWith('CRON_TZ=')) {
    const space = text.indexOf(' ');
    const name = text.slice(text.indexOf('=') + 1, space < 0 ? text.length : space);
    if (!isKnownTimeZone(name)) throw new CronParseError(`provided bad location ${name}: unknown time zone ${name}`);
    zone = resolveZone(name);
    text = space < 0 ? '' : text.slice(space).trim();
  }
  if (text.startsWith('@')) {
    if (text.startsWith('@every ')) {
      const ms = parseGoDuration(text.slice('@every '.length));
      return new ConstantDelaySchedule(Math.max(1000, Math.floor(ms / 1000) * 1000));
    }
    const expanded = DESCRIPTORS[text];
    if (!expanded) throw new CronParseError(`unrecognized descriptor: ${text}`);
    text = expanded;
  }
  const fields = text.split(/\s+/).filter((f) => f.length > 0);
  if (fields.length !== 5) throw new CronParseError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  return new SpecSchedule(
    parseField(fields[0], MINUTES),
    parseField(fields[1], HOURS),
    parseField(fields[2], DOM),
    parseField(fields[3], MONTHS),
    parseField(fields[4], DOW),
    zone,
  );
}

/** RFC 3339 of an instant in `zone` with its numeric offset (Go's `t.In(loc).Format(time.RFC3339)`). */
export function formatRfc3339InZone(instant: number, zone: string): string {
  const z = resolveZone(zone);
  const seconds = Math.floor(instant / 1000) * 1000;
  const w = wallClock(seconds, z);
  const offset = zoneOffset(seconds, z) / 60_000;
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const date = `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}`;
  if (offset === 0) return `${date}Z`;
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${date}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
