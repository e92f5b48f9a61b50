/**
 * `xray-lp compare`: observed usage versus what the workloads are granted today, from exported
 * IAM and Lambda files, offline. Table (default), `--json`, or `--markdown` for review tickets;
 * `--check` exits 4 when something should be removed or added. `--usage` compares usage rows (as
 * `export` writes them, or an engine aggregates them) instead of a database.
 */
import { Option, type Command } from 'commander';
import { EXIT, UserInputError, type ExitCode } from '../../shared/errors.js';
import type { StatementRef } from '../../iam/evaluate.js';
import {
  compareGranted,
  compareUsage,
  type CompareResult,
  type UnusedGrant,
  type WorkloadComparison,
} from '../../compare/compare.js';
import { rowsUsage } from '../../compare/usage-rows.js';
import { describeFilter, type RawFilterOptions } from '../../query/filters.js';
import { storeStats } from '../../query/stats.js';
import { addFilterOptions, collect, filterFromOptions } from '../filter-options.js';
import type { CliIO } from '../io.js';
import { safeJson, tableWidth } from '../output.js';
import { openForRead, readGrantedFiles } from '../options.js';
import { int, safe, safeText, shorten, table } from '../render.js';
import { usageFilter, withUsageRows } from '../usage-input.js';
import { originText } from '../../granted/bind.js';

interface CompareCliOptions extends RawFilterOptions {
  granted: string[];
  role?: string;
  allowUnused?: string[];
  check?: boolean;
  json?: boolean;
  markdown?: boolean;
  runtime: 'all' | 'none';
  usage?: string[];
}

/** How many concrete actions a line shows before "+N more". */
const SHOW = 8;

/** Registers `xray-lp compare`. */
export function registerCompare(program: Command, io: CliIO, setExit: (c: ExitCode) => void): void {
  addFilterOptions(
    program
      .command('compare')
      .description('what workloads are granted today but never used, and what they used but are not granted')
      .requiredOption(
        '--granted <files...>',
        'what is granted, recognised by content: IAM policy documents, `aws iam get-account-authorization-details` and `aws lambda list-functions` output, CloudFormation/SAM templates (JSON or YAML), a CDK cdk.out folder, Serverless files, `terraform show -json` output, .tf files, any `policy --format` output; - reads standard input. AWS managed policies attached by ARN or name come from an authorization-details file given too, else from the bundled catalogue (README)',
      )
      .option('--role <arn-or-name>', 'compare every selected workload with this role')
      .option('--allow-unused <pattern>', 'action pattern that may stay unused (logs:*); repeatable', collect)
      .addOption(
        new Option(
          '--runtime <mode>',
          "recognise the workloads' run-time needs (logs, trace upload, event-source polling, dependent actions) as needed, or none",
        )
          .choices(['all', 'none'])
          .default('all'),
      )
      .option(
        '--check',
        'exit 4 when a workload has unused grants (beyond --allow-unused) or missing permissions',
      )
      .option('--json', 'print the comparison as JSON')
      .option('--markdown', 'print the comparison as Markdown, for a review ticket')
      .option(
        '--usage <paths...>',
        "compare usage rows instead of the database: Parquet, CSV or JSON-lines files or folders (the folder `export --out` wrote, or its usage/), or an engine's aggregate (docs/scale.md)",
      )
      .addHelpText(
        'after',
        `
With --usage, the comparison from the rows \`export\` writes equals the one from the database.
Rows with fewer columns say less: without kind or name, both are derived from the principal;
without account, it is null; without denied, no call counts as denied; without
resource_unknown, a resource with * counts as not recorded; without mapping, no call counts as
unmapped. --since, --until, --now, --outcome, --region and --account do not apply to rows:
filter in the query that aggregates them.`,
      ),
  ).action(async (o: CompareCliOptions, cmd: Command) => {
    if (o.json && o.markdown)
      throw new UserInputError('--json and --markdown exclude each other: choose one.');
    const granted = await readGrantedFiles(o.granted, io.cwd, io.stdin);
    const options = { granted, role: o.role, allowUnused: o.allowUnused, runtime: o.runtime };
    // Why nothing matched: on stdout under a table, on stderr when stdout holds a document.
    const say = (text: string): void => (o.json || o.markdown ? io.err(text) : io.out(text));
    let result: CompareResult;
    if (o.usage) {
      // Every file is read before anything is compared: a bad file prints no result.
      result = await withUsageRows(o.usage, usageFilter(o), (rows) => compareUsage(rowsUsage(rows), options));
      if (isEmpty(result)) say('No usage row with a principal and a permission matches.\n');
    } else {
      const store = openForRead(cmd, io);
      try {
        const filter = filterFromOptions(o, store);
        result = compareGranted(store, { ...options, filter });
        if (isEmpty(result)) {
          const s = storeStats(store);
          say(
            s.calls === 0
              ? 'No calls recorded: the database is empty. Run `xray-lp ingest <dump>` first.\n'
              : `No calls match (${describeFilter(filter)}). Recorded period: ${s.firstCall} … ${s.lastCall}.\n`,
          );
        }
      } finally {
        store.close();
      }
    }
    if (isEmpty(result)) {
      if (o.json) io.out(`${safeJson(result)}\n`);
      if (o.check) setExit(EXIT.checkFailed);
      return;
    }
    if (o.json) io.out(`${safeJson(result)}\n`);
    else if (o.markdown) io.out(safeText(renderMarkdown(result)));
    else io.out(renderTable(result, tableWidth(cmd, io)));
    if (o.check && !result.passed) {
      const failing = result.workloads.filter((w) => !w.passes).map((w) => w.name);
      io.err(
        failing.length > 0
          ? `xray-lp: check failed: ${failing.map(safe).join(', ')} ${failing.length === 1 ? 'has' : 'have'} unused or missing permissions\n`
          : 'xray-lp: check failed: no workload could be compared with a role\n',
      );
      setExit(EXIT.checkFailed);
    }
  });
}

