/**
 * Filters that name something must name something that exists: a `--workload`, `--account` or
 * workload argument that matches nothing is a typo far more often than a question, and a gate
 * (`--check-complete`, `compare --check`, `explain`) that passes on a typo passes on nothing.
 */
import { globMatch } from '../iam/glob.js';
import { UserInputError } from '../shared/errors.js';
import { closest } from '../shared/suggest.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { hasTrail, trailRoles } from '../store/trail.js';
import { loadWorkloads } from '../store/workloads.js';

/** What a name filter is checked against: each workload's names (name, key, ARN), the accounts. */
export interface KnownNames {
  /** Per workload, every name a `--workload` pattern may match. */
  workloads: string[][];
  /** Every account a call or workload records (read only when an `--account` is given). */
  accounts: () => string[];
  /** Where they come from, for the message: "in the database", "in the usage rows". */
  where: string;
}

/** The names a database knows. */
export function storeNames(store: Store): KnownNames {
  return {
    workloads: [
      ...loadWorkloads(store).map((w) => [w.name, w.key, ...(w.arn ? [w.arn] : [])]),
      // A role known from CloudTrail is named as namesTrailRole reads it: role:ARN, ARN, name.
      ...(hasTrail(store) ? trailRoles(store, {}) : []).map((r) => [`role:${r}`, r, r.split('/').pop() ?? r]),
    ],
    accounts: () =>
      (
        store
          .prepare(
            `SELECT account FROM workloads WHERE account IS NOT NULL
             UNION SELECT account FROM targets WHERE account IS NOT NULL
             UNION SELECT account FROM trail_events WHERE account IS NOT NULL`,
          )
          .all() as { account: string }[]
      ).map((r) => r.account),
    where: 'in the database',
  };
}

/** One name filter value that matches nothing, with the closest known names. */
export interface UnmatchedName {
  flag: string;
  value: string;
  suggestions: string[];
}

/**
 * The `--workload`, `--exclude-workload` and `--account` values (patterns included: a wildcard
 * that matches nothing is the same mistake) that match no known workload or account.
 */
export function unmatchedNames(
  filter: Pick<CallFilter, 'workloads' | 'excludeWorkloads' | 'accounts'>,
  known: KnownNames,
): UnmatchedName[] {
  const out: UnmatchedName[] = [];
  const names = known.workloads.flat();
  const workload = (flag: string, values: readonly string[] | undefined): void => {
    for (const v of values ?? [])
      if (!known.workloads.some((ns) => ns.some((n) => globMatch(v, n))))
        out.push({ flag, value: v, suggestions: closest(v, names) });
  };
  workload('--workload', filter.workloads);
  workload('--exclude-workload', filter.excludeWorkloads);
  if (filter.accounts?.length) {
    const accounts = known.accounts();
    for (const v of filter.accounts)
      if (!accounts.some((a) => globMatch(v, a)))
        out.push({ flag: '--account', value: v, suggestions: closest(v, accounts) });
  }
  return out;
}

/** The message of {@link assertNamesMatch}: one clause per unmatched value. */
export function unmatchedMessage(unmatched: readonly UnmatchedName[], where: string): string {
  const clauses = unmatched.map(
    (u) =>
      `${u.flag} ${JSON.stringify(u.value)} matches nothing ${where}${u.suggestions.length > 0 ? ` (did you mean ${u.suggestions.map((s) => JSON.stringify(s)).join(', ')}?)` : ''}`,
  );
  return `${clauses.join('; ')}. \`xray-lp workloads --wide\` lists every workload with its account and ARN.`;
}

/** Throws a UserInputError (exit 2) naming every value that matches nothing, with suggestions. */
export function assertNamesMatch(
  filter: Pick<CallFilter, 'workloads' | 'excludeWorkloads' | 'accounts'>,
  known: KnownNames,
): void {
  const unmatched = unmatchedNames(filter, known);
  if (unmatched.length > 0) throw new UserInputError(unmatchedMessage(unmatched, known.where));
}
