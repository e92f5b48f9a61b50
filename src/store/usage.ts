/**
 * The one usage reader. Every command that reports what workloads did over a range (`workloads`,
 * `usage`, `timeline`, `policy`, `compare`, `explain`, `report`) reads it here, in the shape of
 * the rollup rows (rollups.ts): the stored rows for the whole UTC days of the range, and the same
 * rows computed from calls for the partial days at its ends. A range that holds no whole day is
 * computed from calls; so is everything with `source: 'calls'`, which the tests use as the oracle
 * the rollups must agree with.
 *
 * Two things the rollups cannot answer are read from calls, for the whole range, and said so
 * where they are built: distinct traces under a filter finer than the workload (`readWorkloads`),
 * and hour buckets (`unit: HOUR`).
 */
import { DAY } from '../shared/time.js';
import type { Store } from './db.js';
import { compileFilter, workloadIn, type CallFilter } from './filter.js';
import type { WorkloadRecord } from './workloads.js';
import { readOnThread, readRowsOnThread, type ReadSetup, type ReadThreadMode } from './read-thread/index.js';
import {
  aggregateSql,
  rollupColumns,
  WORKLOAD_DAY_ACTIONS,
  WORKLOAD_DAY_TARGETS,
  WORKLOAD_DAYS,
  type Rollup,
} from './rollups.js';

/** Where whole days are read from: the rollups (default), or the calls themselves. */
export type UsageSource = 'rollups' | 'calls';

/** What every read takes: which calls, and where whole days come from. */
export interface UsageScope {
  filter: CallFilter;
  /** `calls` computes every row from calls (the oracle the rollups are tested against). */
  source?: UsageSource;
  /** Whether a large read of permissions runs on worker threads (default `auto`: by database size). */
  thread?: ReadThreadMode;
}

interface Sql {
  sql: string;
  params: unknown[];
}

/** Label of calls whose workload could not be determined. */
export const UNATTRIBUTED = '(unattributed)';

/** A range cut into whole UTC days `[from, to)` (day numbers) and the partial edges around them. */
export interface SplitRange {
  /** Whole days, or undefined when the range holds none. Open ends are undefined. */
  days: { from: number | undefined; to: number | undefined } | undefined;
  /** Partial edges `[since, until)` in epoch seconds, read from calls. */
  edges: [number | undefined, number | undefined][];
}

/** Cuts `[since, until)` into whole UTC days and the partial days at its ends. */
export function splitRange(since: number | undefined, until: number | undefined): SplitRange {
  const from = since === undefined ? undefined : Math.ceil(since / DAY);
  const to = until === undefined ? undefined : Math.floor(until / DAY);
  if (from !== undefined && to !== undefined && from >= to)
    return { days: undefined, edges: [[since, until]] };
  const edges: [number | undefined, number | undefined][] = [];
  if (since !== undefined && from !== undefined && since < from * DAY) edges.push([since, from * DAY]);
  if (until !== undefined && to !== undefined && to * DAY < until) edges.push([to * DAY, until]);
  return { days: { from, to }, edges };
}

/** Conditions on a time column and the filter's workloads and outcomes, for one arm of a union. */
function armWhere(
  alias: string,
  f: CallFilter,
  time: { column: string; from: number | undefined; to: number | undefined },
  outcomeColumn: string | undefined,
): Sql {
  const where: string[] = [];
  const params: unknown[] = [];
  if (time.from !== undefined) {
    where.push(`${alias}.${time.column} >= ?`);
    params.push(time.from);
  }
  if (time.to !== undefined) {
    where.push(`${alias}.${time.column} < ?`);
    params.push(time.to);
  }
  if (f.workloads?.length) {
    const w = workloadIn(alias, f.workloads);
    where.push(w.sql);
    params.push(...w.params);
  }
  if (outcomeColumn && f.outcomes?.length) {
    where.push(`${alias}.${outcomeColumn} IN (${f.outcomes.map(() => '?').join(', ')})`);
    params.push(...f.outcomes);
  }
  return { sql: where.length > 0 ? where.join(' AND ') : '1', params };
}

/** Calls `c`, with the index that serves the filter best once workloads are known. */
function callsFrom(f: CallFilter): string {
  return f.workloads?.length ? 'calls c INDEXED BY calls_workload_time' : 'calls c';
}

/** The arms of a rollup's rows for a scope: stored rows for whole days, computed rows otherwise. */
interface Arms {
  stored: Sql | undefined;
  computed: Sql[];
}

/**
 * The rows of `rollup` for the scope: stored rows for whole days, computed rows for the edges (or
 * for the whole range with `source: 'calls'` or an hour unit). Filters applied here: the range,
 * the workload patterns and (when the rollup has an outcome column) the outcomes.
 */
