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
import { DAY, dayOf } from '../shared/time.js';
import type { Store } from './db.js';

/**
 * What a rollup reads of one call (and of the row its join adds), as the writer knows it when it
 * inserts the call: the per-call form of the rollup's SQL expressions (see {@link CallField}).
 */
export interface RollupCall {
  readonly workloadId: number;
  readonly startTime: number;
  /** The trace's integer key (`calls.trace_id`). */
  readonly traceKey: number;
  /** The trace's id as text (`traces.xray_id`). */
  readonly traceId: string;
  readonly targetId: number;
  readonly outcome: string;
}

/** A row a rollup aggregates: a call, with the IAM action its permissions join adds. */
export interface RollupRow extends RollupCall {
  readonly action?: string;
}

/** One field a rollup reads: its SQL over `calls c` (and the join), and its value in a {@link RollupRow}. */
export interface CallField {
  readonly sql: string;
  readonly of: (row: RollupRow) => number | string;
}

/** The fields the rollups read, each defined once in both forms. */
export const FIELDS = {
  startTime: { sql: 'c.start_time', of: (r) => r.startTime },
  traceKey: { sql: 'c.trace_id', of: (r) => r.traceKey },
  traceId: { sql: 'tr.xray_id', of: (r) => r.traceId },
  targetId: { sql: 'c.target_id', of: (r) => r.targetId },
  outcome: { sql: 'c.outcome', of: (r) => r.outcome },
  action: { sql: 'tp.action', of: (r) => r.action ?? '' },
} as const satisfies Record<string, CallField>;

/**
 * How a value aggregates its rows, from which both its SQL expression and its per-row form are
 * generated: every row; the distinct values of a field; the rows whose field equals a literal;
 * a field's smallest or largest value.
 */
export type Measure =
  | { readonly kind: 'count' }
  | { readonly kind: 'distinct'; readonly field: CallField }
  | { readonly kind: 'countIf'; readonly field: CallField; readonly equals: string }
  | { readonly kind: 'min' | 'max'; readonly field: CallField };

/** A value column: its aggregate over calls, its value for one call, and how two partial rows combine. */
export interface RollupValue {
  readonly column: string;
  /** Aggregate over the rows of `calls c` (and the rollup's join). */
  readonly expr: string;
  /** How two partial rows of the same key combine. */
  readonly combine: 'sum' | 'min' | 'max';
  /** The same aggregate, from which `expr` is generated and which the writer applies per call. */
  readonly measure: Measure;
}

/** A key column after `workload_id` and `day`: its expression over calls and its field. */
export interface RollupKey {
  readonly column: string;
  readonly expr: string;
  readonly field: CallField;
}

/**
 * The rows a rollup's join gives a call: the call itself (a join that adds one row per call), or
 * one row per IAM permission of its target (`target_permissions`, as many rows as it holds).
 */
export type RollupJoin = 'trace' | 'permissions';

/** One rollup table, keyed by `(workload_id, day, ...keys)`. */
export interface Rollup {
  readonly table: string;
  /** Key columns after `workload_id` and `day`, each with its expression over calls. */
  readonly keys: readonly RollupKey[];
  readonly values: readonly RollupValue[];
  /** A join the expressions need after `calls c`. */
  readonly join?: string;
  /** What that join is, for the per-call form. */
  readonly joins?: RollupJoin;
}

/** The UTC day number of an epoch-seconds column, in SQL. */
export function daySql(column: string, unit: number = DAY): string {
  return `CAST(floor(${column} / ${unit}.0) AS INTEGER)`;
}

/** A value and its SQL expression, generated from its measure. */
function value(column: string, measure: Measure): RollupValue {
  switch (measure.kind) {
    case 'count':
      return { column, expr: 'count(*)', combine: 'sum', measure };
    case 'distinct':
      return { column, expr: `count(DISTINCT ${measure.field.sql})`, combine: 'sum', measure };
    case 'countIf':
      return { column, expr: `sum(${measure.field.sql} = '${measure.equals}')`, combine: 'sum', measure };
    default:
      return { column, expr: `${measure.kind}(${measure.field.sql})`, combine: measure.kind, measure };
  }
}

const count = (column: string): RollupValue => value(column, { kind: 'count' });
const countIf = (column: string, field: CallField, equals: string): RollupValue =>
  value(column, { kind: 'countIf', field, equals });