/** Nothing was selected: no workload compared, none left unmatched. */
const isEmpty = (r: CompareResult): boolean => r.workloads.length === 0 && r.unmatchedWorkloads.length === 0;

const refText = (r: StatementRef): string => `${r.policy} #${r.index + 1}${r.sid ? ` (${r.sid})` : ''}`;

function list(actions: string[]): string {
  return actions.length <= SHOW
    ? actions.join(', ')
    : `${actions.slice(0, SHOW).join(', ')} (+${actions.length - SHOW} more)`;
}

/** One line per unused grant: the pattern pair, where it is, and what it grants unused. */
function unusedLine(u: UnusedGrant): string {
  const where = `${u.policy} #${u.statement}${u.sid ? ` (${u.sid})` : ''}${u.conditional ? ', conditional' : ''}${u.origin ? ` at ${originText(u.origin)}` : ''}`;
  const head =
    u.used.length === 0 && u.runtime.length === 0
      ? `${u.action} on ${u.resource} [${where}]: never used: remove the statement pair (${u.granted} action${u.granted === 1 ? '' : 's'})`
      : `${u.action} on ${u.resource} [${where}]: ${u.unused.length + u.allowedUnused.length} of ${u.granted} actions unused: ${list(u.unused)}`;
  const used = u.used.length > 0 ? `\n      used: ${list(u.used)} on ${u.usedResources.join(', ')}` : '';
  const allowed = u.allowedUnused.length > 0 ? `\n      allowed unused: ${list(u.allowedUnused)}` : '';
  const runtime = u.runtime.length > 0 ? `\n      run-time needs (keep): ${list(u.runtime)}` : '';
  return head + used + allowed + runtime;
}

/**
 * Pairs of one statement and resource that were never used at all read as one line
 * ("dynamodb:Query, dynamodb:Scan on table/orders"); partly used pairs keep their own line.
 */
function groupIdle(unused: UnusedGrant[]): (string | UnusedGrant)[] {
  const out: (string | UnusedGrant)[] = [];
  const idle = new Map<string, UnusedGrant[]>();
  for (const u of unused) {
    if (u.used.length > 0 || u.allowedUnused.length > 0 || u.runtime.length > 0) {
      out.push(u);
      continue;
    }
    const key = `${u.policy}\u0000${u.statement}\u0000${u.resource}`;
    idle.set(key, [...(idle.get(key) ?? []), u]);
  }
  for (const group of idle.values()) {
    const u = group[0] as UnusedGrant;
    const actions = group.flatMap((g) =>
      /[*?]/.test(g.action) || g.action.startsWith('NotAction')
        ? [`${g.action} (${g.granted} actions)`]
        : [g.action],
    );
    out.push(
      `${actions.join(', ')} on ${u.resource} [${u.policy} #${u.statement}${u.sid ? ` (${u.sid})` : ''}${u.conditional ? ', conditional' : ''}${u.origin ? ` at ${originText(u.origin)}` : ''}]: never used`,
    );
  }
  return out;
}

