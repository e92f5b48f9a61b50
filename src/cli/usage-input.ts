/**
 * `--usage FILE|DIR...`, shared by `policy` and `compare`: usage rows (an engine's aggregate, or
 * the `usage` table `export` writes) read instead of a database, and the filters that apply to
 * them.
 */
import { assertNamesMatch } from '../query/names.js';
import type { RawFilterOptions } from '../query/filters.js';
import { UserInputError } from '../shared/errors.js';
import { readUsageRows, type SpillFilter, type UsageRowSource } from '../store/usage-rows/index.js';

/**
 * `--usage FILE|DIR...`: reads every usage file into a temporary store (a bad file stops
 * everything before anything is printed or written), then runs `f` on it.
 */
export async function withUsageRows<T>(
  inputs: string[],
  filter: SpillFilter,
  f: (source: UsageRowSource) => T,
): Promise<T> {
  const rows = await readUsageRows(inputs, filter);
  try {
    assertNamesMatch(filter, {
      workloads: rows.names(),
      accounts: () => [],
      where: 'in the usage rows',
    });
    // Awaited here: an asynchronous `f` must finish before the rows are deleted.
    return await f(rows);
  } finally {
    rows.close();
  }
}

/**
 * The filters that apply to usage rows (`--usage`): workloads, services, actions, resources.
 * Time, outcome, region and account filters need the calls: the engine applies them.
 */
export function usageFilter(o: RawFilterOptions): SpillFilter {
  const unsupported = (
    [
      ['--since', o.since],
      ['--until', o.until],
      ['--now', o.now],
      ['--region', o.region],
      ['--account', o.account],
      ['--outcome', o.outcome],
    ] as const
  ).filter(([, v]) => v !== undefined);
  if (unsupported.length > 0)
    throw new UserInputError(
      `${unsupported.map(([f]) => f).join(', ')} cannot be applied to usage rows: filter them in the query that aggregates the rows (WHERE day >= DATE '2026-11-01', docs/scale.md). --workload, --exclude-workload, --service, --action and --resource apply.`,
    );
  return {
    workloads: [...(o.workload ?? []), ...(o.principal ?? [])],
    excludeWorkloads: [...(o.excludeWorkload ?? []), ...(o.excludePrincipal ?? [])],
    services: o.service,
    actions: o.action,
    resources: o.resource,
  };
}