const least = (column: string, field: CallField): RollupValue => value(column, { kind: 'min', field });
const greatest = (column: string, field: CallField): RollupValue => value(column, { kind: 'max', field });
const key = (column: string, field: CallField): RollupKey => ({ column, expr: field.sql, field });

/** The SQL of each join (after `calls c`). */
const JOIN_SQL: Record<RollupJoin, string> = {
  trace: 'JOIN traces tr ON tr.id = c.trace_id',
  permissions: 'JOIN target_permissions tp ON tp.target_id = c.target_id',
};

/** Per workload and day: activity totals, and distinct traces (which only calls can give otherwise). */
export const WORKLOAD_DAYS: Rollup = {
  table: 'workload_days',
  keys: [],
  values: [
    count('calls'),
    // Adding two partial counts is exact only for disjoint traces: ingest adds new calls this way
    // only when their traces were first stored with them, and recomputes the day otherwise.
    value('traces', { kind: 'distinct', field: FIELDS.traceKey }),
    countIf('denied', FIELDS.outcome, 'denied'),
    countIf('errors', FIELDS.outcome, 'error'),
    countIf('faults', FIELDS.outcome, 'fault'),
    countIf('throttles', FIELDS.outcome, 'throttle'),
    least('first_time', FIELDS.startTime),
    greatest('last_time', FIELDS.startTime),
  ],
};

/** Per workload, day, target and outcome: everything a usage query needs below the workload. */
export const WORKLOAD_DAY_TARGETS: Rollup = {
  table: 'workload_day_targets',
  keys: [key('target_id', FIELDS.targetId), key('outcome', FIELDS.outcome)],
  values: [
    count('calls'),
    least('first_time', FIELDS.startTime),
    greatest('last_time', FIELDS.startTime),
    // Sample trace ids as text, the smallest and the largest: keys (schema v3) follow arrival order.
    least('trace_min', FIELDS.traceId),
    greatest('trace_max', FIELDS.traceId),
  ],
  join: JOIN_SQL.trace,
  joins: 'trace',
};