function arms(
  rollup: Rollup,
  scope: UsageScope,
  o: { unit?: number; unattributed?: boolean; outcomes?: boolean } = {},
): Arms {
  const f = scope.filter;
  const unit = o.unit ?? DAY;
  const outcome = o.outcomes ? 'outcome' : undefined;
  const out: Arms = { stored: undefined, computed: [] };
  const computed = (from: number | undefined, to: number | undefined, attributed: boolean): void => {
    const w = armWhere('c', f, { column: 'start_time', from, to }, outcome);
    const who = attributed ? 'c.workload_id IS NOT NULL' : 'c.workload_id IS NULL';
    out.computed.push({
      sql: aggregateSql(rollup, callsFrom(f), `${who} AND ${w.sql}`, unit),
      params: w.params,
    });
  };
  const range = splitRange(f.since, f.until);
  if (scope.source === 'calls' || unit !== DAY || range.days === undefined) {
    computed(f.since, f.until, true);
  } else {
    const w = armWhere('r', f, { column: 'day', ...range.days }, outcome);
    out.stored = {
      sql: `SELECT ${rollupColumns(rollup).join(', ')} FROM ${rollup.table} r WHERE ${w.sql}`,
      params: w.params,
    };
    for (const [from, to] of range.edges) computed(from, to, true);
  }
  // Unattributed calls are never rolled up (they may be attributed by a later ingest).
  if (o.unattributed && !f.workloads?.length) computed(f.since, f.until, false);
  return out;
}

/** The arms as one relation (`UNION ALL`). */
function union(a: Arms): Sql {
  const all = [...(a.stored ? [a.stored] : []), ...a.computed];
  return { sql: all.map((x) => x.sql).join(' UNION ALL '), params: all.flatMap((x) => x.params) };
}

/** {@link arms} as one relation. */
function rows(
  rollup: Rollup,
  scope: UsageScope,
  o: { unit?: number; unattributed?: boolean; outcomes?: boolean } = {},
): Sql {
  return union(arms(rollup, scope, o));
}

/** True when the filter selects below the workload (what `workload_days` cannot answer). */
function finerThanWorkload(f: CallFilter): boolean {
  return Boolean(
    f.services?.length ||
    f.actions?.length ||
    f.resources?.length ||
    f.regions?.length ||
    f.accounts?.length ||
    f.outcomes?.length,
  );
}

/** The joins the filter's conditions need beyond the rows `f`: targets `t` and workloads `w`. */
function joinsFor(f: CallFilter): string {
  const t = Boolean(f.services?.length || f.regions?.length || f.accounts?.length);
  const w = Boolean(f.regions?.length || f.accounts?.length || f.excludeWorkloads?.length);
  return `${t ? 'JOIN targets t ON t.id = f.target_id' : ''} ${w ? 'JOIN workloads w ON w.id = f.workload_id' : ''}`;
}

/** The filter's conditions on targets `t`, workloads `w` and (optionally) permissions `tp`. */
function outerWhere(f: CallFilter, permissions: string | undefined): Sql {
  const c = compileFilter(
    { ...f, since: undefined, until: undefined, outcomes: undefined, workloads: undefined },
    { calls: 'f', targets: 't', workloads: 'w', ...(permissions ? { permissions } : {}) },
  );
  return { sql: c.where, params: c.params };
}

/* ------------------------------------------------------------------ permissions (policy, compare) */

/** The totals of one (action, resource) permission: what a grant and its evidence are built from. */
export interface PermissionTotals {
  action: string;
  resource: string;
  resourceType: string | null;
  resourceUnknown: boolean;
  calls: number;
  denied: number;
  /** Epoch seconds of the first and last call. */
  first: number;
  last: number;
  /** The smallest and largest trace id among the calls (samples for the evidence; empty when unknown). */
  traceMin: string;
  traceMax: string;
}

/** Usage of one (action, resource) permission by one subject (a workload, or a caller's group of them). */
export interface PermissionUsage extends PermissionTotals {
  /** The workload id, or the subject number given in `subjects`. */
  subject: number;
  /** With `members`: the workloads of the subject whose calls needed it. */
  members?: number[];
}

/**
 * The order of a subject's permissions: by action then resource (the default), or by resource
 * then action (policies: each resource's actions together, so that S3 keys fold as they come).
 */
export type PermissionOrder = 'action' | 'resource';

/** Options of {@link readPermissions}. */
export interface ReadPermissionsOptions extends UsageScope {
  /** Leave out denied calls. */
  excludeDenied?: boolean;
  /** Within a subject (default `action`); either way in SQLite's order (UTF-8 bytes). */
  order?: PermissionOrder;
  /**
   * Workload id → subject number: rows are summed per subject and ordered by its number (so that
   * a caller can stream one subject at a time in its own order). Workloads not in the map are
   * left out. Without it, each workload is its own subject, ordered by id.
   */
  subjects?: ReadonlyMap<number, number>;
  /** Also say which workloads of each subject needed each permission. */
  members?: boolean;
}

