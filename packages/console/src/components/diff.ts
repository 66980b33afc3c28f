/**
 * Line diffs of YAML for the review before an apply: what the object is now against what the
 * server's dry run says it would become. A longest-common-subsequence diff (objects are a few
 * hundred lines; past `MAX_CELLS` the middle is compared as a block replacement), grouped into
 * hunks with a few lines of context, as `diff -u` shows them.
 */
import { stringify } from 'yaml';
import type { K8sObject } from '../models/types.js';

export interface DiffLine {
  kind: 'same' | 'added' | 'removed';
  text: string;
  /** Line numbers in the old and new text (1-based), where the line exists there. */
  oldNumber?: number;
  newNumber?: number;
}

export interface Hunk {
  lines: DiffLine[];
}

const MAX_CELLS = 4_000_000;

export function diffLines(before: string, after: string): DiffLine[] {
  const a = before ? before.replace(/\n$/, '').split('\n') : [];
  const b = after ? after.replace(/\n$/, '').split('\n') : [];
  // Common head and tail cost nothing to match and keep the table small.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const midA = a.slice(head, a.length - tail);
  const midB = b.slice(head, b.length - tail);
  const out: DiffLine[] = [];
  let oldNo = 0;
  let newNo = 0;
  const same = (text: string) => out.push({ kind: 'same', text, oldNumber: ++oldNo, newNumber: ++newNo });
  const removed = (text: string) => out.push({ kind: 'removed', text, oldNumber: ++oldNo });
  const added = (text: string) => out.push({ kind: 'added', text, newNumber: ++newNo });
  a.slice(0, head).forEach(same);
  const n = midA.length;
  const m = midB.length;
  if (n * m > MAX_CELLS) {
    midA.forEach(removed);
    midB.forEach(added);
  } else if (n || m) {
    // lcs[i][j]: length of the longest common subsequence of midA[i..] and midB[j..].
    const width = m + 1;
    const lcs = new Uint32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--)
      for (let j = m - 1; j >= 0; j--)
        lcs[i * width + j] =
          midA[i] === midB[j] ? lcs[(i + 1) * width + j + 1] + 1 : Math.max(lcs[(i + 1) * width + j], lcs[i * width + j + 1]);
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (midA[i] === midB[j]) {
        same(midA[i]);
        i++;
        j++;
      } else if (lcs[(i + 1) * width + j] >= lcs[i * width + j + 1]) removed(midA[i++]);
      else added(midB[j++]);
    }
    while (i < n) removed(midA[i++]);
    while (j < m) added(midB[j++]);
  }
  a.slice(a.length - tail).forEach(same);
  return out;
}

/** Changed lines with `context` unchanged lines around them; far-apart changes become separate hunks. */
export function hunks(lines: DiffLine[], context = 3): Hunk[] {
  const changed = lines.map((l, i) => (l.kind === 'same' ? -1 : i)).filter((i) => i >= 0);
  const out: Hunk[] = [];
  let start = -1;
  let end = -1;
  for (const i of changed) {
    if (start >= 0 && i - context <= end + context + 1) end = i;
    else {
      if (start >= 0) out.push({ lines: lines.slice(Math.max(0, start - context), Math.min(lines.length, end + context + 1)) });
      start = end = i;
    }
  }
  if (start >= 0) out.push({ lines: lines.slice(Math.max(0, start - context), Math.min(lines.length, end + context + 1)) });
  return out;
}

export function countChanges(lines: DiffLine[]): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const l of lines) {
    if (l.kind === 'added') added++;
    else if (l.kind === 'removed') removed++;
  }
  return { added, removed };
}

/**
 * An object as the review compares it: without what the server changes on every write
 * (resourceVersion, generation, managedFields), without status (not what is applied), and with
 * passwords masked.
 */
export function comparable(object: K8sObject | undefined): string {
  if (!object) return '';
  const copy = structuredClone(object) as K8sObject;
  const meta = copy.metadata as Record<string, unknown>;
  for (const key of ['resourceVersion', 'generation', 'managedFields']) delete meta[key];
  delete copy.status;
  if (typeof copy.spec?.password === 'string' && copy.spec.password) copy.spec.password = '********';
  return stringify(copy, { lineWidth: 0 });
}
