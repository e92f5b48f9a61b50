/**
 * The options that shape a policy, shared by `policy`, `explain` and `report` (as
 * filter-options.ts is by every query): registered in one place, shown under their headings in
 * `--help`, and read into the core's PolicyOptions.
 */
import fs from 'node:fs';
import { Option, type Command } from 'commander';
import { UserInputError } from '../shared/errors.js';
import { DEFAULT_THRESHOLDS, type CompletenessThresholds } from '../policy/completeness.js';
import { parseRoleMap } from '../granted/roles.js';
import { storedRoles } from '../store/configs.js';
import { hasTrail, trailLinks } from '../store/trail.js';
import { type PolicyOptions, type S3ObjectScope } from '../policy/build.js';
import { type PolicyFormat } from '../policy/formats.js';
import type { RawFilterOptions } from '../query/filters.js';
import type { Store } from '../store/db.js';
import type { ReadThreadMode } from '../store/read-thread/index.js';
import { addFilterOptions, filterFromOptions } from './filter-options.js';
import type { CliIO } from './io.js';

/** The options of `policy`, as commander parses them (the shape options are shared). */
export interface PolicyCliOptions extends RawFilterOptions {
  json?: boolean;
  format: PolicyFormat;
  out?: string;
  includeDenied?: boolean;
  includeOutside?: boolean;
  excludeDenied?: boolean;
  s3Objects: S3ObjectScope;
  accountWildcard?: boolean;
  regionWildcard?: boolean;
  placeholders?: boolean;
  unknownResources: 'include' | 'omit';
  maxSize?: string;
  by: 'workload' | 'role';
  roles?: string;
  settledShare?: string;
  recentShare?: string;
  minActiveDays?: string;
  minTraces?: string;
  checkComplete?: boolean;
  usage?: string[];
  runtime: 'all' | 'none';
}

const SHAPE = 'Policy shape:';
export const COMPLETE = 'Completeness (is the data enough?):';

/** Adds the options that shape a policy (shared by `policy`, `explain` and `report`). */
export function addPolicyOptions(cmd: Command): Command {
  const o = (flags: string, description: string): Option => new Option(flags, description).helpGroup(SHAPE);
  return (
    addFilterOptions(cmd)
      .addOption(
        o(
          '--include-outside',
          "grant the calls CloudTrail shows made with a role's credentials from outside its workload (default: leave them out and name them: they may be an intruder's)",
        ),
      )
      .addOption(
        o(
          '--include-denied',
          'grant permissions every call of which was denied (default: leave them out and list them: a denial may be deliberate)',
        ),
      )
      // The default since 0.3; still accepted, with a note on stderr.
      .addOption(new Option('--exclude-denied').hideHelp())
      .addOption(
        o('--s3-objects <scope>', 'S3 object resources: exact keys, their common prefix, or the whole bucket')
          .choices(['exact', 'prefix', 'bucket'])
          .default('prefix'),
      )
      .addOption(o('--account-wildcard', 'write * for the account in ARNs').conflicts('placeholders'))
      .addOption(o('--region-wildcard', 'write * for the region in ARNs').conflicts('placeholders'))
      .addOption(
        o(
          '--placeholders',
          "write ${AWS::AccountId} and ${AWS::Region} for the workload's own account and region, for templates (other accounts stay literal, with a warning)",
        ),
      )
      .addOption(
        o(
          '--unknown-resources <mode>',
          'permissions whose resource was not recorded: narrowest wildcard, or left out',
        )
          .choices(['include', 'omit'])
          .default('include'),
      )
      .addOption(
        o(
          '--max-size <chars>',
          'split a policy into parts of at most this many characters (IAM managed limit: 6144)',
        ),
      )
      .addOption(
        o(
          '--runtime <mode>',
          'run-time needs (logs, trace upload, event-source polling: what the services that run a workload do with its role) in their own Runtime statements, or none',
        )
          .choices(['all', 'none'])
          .default('all'),
      )
      .addOption(
        o('--by <subject>', 'one policy per workload, or per IAM role (needs --roles)')
          .choices(['workload', 'role'])
          .default('workload'),
      )
      .addOption(
        o(
          '--roles <file>',
          'function → role map: `aws lambda list-functions` output or {"function": "role ARN"}',
        ),
      )
      .addOption(
        new Option(
          '--settled-share <share>',
          `settled: no new permission in this last share of the observed period (default ${DEFAULT_THRESHOLDS.settledShare})`,
        ).helpGroup(COMPLETE),
      )
      .addOption(
        new Option(
          '--recent-share <share>',
          `still discovering: a new permission in this last share (default ${DEFAULT_THRESHOLDS.recentShare})`,
        ).helpGroup(COMPLETE),
      )
      .addOption(
        new Option(
          '--min-active-days <n>',
          `too little data below this many UTC days with calls (default ${DEFAULT_THRESHOLDS.minActiveDays})`,
        ).helpGroup(COMPLETE),
      )
      .addOption(
        new Option(
          '--min-traces <n>',
          `too little data below this many traces (a role's CloudTrail records count with them; default ${DEFAULT_THRESHOLDS.minTraces})`,
        ).helpGroup(COMPLETE),
      )
  );
}

