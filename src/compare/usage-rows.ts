/**
 * Usage rows (`compare --usage`) as the {@link ObservedUsage} of a comparison: the `usage` table
 * `export` writes, or an engine's aggregate of it, instead of a database.
 *
 * A comparison needs per workload only its identity and, per (action, resource), the calls, the
 * denied calls and whether the resource was recorded: the `usage` rows carry all of it, so from
 * `export`'s rows `compare --json` equals the database's. Rows with only the required columns
 * (`principal`, `action`, `resource`, `calls`) give less, and the result says less:
 * - without `kind` and `name`: both are derived from the principal (an ARN's service, its last
 *   segment), as `policy --usage` derives them;
 * - without `account`: `account` is null;
 * - without `denied`: no call counts as denied (`denied` 0, no `deniedAtRuntime`);
 * - without `resource_unknown`: a resource with `*` counts as not recorded;
 * - without `mapping`: no call counts as unmapped (no "could not be mapped" note).
 *
 * The filters are applied where the rows are held (store/usage-rows/spill.ts). Known gap there: with
 * `--action`, `--resource` or `--service`, unmapped rows (no action) are left out, where the
 * database still counts them; and `--service` matches IAM prefixes only (`states`, not `SFN`).
 */
import { kindOfPrincipal, nameOfPrincipal } from '../iam/arn.js';
import type { UsageRowSource, UsageUnmapped } from '../store/usage-rows/index.js';
import type { ObservedPermission, ObservedUsage } from './compare.js';
import { factsOf, runtimeNeeds } from '../runtime/needs.js';

/**
 * What a comparison reads of the usage rows: their one interface (store/usage-rows/), of which
 * it needs only each unmapped group's calls.
 */
export type UsageRows = Pick<UsageRowSource, 'principals' | 'permissions'> & {
  unmapped(principals: readonly string[]): readonly Pick<UsageUnmapped, 'calls'>[];
};

/** Usage rows as the observed usage of a comparison; each principal is read when it is compared. */
export function rowsUsage(rows: UsageRows): ObservedUsage {
  return {
    *workloads() {
      for (const p of rows.principals()) {
        const read = rows.permissions([p.principal], false)[Symbol.iterator]();
        const first = read.next();
        const unmappedCalls = rows.unmapped([p.principal]).reduce((n, u) => n + u.calls, 0);
        // As from the database: a workload whose calls needed no permission is not compared.
        if (first.done === true && unmappedCalls === 0) continue;
        // Streamed while the workload is compared: one principal's rows are never all held.
        const permissions = function* (): Generator<ObservedPermission> {
          for (let r = first; r.done !== true; r = read.next())
            yield {
              action: r.value.action,
              resource: r.value.resource,
              resourceUnknown: r.value.resourceUnknown,
              calls: r.value.calls,
              denied: r.value.denied,
            };
        };
        const name = p.name ?? nameOfPrincipal(p.principal);
        const kind = p.kind ?? kindOfPrincipal(p.principal);
        const arn = p.principal.startsWith('arn:') ? p.principal : null;
        yield {
          principal: p.principal,
          kind,
          name,
          account: p.account,
          // The principal is the workload's ARN when it has one, else its key (never both).
          lookup: [p.principal.startsWith('arn:') ? p.principal : '', name, p.principal],
          permissions: permissions(),
          unmappedCalls,
          // Rows say neither how the data was recorded nor what triggered it: the needs of the kind.
          runtime: runtimeNeeds(factsOf({ kind, name, arn, account: p.account, region: p.region })),
        };
        // A workload that could not be matched is not read through: close its read.
        read.return?.();
      }
    },
  };
}