/**
 * The permissions the selected calls needed, per subject, action and resource, ordered by subject
 * and then by `o.order`: one grouped read for every subject, consumed one row at a time. Nothing
 * is held per row: whole days and partial days are two sorted reads merged as they come.
 */
export function* readPermissions(store: Store, o: ReadPermissionsOptions): Generator<PermissionUsage> {
  const f = o.excludeDenied
    ? {
        ...o.filter,
        outcomes: (o.filter.outcomes ?? ['ok', 'error', 'fault', 'throttle']).filter((x) => x !== 'denied'),
      }
    : o.filter;
  const parts = arms(WORKLOAD_DAY_TARGETS, { ...o, filter: f }, { outcomes: true });
  const outer = outerWhere(f, 'tp');
  const threaded = readOnThread(store, o.thread);
  const setup: ReadSetup[] = [];
  if (o.subjects) {
    const create = [
      'CREATE TEMP TABLE IF NOT EXISTS usage_subjects (workload_id INTEGER PRIMARY KEY, subject INTEGER NOT NULL)',
      'CREATE INDEX IF NOT EXISTS temp.usage_subjects_by ON usage_subjects (subject, workload_id)',
    ].join('; ');
    const insert = 'INSERT INTO temp.usage_subjects (workload_id, subject) VALUES (?, ?)';
    store.exec(create);
    store.exec('DELETE FROM temp.usage_subjects');
    const add = store.prepare(insert);
    for (const [workload, n] of o.subjects) add.run(workload, n);
    // A worker's connection has its own temporary tables: it fills its copy.
    if (threaded) setup.push({ create, insert, rows: [...o.subjects] });
  }
  const byResource = o.order === 'resource';
  const who = o.subjects ? 's.subject' : 'f.workload_id';
  const keys = byResource ? `${who}, tp.resource, tp.action` : `${who}, tp.action, tp.resource`;
  const columns = `${who}, tp.action, tp.resource, min(tp.resource_type), min(tp.resource_unknown), sum(f.calls),
    sum(CASE WHEN f.outcome = 'denied' THEN f.calls ELSE 0 END), min(f.first_time), max(f.last_time),
    min(f.trace_min), max(f.trace_max) ${o.members ? ', group_concat(DISTINCT f.workload_id)' : ''}`;
  /**
   * The grouped read of `facts`; `one` reads a single subject (its number the last parameter),
   * from the subject's workloads outwards: an index range per workload, and a sort in memory.
   * `json` gives each row as one JSON array (text): what a read worker posts, built by SQLite
   * instead of as values then `JSON.stringify` (SQLite writes doubles that read back exactly).
   */
  const sqlOf = (facts: Sql, one: boolean, json: boolean): string =>
    `SELECT ${json ? `json_array(${columns})` : columns}
     FROM ${
       !o.subjects
         ? `(${facts.sql}) f`
         : one
           ? `temp.usage_subjects s CROSS JOIN (${facts.sql}) f ON f.workload_id = s.workload_id`
           : `(${facts.sql}) f JOIN temp.usage_subjects s ON s.workload_id = f.workload_id`
     } ${joinsFor(f)}
     JOIN target_permissions tp ON tp.target_id = f.target_id
     WHERE ${outer.sql} ${one ? 'AND s.subject = ?' : ''}
     GROUP BY ${keys}
     ORDER BY ${keys}`;
  // Raw rows (arrays): a policy read returns one row per permission, hundreds of thousands at 10M
  // calls, and building an object per row costs about a third of the read.
  const read = (facts: Sql, large: boolean): IterableIterator<PermissionRow> => {
    const params = [...facts.params, ...outer.params];
    // Stored rows of many subjects are read one subject at a time, in order: the first rows
    // come at once instead of after a sort of every row of the range (which spilled to files),
    // and the whole read costs less (docs/performance.md, "Every policy on two cores").
    const each =
      o.subjects && facts === parts.stored ? [...new Set(o.subjects.values())].sort((x, y) => x - y) : [];
    // A large read runs on worker threads (read-thread/), overlapping what the caller builds:
    // the stored rows of many subjects, or of every workload. One subject or a few named
    // workloads read here, where no worker has to start (40 ms).
    if (threaded && large && (each.length > 1 || (each.length === 0 && !f.workloads?.length))) {
      // This connection waits while the workers read: its page cache is given back first.
      store.pragma('shrink_memory');
      return readRowsOnThread(store, {
        sql: sqlOf(facts, each.length > 0, true),
        params,
        setup,
        each,
      }) as IterableIterator<PermissionRow>;
    }
    const statement = store.prepare(sqlOf(facts, each.length > 0, false)).raw(true);
    if (each.length === 0) return statement.iterate(...params) as IterableIterator<PermissionRow>;
    return (function* () {
      for (const n of each) yield* statement.iterate(...params, n) as IterableIterator<PermissionRow>;
    })();
  };
  if (!parts.stored || parts.computed.length === 0) {
    for (const r of read(parts.stored && parts.computed.length === 0 ? parts.stored : union(parts), true))
      yield permission(r);
    return;
  }
  // Whole days and edges read apart and merged in order, equal permissions summed: a UNION ALL
  // of the two cannot be flattened into the grouped query, and passing every stored row through
  // it cost a fifth of the read (1.2 µs a row at 10M calls). Both reads are in the same order,
  // so the merge holds one row of each.
  const [second, third] = byResource ? [2, 1] : [1, 2];
  const compare = (a: PermissionRow, b: PermissionRow): number =>
    a[0] - b[0] ||
    compareUtf8(a[second] as string, b[second] as string) ||
    compareUtf8(a[third] as string, b[third] as string);
  const stored = read(parts.stored, true);
  const edges = read(union({ stored: undefined, computed: parts.computed }), false);
  let s = stored.next();
  let e = edges.next();
  while (s.done !== true || e.done !== true) {
    if (e.done === true) {
      yield permission(s.value as PermissionRow);
      s = stored.next();
    } else if (s.done === true) {
      yield permission(e.value);
      e = edges.next();
    } else {
      const c = compare(s.value, e.value);
      if (c < 0) {
        yield permission(s.value);
        s = stored.next();
      } else if (c > 0) {
        yield permission(e.value);
        e = edges.next();
      } else {
        yield combine(permission(s.value), permission(e.value));
        s = stored.next();
        e = edges.next();
      }
    }
  }
}