/** Per workload, day and IAM action: distinct actions over whole days without reading targets. */
export const WORKLOAD_DAY_ACTIONS: Rollup = {
  table: 'workload_day_actions',
  join: JOIN_SQL.permissions,
  joins: 'permissions',
  keys: [key('action', FIELDS.action)],
  values: [count('calls')],
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

/**
 * Orders two strings as SQLite's BINARY collation orders their UTF-8 bytes, i.e. by code point
 * (a lone surrogate, stored as its own three bytes, by its own value), where `<` compares UTF-16
 * units and puts U+10000 and above before U+E000–U+FFFF.
 */
export function compareBinary(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  // Inside a pair both share its high half: compare from there, whole code points.
  const prev = i > 0 ? a.charCodeAt(i - 1) : 0;
  if (prev >= 0xd800 && prev <= 0xdbff) i--;
  return (a.codePointAt(i) as number) - (b.codePointAt(i) as number);
}

/** A partial row of one rollup key: its columns in {@link rollupColumns} order, and its distinct sets. */
interface PartialRow {
  readonly row: (number | string)[];
  readonly sets: Set<number | string>[] | undefined;
}

/** A mutable {@link RollupRow}: one per batch, refilled for each row added (no object per call). */
interface CurrentRow {
  workloadId: number;
  startTime: number;
  traceKey: number;
  traceId: string;
  targetId: number;
  outcome: string;
  action: string;
}

/**
 * The rollup additions of a batch of new calls, aggregated in JavaScript: one row per rollup key,
 * each the same as {@link aggregateSql} gives over those calls, to be added to what is stored
 * with {@link upsertRowSql}. `actionsOf` gives a target's IAM actions, one per
 * `target_permissions` row (the permissions join). Every figure comes from the rollup's
 * definitions above; only the grouping is here.
 */
export class RollupBatch {
  private readonly groups: Map<string, PartialRow>[];
  private readonly cur: CurrentRow = {
    workloadId: 0,
    startTime: 0,
    traceKey: 0,
    traceId: '',
    targetId: 0,
    outcome: '',
    action: '',
  };
  private calls = 0;

  constructor(
    private readonly actionsOf: (targetId: number) => readonly string[],
    private readonly rollups: readonly Rollup[] = ROLLUPS,
  ) {
    this.groups = rollups.map(() => new Map());
  }

  /** New calls added since the last {@link RollupBatch.clear}. */
  get size(): number {
    return this.calls;
  }

  /** Adds one new call (with a workload) to every rollup. */
  add(call: RollupCall): void {
    this.calls++;
    const cur = this.cur;
    cur.workloadId = call.workloadId;
    cur.startTime = call.startTime;
    cur.traceKey = call.traceKey;
    cur.traceId = call.traceId;
    cur.targetId = call.targetId;
    cur.outcome = call.outcome;
    cur.action = '';
    const prefix = `${call.workloadId}|${dayOf(call.startTime)}`;
    for (let i = 0; i < this.rollups.length; i++) {
      const r = this.rollups[i] as Rollup;
      const groups = this.groups[i] as Map<string, PartialRow>;
      if (r.joins !== 'permissions') this.addRow(r, groups, prefix);
      else
        for (const action of this.actionsOf(call.targetId)) {
          cur.action = action;
          this.addRow(r, groups, prefix);
        }
    }
  }

  private addRow(r: Rollup, groups: Map<string, PartialRow>, prefix: string): void {
    const cur = this.cur;
    // Numbers print without `:`, strings are length-prefixed: no two keys share a text.
    let id = prefix;
    for (let k = 0; k < r.keys.length; k++) {
      const v = (r.keys[k] as RollupKey).field.of(cur);
      id += typeof v === 'number' ? `|${v}` : `|${v.length}:${v}`;
    }
    const partial = groups.get(id);
    if (partial === undefined) {
      groups.set(id, this.start(r));
      return;
    }
    const row = partial.row;
    const at = 2 + r.keys.length;
    for (let j = 0; j < r.values.length; j++) {
      const m = (r.values[j] as RollupValue).measure;
      switch (m.kind) {
        case 'count':
          row[at + j] = (row[at + j] as number) + 1;
          break;
        case 'countIf':
          if (m.field.of(cur) === m.equals) row[at + j] = (row[at + j] as number) + 1;
          break;
        case 'distinct': {
          const set = (partial.sets as Set<number | string>[])[j] as Set<number | string>;
          set.add(m.field.of(cur));
          row[at + j] = set.size;
          break;
        }
        default: {
          const x = m.field.of(cur);
          const was = row[at + j] as number | string;
          const order = typeof x === 'number' ? x - (was as number) : compareBinary(x, was as string);
          if (m.kind === 'min' ? order < 0 : order > 0) row[at + j] = x;
        }
      }
    }
  }

  /** The partial row of a key first met: the current row's own aggregate. */
  private start(r: Rollup): PartialRow {
    const cur = this.cur;
    const row: (number | string)[] = [cur.workloadId, dayOf(cur.startTime)];
    for (const k of r.keys) row.push(k.field.of(cur));
    let sets: Set<number | string>[] | undefined;
    r.values.forEach((v, j) => {
      const m = v.measure;
      if (m.kind === 'count') row.push(1);
      else if (m.kind === 'countIf') row.push(m.field.of(cur) === m.equals ? 1 : 0);
      else if (m.kind === 'distinct') {
        row.push(1);
        sets ??= [];
        sets[j] = new Set([m.field.of(cur)]);
      } else row.push(m.field.of(cur));
    });
    return { row, sets };
  }

  /** The rows of each rollup (in {@link rollupColumns} order), in key order as `GROUP BY` gives them. */
  rows(): { rollup: Rollup; rows: (number | string)[][] }[] {
    return this.rollups.map((rollup, i) => {
      const rows = [...(this.groups[i] as Map<string, PartialRow>).values()].map((p) => p.row);
      const n = 2 + rollup.keys.length;
      rows.sort((a, b) => {
        for (let k = 0; k < n; k++) {
          const x = a[k] as number | string;
          const y = b[k] as number | string;
          if (x === y) continue;
          return typeof x === 'number' ? x - (y as number) : compareBinary(x, y as string);
        }
        return 0;
      });
      return { rollup, rows };
    });
  }

  /** Forgets every call added. */
  clear(): void {
    for (const g of this.groups) g.clear();
    this.calls = 0;
  }
}

/** Adds one partial row (bound in {@link rollupColumns} order) to what the rollup holds. */
export function upsertRowSql(r: Rollup): string {
  const columns = rollupColumns(r);
  const pk = ['workload_id', 'day', ...r.keys.map((k) => k.column)];
  return `INSERT INTO ${r.table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
    ON CONFLICT (${pk.join(', ')}) DO UPDATE SET ${r.values.map(combineSql).join(', ')}`;
}
