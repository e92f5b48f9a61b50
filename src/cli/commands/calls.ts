import type { Command } from 'commander';
import { UserInputError } from '../../shared/errors.js';
import { explainEmpty, listCalls, type CallRow } from '../../query/calls.js';
import type { RawFilterOptions } from '../../query/filters.js';
import { addFilterOptions, filterFromOptions } from '../filter-options.js';
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
import { shorten } from '../render.js';

/** The most `--limit` accepts: beyond it, `usage` or `--csv` with a narrower filter is the tool. */
export const MAX_CALLS_LIMIT = 1_000_000;

/**
 * How the calls table fits the terminal: workloads, operations and resources are shortened
 * first, then columns are hidden in this order (the resource's ARN names its service). Time,
 * workload and operation are always shown.
 */
export const CALL_FIT: FitOrder = {
  hide: ['traceId', 'service', 'outcome', 'resources'],
  shorten: { workload: 20, operation: 20, resources: 32 },
};

/** The `calls` columns (CSV fields = JSON fields of {@link CallRow}; JSON has a few more). */
export const CALL_COLUMNS: OutputColumn<CallRow>[] = withFit(CALL_FIT, [
  { field: 'time', header: 'time', value: (r) => r.time, cell: (r) => tableTime(r.time) },
  {
    field: 'workload',
    header: 'workload',
    value: (r) => r.workload,
    cell: (r) => shorten(r.workload, 32),
  },
  { field: 'service', header: 'service', value: (r) => r.service },
  {
    field: 'operation',
    header: 'operation',
    value: (r) => r.operation,
    cell: (r) => r.operation ?? '(unknown)',
  },
  {
    field: 'resources',
    header: 'resource',
    value: (r) => r.resources,
    // One resource per line keeps the table narrow; the others are counted.
    cell: (r) =>
      r.resources.length > 1
        ? `${tableArn(r.resources[0], 56)} (+${r.resources.length - 1} more)`
        : tableArn(r.resources, 56),
  },
  { field: 'outcome', header: 'outcome', value: (r) => r.outcome },
  { field: 'traceId', header: 'trace id', value: (r) => r.traceId },
  { field: 'actions', header: 'actions', value: (r) => r.actions },
  { field: 'region', header: 'region', value: (r) => r.region },
  { field: 'account', header: 'account', value: (r) => r.account },
  { field: 'httpStatus', header: 'http', value: (r) => r.httpStatus },
  { field: 'errorType', header: 'error', value: (r) => r.errorType },
  { field: 'durationMs', header: 'ms', value: (r) => r.durationMs },
  { field: 'workloadKey', header: 'workload key', value: (r) => r.workloadKey },
  { field: 'workloadKind', header: 'kind', value: (r) => r.workloadKind },
  { field: 'serviceName', header: 'service name', value: (r) => r.serviceName },
  { field: 'mapping', header: 'mapping', value: (r) => r.mapping },
  { field: 'via', header: 'via', value: (r) => r.via },
]);

// The table keeps to what the issue asks for; JSON and CSV carry every field.
const TABLE_FIELDS = new Set(['time', 'workload', 'service', 'operation', 'resources', 'outcome', 'traceId']);

/** Parses `--limit`: a whole number from 1 to {@link MAX_CALLS_LIMIT}. */
export function parseLimit(text: string | undefined): number {
  if (text === undefined) return 100;
  if (!/^\d+$/.test(text.trim()) || Number(text) < 1 || Number(text) > MAX_CALLS_LIMIT)
    throw new UserInputError(
      `--limit ${JSON.stringify(text)} must be a whole number from 1 to ${MAX_CALLS_LIMIT}.`,
    );
  return Number(text);
}

/** Registers `xray-lp calls`. */
export function registerCalls(program: Command, { io }: CommandContext): void {
  const cmd = program
    .command('calls')
    .description('individual AWS calls, newest first')
    .option('--limit <n>', 'at most this many calls (default 100)');
  addFormatOptions(addFilterOptions(cmd)).action(
    (opts: RawFilterOptions & { json?: boolean; csv?: boolean; limit?: string }, c: Command) => {
      const format = outputFormat(opts);
      const limit = parseLimit(opts.limit);
      const store = openForRead(c, io);
      try {
        const filter = filterFromOptions(opts, store);
        const rows = listCalls(store, { filter, limit });
        const columns =
          format === 'table' ? CALL_COLUMNS.filter((col) => TABLE_FIELDS.has(col.field)) : CALL_COLUMNS;
        emit(io, format, columns, rows, tableWidth(c, io), () => explainEmpty(store, filter, 'calls'));
        if (format === 'table' && rows.length === limit)
          io.err(`(showing the newest ${limit}; raise --limit or narrow the filter for more)\n`);
      } finally {
        store.close();
      }
    },
  );
}
