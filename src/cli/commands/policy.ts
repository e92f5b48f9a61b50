import fs from 'node:fs';
import { interruptionPoints } from '../../shared/files.js';
import { Option, type Command } from 'commander';
import { EXIT, UserInputError, type ExitCode } from '../../shared/errors.js';
import { DEFAULT_THRESHOLDS, type CompletenessThresholds } from '../../policy/completeness.js';
import { parseRoleMap } from '../../grants/roles.js';
import { storedRoles } from '../../store/configs.js';
import { hasTrail, trailLinks, trailRolesNamed } from '../../store/trail.js';
import { policies, type PolicyOptions, type PolicyRun, type S3ObjectScope } from '../../policy/build.js';
import { explainPermission } from '../../policy/explain.js';
import {
  FORMAT_EXTENSION,
  FORMAT_LABEL,
  POLICY_FORMATS,
  PolicyWriter,
  type PolicyFormat,
} from '../../policy/formats.js';
import type { PolicyWarning, WorkloadPolicy } from '../../policy/types.js';
import { warningLines } from '../../policy/warnings.js';
import { explainEmpty } from '../../query/calls.js';
import { storeNames, unmatchedMessage, unmatchedNames } from '../../query/names.js';
import { policiesFromUsage } from '../../policy/usage-rows.js';
import type { RawFilterOptions } from '../../query/filters.js';
import type { Store } from '../../store/db.js';
import { addFilterOptions, filterFromOptions } from '../filter-options.js';
import { onInterrupt } from '../interrupt.js';
import type { CliIO } from '../io.js';
import { OUTPUT, safeJson, tableWidth } from '../output.js';
import { openForRead } from '../options.js';
import { OutDir } from '../out-dir.js';
import { int, safe, safeText, shorten, table } from '../render.js';
import { usageFilter, withUsageRows } from '../usage-input.js';

