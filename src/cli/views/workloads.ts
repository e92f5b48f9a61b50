/** The workloads table (`workloads`, `demo`): its columns and how it fits the terminal. */
import type { Completeness } from '../../policy/completeness.js';
import { type WorkloadRow } from '../../query/workloads.js';
import { renderTable, tableArn, tableTime, withFit, type FitOrder, type OutputColumn } from '../output.js';
import { int, shorten } from '../render.js';

/**
 * How the workloads table fits the terminal: names and ARNs are shortened first, then columns
 * are hidden in this order (account and region are in the ARN). The name, and calls and denied
 * (the figures a reviewer reads the table for), are always shown.
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
    'distinctActions',
  ],
  shorten: { name: 20, key: 32 },
};

/**
 * When two rows share a name (the same function in two accounts or regions), what tells them
 * apart is never hidden: kind, account and region.
 */
export const WORKLOAD_FIT_NAMES_COLLIDE: FitOrder = {
  ...WORKLOAD_FIT,
  hide: WORKLOAD_FIT.hide.filter((f) => f !== 'account' && f !== 'region' && f !== 'kind'),
};

const BASE_COLUMNS: OutputColumn<WorkloadRow>[] = [
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
];

/** The `workloads` columns: table headers and CSV fields (the JSON fields of {@link WorkloadRow}). */
export const WORKLOAD_COLUMNS: OutputColumn<WorkloadRow>[] = withFit(WORKLOAD_FIT, BASE_COLUMNS);

/** True when two rows share a name: then the table keeps what tells them apart. */
function namesCollide(rows: readonly { name: string }[]): boolean {
  return new Set(rows.map((r) => r.name)).size < rows.length;
}

/** The columns for `rows`: {@link WORKLOAD_COLUMNS}, fitted by what tells rows apart. */
export function workloadColumns<R extends WorkloadRow>(
  rows: readonly R[],
  completeness = false,
): OutputColumn<R>[] {
  const fit = namesCollide(rows) ? WORKLOAD_FIT_NAMES_COLLIDE : WORKLOAD_FIT;
  const base = BASE_COLUMNS as OutputColumn<R>[];
  if (!completeness) return withFit(fit, base);
  // Asked for: hidden last, placed after `denied`.
  return withFit({ ...fit, hide: [...fit.hide, 'completeness'] }, [
    ...base.slice(0, -2),
    {
      field: 'completeness',
      header: 'completeness',
      value: (r) => (r as unknown as RowWithCompleteness).completeness?.verdict ?? null,
    },
    ...base.slice(-2),
  ]);
}

/** A workload with its completeness (`workloads --completeness`; null without a policy: no mapped call). */
type RowWithCompleteness = WorkloadRow & { completeness: Completeness | null };

/** The workloads table (also printed by `demo`), fitted to `width` when given. */
export function renderWorkloads(rows: WorkloadRow[], width?: number): string {
  if (rows.length === 0) return 'No workloads recorded. Run `xray-lp ingest <dump>` first.\n';
  return renderTable(workloadColumns(rows), rows, width);
}
