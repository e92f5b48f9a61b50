import { Option, type Command } from 'commander';
import { explainEmpty } from '../../query/calls.js';
import type { RawFilterOptions } from '../../query/filters.js';
import { queryTimeline, type TimelineBucket, type TimelineRow } from '../../query/timeline.js';
import { addFilterOptions, filterFromOptions } from '../filter-options.js';
import type { CommandContext } from '../command.js';
import { openForRead } from '../options.js';
import { addFormatOptions, emit, outputFormat, type OutputColumn } from '../output.js';
import { int } from '../render.js';

/** Width of the longest bar, in terminal cells. */
export const BAR_WIDTH = 40;

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** A bar of `value / max × width` cells, in eighths of a cell; any non-zero value shows. */
export function bar(value: number, max: number, width = BAR_WIDTH): string {
  if (value <= 0 || max <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * width * 8));
  return '█'.repeat(Math.floor(eighths / 8)) + (EIGHTHS[eighths % 8] ?? '');
}

/** The text chart: one line per bucket, count right-aligned, problems noted after it. */
export function renderTimeline(rows: TimelineRow[], by: TimelineBucket): string {
  const max = Math.max(0, ...rows.map((r) => r.calls));
  const counts = rows.map((r) => int(r.calls));
  const countWidth = Math.max(...counts.map((c) => c.length), 5);
  const lines = [`${by === 'day' ? 'day       ' : 'hour (UTC)       '}  ${'calls'.padStart(countWidth)}`];
  rows.forEach((r, i) => {
    const label = by === 'day' ? r.start.slice(0, 10) : `${r.start.slice(0, 13)}:00Z`;
    const notes = (
      [
        ['denied', r.denied],
        ['errors', r.errors],
        ['faults', r.faults],
        ['throttles', r.throttles],
      ] as [string, number][]
    )
      .filter(([, n]) => n > 0)
      .map(([k, n]) => `${k} ${int(n)}`)
      .join(', ');
    const b = bar(r.calls, max).padEnd(BAR_WIDTH);
    lines.push(
      `${label}  ${(counts[i] ?? '').padStart(countWidth)} ${b}${notes ? ` ${notes}` : ''}`.trimEnd(),
    );
  });
  const total = rows.reduce((s, r) => s + r.calls, 0);
  lines.push(
    `${int(total)} calls in ${rows.length} ${by === 'day' ? 'days' : 'hours'}; the longest bar is ${int(max)} calls`,
  );
  return `${lines.join('\n')}\n`;
}

const num = (field: keyof TimelineRow & string): OutputColumn<TimelineRow> => ({
  field,
  header: field,
  align: 'right',
  value: (r) => r[field],
});

/** The `timeline` fields for CSV (the JSON fields of {@link TimelineRow}). */
export const TIMELINE_COLUMNS: OutputColumn<TimelineRow>[] = [
  { field: 'start', header: 'start', value: (r) => r.start },
  num('calls'),
  num('errors'),
  num('faults'),
  num('throttles'),
  num('denied'),
];

/** Registers `xray-lp timeline`. */
export function registerTimeline(program: Command, { io }: CommandContext): void {
  const cmd = program
    .command('timeline')
    .description('calls per UTC day or hour for the selected calls, as a text chart')
    .addOption(new Option('--by <bucket>', 'bucket size').choices(['day', 'hour']).default('day'));
  addFormatOptions(addFilterOptions(cmd)).action(
    (opts: RawFilterOptions & { json?: boolean; csv?: boolean; by: TimelineBucket }, c: Command) => {
      const format = outputFormat(opts);
      const by = opts.by;
      const store = openForRead(c, io);
      try {
        const filter = filterFromOptions(opts, store);
        const rows = queryTimeline(store, { filter, by });
        if (format === 'table' && rows.length > 0) io.out(renderTimeline(rows, by));
        else emit(io, format, TIMELINE_COLUMNS, rows, undefined, () => explainEmpty(store, filter, 'calls'));
      } finally {
        store.close();
      }
    },
  );
}