/**
 * SQLite's text order (BINARY: the UTF-8 bytes), which is code-point order, from UTF-16 strings:
 * at the first differing code unit, surrogates (U+10000 and above) sort after U+E000–U+FFFF.
 */
export function compareUtf8(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x += x < 0xe000 ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y < 0xe000 ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/** A raw row of {@link readPermissions}' query. */
type PermissionRow = [
  number,
  string,
  string,
  string | null,
  number,
  number,
  number,
  number,
  number,
  string,
  string,
  string?,
];

function permission(r: PermissionRow): PermissionUsage {
  const p: PermissionUsage = {
    subject: r[0],
    action: r[1],
    resource: r[2],
    resourceType: r[3],
    resourceUnknown: r[4] === 1,
    calls: r[5],
    denied: r[6],
    first: r[7],
    last: r[8],
    traceMin: r[9],
    traceMax: r[10],
  };
  if (r[11] !== undefined && r[11] !== null) p.members = r[11].split(',').map(Number);
  return p;
}

/** Two reads of one permission summed as SQL would have (trace ids are ASCII: `<` is SQLite's order). */
function combine(a: PermissionUsage, b: PermissionUsage): PermissionUsage {
  const out: PermissionUsage = {
    ...a,
    resourceType:
      a.resourceType === null || (b.resourceType !== null && b.resourceType < a.resourceType)
        ? b.resourceType
        : a.resourceType,
    resourceUnknown: a.resourceUnknown && b.resourceUnknown,
    calls: a.calls + b.calls,
    denied: a.denied + b.denied,
    first: Math.min(a.first, b.first),
    last: Math.max(a.last, b.last),
    traceMin: b.traceMin < a.traceMin ? b.traceMin : a.traceMin,
    traceMax: b.traceMax > a.traceMax ? b.traceMax : a.traceMax,
  };
  if (a.members || b.members)
    out.members = [...new Set([...(a.members ?? []), ...(b.members ?? [])])].sort((x, y) => x - y);
  return out;
}

/** Calls of one workload that map to no IAM action, grouped by what was called. */
export interface UnmappedUsage {
  workloadId: number;
  serviceName: string;
  operation: string | null;
  reason: string | null;
  calls: number;
}

/** Calls whose permission is unknown, per workload and what was called (action and resource filters do not apply). */
export function readUnmapped(store: Store, scope: UsageScope): UnmappedUsage[] {
  const f = { ...scope.filter, actions: undefined, resources: undefined };
  const facts = rows(WORKLOAD_DAY_TARGETS, { ...scope, filter: f }, { outcomes: true });
  const outer = outerWhere(f, undefined);
  // Unmapped targets are few: select their rows first, then look up what was called.
  return store
    .prepare(
      `SELECT f.workload_id AS workloadId, t.service_name AS serviceName, t.operation, t.mapping_reason AS reason, sum(f.calls) AS calls
       FROM (${facts.sql}) f JOIN targets t ON t.id = f.target_id ${f.regions?.length || f.accounts?.length || f.excludeWorkloads?.length ? 'JOIN workloads w ON w.id = f.workload_id' : ''}
       WHERE f.target_id IN (SELECT id FROM targets WHERE mapping = 'unmapped') AND ${outer.sql}
       GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`,
    )
    .all(...facts.params, ...outer.params) as UnmappedUsage[];
}

/* ------------------------------------------------------------------ workloads */

/** A workload with its totals over the scope (`workloads` lists these). */
export interface WorkloadUsage extends WorkloadRecord {
  /** Qualifiers, cluster, origin… as recorded (JSON). */
  attrs: string;
  calls: number;
  /** Distinct traces with a selected call, counted per UTC day and summed. */
  traces: number;
  denied: number;
  errors: number;
  faults: number;
  throttles: number;
  first: number | null;
  last: number | null;
  /** UTC days with a selected call. */
  days: number;
  /** Distinct IAM actions the selected calls needed. */
  actions: number;
}

/**
 * Every workload with its totals, most calls first. Without a filter every workload is listed,
 * also those with no calls; with one, only workloads with a selected call. Under a filter finer
 * than the workload (service, action, resource, region, account, outcome), distinct traces can
 * only be counted from calls: the whole range is then read from calls.
 */
export function readWorkloads(store: Store, scope: UsageScope): WorkloadUsage[] {
  const f = scope.filter;
  let days: Sql;
  let acts: Sql;
  if (finerThanWorkload(f)) {
    // From calls, with every condition of the filter applied to each call.
    const from = `${callsFrom(f)} JOIN targets t ON t.id = c.target_id JOIN workloads w ON w.id = c.workload_id`;
    const plain = compileFilter({ ...f, workloads: undefined }, { calls: 'c', targets: 't', workloads: 'w' });
    const perm = compileFilter(
      { ...f, workloads: undefined },
      { calls: 'c', targets: 't', workloads: 'w', permissions: 'tp' },
    );
    const w = armWhere(
      'c',
      { workloads: f.workloads },
      { column: 'start_time', from: undefined, to: undefined },
      undefined,
    );
    days = {
      sql: aggregateSql(WORKLOAD_DAYS, from, `${w.sql} AND ${plain.where}`),
      params: [...w.params, ...plain.params],
    };
    acts = {
      sql: aggregateSql(WORKLOAD_DAY_ACTIONS, from, `${w.sql} AND ${perm.where}`),
      params: [...w.params, ...perm.params],
    };
  } else {
    days = rows(WORKLOAD_DAYS, scope);
    acts = rows(WORKLOAD_DAY_ACTIONS, scope);
  }
  const narrowed = f.since !== undefined || f.until !== undefined || finerThanWorkload(f);
  const who = compileFilter(
    { workloads: f.workloads, excludeWorkloads: f.excludeWorkloads },
    { calls: 'x', targets: 't', workloads: 'w' },
  );
  return store
    .prepare(
      `WITH d AS (${days.sql}), a AS (${acts.sql}),
       agg AS (SELECT workload_id, sum(calls) AS calls, sum(traces) AS traces, sum(denied) AS denied, sum(errors) AS errors,
                      sum(faults) AS faults, sum(throttles) AS throttles, min(first_time) AS first, max(last_time) AS last,
                      count(DISTINCT day) AS days
               FROM d GROUP BY workload_id),
       acts AS (SELECT workload_id, count(DISTINCT action) AS n FROM a GROUP BY workload_id)
       SELECT w.id, w.key, w.kind, w.name, w.arn, w.account, w.region, w.attrs,
              coalesce(agg.calls, 0) AS calls, coalesce(agg.traces, 0) AS traces, coalesce(agg.denied, 0) AS denied,
              coalesce(agg.errors, 0) AS errors, coalesce(agg.faults, 0) AS faults, coalesce(agg.throttles, 0) AS throttles,
              agg.first, agg.last, coalesce(agg.days, 0) AS days, coalesce(acts.n, 0) AS actions
       FROM workloads w ${narrowed ? 'JOIN' : 'LEFT JOIN'} agg ON agg.workload_id = w.id LEFT JOIN acts ON acts.workload_id = w.id
       WHERE ${who.where}
       ORDER BY calls DESC, w.key`,
    )
    .all(...days.params, ...acts.params, ...who.params) as WorkloadUsage[];
}

/* ------------------------------------------------------------------ grouped usage */

/** What usage can be grouped by. */
export type UsageDimension =
  | 'workload'
  | 'service'
  | 'action'
  | 'resource'
  | 'operation'
  | 'region'
  | 'account'
  | 'outcome'
  | 'day'
  | 'hour';

/** Label of calls that need no IAM permission (sts:GetCallerIdentity). */
export const NO_PERMISSION = '(no permission needed)';

interface Dimension {
  /** `[SQL expression, result alias]`; the first is what rows are grouped by. */
  columns: [string, string][];
  /** Columns of target_permissions it needs (`tp`). */
  permissions?: ('action' | 'note' | 'resource')[];
}

// The only SQL text a grouping can reach: a fixed map from dimension to expressions over the rows
// `f`, targets `t`, workloads `w` (LEFT JOIN) and permissions `fp` (projected on what is grouped).
const DIMENSIONS: Record<UsageDimension, (unit: number) => Dimension> = {
  workload: () => ({
    columns: [
      ['f.workload_id', 'workloadId'],
      [`coalesce(w.name, '${UNATTRIBUTED}')`, 'workload'],
      ['w.key', 'workloadKey'],
      ['w.kind', 'workloadKind'],
    ],
  }),
  service: () => ({ columns: [[`CASE t.service WHEN '' THEN '(unknown)' ELSE t.service END`, 'service']] }),
  action: () => ({
    permissions: ['action', 'note'],
    columns: [
      [
        // Calls without permissions stay visible: the gap is what the user needs to see.
        `CASE WHEN fp.action IS NOT NULL THEN fp.action
              WHEN t.mapping = 'no-permission' THEN '${NO_PERMISSION}'
              ELSE '(unmapped ' || CASE t.service WHEN '' THEN t.service_name ELSE t.service END
                   || ':' || coalesce(t.operation, '?') || ')' END`,
        'action',
      ],
      [`CASE WHEN fp.action IS NULL THEN t.mapping_reason ELSE fp.note END`, 'note'],
    ],
  }),
  resource: () => ({ permissions: ['resource'], columns: [['fp.resource', 'resource']] }),
  operation: () => ({
    columns: [
      [
        `CASE t.service WHEN '' THEN t.service_name ELSE t.service END || ':' || coalesce(t.operation, '(unknown)')`,
        'operation',
      ],
    ],
  }),
  region: () => ({ columns: [['coalesce(t.region, w.region)', 'region']] }),
  account: () => ({ columns: [['coalesce(t.account, w.account)', 'account']] }),
  outcome: () => ({ columns: [['f.outcome', 'outcome']] }),
  day: (unit) => ({ columns: [[`strftime('%Y-%m-%d', f.day * ${unit}, 'unixepoch')`, 'day']] }),
  hour: (unit) => ({ columns: [[`strftime('%Y-%m-%dT%H:00Z', f.day * ${unit}, 'unixepoch')`, 'hour']] }),
};

/** One group of grouped usage: the dimensions' columns, then the metrics. */
export type UsageGroupRow = Record<string, string | number | null> & {
  calls: number;
  errors: number;
  faults: number;
  throttles: number;
  denied: number;
  first: number;
  last: number;
  traceMin: string;
  traceMax: string;
};

/** Options of {@link readUsage}. */
export interface ReadUsageOptions extends UsageScope {
  groupBy: readonly UsageDimension[];
}

/**
 * Usage grouped by any dimensions, most calls first. A call needing several permissions counts
 * once per distinct value of the permission columns grouped (action, resource), and once in any
 * other group. Unattributed calls are included unless the filter names workloads.
 */
export function readUsage(store: Store, o: ReadUsageOptions): UsageGroupRow[] {
  const unit = o.groupBy.includes('hour') ? 3600 : DAY;
  const dims = o.groupBy.map((d) => DIMENSIONS[d](unit));
  const f = o.filter;
  const facts = rows(WORKLOAD_DAY_TARGETS, o, { unit, unattributed: true, outcomes: true });
  const permCols = [...new Set(dims.flatMap((d) => d.permissions ?? []))];
  const perm = compileFilter(
    { actions: f.actions, resources: f.resources },
    { calls: 'f', targets: 't', workloads: 'w', permissions: 'fp' },
  );
  const hasPermFilter = perm.where !== '1';
  let join = '';
  const params: unknown[] = [...facts.params];
  if (permCols.includes('action') && permCols.includes('resource')) {
    // One row per permission already: no projection needed, only the filter.
    join = `${hasPermFilter ? 'JOIN' : 'LEFT JOIN'} target_permissions fp ON fp.target_id = f.target_id${hasPermFilter ? ` AND ${perm.where}` : ''}`;
    params.push(...perm.params);
  } else if (permCols.length > 0) {
    // Projected on what is grouped, after the permission filter, so that a call counts once per
    // value; only over the targets of the selected rows (the table holds every target ever seen).
    join = `${hasPermFilter ? 'JOIN' : 'LEFT JOIN'} (SELECT DISTINCT fp.target_id, ${permCols.map((c) => `fp.${c}`).join(', ')}
      FROM target_permissions fp WHERE fp.target_id IN (SELECT target_id FROM f) AND ${perm.where}) fp ON fp.target_id = f.target_id`;
    params.push(...perm.params);
  }
  const outer = compileFilter(
    {
      ...f,
      since: undefined,
      until: undefined,
      outcomes: undefined,
      workloads: undefined,
      ...(permCols.length > 0 ? { actions: undefined, resources: undefined } : {}),
    },
    { calls: 'f', targets: 't', workloads: 'w' },
  );
  params.push(...outer.params);
  const columns = dims.flatMap((d) => d.columns);
  // Positions, not names: an alias such as `region` would be ambiguous with t.region and w.region.
  const position = (alias: string): number => columns.findIndex(([, a]) => a === alias) + 1;
  const keys = dims.map((d) => position((d.columns[0] as [string, string])[1]));
  const order = columns.filter(([, a]) => a !== 'workloadId').map(([, a]) => position(a));
  const sql = `WITH f AS (${facts.sql})
    SELECT ${columns.map(([e, a]) => `${e} AS ${a}`).join(', ')},
      sum(f.calls) AS calls, sum(CASE f.outcome WHEN 'error' THEN f.calls ELSE 0 END) AS errors,
      sum(CASE f.outcome WHEN 'fault' THEN f.calls ELSE 0 END) AS faults,
      sum(CASE f.outcome WHEN 'throttle' THEN f.calls ELSE 0 END) AS throttles,
      sum(CASE f.outcome WHEN 'denied' THEN f.calls ELSE 0 END) AS denied,
      min(f.first_time) AS first, max(f.last_time) AS last, min(f.trace_min) AS traceMin, max(f.trace_max) AS traceMax
    FROM f JOIN targets t ON t.id = f.target_id LEFT JOIN workloads w ON w.id = f.workload_id ${join}
    WHERE ${outer.where}
    GROUP BY ${keys.join(', ')}
    ORDER BY ${[`${columns.length + 1} DESC`, ...order].join(', ')}`;
  return store.prepare(sql).all(...params) as UsageGroupRow[];
}

/* ------------------------------------------------------------------ activity (timeline) */

/** Calls in one `unit`-second bucket, by outcome. */
export interface ActivityRow {
  /** The bucket number: epoch seconds / unit, floored. */
  bucket: number;
  calls: number;
  errors: number;
  faults: number;
  throttles: number;
  denied: number;
}

/** One bucket's calls from a row of {@link readUsage} grouped by `by` (its label read back). */
function activityOf(r: UsageGroupRow, by: UsageDimension, unit: number): ActivityRow {
  const label = by === 'day' ? `${String(r.day)}T00:00:00Z` : String(r.hour).replace(/Z$/, ':00Z');
  return {
    bucket: Math.floor(Date.parse(label) / 1000 / unit),
    calls: r.calls,
    errors: r.errors,
    faults: r.faults,
    throttles: r.throttles,
    denied: r.denied,
  };
}

/**
 * Calls per bucket by outcome, oldest first. When the filter is no finer than the workload this
 * reads `workload_days` (one row per workload and day) rather than the target rows under them,
 * which for a busy workload are thousands of times more.
 */
export function readActivity(store: Store, o: UsageScope & { unit: number }): ActivityRow[] {
  const f = o.filter;
  if (finerThanWorkload(f)) {
    const by: UsageDimension = o.unit === DAY ? 'day' : 'hour';
    return readUsage(store, { filter: f, source: o.source, groupBy: [by] })
      .map((r) => activityOf(r, by, o.unit))
      .sort((x, y) => x.bucket - y.bucket);
  }
  const facts = rows(WORKLOAD_DAYS, o, { unit: o.unit, unattributed: true });
  const outer = outerWhere(f, undefined);
  return store
    .prepare(
      `SELECT f.day AS bucket, sum(f.calls) AS calls, sum(f.errors) AS errors, sum(f.faults) AS faults,
         sum(f.throttles) AS throttles, sum(f.denied) AS denied
       FROM (${facts.sql}) f ${joinsFor(f)}
       WHERE ${outer.sql}
       GROUP BY 1 ORDER BY 1`,
    )
    .all(...facts.params, ...outer.params) as ActivityRow[];
}

/** Calls of one workload in one bucket, by outcome (the report's charts). */
export interface WorkloadActivityRow extends ActivityRow {
  workloadKey: string;
}

/**
 * {@link readActivity} per workload (attributed calls only), in no particular order. When the
 * filter is no finer than the workload this reads `workload_days`, as readActivity does: the
 * grouping of every target row under them by workload and day was 7 s of the report at 10 M
 * calls (the 30,000 rows it makes are in `workload_days` already).
 */
export function readWorkloadActivity(store: Store, o: UsageScope & { unit: number }): WorkloadActivityRow[] {
  const f = o.filter;
  if (finerThanWorkload(f)) {
    const by: UsageDimension = o.unit === DAY ? 'day' : 'hour';
    return readUsage(store, { filter: f, source: o.source, groupBy: ['workload', by] })
      .filter((r) => r.workloadId !== null)
      .map((r) => ({ workloadKey: String(r.workloadKey), ...activityOf(r, by, o.unit) }));
  }
  const facts = rows(WORKLOAD_DAYS, o, { unit: o.unit });
  const outer = outerWhere(f, undefined);
  // `wk`, not `w`: joinsFor may join the workloads as `w` for the filter.
  return store
    .prepare(
      `SELECT wk.key AS workloadKey, f.day AS bucket, sum(f.calls) AS calls, sum(f.errors) AS errors,
         sum(f.faults) AS faults, sum(f.throttles) AS throttles, sum(f.denied) AS denied
       FROM (${facts.sql}) f JOIN workloads wk ON wk.id = f.workload_id ${joinsFor(f)}
       WHERE ${outer.sql}
       GROUP BY f.workload_id, f.day`,
    )
    .all(...facts.params, ...outer.params) as WorkloadActivityRow[];
}

/* ------------------------------------------------------------------ usage rows (export) */

/**
 * One row of the exported `usage` table: the calls of one workload on one UTC day, to one
 * service operation, that needed one (action, resource) permission, with one outcome. Calls that
 * need no permission, or whose permission is unknown, have one row with `action` and `resource`
 * null (`mapping` says which); unattributed calls have `workloadId` and `principal` null.
 */
export interface UsageExportRow {
  /** UTC day number (epoch seconds / 86400, floored). */
  day: number;
  workloadId: number | null;
  /** The workload's ARN, else its key (as `policy --json` prints it). */
  principal: string | null;
  kind: string | null;
  name: string | null;
  /** The workload's account and region. */
  account: string | null;
  region: string | null;
  /** The IAM prefix, or the service as recorded when it has none. */
  service: string;
  operation: string | null;
  mapping: string;
  action: string | null;
  resource: string | null;
  resourceType: string | null;
  resourceUnknown: boolean | null;
  /** The mapping note of the permission, or why the call is unmapped. */
  note: string | null;
  outcome: string;
  calls: number;
  /** Epoch seconds of the first and last call. */
  first: number;
  last: number;
  /** The smallest and largest trace id of the calls. */
  traceMin: string;
  traceMax: string;
}

type UsageExportRaw = [
  number,
  number | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string | null,
  string,
  string | null,
  string,
  string | null,
  string | null,
  string | null,
  number | null,
  string | null,
  string,
  number,
  number,
  number,
  string,
  string,
];

/**
 * The selected calls as `usage` export rows ({@link UsageExportRow}), in day order (then
 * principal, service, operation, action, resource, outcome), one row at a time: whole days from
 * the rollups and partial days from calls, as every reader here. The rows are grouped and sorted
 * by SQLite, whose sorter spills to temporary files (`temp_store = FILE`): memory stays bounded
 * however many rows there are. Unattributed calls are included unless the filter names workloads.
 */
export function* readUsageRows(store: Store, scope: UsageScope): Generator<UsageExportRow> {
  const f = scope.filter;
  const facts = rows(WORKLOAD_DAY_TARGETS, scope, { unattributed: true, outcomes: true });
  const outer = compileFilter(
    { ...f, since: undefined, until: undefined, outcomes: undefined, workloads: undefined },
    { calls: 'f', targets: 't', workloads: 'w', permissions: 'tp' },
  );
  const it = store
    .prepare(
      `SELECT f.day, f.workload_id, coalesce(w.arn, w.key), w.kind, w.name, w.account, w.region,
              CASE t.service WHEN '' THEN t.service_name ELSE t.service END, t.operation, t.mapping,
              tp.action, tp.resource, min(tp.resource_type), min(tp.resource_unknown),
              min(CASE WHEN tp.action IS NULL THEN t.mapping_reason ELSE tp.note END),
              f.outcome, sum(f.calls), min(f.first_time), max(f.last_time), min(f.trace_min), max(f.trace_max)
       FROM (${facts.sql}) f JOIN targets t ON t.id = f.target_id LEFT JOIN workloads w ON w.id = f.workload_id
       LEFT JOIN target_permissions tp ON tp.target_id = f.target_id
       WHERE ${outer.where}
       GROUP BY 1, 3, 2, 8, 9, 10, 11, 12, 16
       ORDER BY 1, 3, 2, 8, 9, 10, 11, 12, 16`,
    )
    .raw(true)
    .iterate(...facts.params, ...outer.params) as IterableIterator<UsageExportRaw>;
  for (const r of it)
    yield {
      day: r[0],
      workloadId: r[1],
      principal: r[2],
      kind: r[3],
      name: r[4],
      account: r[5],
      region: r[6],
      service: r[7],
      operation: r[8],
      mapping: r[9],
      action: r[10],
      resource: r[11],
      resourceType: r[12],
      resourceUnknown: r[13] === null ? null : r[13] === 1,
      note: r[14],
      outcome: r[15],
      calls: r[16],
      first: r[17],
      last: r[18],
      traceMin: r[19],
      traceMax: r[20],
    };
}
