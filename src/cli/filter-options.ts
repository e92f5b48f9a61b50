/**
 * The filter options every query command, `policy`, `explain`, `compare` and `report` accept,
 * registered in one place and shown under one heading in `--help`.
 */
import { Option, type Command } from 'commander';
import { newestCall } from '../query/calls.js';
import { assertNamesMatch, storeNames } from '../query/names.js';
import { OUTCOMES, parseFilter, type CallFilter, type RawFilterOptions } from '../query/filters.js';
import type { Store } from '../store/db.js';

/** Collects a repeatable option into a list. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

const FILTERS = 'Filters (repeat an option to OR its values; different options AND):';

function filter(flags: string, description: string, repeatable = true): Option {
  const o = new Option(flags, description).helpGroup(FILTERS);
  return repeatable ? o.argParser(collect) : o;
}

/** Adds `--since`, `--until`, `--now`, `--workload`… to a command. */
export function addFilterOptions(cmd: Command): Command {
  return (
    cmd
      .addOption(
        filter(
          '--since <time>',
          'inclusive start: ISO date/date-time (UTC unless a zone is given), epoch seconds, or 90m/12h/7d/2w back from the newest call',
          false,
        ),
      )
      .addOption(filter('--until <time>', 'exclusive end, same forms as --since', false))
      .addOption(
        filter(
          '--now <time>',
          'anchor for relative --since/--until (default: the newest recorded call)',
          false,
        ),
      )
      .addOption(
        filter(
          '--workload <pattern>',
          'workload name, ARN or key; * and ? wildcards (one that matches no workload is an error, exit 2)',
        ),
      )
      .addOption(filter('--exclude-workload <pattern>', 'leave these workloads out'))
      .addOption(filter('--service <pattern>', 'service (dynamodb, s3, SFN…)'))
      .addOption(filter('--action <pattern>', 'IAM action (dynamodb:PutItem, s3:Get*); case-insensitive'))
      .addOption(filter('--resource <pattern>', 'resource ARN (arn:aws:s3:::logs-*); case-sensitive'))
      .addOption(filter('--region <pattern>', 'region'))
      .addOption(filter('--account <pattern>', 'account id (one that matches nothing is an error, exit 2)'))
      .addOption(
        new Option('--outcome <outcome>', 'call outcome')
          .choices(OUTCOMES)
          .argParser(collect)
          .helpGroup(FILTERS),
      )
      // The first release's spellings, still accepted.
      .addOption(new Option('--principal <pattern>').argParser(collect).hideHelp())
      .addOption(new Option('--exclude-principal <pattern>').argParser(collect).hideHelp())
  );
}

/**
 * Reads the filter options of a command, validating them (UserInputError, exit 2): a
 * `--workload`, `--exclude-workload` or `--account` that matches nothing in the database is an
 * error with the closest names, never an empty result.
 */
export function filterFromOptions(opts: RawFilterOptions, store: Store): CallFilter {
  const f = parseFilter(opts, () => newestCall(store));
  if (f.workloads?.length || f.excludeWorkloads?.length || f.accounts?.length)
    assertNamesMatch(f, storeNames(store));
  return f;
}
