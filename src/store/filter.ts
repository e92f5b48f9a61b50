/**
 * A filter on calls and how it becomes SQL: bound parameters only, and user patterns as SQLite
 * GLOBs (`*`, `?`; every other character literal), never regular expressions, so a hostile
 * pattern costs at most a linear match. Parsing the user's options into a filter is the query
 * layer's job (src/query/filters.ts).
 */
import { globMatch } from '../iam/glob.js';
import { resolveService } from '../iam/service-names.js';
import type { Outcome } from '../shared/outcome.js';

/** A validated filter. Every list is OR within itself and AND with the others. */
export interface CallFilter {
  /** Inclusive lower bound, epoch seconds. */
  since?: number;
  /** Exclusive upper bound, epoch seconds. */
  until?: number;
  /** Workload name, key (ARN or kind:account:region:name) or ARN patterns. */
  workloads?: string[];
  excludeWorkloads?: string[];
  /** IAM prefixes or any service spelling (`DynamoDB`, `SFN`), or patterns of prefixes. */
  services?: string[];
  /** IAM action patterns (`dynamodb:*`), case-insensitive as IAM is. */
  actions?: string[];
  /** Resource ARN patterns, case-sensitive as ARNs are. */
  resources?: string[];
  regions?: string[];
  accounts?: string[];
  outcomes?: Outcome[];
}