/** The summary table (fitted to `width` when given), then a section per workload. */
export function renderTable(r: CompareResult, width: number | undefined): string {
  let out = '';
  if (r.workloads.length > 0) {
    out += `${table(
      // To fit the terminal: workload and role are shortened, then conditional, granted, used,
      // role, unused grants and missing are hidden in that order; workload and check stay.
      [
        { header: 'workload', minWidth: 20 },
        { header: 'role', minWidth: 20, drop: 4 },
        { header: 'granted', align: 'right', drop: 2 },
        { header: 'used', align: 'right', drop: 3 },
        { header: 'unused grants', align: 'right', drop: 5 },
        { header: 'missing', align: 'right', drop: 6 },
        { header: 'conditional', align: 'right', drop: 1 },
        { header: 'check' },
      ],
      r.workloads.map((w) => [
        width === undefined ? w.name : shorten(w.name, 30),
        width === undefined ? w.role.name : shorten(w.role.name, 30),
        int(w.granted.actions),
        int(w.used.actions),
        int(w.unused.reduce((n, u) => n + u.unused.length, 0)),
        int(w.missing.length),
        int(w.conditional.length),
        w.passes ? 'ok' : 'FAIL',
      ]),
      width,
    )}\n`;
  }
  for (const w of r.workloads) out += safeText(section(w));
  out += safeText(trailer(r));
  return out;
}

function section(w: WorkloadComparison): string {
  const lines = [
    '',
    `${w.name} (${w.kind}) as ${w.role.arn ?? w.role.name}: ${w.headline}${w.missing.length > 0 ? `, ${w.missing.length} missing` : ''}`,
  ];
  if (w.role.origin) lines.push(`  Role defined at ${originText(w.role.origin)}`);
  const remove = w.unused.filter((u) => u.unused.length > 0);
  if (remove.length > 0) {
    lines.push('  Remove (granted, never used):');
    for (const g of groupIdle(remove)) lines.push(`    ${typeof g === 'string' ? g : unusedLine(g)}`);
  }
  const allowedOnly = w.unused.filter((u) => u.unused.length === 0 && u.allowedUnused.length > 0);
  const runtime = runtimeLines(w);
  if (runtime.length > 0) {
    lines.push('  Run-time needs (no call shows them; the services that run the workload use them):');
    for (const l of runtime) lines.push(`    ${l}`);
  }
  if (allowedOnly.length > 0)
    lines.push(
      `  Unused but allowed by --allow-unused: ${allowedOnly.map((u) => `${u.action} on ${u.resource}`).join('; ')}`,
    );
  if (w.missing.length > 0) {
    lines.push(
      `  Missing (used, not granted${w.role.origin ? `; add to ${originText(w.role.origin)}` : ''}):`,
    );
    for (const m of w.missing)
      lines.push(
        `    ${m.action} on ${m.resource}: ${m.reason === 'denied-explicit' ? `explicitly denied by ${m.deniedBy.map(refText).join(', ')}` : 'not granted'} (${int(m.calls)} call${m.calls === 1 ? '' : 's'}${m.denied > 0 ? `, ${int(m.denied)} denied` : ''})`,
      );
  }
  if (w.conditional.length > 0) {
    lines.push('  Conditional (allowed only if a condition holds; not evaluated):');
    for (const c of w.conditional)
      lines.push(`    ${c.action} on ${c.resource}: ${c.statements.map(refText).join(', ')}`);
  }
  if (w.unverifiable.length > 0) {
    lines.push('  Unverifiable (resource not recorded; granted on some resources only):');
    for (const c of w.unverifiable)
      lines.push(`    ${c.action} on ${c.resource}: ${c.statements.map(refText).join(', ')}`);
  }
  if (w.deniedAtRuntime.length > 0) {
    lines.push('  Denied when called, though granted here:');
    for (const d of w.deniedAtRuntime)
      lines.push(`    ${d.action} on ${d.resource} (${int(d.denied)} denied)`);
  }
  if (remove.length === 0 && w.missing.length === 0) lines.push('  Nothing to remove or add.');
  for (const n of w.notes) lines.push(`  Note: ${n}`);
  return `${lines.join('\n')}\n`;
}

/**
 * The workload's run-time needs, one line per rule and resource: granted by which pairs, or
 * missing; the possible ones (not knowable from the inputs) only where granted.
 */
function runtimeLines(w: WorkloadComparison): string[] {
  const groups = new Map<
    string,
    { actions: string[]; granted: boolean; n: WorkloadComparison['runtimeNeeds'][number] }
  >();
  for (const n of w.runtimeNeeds) {
    if (n.possible && !n.granted) continue;
    const key = `${n.rule}\u0000${n.resource}\u0000${n.granted}`;
    const g = groups.get(key) ?? { actions: [], granted: n.granted, n };
    g.actions.push(n.action);
    groups.set(key, g);
  }
  return [...groups.values()].map(
    (g) =>
      `${g.actions.join(', ')} on ${g.n.resource}: ${g.granted ? 'granted' : 'NOT GRANTED'}, ${g.n.possible ? 'possibly ' : ''}needed because ${g.n.why} (${g.n.source})`,
  );
}

