/**
 * Usage rows read from files (`policy --usage`, `compare --usage`) held on disk, in a temporary
 * SQLite database, so that they can be grouped per principal whatever their order and number:
 * an engine's output is in no particular order, and holding every row (or every principal's
 * permissions) in memory would not be bounded. The rows go in as they are read; then each
 * principal's permissions are read back grouped by (action, resource), one principal at a
 * time, through an index: memory holds one principal's permissions. The file is deleted on
 * {@link UsageSpill.close}.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { resolveService } from '../../iam/service-names.js';
import { toGlob } from '../filter.js';
import type { PermissionOrder, PermissionTotals } from '../usage.js';

/** One usage row as read from a file, normalised (see files.ts). */
export interface SpillRow {
  principal: string;
  kind: string | null;
  name: string | null;
  account: string | null;
  region: string | null;
  /** UTC day number, or null. */
  day: number | null;
  service: string | null;
  operation: string | null;
  mapping: string | null;
  note: string | null;
  /** Null for a call that needs no permission or whose permission is unknown. */
  action: string | null;
  resource: string | null;
  resourceType: string | null;
  resourceUnknown: boolean;
  denied: boolean;
  calls: number;
  /** Epoch seconds, or null. */
  first: number | null;
  last: number | null;
  traceMin: string | null;
  traceMax: string | null;
}

/** Which rows count: the policy filters that apply to usage rows. */
export interface SpillFilter {
  /** Principal (ARN or key) or name patterns, `*` and `?`. */
  workloads?: string[];
  excludeWorkloads?: string[];
  /** IAM action patterns, case-insensitive. */
  actions?: string[];
  /** Resource ARN patterns. */
  resources?: string[];
  /** IAM prefixes (the action's). */
  services?: string[];
}

/** A principal of the rows, with what its rows say about it. */
export interface SpillPrincipal {
  principal: string;
  kind: string | null;
  name: string | null;
  account: string | null;
  region: string | null;
  /** Epoch seconds of its first and last call (null without `first_seen`/`last_seen`). */
  first: number | null;
  last: number | null;
  /** Distinct UTC days of its rows; null when the rows have no `day`. */
  days: number | null;
}

/**
 * One (action, resource) permission of some principals, summed (`first`/`last` NaN when the rows
 * have no times; trace ids empty when they have none).
 */
export type SpillPermission = PermissionTotals;

const COLUMNS = [
  'principal',
  'kind',
  'name',
  'account',
  'region',
  'day',
  'service',
  'operation',
  'mapping',
  'note',
  'action',
  'resource',
  'resource_type',
  'resource_unknown',
  'denied',
  'calls',
  'first_seen',
  'last_seen',
  'trace_min',
  'trace_max',
];

/** Rows inserted per transaction. */
const BATCH = 20_000;

