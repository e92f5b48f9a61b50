import type { Command } from 'commander';
import { explainEmpty } from '../../query/calls.js';
import type { RawFilterOptions } from '../../query/filters.js';
import { parseGroupBy, queryUsage, USAGE_GROUPS, type UsageGroup, type UsageRow } from '../../query/usage.js';
import { addFilterOptions, collect, filterFromOptions } from '../filter-options.js';
import type { CommandContext } from '../command.js';
import { openForRead } from '../options.js';
import {
  addFormatOptions,
  emit,
  outputFormat,
  tableArn,
  tableTime,
  tableWidth,
  withFit,
  type FitOrder,
  type OutputColumn,
} from '../output.js';
import { int, shorten } from '../render.js';

/** Columns each group adds (table header, CSV field = JSON field). */
const GROUP_COLUMNS: Record<UsageGroup, OutputColumn<UsageRow>[]> = {
  workload: [
    {
      field: 'workload',
      header: 'workload',
      value: (r) => r.workload,
      cell: (r) => shorten(r.workload ?? '', 40),
    },
    { field: 'workloadKind', header: 'kind', value: (r) => r.workloadKind },
  ],
  service: [{ field: 'service', header: 'service', value: (r) => r.service }],
  action: [
    { field: 'action', header: 'action', value: (r) => r.action },
    { field: 'note', header: 'note', value: (r) => r.note },
  ],
  resource: [
    { field: 'resource', header: 'resource', value: (r) => r.resource, cell: (r) => tableArn(r.resource) },
  ],
  operation: [{ field: 'operation', header: 'operation', value: (r) => r.operation }],
  region: [{ field: 'region', header: 'region', value: (r) => r.region }],
  account: [{ field: 'account', header: 'account', value: (r) => r.account }],
  outcome: [{ field: 'outcome', header: 'outcome', value: (r) => r.outcome }],
  day: [{ field: 'day', header: 'day', value: (r) => r.day }],
  hour: [{ field: 'hour', header: 'hour', value: (r) => r.hour }],
};

const num = (field: keyof UsageRow & string, header = field): OutputColumn<UsageRow> => ({
  field,
  header,
  align: 'right',
  value: (r) => r[field],
  cell: (r) => int(Number(r[field])),
});

const METRIC_COLUMNS: OutputColumn<UsageRow>[] = [
  num('calls'),
  num('errors'),
  num('faults'),
  num('throttles'),
  num('denied'),
  {
    field: 'firstSeen',
    header: 'first seen',
    value: (r) => r.firstSeen,
    cell: (r) => tableTime(r.firstSeen),
  },
  { field: 'lastSeen', header: 'last seen', value: (r) => r.lastSeen, cell: (r) => tableTime(r.lastSeen) },
];

/**
 * How the usage table fits the terminal: workloads, actions, resources and operations are
 * shortened first, then columns are hidden in this order. The other grouping columns (the row's
 * key) are always shown; `kind` goes first because the workload names it.
 */
export const USAGE_FIT: FitOrder = {
  // calls and denied are the answer: never hidden (the resource gives up cells for them).
  hide: ['workloadKind', 'firstSeen', 'faults', 'throttles', 'errors', 'lastSeen'],
  shorten: { workload: 20, action: 24, resource: 20, operation: 20 },
};

/** The columns of a usage result grouped by `groups`. */
export function usageColumns(groups: readonly UsageGroup[]): OutputColumn<UsageRow>[] {
  return withFit(USAGE_FIT, [...groups.flatMap((g) => GROUP_COLUMNS[g]), ...METRIC_COLUMNS]);
}

/** Registers `xray-lp usage`. */
export function registerUsage(program: Command, { io }: CommandContext): void {
  const cmd = program
    .command('usage')
    .description(
      'aggregated calls: by default one row per workload × IAM action × resource, with calls, errors, throttles, denials, first and last seen',
    )
    .option(
      '--group-by <list>',
      `comma-separated, repeatable: ${USAGE_GROUPS.join(', ')} (default workload,action,resource)`,
      collect,
    );
  addFormatOptions(addFilterOptions(cmd)).action(
    (opts: RawFilterOptions & { json?: boolean; csv?: boolean; groupBy?: string[] }, c: Command) => {
      const format = outputFormat(opts);
      const groupBy = parseGroupBy(opts.groupBy);
      const store = openForRead(c, io);
      try {
        const filter = filterFromOptions(opts, store);
        const rows = queryUsage(store, { filter, groupBy });
        // The mapping note is long prose: JSON and CSV carry it, the table does not.
        const columns = usageColumns(groupBy).filter((col) => format !== 'table' || col.field !== 'note');
        emit(io, format, columns, rows, tableWidth(c, io), () => explainEmpty(store, filter, 'calls'));
      } finally {
        store.close();
      }
    },
  );
}
