/**
 * The rollups: per workload and UTC day, sums of the calls that queries read instead of the calls
 * themselves. Each rollup is defined once, here, as an aggregation over calls; every statement
 * that maintains or reads one is generated from that definition:
 * - ingest adds the calls it has just inserted ({@link addCallsSql}), or recomputes the
 *   (workload, day) pairs it touched otherwise ({@link rebuildTouchedSql});
 * - a migration or a benchmark database rebuilds them all ({@link rebuildRollups});
 * - the usage reader (usage.ts) computes the same rows from calls for the partial days at the
 *   ends of a range ({@link aggregateSql}).
 *
 * Only calls with a workload are rolled up: unattributed calls are few and read from calls.
 */
import { DAY } from '../shared/time.js';
import type { Store } from './db.js';

/** A value column: its aggregate over calls, its value for one call, and how two partial rows combine. */
export interface RollupValue {
  readonly column: string;
  /** Aggregate over the rows of `calls c` (and the rollup's join). */
  readonly expr: string;
  /** How two partial rows of the same key combine. */
  readonly combine: 'sum' | 'min' | 'max';
}

/** One rollup table, keyed by `(workload_id, day, ...keys)`. */
export interface Rollup {
  readonly table: string;
  /** Key columns after `workload_id` and `day`, each with its expression over calls. */
  readonly keys: readonly { readonly column: string; readonly expr: string }[];
  readonly values: readonly RollupValue[];
  /** A join the expressions need after `calls c`. */
  readonly join?: string;
}

/** The UTC day number of an epoch-seconds column, in SQL. */
export function daySql(column: string, unit: number = DAY): string {
  return `CAST(floor(${column} / ${unit}.0) AS INTEGER)`;
}

const sum = (column: string, expr: string): RollupValue => ({ column, expr, combine: 'sum' });

/** Per workload and day: activity totals, and distinct traces (which only calls can give otherwise). */
export const WORKLOAD_DAYS: Rollup = {
  table: 'workload_days',
  keys: [],
  values: [
    sum('calls', 'count(*)'),
    // Adding two partial counts is exact only for disjoint traces: ingest adds new calls this way
    // only when their traces were first stored with them, and recomputes the day otherwise.
    sum('traces', 'count(DISTINCT c.trace_id)'),
    sum('denied', "sum(c.outcome = 'denied')"),
    sum('errors', "sum(c.outcome = 'error')"),
    sum('faults', "sum(c.outcome = 'fault')"),
    sum('throttles', "sum(c.outcome = 'throttle')"),
    { column: 'first_time', expr: 'min(c.start_time)', combine: 'min' },
    { column: 'last_time', expr: 'max(c.start_time)', combine: 'max' },
  ],
};

/** Per workload, day, target and outcome: everything a usage query needs below the workload. */
export const WORKLOAD_DAY_TARGETS: Rollup = {
  table: 'workload_day_targets',
  keys: [
    { column: 'target_id', expr: 'c.target_id' },
    { column: 'outcome', expr: 'c.outcome' },
  ],
  values: [
    sum('calls', 'count(*)'),
    { column: 'first_time', expr: 'min(c.start_time)', combine: 'min' },
    { column: 'last_time', expr: 'max(c.start_time)', combine: 'max' },
    // Sample trace ids as text, the smallest and the largest: keys (schema v3) follow arrival order.
    { column: 'trace_min', expr: 'min(tr.xray_id)', combine: 'min' },
    { column: 'trace_max', expr: 'max(tr.xray_id)', combine: 'max' },
  ],
  join: 'JOIN traces tr ON tr.id = c.trace_id',
};

/** Per workload, day and IAM action: distinct actions over whole days without reading targets. */
export const WORKLOAD_DAY_ACTIONS: Rollup = {
  table: 'workload_day_actions',
  join: 'JOIN target_permissions tp ON tp.target_id = c.target_id',
  keys: [{ column: 'action', expr: 'tp.action' }],
  values: [sum('calls', 'count(*)')],
};

/** Every rollup ingest maintains. */
export const ROLLUPS: readonly Rollup[] = [WORKLOAD_DAYS, WORKLOAD_DAY_TARGETS, WORKLOAD_DAY_ACTIONS];

/** The columns of a rollup table, in order. */
export function rollupColumns(r: Rollup): string[] {
  return ['workload_id', 'day', ...r.keys.map((k) => k.column), ...r.values.map((v) => v.column)];
}

/**
 * The rollup's rows computed from the calls that `from` and `where` select (`from` names the
 * calls `c`), grouped by `unit`-second buckets (a day unless said), as `SELECT` text whose
 * columns are {@link rollupColumns}.
 */
export function aggregateSql(r: Rollup, from: string, where: string, unit: number = DAY): string {
  const keys = r.keys.map((k) => `${k.expr} AS ${k.column}`);
  const values = r.values.map((v) => `${v.expr} AS ${v.column}`);
  const groups = ['1', '2', ...r.keys.map((_k, i) => String(i + 3))];
  return `SELECT c.workload_id AS workload_id, ${daySql('c.start_time', unit)} AS day, ${[...keys, ...values].join(', ')}
    FROM ${from} ${r.join ?? ''} WHERE ${where} GROUP BY ${groups.join(', ')}`;
}

function combineSql(v: RollupValue): string {
  if (v.combine === 'sum') return `${v.column} = ${v.column} + excluded.${v.column}`;
  return `${v.column} = ${v.combine}(${v.column}, excluded.${v.column})`;
}

/** Adds the rows of the selected calls to what the rollup holds (ingest's new calls). */
export function addCallsSql(r: Rollup, from: string, where: string): string {
  const pk = ['workload_id', 'day', ...r.keys.map((k) => k.column)];
  return `INSERT INTO ${r.table} (${rollupColumns(r).join(', ')})
    ${aggregateSql(r, from, where)}
    ON CONFLICT (${pk.join(', ')}) DO UPDATE SET ${r.values.map(combineSql).join(', ')}`;
}

/**
 * Recomputes the rollup for the (workload, day) pairs listed in `temp.touched_days`: two
 * statements, delete then insert. CROSS JOIN keeps the touched pairs outermost, walking the
 * (workload, time) index for each; the planner would otherwise scan calls.
 */
export function rebuildTouchedSql(r: Rollup): [string, string] {
  const from = `temp.touched_days t CROSS JOIN calls c INDEXED BY calls_workload_time
    ON c.workload_id = t.workload_id AND c.start_time >= t.day * ${DAY}.0 AND c.start_time < (t.day + 1) * ${DAY}.0`;
  return [
    `DELETE FROM ${r.table} WHERE (workload_id, day) IN (SELECT workload_id, day FROM temp.touched_days)`,
    `INSERT INTO ${r.table} (${rollupColumns(r).join(', ')}) ${aggregateSql(r, from, '1')}`,
  ];
}

/** Recomputes every rollup from all calls (migrations, synthetic benchmark databases). */
export function rebuildRollups(db: Store): void {
  for (const r of ROLLUPS) {
    db.exec(`DELETE FROM ${r.table}`);
    db.exec(
      `INSERT INTO ${r.table} (${rollupColumns(r).join(', ')}) ${aggregateSql(r, 'calls c', 'c.workload_id IS NOT NULL')}`,
    );
  }
}
