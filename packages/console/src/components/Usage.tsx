/**
 * How amounts of CPU, memory and objects are shown: figures in the user's language ("1.2 /
 * 12 cores", "3.4 GiB / 48 GiB") and PatternFly progress bars of a part against a whole (usage
 * against allocatable, requests against a quota). No chart library: a bar is enough here.
 */
import { useTranslation } from 'react-i18next';
import { Alert, Progress } from '@patternfly/react-core';
import { formatBytes, formatCores, type ResourceUnit } from '../api/quantity';
import type { UsageProblem } from '../api/usage';

/** One amount with its unit: `1.2 cores`, `3.4 GiB`, `7`. */
export function useAmount(): (value: number, unit: ResourceUnit) => string {
  const { t } = useTranslation();
  return (value, unit) =>
    unit === 'cores'
      ? t('usage.cores', { value: formatCores(value), count: value })
      : unit === 'bytes'
        ? formatBytes(value)
        : formatCores(value);
}

/** A part of a whole with its unit: `1.2 / 12 cores`, `3.4 GiB / 48 GiB`, `3 / 10`. */
export function useShare(): (used: number, total: number, unit: ResourceUnit) => string {
  const { t } = useTranslation();
  return (used, total, unit) =>
    unit === 'cores'
      ? t('usage.coresOf', { used: formatCores(used), total: formatCores(total), count: total })
      : unit === 'bytes'
        ? `${formatBytes(used)} / ${formatBytes(total)}`
        : `${formatCores(used)} / ${formatCores(total)}`;
}

export interface UsageBarProps {
  title: string;
  used: number;
  total: number;
  unit: ResourceUnit;
  'data-testid'?: string;
}

/** A part against a whole; warning from 80 %, danger from 95 %, as a quota nearly spent. */
export function UsageBar({ title, used, total, unit, ...rest }: UsageBarProps) {
  const share = useShare();
  const percent = total > 0 ? (used / total) * 100 : 0;
  const text = share(used, total, unit);
  return (
    <Progress
      data-testid={rest['data-testid']}
      title={title}
      value={Math.min(100, percent)}
      label={`${text} (${Math.round(percent)}%)`}
      valueText={text}
      measureLocation="outside"
      size="sm"
      variant={percent >= 95 ? 'danger' : percent >= 80 ? 'warning' : undefined}
      className="canopy-gap-bottom"
    />
  );
}

/** Why usage is not shown, in place of its bars: never an error page, never a spinner that does not end. */
export function UsageUnavailable({ problem }: { problem: UsageProblem }) {
  const { t } = useTranslation();
  return (
    <Alert
      isInline
      isPlain
      variant="info"
      title={t('usage.unavailable')}
      data-testid="usage-unavailable"
      className="canopy-gap-bottom"
    >
      {t(`usage.${problem}`)}
    </Alert>
  );
}
