/**
 * `xray-lp compare`: observed usage versus what the workloads are granted today, from exported
 * IAM and Lambda files, offline. Table (default), `--json`, or `--markdown` for review tickets;
 * `--check` exits 4 when something should be removed or added. `--usage` compares usage rows (as
 * `export` writes them, or an engine aggregates them) instead of a database.
 */
import { Option, type Command } from 'commander';
import { EXIT, UserInputError } from '../../shared/errors.js';
import { RISK_LEVELS, type RiskLevel } from '../../iam/risk.js';
import { compareGranted, compareUsage, type CompareResult } from '../../compare/compare.js';
import { rowsUsage } from '../../compare/usage-rows.js';
import { describeFilter, type RawFilterOptions } from '../../query/filters.js';
import { storeStats } from '../../query/stats.js';
import { hasTrail } from '../../store/trail.js';
import { addFilterOptions, collect, filterFromOptions } from '../filter-options.js';
import type { CommandContext } from '../command.js';
import { safeJson, tableWidth } from '../output.js';
import { openForRead, readGrantedFiles } from '../options.js';
import { readThreadOf } from '../policy-options.js';
import { safe, safeText } from '../render.js';
import { usageFilter, withUsageRows } from '../usage-input.js';
import { isEmpty, renderTable, renderMarkdown } from '../views/compare.js';

interface CompareCliOptions extends RawFilterOptions {
  granted: string[];
  role?: string;
  allowUnused?: string[];
  includeOutside?: boolean;
  check?: boolean;
  json?: boolean;
  markdown?: boolean;
  runtime: 'all' | 'none';
  usage?: string[];
  maxRisk?: RiskLevel;
}

/** Registers `xray-lp compare`. */
export function registerCompare(program: Command, { io, setExit }: CommandContext): void {
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
      .option(
        '--include-outside',
        "count as used the calls CloudTrail shows made with a role's credentials from outside its workload (default: named, not counted: they may be an intruder's)",
      )
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
      .addOption(
        new Option(
          '--max-risk <level>',
          'only unused grants at or above this risk level fail the check (docs/risk.md); missing permissions still do',
        ).choices(RISK_LEVELS),
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
    const options = {
      granted,
      role: o.role,
      allowUnused: o.allowUnused,
      runtime: o.runtime,
      maxRisk: o.maxRisk,
    };
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
        result = compareGranted(store, {
          ...options,
          filter,
          readThread: readThreadOf(io.env),
          includeOutside: o.includeOutside === true,
        });
        if (isEmpty(result)) {
          const s = storeStats(store);
          // CloudTrail records are usage too: a database holding only them is not empty.
          say(
            s.calls === 0 && !hasTrail(store)
              ? 'No calls recorded: the database is empty. Run `xray-lp ingest <dump>` first.\n'
              : `No calls match (${describeFilter(filter)})${s.calls > 0 ? `. Recorded period: ${s.firstCall} … ${s.lastCall}` : ''}.\n`,
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
          ? `xray-lp: check failed: ${failing.map(safe).join(', ')} ${failing.length === 1 ? 'has' : 'have'} ${o.maxRisk ? `missing permissions or unused grants of risk ${o.maxRisk} or higher` : 'unused or missing permissions'}\n`
          : 'xray-lp: check failed: no workload could be compared with a role\n',
      );
      setExit(EXIT.checkFailed);
    }
  });
}
