import { interruptionPoints } from '../../shared/files.js';
import { Option, type Command } from 'commander';
import { EXIT, UserInputError, type ExitCode } from '../../shared/errors.js';
import { policies, type PolicyOptions, type PolicyRun } from '../../policy/build.js';
import { explainPermission } from '../../policy/explain.js';
import { FORMAT_EXTENSION, POLICY_FORMATS, PolicyWriter, type PolicyFormat } from '../../policy/formats.js';
import type { WorkloadPolicy } from '../../policy/types.js';
import { warningLines } from '../../policy/warnings.js';
import { explainEmpty } from '../../query/calls.js';
import { storeNames, unmatchedMessage, unmatchedNames } from '../../query/names.js';
import { trailRolesNamed } from '../../store/trail.js';
import { policiesFromUsage } from '../../policy/usage-rows.js';
import { onInterrupt } from '../interrupt.js';
import type { CommandContext } from '../command.js';
import type { CliIO } from '../io.js';
import { OUTPUT, safeJson, tableWidth } from '../output.js';
import { openForRead } from '../options.js';
import { OutDir } from '../out-dir.js';
import { int, safe, safeText } from '../render.js';
import { usageFilter, withUsageRows } from '../usage-input.js';

import {
  addPolicyOptions,
  COMPLETE,
  noteExcludeDenied,
  policyOptions,
  type PolicyCliOptions,
} from '../policy-options.js';
import {
  type SummaryRow,
  summaryOf,
  documentOf,
  keyedDocument,
  renderSummary,
  warningCount,
} from '../views/policy.js';

/** Registers `xray-lp policy` and `xray-lp explain`. */
export function registerPolicy(program: Command, { io, setExit }: CommandContext): void {
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
      const options = { ...policyOptions(o, store, io.env), replayFormats: printedFormats(o) };
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
