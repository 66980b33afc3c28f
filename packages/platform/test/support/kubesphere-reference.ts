// Reads KubeSphere's chart templates from ../shared/reference/kubesphere-chart for comparison.
// They are Helm templates: `{{ … }}` directives are dropped, and a quoted scalar continued on a
// line no more indented than its key (which Go's YAML accepts and the `yaml` package rejects)
// is re-indented so that it folds the way Go reads it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

export const CHART_DIR = join(import.meta.dirname, '../../../../../shared/reference/kubesphere-chart');

function unterminatedSingleQuote(value: string): boolean {
  // '' is an escaped quote inside a single-quoted scalar.
  const quotes = (value.replace(/''/g, '').match(/'/g) ?? []).length;
  return quotes % 2 === 1;
}

function normalizeHelmYaml(text: string): string {
  const lines = text.split('\n').map((line) => line.replace(/\{\{[^}]*\}\}/g, ''));
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    out.push(line);
    const match = /^(\s*)[^\s'"#][^:]*:\s+('.*)$/.exec(line);
    if (!match || !unterminatedSingleQuote(match[2])) continue;
    const indent = `${match[1]}    `;
    let open = true;
    while (open && i + 1 < lines.length) {
      const next = lines[++i];
      out.push(indent + next.trimStart());
      if (unterminatedSingleQuote(next)) open = false;
    }
  }
  return out.join('\n');
}

export type Doc = Record<string, any>;

export function readChart(file: string): Doc[] {
  const path = join(CHART_DIR, file);
  if (!existsSync(path)) throw new Error(`reference chart file missing: ${path} (shared/ must sit beside the checkout)`);
  const docs: Doc[] = [];
  for (const doc of YAML.parseAllDocuments(normalizeHelmYaml(readFileSync(path, 'utf8')))) {
    if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
    const value = doc.toJS();
    if (value) docs.push(value);
  }
  return docs;
}
