import type { Command } from 'commander';
import { explainEmpty } from '../../query/calls.js';
import { listWorkloads, type WorkloadRow } from '../../query/workloads.js';
import { policies } from '../../policy/build.js';
import type { Completeness } from '../../policy/completeness.js';
import type { Store } from '../../store/db.js';
import type { CallFilter } from '../../store/filter.js';
import { addFilterOptions, filterFromOptions } from '../filter-options.js';
import type { CliIO } from '../io.js';
import { openForRead } from '../options.js';
import {
  addFormatOptions,
  emit,
  outputFormat,
  renderTable,
  tableArn,
  tableTime,
  tableWidth,
  withFit,
  type FitOrder,
  type OutputColumn,
} from '../output.js';
import { int, shorten } from '../render.js';
import type { RawFilterOptions } from '../../query/filters.js';

/**
 * How the workloads table fits the terminal: names and ARNs are shortened first, then columns
 * are hidden in this order (account and region are in the ARN). The name is always shown.
 */
export const WORKLOAD_FIT: FitOrder = {
  hide: [
    'account',
    'region',
    'firstSeen',
    'activeDays',
    'traces',
    'formats',
    'lastSeen',
    'key',
    'kind',
    'denied',
    'distinctActions',
    'calls',
  ],
  shorten: { name: 20, key: 32 },
};

/** The `workloads` columns: table headers and CSV fields (the JSON fields of {@link WorkloadRow}). */
export const WORKLOAD_COLUMNS: OutputColumn<WorkloadRow>[] = withFit(WORKLOAD_FIT, [
  { field: 'kind', header: 'kind', value: (r) => r.kind },
  { field: 'name', header: 'name', value: (r) => r.name, cell: (r) => shorten(r.name, 40) },
  { field: 'key', header: 'ARN / id', value: (r) => r.key, cell: (r) => tableArn(r.arn ?? r.key, 60) },
  { field: 'account', header: 'account', value: (r) => r.account },
  { field: 'region', header: 'region', value: (r) => r.region },
  {
    field: 'formats',
    header: 'traced by',
    value: (r) => r.formats.join('+'),
    cell: (r) => r.formats.map((f) => (f === 'x-ray' ? 'X-Ray' : 'OTel')).join('+'),
  },
  { field: 'traces', header: 'traces', align: 'right', value: (r) => r.traces, cell: (r) => int(r.traces) },
  {
    field: 'activeDays',
    header: 'days',
    align: 'right',
    value: (r) => r.activeDays,
    cell: (r) => int(r.activeDays),
  },
  { field: 'calls', header: 'calls', align: 'right', value: (r) => r.calls, cell: (r) => int(r.calls) },
  {
    field: 'distinctActions',
    header: 'actions',
    align: 'right',
    value: (r) => r.distinctActions,
    cell: (r) => int(r.distinctActions),
  },
  { field: 'denied', header: 'denied', align: 'right', value: (r) => r.denied, cell: (r) => int(r.denied) },
  {
    field: 'firstSeen',
    header: 'first seen',
    value: (r) => r.firstSeen,
    cell: (r) => tableTime(r.firstSeen),
  },
  { field: 'lastSeen', header: 'last seen', value: (r) => r.lastSeen, cell: (r) => tableTime(r.lastSeen) },
]);

/** A workload with its completeness (`workloads --completeness`; null without a policy: no mapped call). */
type RowWithCompleteness = WorkloadRow & { completeness: Completeness | null };

/** The columns with the completeness verdict after `denied` (JSON prints the whole object). */
const WORKLOAD_COLUMNS_WITH_COMPLETENESS: OutputColumn<RowWithCompleteness>[] = withFit(
  // Asked for: hidden last.
  { ...WORKLOAD_FIT, hide: [...WORKLOAD_FIT.hide, 'completeness'] },
  [
    ...(WORKLOAD_COLUMNS as OutputColumn<RowWithCompleteness>[]).slice(0, -2),
    { field: 'completeness', header: 'completeness', value: (r) => r.completeness?.verdict ?? null },
    ...(WORKLOAD_COLUMNS as OutputColumn<RowWithCompleteness>[]).slice(-2),
  ],
);

/** Registers `xray-lp workloads` (`principals`, its first name, still works). */
export function registerWorkloads(program: Command, io: CliIO): void {
  const cmd = program
    .command('workloads')
    .alias('principals')
    .description(
      'one row per workload (Lambda function, ECS task family, state machine…) with its activity in the selected range',
    );
  addFormatOptions(addFilterOptions(cmd))
    .option(
      '--completeness',
      "add each workload's completeness verdict (is the data enough? see `policy`): builds every selected policy, so it takes as long",
    )
    .action(
      (opts: RawFilterOptions & { json?: boolean; csv?: boolean; completeness?: boolean }, c: Command) => {
        const format = outputFormat(opts);
        const store = openForRead(c, io);
        try {
          const filter = filterFromOptions(opts, store);
          const listed = listWorkloads(store, { filter });
          if (!opts.completeness) {
            emit(io, format, WORKLOAD_COLUMNS, listed, tableWidth(c, io), () => emptyText(store, filter));
            return;
          }
          // The verdict is about the policy as granted: the policy layer computes it.
          const verdicts = new Map<string, Completeness>();
          for (const p of policies(store, { filter })) verdicts.set(p.principal, p.completeness);
          const rows = listed.map((r) => ({ ...r, completeness: verdicts.get(r.arn ?? r.key) ?? null }));
          emit(io, format, WORKLOAD_COLUMNS_WITH_COMPLETENESS, rows, tableWidth(c, io), () =>
            emptyText(store, filter),
          );
        } finally {
          store.close();
        }
      },
    );
}

/** Why the list is empty. */
function emptyText(store: Store, filter: CallFilter): string {
  return Object.keys(filter).length === 0
    ? 'No workloads recorded. Run `xray-lp ingest <dump>` first.'
    : explainEmpty(store, filter, 'workloads with calls');
}

/** The workloads table (also printed by `demo`), fitted to `width` when given. */
export function renderWorkloads(rows: WorkloadRow[], width?: number): string {
  if (rows.length === 0) return 'No workloads recorded. Run `xray-lp ingest <dump>` first.\n';
  return renderTable(WORKLOAD_COLUMNS, rows, width);
}
