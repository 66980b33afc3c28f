/**
 * A table that renders only the rows in view (plus a margin), so a page of 5,000 objects costs
 * what a page of 50 does. Rows have one height (cells never wrap), measured from the rendered rows
 * (it depends on the theme and the cells' content); the scrolled-out rows are stood in for by two
 * spacer rows. The header stays in place; aria-rowcount and aria-rowindex tell assistive
 * technology the true size and position.
 */
import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
import { Table, Tbody, Td, Th, Thead, Tr, type ThProps } from '@patternfly/react-table';

/** First guess of a row's height, until rows are measured. */
export const ROW_HEIGHT_ESTIMATE = 41;
const OVERSCAN = 10;

export interface VirtualColumn {
  id: string;
  title: ReactNode;
  /** Sorting by this column: the current direction when it is the sort column. */
  sortable?: boolean;
  /** Header-only text for screen readers when the title is empty (actions column). */
  screenReaderText?: string;
  width?: 10 | 15 | 20 | 25 | 30 | 35 | 40 | 45 | 50 | 60 | 70 | 80 | 90 | 100;
  isActionCell?: boolean;
}

export interface VirtualTableProps<T> {
  ariaLabel: string;
  columns: VirtualColumn[];
  rows: T[];
  rowKey(row: T): string;
  cell(row: T, columnId: string): ReactNode;
  sort?: { columnId: string; direction: 'asc' | 'desc' };
  onSort?(columnId: string, direction: 'asc' | 'desc'): void;
  /** Height of the scrolling area (CSS); defaults to filling the page. */
  maxHeight?: string;
}

export function VirtualTable<T>({ ariaLabel, columns, rows, rowKey, cell, sort, onSort, maxHeight }: VirtualTableProps<T>) {
  const scroller = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewport, setViewport] = useState(800);
  const frame = useRef(0);
  const [rowHeight, setRowHeight] = useState(ROW_HEIGHT_ESTIMATE);

  // The tallest rendered row sets every row's height (a row's height is a minimum in a table).
  useLayoutEffect(() => {
    const rendered = scroller.current?.querySelectorAll<HTMLTableRowElement>('tr.canopy-row');
    if (!rendered?.length) return;
    let tallest = 0;
    for (const row of rendered) tallest = Math.max(tallest, row.getBoundingClientRect().height);
    if (tallest > 0 && Math.abs(tallest - rowHeight) > 0.5) setRowHeight(Math.ceil(tallest));
  });

  useLayoutEffect(() => {
    const el = scroller.current;
    if (!el) return;
    setViewport(el.clientHeight || 800);
    const observer = new ResizeObserver(() => setViewport(el.clientHeight || 800));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);
  // A new, shorter page must not leave the view scrolled past its end.
  useEffect(() => {
    const el = scroller.current;
    if (el && el.scrollTop > rows.length * rowHeight) el.scrollTop = 0;
  }, [rows.length, rowHeight]);

  const start = Math.max(0, Math.floor(scrollTop / rowHeight) - OVERSCAN);
  const end = Math.min(rows.length, Math.ceil((scrollTop + viewport) / rowHeight) + OVERSCAN);
  const sortIndex = sort ? columns.findIndex((c) => c.id === sort.columnId) : -1;
  const sortProps = (index: number): ThProps['sort'] | undefined =>
    columns[index].sortable && onSort
      ? {
          sortBy: { index: sortIndex, direction: sort?.direction, defaultDirection: 'asc' },
          onSort: (_event, i, direction) => onSort(columns[i].id, direction),
          columnIndex: index,
        }
      : undefined;

  return (
    <div
      ref={scroller}
      className="canopy-virtual"
      style={maxHeight ? { maxHeight } : undefined}
      onScroll={(e) => {
        const top = e.currentTarget.scrollTop;
        cancelAnimationFrame(frame.current);
        frame.current = requestAnimationFrame(() => setScrollTop(top));
      }}
    >
      <Table aria-label={ariaLabel} variant="compact" isStickyHeader gridBreakPoint="" aria-rowcount={rows.length + 1}>
        <Thead>
          <Tr aria-rowindex={1}>
            {columns.map((c, i) => (
              <Th key={c.id} sort={sortProps(i)} width={c.width} screenReaderText={c.screenReaderText} modifier="nowrap">
                {c.title}
              </Th>
            ))}
          </Tr>
        </Thead>
        <Tbody>
          {start > 0 && <Tr aria-hidden="true" className="canopy-spacer" style={{ height: start * rowHeight }} />}
          {rows.slice(start, end).map((row, i) => (
            <Tr key={rowKey(row)} aria-rowindex={start + i + 2} className="canopy-row" style={{ height: rowHeight }}>
              {columns.map((c) => (
                <Td
                  key={c.id}
                  dataLabel={typeof c.title === 'string' ? c.title : c.id}
                  modifier="truncate"
                  isActionCell={c.isActionCell}
                >
                  {cell(row, c.id)}
                </Td>
              ))}
            </Tr>
          ))}
          {end < rows.length && (
            <Tr aria-hidden="true" className="canopy-spacer" style={{ height: (rows.length - end) * rowHeight }} />
          )}
        </Tbody>
      </Table>
    </div>
  );
}
