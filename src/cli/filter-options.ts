/**
 * The filter options every query command and `policy` accept, registered in one place.
 */
import type { Command } from 'commander';
import { parseFilter, type CallFilter, type RawFilterOptions } from '../query/filters.js';
import type { Store } from '../store/db.js';

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Adds `--since`, `--until`, `--now`, `--principal`… to a command. */
export function addFilterOptions(cmd: Command): Command {
  return cmd
    .option(
      '--since <time>',
      'inclusive start: ISO date/date-time (UTC unless a zone is given), epoch seconds, or 90m/12h/7d/2w back from the newest call',
    )
    .option('--until <time>', 'exclusive end, same forms as --since')
    .option('--now <time>', 'anchor for relative --since/--until (default: the newest recorded call)')
    .option('--principal <pattern>', 'workload name, ARN or key; * and ? wildcards; repeatable', collect)
    .option('--exclude-principal <pattern>', 'leave these workloads out; repeatable', collect)
    .option('--service <pattern>', 'service (dynamodb, s3, SFN…); repeatable', collect)
    .option(
      '--action <pattern>',
      'IAM action (dynamodb:PutItem, s3:Get*); case-insensitive; repeatable',
      collect,
    )
    .option('--resource <pattern>', 'resource ARN (arn:aws:s3:::logs-*); case-sensitive; repeatable', collect)
    .option('--region <pattern>', 'region; repeatable', collect)
    .option('--account <pattern>', 'account id; repeatable', collect)
    .option('--outcome <outcome>', 'ok, error, fault, throttle or denied; repeatable', collect);
}

/** Reads the filter options of a command, validating them (UserInputError, exit 2). */
export function filterFromOptions(opts: RawFilterOptions, store: Store): CallFilter {
  return parseFilter(
    opts,
    () => (store.prepare('SELECT max(start_time) AS t FROM calls').get() as { t: number | null }).t,
  );
}