interface PolicyCliOptions extends RawFilterOptions {
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
const COMPLETE = 'Completeness (is the data enough?):';

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
          `too little data below this many traces (default ${DEFAULT_THRESHOLDS.minTraces})`,
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
export function policyOptions(o: PolicyCliOptions, store: Store | null): PolicyOptions {
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
  };
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

/** Registers `xray-lp policy` and `xray-lp explain`. */
export function registerPolicy(program: Command, io: CliIO, setExit: (c: ExitCode) => void): void {
  addPolicyOptions(
    program
      .command('policy')
      .description('one least-privilege IAM policy per workload, from the calls it was seen to make')
      .addOption(
        new Option('--format <format>', 'output format')
          .choices(POLICY_FORMATS)
          .default('iam')
          .helpGroup(OUTPUT),
      )
      .addOption(
        new Option('--json', 'print policies with warnings and evidence as one JSON array').helpGroup(OUTPUT),
      )
      .addOption(
        new Option(
          '--out <dir>',
          'write one file per workload (and evidence.json) into this folder, swapped in whole; refused if it holds files xray-lp did not write',
        ).helpGroup(OUTPUT),
      )
      .addOption(
        new Option(
          '--usage <paths...>',
          "build from usage rows instead of the database: Parquet, CSV or JSON-lines files or folders (the folder `export --out` wrote, or its usage/), or an engine's aggregate (docs/scale.md)",
        ),
      )
      .addOption(
        new Option(
          '--check-complete',
          'exit 5 when a selected workload is not settled: its traces may not show everything it needs',
        ).helpGroup(COMPLETE),
      ),
  ).action(async (o: PolicyCliOptions, cmd: Command) => {
    noteExcludeDenied(o, io);
    if (o.usage) {
      // From usage rows (an engine's aggregate, or `export`'s table) instead of a database.
      // Rows carry no trace counts, so a `settled` verdict from them would skip the minimum on
      // traces: a gate must not pass on what it could not check.
      if (o.checkComplete)
        throw new UserInputError(
          '--check-complete cannot be used with --usage: usage rows carry no trace counts, so whether the traces are enough cannot be checked. Merge the shards (xray-lp merge) and run --check-complete on the database.',
        );
      const options = { ...policyOptions(o, null), replayFormats: printedFormats(o) };
      await withUsageRows(o.usage, usageFilter(o), (source) =>
        emitPolicies(
          policiesFromUsage(source, options),
          o,
          options,
          io,
          cmd,
          setExit,
          () => 'No policy: no usage row with a principal and a permission matches.',
        ),
      );
      return;
    }
    const store = openForRead(cmd, io);
    try {
      const options = { ...policyOptions(o, store), replayFormats: printedFormats(o) };
      await emitPolicies(policies(store, options), o, options, io, cmd, setExit, () =>
        explainEmpty(store, options.filter, 'calls'),
      );
    } finally {
      store.close();
    }
  });

  addPolicyOptions(
    program
      .command('explain')
      .description("why a permission is in a workload's policy, or why it is not")
      .argument('<workload>', 'workload name, ARN or key')
      .argument('<action>', 'IAM action, e.g. dynamodb:PutItem')
      .argument('[resource]', 'resource ARN (wildcards allowed)')
      .option('--json', 'print as JSON')
      .addHelpText(
        'after',
        `
Exit codes: 0 granted, 6 not granted (the answer is printed either way), 2 usage error
            (a workload that matches nothing, with the closest names).`,
      ),
  ).action(
    (
      workload: string,
      action: string,
      resource: string | undefined,
      o: PolicyCliOptions & { json?: boolean },
      cmd: Command,
    ) => {
      if (!/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(action))
        throw new UserInputError(
          `${JSON.stringify(action)} is not an IAM action; write it as service:Action (dynamodb:PutItem).`,
        );
      noteExcludeDenied(o, io);
      const store = openForRead(cmd, io);
      try {
        const options = policyOptions(o, store);
        const known = storeNames(store);
        const unmatched = unmatchedNames({ workloads: [workload] }, known);
        // A role whose evidence is CloudTrail's is a subject too (role:ARN, its ARN or name).
        if (unmatched.length > 0 && trailRolesNamed(store, workload).length === 0)
          throw new UserInputError(
            unmatchedMessage(
              unmatched.map((u) => ({ ...u, flag: 'the workload' })),
              known.where,
            ),
          );
        const e = explainPermission(store, { ...options, workload, action, resource });
        // A script can gate on it: `xray-lp explain fn s3:DeleteObject || echo "not granted"`.
        setExit(e.granted ? EXIT.ok : EXIT.notGranted);
        if (o.json) {
          io.out(`${safeJson(e)}\n`);
          return;
        }
        const lines = [
          `${e.granted ? 'GRANTED' : 'NOT GRANTED'}: ${e.action}${e.resource ? ` on ${e.resource}` : ''} for ${e.workload}`,
          ...e.reasons.map((r) => `  ${r}`),
        ];
        if (e.calls > 0) {
          lines.push(
            `  calls: ${int(e.calls)} (${Object.entries(e.byOutcome)
              .map(([k, v]) => `${k} ${int(v)}`)
              .join(', ')}), ${e.firstSeen} … ${e.lastSeen}`,
          );
          lines.push(`  sample traces: ${e.sampleTraceIds.join(', ')}`);
          for (const r of e.resources.slice(0, 10))
            lines.push(`  resource ${r.resource} (${int(r.calls)} call${r.calls === 1 ? '' : 's'})`);
        }
        for (const s of e.statements) lines.push(`  statement ${s.sid}: ${s.resources.join(', ')}`);
        if (e.cloudtrail) lines.push(`  sources: ${e.cloudtrail.sources.join(', ') || '(none)'}`);
        io.out(`${safeText(lines.join('\n'))}\n`);
      } finally {
        store.close();
      }
    },
  );
}

/**
 * Prints the policies as they are built (whatever the output, memory holds one), then the
 * empty-result line or the `--check-complete` verdict.
 */
/** The format whose text `policy` prints or writes (`--json` holds IAM JSON documents). */
function printedFormats(o: PolicyCliOptions): PolicyFormat[] {
  return [o.json ? 'iam' : o.format];
}

async function emitPolicies(
  built: PolicyRun,
  o: PolicyCliOptions,
  options: PolicyOptions,
  io: CliIO,
  cmd: Command,
  setExit: (c: ExitCode) => void,
  empty: () => string,
): Promise<void> {
  // Verdicts other than settled, for --check-complete (the policies themselves are not kept).
  const unsettled: string[] = [];
  const run: PolicyRun = {
    sharedRoles: built.sharedRoles,
    unmatched: built.unmatched,
    *[Symbol.iterator]() {
      for (const p of built) {
        if (p.completeness.verdict !== 'settled') unsettled.push(`${p.name} (${p.completeness.verdict})`);
        yield p;
      }
    },
  };
  const count = o.out
    ? await writeOut(o.out, run, o.format, options, io)
    : o.json
      ? writeJson(run, io)
      : writeDocument(run, o.format, options, io, tableWidth(cmd, io));
  // Stdout holds the document alone, even an empty one: the why goes to stderr.
  if (count === 0) io.err(`${safe(empty())}\n`);
  if (o.checkComplete && unsettled.length > 0) {
    io.err(
      `xray-lp: ${unsettled.length} of ${count} polic${count === 1 ? 'y is' : 'ies are'} not settled: ${unsettled
        .slice(0, 10)
        .map(safe)
        .join(
          ', ',
        )}${unsettled.length > 10 ? ', …' : ''}. Ingest more days of traces, or see each policy's "incomplete" warning.\n`,
    );
    setExit(EXIT.incomplete);
  }
}

/** `--json`: one JSON array, written element by element (the same bytes as the whole array). */
function writeJson(run: PolicyRun, io: CliIO): number {
  let n = 0;
  io.out('[');
  for (const p of run) io.out(`${n++ === 0 ? '\n' : ',\n'}${safeJson(p).replace(/^/gm, '  ')}`);
  io.out(n > 0 ? '\n]\n' : ']\n');
  return n;
}

/** The summary row of one policy, kept after the policy itself is gone. */
export interface SummaryRow {
  kind: string;
  name: string;
  statements: number;
  actions: number;
  size: number;
  warnings: number;
  completeness: string;
  /** Permissions replayed through the evaluator against the final documents (all allowed). */
  replayed: number;
}

/** The summary row of one policy. */
export function summaryOf(p: WorkloadPolicy): SummaryRow {
  return {
    kind: p.kind,
    name: p.name,
    statements: p.documents.reduce((a, d) => a + d.Statement.length, 0),
    actions: p.documents.reduce((a, d) => a + d.Statement.reduce((b, s) => b + s.Action.length, 0), 0),
    size: p.size,
    warnings: p.warnings.length,
    completeness: p.completeness.verdict,
    replayed: p.replay.allowed,
  };
}

/**
 * The default output: exactly one document on stdout, written as policies come, and on stderr
 * each policy's warnings (one line per kind) and the summary table. `iam`: one policy's document
 * (an array of documents when `--max-size` split it), or for several policies one JSON object
 * keyed by principal; the other formats: one YAML or HCL file holding every policy, with its
 * warnings as comments.
 */
function writeDocument(
  run: PolicyRun,
  format: PolicyFormat,
  options: PolicyOptions,
  io: CliIO,
  width: number | undefined,
): number {
  const rows: SummaryRow[] = [];
  const notes: string[] = [];
  const writer = format === 'iam' ? undefined : new PolicyWriter(format, options.placeholders === true);
  if (writer) io.out(safeText(writer.begin()));
  // iam: the first policy waits until the second says whether the output is one document or many.
  let held: WorkloadPolicy | undefined;
  for (const p of run) {
    rows.push(summaryOf(p));
    const lines = warningLines(p.warnings);
    if (lines.length > 0)
      notes.push(`# ${p.kind} ${p.principal}\n${lines.map((l) => `#   ${l}\n`).join('')}`);
    if (writer) io.out(safeText(writer.add(p)));
    else if (rows.length === 1) held = p;
    else {
      if (held) io.out(`{\n${keyedDocument(held)}`);
      held = undefined;
      io.out(`,\n${keyedDocument(p)}`);
    }
  }
  if (writer) io.out(safeText(writer.end()));
  else if (rows.length === 0) io.out('{}\n');
  else if (held) io.out(`${safeJson(documentOf(held))}\n`);
  else io.out('\n}\n');
  if (notes.length > 0)
    io.err(`\nWarnings (one line per kind; --json lists each):\n${safeText(notes.join(''))}`);
  if (rows.length > 0) io.err(`\n${renderSummary(rows, run, width, [format])}`);
  return rows.length;
}

/** What the `iam` format writes for a policy: its document, or the array of its parts. */
function documentOf(p: WorkloadPolicy): unknown {
  return p.documents.length === 1 ? p.document : p.documents;
}

/** One member of the `iam` object of several policies: `"principal": document`. */
function keyedDocument(p: WorkloadPolicy): string {
  return `  ${safeJson(p.principal)}: ${safeJson(documentOf(p)).replace(/\n/g, '\n  ')}`;
}

/** One policy as `demo` shows it: a header, the document(s), the warnings (one line per kind). */
export function renderIamPolicy(p: WorkloadPolicy): string {
  let out = `\n# ${safe(p.kind)} ${safe(p.principal)}\n`;
  out += safeText(p.documents.map((d) => JSON.stringify(d, null, 2)).join('\n')) + '\n';
  for (const l of warningLines(p.warnings)) out += `#   ${safe(l)}\n`;
  return out;
}

/**
 * The table of every policy printed (fitted to `width` when given: the workload is shortened,
 * then size, kind, statements, actions and warnings are hidden in that order), and the role notes.
 */
export function renderSummary(
  rows: SummaryRow[],
  run: Pick<PolicyRun, 'sharedRoles' | 'unmatched'>,
  width?: number,
  formats: readonly PolicyFormat[] = POLICY_FORMATS,
): string {
  let out = `${table(
    [
      { header: 'kind', drop: 2 },
      { header: 'workload', minWidth: 20 },
      { header: 'statements', align: 'right', drop: 3 },
      { header: 'actions', align: 'right', drop: 4 },
      { header: 'size', align: 'right', drop: 1 },
      { header: 'warnings', align: 'right', drop: 5 },
      { header: 'completeness', drop: 6 },
    ],
    rows.map((r) => [
      r.kind,
      width === undefined ? r.name : shorten(r.name, 40),
      int(r.statements),
      int(r.actions),
      int(r.size),
      int(r.warnings),
      r.completeness,
    ]),
    width,
  )}\n`;
  const replayed = rows.reduce((n, r) => n + r.replayed, 0);
  out += `Replayed through the evaluator against the final documents and ${formats.length === 1 ? 'its' : 'each'} format read back (${formats.map((f) => FORMAT_LABEL[f]).join(', ')}): all ${int(replayed)} permission${replayed === 1 ? '' : 's'} allowed\n`;
  for (const s of run.sharedRoles)
    out += `\nRole ${safe(s.role)} is shared by: ${s.functions.map(safe).join(', ')}\n`;
  if (run.unmatched.length > 0)
    out += `\nNot in the roles file (own policy each): ${run.unmatched.map(safe).join(', ')}\n`;
  return out;
}

/**
 * `--out DIR`: a file per policy and evidence.json, each written as its policy comes into a
 * staging folder, published whole at the end (src/shared/files.ts, OutFolder). Between policies
 * the event loop runs, so that an interrupt is seen: then nothing is published.
 */
async function writeOut(
  dir: string,
  run: PolicyRun,
  format: PolicyFormat,
  options: PolicyOptions,
  io: CliIO,
): Promise<number> {
  onInterrupt({
    graceful: true,
    message: `policy interrupted: nothing was published to ${safe(dir)} (left as it was); its temporary files were removed.`,
    atOnce: `policy stopped at once: nothing was published to ${safe(dir)} (left as it was); the next policy --out there removes the staging folder.`,
  });
  const out = new OutDir(dir);
  for (const name of out.folder.removed)
    io.err(`xray-lp: removed ${safe(name)}, left by an interrupted run\n`);
  let n = 0;
  // A policy can take a while to build: the clock is read after each.
  const step = interruptionPoints(io.signal, 1);
  try {
    const evidence = out.folder.file(out.name('evidence', '.json'));
    evidence.write('[');
    for (const p of run) {
      const file = out.name(p.name, FORMAT_EXTENSION[format]);
      const writer = new PolicyWriter(format, options.placeholders === true);
      out.folder.writeFile(
        file,
        format === 'iam'
          ? `${JSON.stringify(p.documents.length === 1 ? p.document : p.documents, null, 2)}\n`
          : writer.begin() + writer.add(p) + writer.end(),
      );
      const entry = {
        principal: p.principal,
        kind: p.kind,
        name: p.name,
        file,
        // One line per kind, as the terminal shows them; `warnings` has each one.
        warningSummary: warningLines(p.warnings),
        warnings: p.warnings,
        evidence: p.evidence,
      };
      if (p.warnings.length > 0) io.err(`  ${safe(entry.file)}: ${warningCount(p.warnings)}\n`);
      evidence.write(`${n++ === 0 ? '\n' : ',\n'}${safeJson(entry).replace(/^/gm, '  ')}`);
      await step();
    }
    evidence.write(n > 0 ? '\n]\n' : ']\n');
    // No policy: the folder is left as it was.
    if (n === 0) out.folder.discard();
    else out.folder.commit();
  } catch (err) {
    out.folder.discard();
    throw err;
  }
  if (n > 0)
    io.err(
      `Wrote ${n} polic${n === 1 ? 'y' : 'ies'} and evidence.json (every warning, with its evidence) to ${safe(out.dir)}\n`,
    );
  return n;
}

/** `3 warnings (denied 1, resource-unknown 2)`: a policy's warnings counted by kind. */
export function warningCount(warnings: readonly PolicyWarning[]): string {
  const byCode = new Map<string, number>();
  for (const w of warnings) byCode.set(w.code, (byCode.get(w.code) ?? 0) + 1);
  const kinds = [...byCode.entries()].map(([c, k]) => `${c} ${k}`).join(', ');
  return `${warnings.length} warning${warnings.length === 1 ? '' : 's'} (${kinds})`;
}
