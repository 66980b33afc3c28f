/** How cells and values look: relative times in the user's language, statuses as coloured labels. */
import { Label, type LabelProps } from '@patternfly/react-core';
import { translateKey } from '../i18n';
import type { CellFormat } from '../models/types';

const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['year', 365 * 24 * 3600],
  ['month', 30 * 24 * 3600],
  ['day', 24 * 3600],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
];

export function relativeTime(timestamp: string | undefined, language: string): string {
  if (!timestamp) return '';
  const seconds = Math.round((Date.parse(timestamp) - Date.now()) / 1000);
  if (!Number.isFinite(seconds)) return timestamp;
  const format = new Intl.RelativeTimeFormat(language === 'zh' ? 'zh-CN' : 'en', { numeric: 'auto', style: 'short' });
  for (const [unit, size] of UNITS)
    if (Math.abs(seconds) >= size || unit === 'second') return format.format(Math.trunc(seconds / size), unit);
  return timestamp;
}

const STATUS_COLORS: Record<string, LabelProps['color']> = {
  Running: 'green',
  Ready: 'green',
  Active: 'green',
  Bound: 'green',
  Available: 'green',
  Completed: 'blue',
  Succeeded: 'blue',
  True: 'green',
  Pending: 'orange',
  Updating: 'orange',
  ContainerCreating: 'orange',
  Terminating: 'orange',
  Stopped: 'grey',
  Suspended: 'grey',
  Unknown: 'grey',
  False: 'red',
  Failed: 'red',
  NotReady: 'red',
  Error: 'red',
  CrashLoopBackOff: 'red',
  ImagePullBackOff: 'red',
  ErrImagePull: 'red',
  Disabled: 'red',
  AuthLimitExceeded: 'red',
  Lost: 'red',
  Unschedulable: 'orange',
};

export function StatusLabel({ value }: { value: string }) {
  return (
    <Label isCompact color={STATUS_COLORS[value] ?? 'grey'}>
      {translateKey(`status.${value}`, value)}
    </Label>
  );
}

export function Cell({ value, format, language }: { value: string | number | undefined; format?: CellFormat; language: string }) {
  if (value === undefined || value === '') return <span className="canopy-muted">—</span>;
  switch (format) {
    case 'status':
      return <StatusLabel value={String(value)} />;
    case 'age':
      return (
        <time dateTime={String(value)} title={String(value)}>
          {relativeTime(String(value), language)}
        </time>
      );
    case 'mono':
      return <span className="canopy-mono">{value}</span>;
    case 'percent': {
      const share = Math.max(0, Math.min(100, Number(value)));
      return (
        <span className="canopy-percent">
          <span className="canopy-percent__bar" aria-hidden="true">
            <span className={share >= 90 ? 'canopy-percent__fill--high' : ''} style={{ width: `${share}%` }} />
          </span>
          {value}%
        </span>
      );
    }
    default:
      return <>{value}</>;
  }
}
