import type { Command } from 'commander';
import { explainEmpty } from '../../query/calls.js';
import { listWorkloads, type WorkloadRow } from '../../query/workloads.js';
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
  type OutputColumn,
} from '../output.js';
import { int, shorten } from '../render.js';
import type { RawFilterOptions } from '../../query/filters.js';

/** The `workloads` columns: table headers and CSV fields (the JSON fields of {@link WorkloadRow}). */
export const WORKLOAD_COLUMNS: OutputColumn<WorkloadRow>[] = [
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
];

/** Registers `xray-lp workloads` (`principals`, its first name, still works). */
export function registerWorkloads(program: Command, io: CliIO): void {
  const cmd = program
    .command('workloads')
    .alias('principals')
    .description(
      'one row per workload (Lambda function, ECS task family, state machine…) with its activity in the selected range',
    );
  addFormatOptions(addFilterOptions(cmd)).action(
    (opts: RawFilterOptions & { json?: boolean; csv?: boolean }, c: Command) => {
      const format = outputFormat(opts);
      const store = openForRead(c, io);
      try {
        const filter = filterFromOptions(opts, store);
        const rows = listWorkloads(store, { filter });
        emit(io, format, WORKLOAD_COLUMNS, rows, () =>
          Object.keys(filter).length === 0
            ? 'No workloads recorded. Run `xray-lp ingest <dump>` first.'
            : explainEmpty(store, filter, 'workloads with calls'),
        );
      } finally {
        store.close();
      }
    },
  );
}

/** The workloads table (also printed by `demo`). */
export function renderWorkloads(rows: WorkloadRow[]): string {
  if (rows.length === 0) return 'No workloads recorded. Run `xray-lp ingest <dump>` first.\n';
  return renderTable(WORKLOAD_COLUMNS, rows);
}
