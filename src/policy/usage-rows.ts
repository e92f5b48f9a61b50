/**
 * Policies from usage rows (`policy --usage`): the `usage` table that `export` writes, or what an
 * engine (Athena, Trino, Spark, DuckDB) aggregates from it across shards and days, instead of a
 * database. Pure: it reads its rows through a {@link UsageRowSource} and returns data.
 *
 * For the same data the documents are byte-identical to those `policy` builds from the database
 * with the same options: the grants go through the same {@link buildOne}. What differs is only
 * what the rows cannot carry: the evidence is what they hold (calls, denials, first and last seen,
 * sample traces), `completeness` knows no traces (and no active days without a `day` column),
 * and says so, and no row says which trace formats the calls came in (`sampled` is false).
 */
import { kindOfPrincipal, nameOfPrincipal } from '../iam/arn.js';
import { compareText } from '../shared/order.js';
import type { UsagePrincipal, UsageRowSource } from '../store/usage-rows/index.js';
import { buildOne, grantOf, subjectsOf, type PolicyRun } from './build.js';
import { DEFAULT_THRESHOLDS, type Observation } from './completeness.js';
import type { Grant } from './to-grant.js';
import { factsOf, needsOf } from './runtime.js';
import type { PolicyOptions, PolicyResult, PolicyWarning } from './types.js';

// The one interface of usage rows, defined with the feature (store/usage-rows/).
export type {
  UsageGrantRow,
  UsagePrincipal,
  UsageRowSource,
  UsageUnmapped,
} from '../store/usage-rows/index.js';

/**
 * One policy per principal of the rows (or per role with `options.roles`), built one at a time
 * as {@link policies} does for a database, in the same output order (by principal, code-unit order). `options.filter` is not applied here: the source has
 * selected the rows.
 */
export function policiesFromUsage(source: UsageRowSource, options: PolicyOptions): PolicyRun {
  const sharedRoles: PolicyResult['sharedRoles'] = [];
  const unmatched: string[] = [];
  return {
    sharedRoles,
    unmatched,
    *[Symbol.iterator]() {
      const thresholds = { ...DEFAULT_THRESHOLDS, ...options.completeness };
      for (const s of subjectsOf(source.principals(), options, (p) => {
        const name = p.name ?? nameOfPrincipal(p.principal);
        return {
          key: p.principal,
          kind: p.kind ?? kindOfPrincipal(p.principal),
          name,
          account: p.account,
          region: p.region,
          lookups: [p.principal, name],
          order: p.principal,
        };
      })) {
        const keys = s.members.map((m) => m.principal);
        // Denied rows are read, and left out or kept by buildOne, which lists them either way.
        const rows = source.permissions(keys, false, 'resource')[Symbol.iterator]();
        const first = rows.next();
        const unmapped = source.unmapped(keys);
        if (first.done === true && unmapped.length === 0) continue;
        // One grant at a time, as buildOne folds them (S3 keys are never all held).
        const grants = function* (): Generator<Grant> {
          for (let r = first; r.done !== true; r = rows.next()) {
            const g = grantOf(r.value);
            // Rows without sample trace ids: no samples (and so no permission counts as rare).
            if (r.value.traceMin === '') g.traces = r.value.traceMax === '' ? [] : [r.value.traceMax];
            yield g;
          }
        };
        const warnings: PolicyWarning[] = unmapped.map((u) => ({
          code: 'unmapped',
          message: `${u.calls} call${u.calls === 1 ? '' : 's'} to ${u.service ?? '(unknown service)'}${u.operation ? ` ${u.operation}` : ''} could not be mapped to an IAM action (${u.note ?? 'unknown'}); review them by hand`,
        }));
        if (s.role && s.members.length > 1) sharedRoles.push({ role: s.key, functions: keys });
        if (!s.role && options.roles) unmatched.push(s.key);
        yield {
          principal: s.key,
          kind: s.kind,
          name: s.name,
          account: s.role ? (s.members[0]?.account ?? null) : s.account,
          region: s.region,
          ...buildOne(
            grants(),
            options,
            warnings,
            s.kind,
            observation(s.members),
            thresholds,
            {
              account: s.role ? (s.members[0]?.account ?? null) : s.account,
              region: s.region ?? s.members[0]?.region ?? null,
            },
            // Rows say neither how the data was recorded nor what triggered it: the needs of the kind.
            needsOf(
              s.members.map((m) =>
                factsOf({
                  kind: m.kind ?? kindOfPrincipal(m.principal),
                  name: m.name ?? nameOfPrincipal(m.principal),
                  arn: m.principal.startsWith('arn:') ? m.principal : null,
                  account: m.account,
                  region: m.region,
                }),
              ),
              options,
            ),
          ),
          ...(s.role ? { members: keys } : {}),
        };
      }
      unmatched.sort(compareText);
    },
  };
}

/** What the rows say about a subject's activity: no traces; days only with a `day` column. */
function observation(members: UsagePrincipal[]): Observation {
  const firsts = members.map((m) => m.first).filter((t): t is number => t !== null);
  const lasts = members.map((m) => m.last).filter((t): t is number => t !== null);
  const days = members.map((m) => m.days);
  return {
    traces: null,
    activeDays: days.some((d) => d === null) ? null : Math.max(0, ...(days as number[])),
    first: firsts.length > 0 ? Math.min(...firsts) : null,
    last: lasts.length > 0 ? Math.max(...lasts) : null,
    formats: [],
  };
}
