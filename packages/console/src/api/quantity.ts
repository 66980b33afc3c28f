/**
 * Kubernetes quantities (`250m`, `1.5`, `512Mi`, `2G`, `1e3`) as plain numbers — cores and bytes —
 * and back as figures people read ("1.2 cores", "3.4 GiB"). The console only sums and divides
 * them for display, so a float is precise enough; the server keeps the exact values.
 */

const SUFFIXES: Record<string, number> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)?)$/;

/** The value of a quantity (cores for CPU, bytes for memory); undefined when absent or malformed. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const [, number, exponent, suffix] = match;
  const n = Number(number) * (exponent ? 10 ** Number(exponent.slice(1)) : SUFFIXES[suffix ?? '']);
  return Number.isFinite(n) ? n : undefined;
}

/** A number with at most `digits` significant digits, without trailing zeros (1.20 → 1.2). */
function significant(n: number, digits = 3): string {
  if (n === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(n)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return String(Number(n.toFixed(Math.min(decimals, 6))));
}

/** Cores as a figure: `1.2`, `12`, `0.035`. */
export function formatCores(cores: number): string {
  return significant(cores);
}

const BINARY_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes in binary units, three significant digits: `3.42 GiB`, `512 MiB`. */
export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < BINARY_UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${significant(value)} ${BINARY_UNITS[unit]}`;
}

/** How a resource of a quota or a node is measured. */
export type ResourceUnit = 'cores' | 'bytes' | 'count';

/** `cpu`, `requests.cpu`, `limits.cpu` → cores; memory and storage → bytes; anything else counts objects. */
export function unitOf(resource: string): ResourceUnit {
  const base = resource.slice(resource.lastIndexOf('.') + 1);
  if (base === 'cpu') return 'cores';
  if (base === 'memory' || base === 'storage' || base === 'ephemeral-storage' || resource.includes('hugepages-')) return 'bytes';
  return 'count';
}