/** See the file comment. */
export class UsageSpill {
  private readonly dir: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private pending: SpillRow[] = [];
  /** The workload and service filter (every row), and the action and resource filter (permission rows). */
  private who: { sql: string; params: unknown[] } = { sql: '1', params: [] };
  private perm: { sql: string; params: unknown[] } = { sql: '1', params: [] };
  /** Rows added. */
  rows = 0;

  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-lp-usage-'));
    this.db = new Database(path.join(this.dir, 'rows.db'));
    this.db.pragma('journal_mode = OFF');
    this.db.pragma('synchronous = OFF');
    this.db.pragma('cache_size = -32768');
    this.db.pragma('temp_store = FILE');
    this.db.exec(`CREATE TABLE rows (
      principal TEXT NOT NULL, kind TEXT, name TEXT, account TEXT, region TEXT, day INTEGER,
      service TEXT, operation TEXT, mapping TEXT, note TEXT, action TEXT, resource TEXT,
      resource_type TEXT, resource_unknown INTEGER NOT NULL, denied INTEGER NOT NULL,
      calls INTEGER NOT NULL, first_seen REAL, last_seen REAL, trace_min TEXT, trace_max TEXT)`);
    this.insert = this.db.prepare(
      `INSERT INTO rows (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`,
    );
  }

  /** Adds a row (inserted in batches). */
  add(r: SpillRow): void {
    this.pending.push(r);
    this.rows++;
    if (this.pending.length >= BATCH) this.flush();
  }

  private flush(): void {
    const rows = this.pending;
    this.pending = [];
    this.db.transaction(() => {
      for (const r of rows)
        this.insert.run(
          r.principal,
          r.kind,
          r.name,
          r.account,
          r.region,
          r.day,
          r.service,
          r.operation,
          r.mapping,
          r.note,
          r.action,
          r.resource,
          r.resourceType,
          r.resourceUnknown ? 1 : 0,
          r.denied ? 1 : 0,
          r.calls,
          r.first,
          r.last,
          r.traceMin,
          r.traceMax,
        );
    })();
  }

  /**
   * Ends the loading: indexes the rows and sets the filter every read applies, as the database's
   * reader applies it (store/usage.ts): workloads and services select every row, actions and
   * resources only the permission rows (calls whose permission is unknown still warn), and the
   * service is the call's (`service`, else the action's prefix when the rows do not carry it),
   * any SDK spelling resolved to its IAM prefix (`DynamoDB`, `SFN`).
   */
  finish(filter: SpillFilter = {}): void {
    this.flush();
    // (resource, action): the order policies read one principal's permissions in.
    this.db.exec('CREATE INDEX rows_principal ON rows (principal, resource, action)');
    const who: string[] = [];
    const whoParams: unknown[] = [];
    const workloads = (patterns: string[]): string =>
      `(${patterns.map((p) => (whoParams.push(toGlob(p), toGlob(p)), "(principal GLOB ? OR coalesce(name, '') GLOB ?)")).join(' OR ')})`;
    if (filter.workloads?.length) who.push(workloads(filter.workloads));
    if (filter.excludeWorkloads?.length) who.push(`NOT ${workloads(filter.excludeWorkloads)}`);
    if (filter.services?.length)
      who.push(
        `(${filter.services
          .map((s) => {
            const resolved = /[*?]/.test(s) ? undefined : resolveService(s)?.prefix;
            whoParams.push(toGlob((resolved ?? s).toLowerCase()));
            return "lower(coalesce(service, substr(action, 1, instr(action, ':') - 1))) GLOB ?";
          })
          .join(' OR ')})`,
      );
    const perm: string[] = [];
    const permParams: unknown[] = [];
    const any = (list: string[] | undefined, sql: (p: string) => string): void => {
      if (list?.length) perm.push(`(${list.map(sql).join(' OR ')})`);
    };
    any(filter.actions, (p) => (permParams.push(toGlob(p.toLowerCase())), 'lower(action) GLOB ?'));
    any(filter.resources, (p) => (permParams.push(toGlob(p)), 'resource GLOB ?'));
    this.who = { sql: who.length > 0 ? who.join(' AND ') : '1', params: whoParams };
    this.perm = { sql: perm.length > 0 ? perm.join(' AND ') : '1', params: permParams };
  }

  /** Every principal of the rows with its name (as a `--workload` pattern may match them), unfiltered. */
  names(): string[][] {
    return (
      this.db.prepare('SELECT DISTINCT principal, name FROM rows').raw(true).all() as [
        string,
        string | null,
      ][]
    ).map(([p, n]) => (n ? [p, n] : [p]));
  }

  /**
   * Every principal with a selected permission row or a call whose permission is unknown, with
   * its identity, and its activity over the rows the whole filter selects.
   */
  principals(): SpillPrincipal[] {
    const selected = `(${this.perm.sql})`;
    return (
      this.db
        .prepare(
          `SELECT principal, min(kind) AS kind, min(name) AS name, min(account) AS account, min(region) AS region,
                min(CASE WHEN ${selected} THEN first_seen END) AS first,
                max(CASE WHEN ${selected} THEN last_seen END) AS last,
                CASE WHEN count(day) = count(*) THEN count(DISTINCT CASE WHEN ${selected} THEN day END) END AS days
         FROM rows WHERE ${this.who.sql} AND (${selected} OR (action IS NULL AND mapping = 'unmapped'))
         GROUP BY principal`,
        )
        .all(
          ...this.perm.params,
          ...this.perm.params,
          ...this.perm.params,
          ...this.who.params,
          ...this.perm.params,
        ) as SpillPrincipal[]
    ).map((p) => ({ ...p, days: p.days ?? null }));
  }

  /**
   * The permissions of these principals, summed per (action, resource), in that order, or in
   * (resource, action) order with `order` `resource` (policies fold a resource's actions at once).
   */
  *permissions(
    principals: readonly string[],
    excludeDenied: boolean,
    order: PermissionOrder = 'action',
  ): Generator<SpillPermission> {
    const by = order === 'resource' ? 'resource, action' : 'action, resource';
    const it = this.db
      .prepare(
        `SELECT action, resource, min(resource_type), min(resource_unknown), sum(calls),
                sum(CASE WHEN denied THEN calls ELSE 0 END), min(first_seen), max(last_seen),
                coalesce(min(trace_min), min(trace_max), ''), coalesce(max(trace_max), max(trace_min), '')
         FROM rows
         WHERE principal IN (SELECT value FROM json_each(?)) AND action IS NOT NULL AND resource IS NOT NULL
           ${excludeDenied ? 'AND NOT denied' : ''} AND ${this.who.sql} AND ${this.perm.sql}
         GROUP BY ${by} ORDER BY ${by}`,
      )
      .raw(true)
      .iterate(JSON.stringify(principals), ...this.who.params, ...this.perm.params) as IterableIterator<
      [string, string, string | null, number, number, number, number | null, number | null, string, string]
    >;
    for (const r of it)
      yield {
        action: r[0],
        resource: r[1],
        resourceType: r[2],
        resourceUnknown: r[3] === 1,
        calls: r[4],
        denied: r[5],
        first: r[6] ?? NaN,
        last: r[7] ?? NaN,
        traceMin: r[8],
        traceMax: r[9],
      };
  }

  /**
   * Calls of these principals whose permission is unknown, per service, operation and note
   * (action and resource filters do not apply: such calls have neither).
   */
  unmapped(
    principals: readonly string[],
  ): { service: string | null; operation: string | null; note: string | null; calls: number }[] {
    return this.db
      .prepare(
        `SELECT service, operation, note, sum(calls) AS calls FROM rows
         WHERE principal IN (SELECT value FROM json_each(?)) AND action IS NULL AND mapping = 'unmapped' AND ${this.who.sql}
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3`,
      )
      .all(JSON.stringify(principals), ...this.who.params) as {
      service: string | null;
      operation: string | null;
      note: string | null;
      calls: number;
    }[];
  }

  /** Closes and deletes the temporary database. */
  close(): void {
    try {
      this.db.close();
    } finally {
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