/** Turns a user pattern (`*`, `?`) into a SQLite GLOB with every other character literal. */
export function toGlob(pattern: string): string {
  // In GLOB, `[` starts a character class: make it literal. `*` and `?` keep their meaning.
  return pattern.replace(/\[/g, '[[]');
}

/** The IAM-prefix pattern a `--service` value stands for (before {@link toGlob}). */
function servicePattern(s: string): string {
  // A plain name resolves through the alias table (`DynamoDB`, `SFN`); patterns match prefixes.
  const resolved = /[*?]/.test(s) ? undefined : resolveService(s)?.prefix;
  return (resolved ?? s).toLowerCase();
}

/**
 * The part of a filter that SQL cannot apply to a CloudTrail record, whose IAM permissions are
 * mapped as it is read: the same meaning as {@link compileFilter}'s (`--service` on the called
 * service's IAM prefix, `--action` case-insensitive, `--resource` case-sensitive, `--outcome`),
 * matched with the project's one glob matcher, which reads `*` and `?` as GLOB does.
 */
export interface MappedCallFilter {
  /** True when the filter keeps a call to this service (IAM prefix) with this outcome. */
  call(service: string | null, outcome: Outcome): boolean;
  /** True when the filter keeps this permission of a kept call. */
  permission(action: string, resource: string): boolean;
  /** True when a call must have a kept permission to be kept (an action or resource filter). */
  needsPermission: boolean;
}

/** {@link MappedCallFilter} of a filter. */
export function mappedCallFilter(f: CallFilter): MappedCallFilter {
  const services = f.services?.map(servicePattern);
  const { actions, resources, outcomes } = f;
  return {
    call: (service, outcome) =>
      (!services?.length || services.some((p) => globMatch(p, service ?? ''))) &&
      (!outcomes?.length || outcomes.includes(outcome)),
    permission: (action, resource) =>
      (!actions?.length || actions.some((p) => globMatch(p, action, true))) &&
      (!resources?.length || resources.some((p) => globMatch(p, resource))),
    needsPermission: (actions?.length ?? 0) > 0 || (resources?.length ?? 0) > 0,
  };
}

/** SQL for a filter, with its bound parameters. */
export interface CompiledFilter {
  where: string;
  params: unknown[];
}

/** How the query names the tables the filter reads. */
export interface FilterAliases {
  /** Alias of the relation with `start_time` and `outcome` (calls); only read when the filter has a range or outcomes. */
  calls: string;
  /** Alias of `targets` joined on `calls.target_id`. */
  targets: string;
  /** Alias of `workloads` joined on `calls.workload_id` (LEFT JOIN). */
  workloads: string;
  /**
   * Alias of `target_permissions` when the query joins it (one row per permission): action and
   * resource filters then apply to that row. Otherwise they apply through EXISTS.
   */
  permissions?: string;
}

/** Compiles a filter to a WHERE clause (without the keyword); `1` when it selects everything. */
export function compileFilter(f: CallFilter, a: FilterAliases): CompiledFilter {
  const where: string[] = [];
  const params: unknown[] = [];
  if (f.since !== undefined) {
    where.push(`${a.calls}.start_time >= ?`);
    params.push(f.since);
  }
  if (f.until !== undefined) {
    where.push(`${a.calls}.start_time < ?`);
    params.push(f.until);
  }
  const workloadMatch = (p: string): string => {
    params.push(toGlob(p), toGlob(p), toGlob(p));
    // `*` must not match calls without a workload (the LEFT JOIN gives NULL columns there).
    return `(${a.workloads}.id IS NOT NULL AND (${a.workloads}.name GLOB ? OR ${a.workloads}.key GLOB ? OR coalesce(${a.workloads}.arn, '') GLOB ?))`;
  };
  if (f.workloads?.length) where.push(`(${f.workloads.map(workloadMatch).join(' OR ')})`);
  if (f.excludeWorkloads?.length) {
    where.push(`NOT coalesce((${f.excludeWorkloads.map(workloadMatch).join(' OR ')}), 0)`);
  }
  if (f.services?.length) {
    where.push(
      `(${f.services.map((s) => (params.push(toGlob(servicePattern(s))), `${a.targets}.service GLOB ?`)).join(' OR ')})`,
    );
  }
  if (f.regions?.length) {
    where.push(
      `(${f.regions.map((r) => (params.push(toGlob(r)), `coalesce(${a.targets}.region, ${a.workloads}.region, '') GLOB ?`)).join(' OR ')})`,
    );
  }
  if (f.accounts?.length) {
    where.push(
      `(${f.accounts.map((r) => (params.push(toGlob(r)), `coalesce(${a.targets}.account, ${a.workloads}.account, '') GLOB ?`)).join(' OR ')})`,
    );
  }
  if (f.outcomes?.length) {
    where.push(`${a.calls}.outcome IN (${f.outcomes.map(() => '?').join(', ')})`);
    params.push(...f.outcomes);
  }
  const permClauses: string[] = [];
  const permParams: unknown[] = [];
  const perm = a.permissions ?? 'fp';
  if (f.actions?.length) {
    permClauses.push(
      `(${f.actions.map((x) => (permParams.push(toGlob(x.toLowerCase())), `lower(${perm}.action) GLOB ?`)).join(' OR ')})`,
    );
  }
  if (f.resources?.length) {
    permClauses.push(
      `(${f.resources.map((x) => (permParams.push(toGlob(x)), `${perm}.resource GLOB ?`)).join(' OR ')})`,
    );
  }
  if (permClauses.length > 0) {
    if (a.permissions) where.push(...permClauses);
    else
      where.push(
        `EXISTS (SELECT 1 FROM target_permissions fp WHERE fp.target_id = ${a.calls}.target_id AND ${permClauses.join(' AND ')})`,
      );
    params.push(...permParams);
  }
  return { where: where.length > 0 ? where.join(' AND ') : '1', params };
}

/** FROM and WHERE (without the keywords) selecting the calls a filter matches, with their parameters. */
export interface CallSelection {
  from: string;
  where: string;
  params: unknown[];
}

/** `c.workload_id IN (…)` for the workload patterns of a filter (the alias of the calls or rollup rows). */
export function workloadIn(alias: string, patterns: readonly string[]): { sql: string; params: unknown[] } {
  const inner = compileFilter({ workloads: [...patterns] }, { calls: alias, targets: 't', workloads: 'w2' });
  return {
    sql: `${alias}.workload_id IN (SELECT w2.id FROM workloads w2 WHERE ${inner.where})`,
    params: inner.params,
  };
}

/**
 * Builds the FROM/WHERE for `filter` over `calls c`, `targets t`, `workloads w` (LEFT JOIN:
 * unattributed calls have none) and, when `permissions` is true, `target_permissions tp` (LEFT
 * JOIN, one row per permission; calls that need none keep one row with `tp` NULL). For listing
 * individual calls; aggregated usage is read through usage.ts.
 *
 * Workload patterns are resolved first into a set of ids, so that the query walks the
 * `(workload_id, start_time)` index once per matching workload instead of every call in the range.
 */
export function selectCalls(filter: CallFilter, options: { permissions?: boolean } = {}): CallSelection {
  const { workloads, ...rest } = filter;
  const where: string[] = [];
  const params: unknown[] = [];
  let from = 'calls c';
  if (workloads?.length) {
    const inWorkloads = workloadIn('c', workloads);
    where.push(inWorkloads.sql);
    params.push(...inWorkloads.params);
    // Without statistics the planner may prefer the time index for a wide window; the workload
    // index is never worse once the workloads are known.
    from = 'calls c INDEXED BY calls_workload_time';
  }
  from += ' JOIN targets t ON t.id = c.target_id LEFT JOIN workloads w ON w.id = c.workload_id';
  if (options.permissions) from += ' LEFT JOIN target_permissions tp ON tp.target_id = c.target_id';
  const compiled = compileFilter(rest, {
    calls: 'c',
    targets: 't',
    workloads: 'w',
    ...(options.permissions ? { permissions: 'tp' } : {}),
  });
  if (compiled.where !== '1') {
    where.push(compiled.where);
    params.push(...compiled.params);
  }
  return { from, where: where.length > 0 ? where.join(' AND ') : '1', params };
}