function trailer(r: CompareResult): string {
  const lines: string[] = [];
  if (r.unmatchedWorkloads.length > 0) {
    lines.push('', 'Not compared (no role matched):');
    for (const u of r.unmatchedWorkloads) lines.push(`  ${u.name} (${u.kind}): ${u.reason}`);
  }
  if (r.unmatchedRoles.length > 0) {
    lines.push(
      '',
      `Roles in the files that no selected workload runs as: ${r.unmatchedRoles
        .slice(0, 10)
        .map((x) => x.name)
        .join(
          ', ',
        )}${r.unmatchedRoles.length > 10 ? `, … ${r.unmatchedRoles.length - 10} more (see --json)` : ''}`,
    );
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

/** Markdown for review tickets: pipes and backticks in data are escaped. */
function renderMarkdown(r: CompareResult): string {
  const md = (s: string): string => s.replace(/[|`\\*_<>]/g, (c) => `\\${c}`);
  const code = (s: string): string => `\`${s.replace(/`/g, "'")}\``;
  const out: string[] = ['# Granted vs used permissions', ''];
  if (r.workloads.length > 0) {
    out.push('| workload | role | granted | used | unused grants | missing | conditional | check |');
    out.push('|---|---|--:|--:|--:|--:|--:|---|');
    for (const w of r.workloads)
      out.push(
        `| ${md(w.name)} | ${md(w.role.name)} | ${w.granted.actions} | ${w.used.actions} | ${w.unused.reduce((n, u) => n + u.unused.length, 0)} | ${w.missing.length} | ${w.conditional.length} | ${w.passes ? 'ok' : '**FAIL**'} |`,
      );
  }
  for (const w of r.workloads) {
    out.push(
      '',
      `## ${md(w.name)} (${md(w.kind)})`,
      '',
      `Role ${code(w.role.arn ?? w.role.name)} ${md(w.headline)}.${w.role.origin ? ` Defined at ${code(originText(w.role.origin))}.` : ''}`,
    );
    const remove = w.unused.filter((u) => u.unused.length > 0);
    if (remove.length > 0) {
      out.push(
        '',
        '### Remove (granted, never used)',
        '',
        '| action | resource | statement | unused | used on |',
        '|---|---|---|---|---|',
      );
      for (const u of remove)
        out.push(
          `| ${code(u.action)} | ${code(u.resource)} | ${md(`${u.policy} #${u.statement}${u.sid ? ` (${u.sid})` : ''}${u.origin ? ` at ${originText(u.origin)}` : ''}`)} | ${u.unused.length} of ${u.granted}: ${md(list(u.unused))} | ${u.used.length > 0 ? md(`${list(u.used)} on ${u.usedResources.join(', ')}`) : 'never used'} |`,
        );
    }
    const runtime = runtimeLines(w);
    if (runtime.length > 0) {
      out.push('', '### Run-time needs (no call shows them; never remove)', '');
      for (const l of runtime) out.push(`- ${md(l)}`);
    }
    if (w.missing.length > 0) {
      out.push(
        '',
        '### Missing (used, not granted)',
        '',
        '| action | resource | calls | denied | why |',
        '|---|---|--:|--:|---|',
      );
      for (const m of w.missing)
        out.push(
          `| ${code(m.action)} | ${code(m.resource)} | ${m.calls} | ${m.denied} | ${m.reason === 'denied-explicit' ? md(`denied by ${m.deniedBy.map(refText).join(', ')}`) : 'not granted'} |`,
        );
    }
    if (w.conditional.length > 0) {
      out.push('', '### Conditional (condition not evaluated)', '');
      for (const c of w.conditional)
        out.push(`- ${code(c.action)} on ${code(c.resource)}: ${md(c.statements.map(refText).join(', '))}`);
    }
    if (w.unverifiable.length > 0) {
      out.push('', '### Unverifiable (resource not recorded)', '');
      for (const c of w.unverifiable)
        out.push(`- ${code(c.action)} on ${code(c.resource)}: ${md(c.statements.map(refText).join(', '))}`);
    }
    for (const n of w.notes) out.push('', `> ${md(n)}`);
  }
  if (r.unmatchedWorkloads.length > 0) {
    out.push('', '## Not compared', '');
    for (const u of r.unmatchedWorkloads) out.push(`- ${md(u.name)} (${md(u.kind)}): ${md(u.reason)}`);
  }
  if (r.unmatchedRoles.length > 0) {
    out.push('', '## Roles no selected workload runs as', '');
    for (const x of r.unmatchedRoles) out.push(`- ${code(x.arn)}`);
  }
  return `${out.join('\n')}\n`;
}
