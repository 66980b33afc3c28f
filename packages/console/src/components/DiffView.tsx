/** A unified diff of two YAML texts, as the review before an apply shows it. */
import { useTranslation } from 'react-i18next';
import { countChanges, diffLines, hunks } from './diff';

export function DiffView({ before, after }: { before: string; after: string }) {
  const { t } = useTranslation();
  const lines = diffLines(before, after);
  const { added, removed } = countChanges(lines);
  const parts = hunks(lines);
  return (
    <section aria-label={t('apply.changes')} data-testid="diff">
      <p className="canopy-gap-bottom" data-testid="diff-summary">
        {added || removed ? t('apply.summary', { added, removed }) : t('apply.noChanges')}
      </p>
      <div className="canopy-diff" role="table" aria-label={t('apply.changes')}>
        {parts.map((hunk, h) => (
          <div key={h} role="rowgroup" className="canopy-diff__hunk">
            {hunk.lines.map((l, i) => (
              <div
                key={i}
                role="row"
                className={`canopy-diff__line canopy-diff__line--${l.kind}`}
                aria-label={l.kind === 'same' ? undefined : t(`apply.${l.kind}`)}
              >
                <span role="cell" className="canopy-diff__number">
                  {l.oldNumber ?? ''}
                </span>
                <span role="cell" className="canopy-diff__number">
                  {l.newNumber ?? ''}
                </span>
                <span role="cell" className="canopy-diff__text">
                  {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
                  {l.text}
                </span>
              </div>
            ))}
          </div>
        ))}
      </div>
    </section>
  );
}