/** The completeness thresholds given on the command line (UserInputError for bad values). */
function thresholdsOf(o: PolicyCliOptions): Partial<CompletenessThresholds> {
  const out: Partial<CompletenessThresholds> = {};
  const share = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!(n >= 0 && n <= 1))
      throw new UserInputError(
        `${flag} ${JSON.stringify(v)}: a share of the observed period, from 0 to 1 (0.4 is 40%).`,
      );
    return n;
  };
  const count = (v: string | undefined, flag: string): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new UserInputError(`${flag} ${JSON.stringify(v)}: a whole number, 0 or more.`);
    return n;
  };
  const settled = share(o.settledShare, '--settled-share');
  const recent = share(o.recentShare, '--recent-share');
  const days = count(o.minActiveDays, '--min-active-days');
  const traces = count(o.minTraces, '--min-traces');
  if (settled !== undefined) out.settledShare = settled;
  if (recent !== undefined) out.recentShare = recent;
  if (days !== undefined) out.minActiveDays = days;
  if (traces !== undefined) out.minTraces = traces;
  const s = out.settledShare ?? DEFAULT_THRESHOLDS.settledShare;
  const r = out.recentShare ?? DEFAULT_THRESHOLDS.recentShare;
  if (r > s)
    throw new UserInputError(
      `--recent-share ${r} is above --settled-share ${s}: "recent" must be the shorter, last stretch.`,
    );
  return out;
}

/** Reads the policy-shaping options (UserInputError, exit 2, for bad values). */
export function policyOptions(
  o: PolicyCliOptions,
  store: Store | null,
  env: NodeJS.ProcessEnv = {},
): PolicyOptions {
  let maxSize: number | undefined;
  if (o.maxSize !== undefined) {
    maxSize = Number(o.maxSize);
    if (!Number.isInteger(maxSize) || maxSize < 200)
      throw new UserInputError(
        `--max-size ${JSON.stringify(o.maxSize)}: a whole number of characters, at least 200 (IAM's managed-policy limit is 6144).`,
      );
  }
  let roles: PolicyOptions['roles'];
  if (o.by === 'role' && !o.roles && store) {
    // The roles the ingested configuration exports name (aws lambda get-function-configuration…),
    // and those CloudTrail shows the Lambda or ECS service assuming for a function or task.
    roles = storedRoles(store);
    for (const l of trailLinks(store)) if (!roles.has(l.session)) roles.set(l.session, l.role);
    if (roles.size === 0 && !hasTrail(store))
      throw new UserInputError(
        "--by role needs --roles FILE (the output of `aws lambda list-functions`), or the functions' configuration ingested (`xray-lp ingest` of that output).",
      );
  } else if (o.by === 'role') {
    if (!o.roles)
      throw new UserInputError('--by role needs --roles FILE (the output of `aws lambda list-functions`).');
    let text: string;
    try {
      text = fs.readFileSync(o.roles, 'utf8');
    } catch (err) {
      throw new UserInputError(`--roles ${o.roles}: ${(err as Error).message}`);
    }
    roles = parseRoleMap(text, o.roles);
    if (store) for (const l of trailLinks(store)) if (!roles.has(l.session)) roles.set(l.session, l.role);
  } else if (o.roles) {
    throw new UserInputError('--roles is used with --by role.');
  }
  return {
    // Usage rows (store null) are filtered where they are read: usageFilter.
    filter: store ? filterFromOptions(o, store) : {},
    includeDenied: o.includeDenied,
    includeOutside: o.includeOutside,
    s3Objects: o.s3Objects,
    accountWildcard: o.accountWildcard,
    regionWildcard: o.regionWildcard,
    placeholders: o.placeholders,
    unknownResources: o.unknownResources,
    maxSize,
    roles,
    completeness: thresholdsOf(o),
    runtime: o.runtime,
    readThread: readThreadOf(env),
  };
}

const READ_THREAD_MODES: readonly ReadThreadMode[] = ['auto', 'always', 'never'];

/** `XRAY_LP_READ_THREAD`: whether the permissions are read on a second thread (default `auto`: a large database). */
export function readThreadOf(env: NodeJS.ProcessEnv): ReadThreadMode {
  const v = env.XRAY_LP_READ_THREAD?.trim();
  if (v === undefined || v === '') return 'auto';
  if ((READ_THREAD_MODES as readonly string[]).includes(v)) return v as ReadThreadMode;
  throw new UserInputError(
    `XRAY_LP_READ_THREAD=${JSON.stringify(v)}: write auto (the default), always or never, or unset it.`,
  );
}

/** The note `--exclude-denied` gets: what it asked for is the default now. */
export function noteExcludeDenied(o: { excludeDenied?: boolean; includeDenied?: boolean }, io: CliIO): void {
  if (o.excludeDenied && o.includeDenied)
    throw new UserInputError('--exclude-denied and --include-denied contradict each other; pick one.');
  if (o.excludeDenied)
    io.err(
      'xray-lp: note: --exclude-denied is the default since 0.3 (denied permissions are left out and listed); the option is accepted and does nothing. --include-denied grants them.\n',
    );
}
