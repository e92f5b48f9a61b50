/**
 * `xray-lp report`: the offline HTML review report (src/report/), written to one file as it is
 * built, then its path printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { report } from '../../report/report.js';
import { UserInputError } from '../../shared/errors.js';
import { SCHEMA_VERSION } from '../../store/schema.js';
import { onInterrupt } from '../interrupt.js';
import type { CommandContext } from '../command.js';
import { dbPath, openForRead, readGrantedFiles } from '../options.js';
import { OUTPUT } from '../output.js';
import { int, safe } from '../render.js';
import { addPolicyOptions, noteExcludeDenied, policyOptions } from '../policy-options.js';
import { writeReport } from '../report-file.js';

interface ReportCliOptions {
  out: string;
  granted?: string[];
  excludeDenied?: boolean;
  includeDenied?: boolean;
  [option: string]: unknown;
}

/** The policy options the user set, for the report's header (defaults left out). */
function givenOptions(cmd: Command): string[] {
  const out: string[] = [];
  for (const opt of cmd.options) {
    const name = opt.attributeName();
    if (name === 'out' || cmd.getOptionValueSource(name) !== 'cli') continue;
    const v = cmd.getOptionValue(name) as unknown;
    out.push(
      v === true ? (opt.long ?? name) : `${opt.long ?? name} ${Array.isArray(v) ? v.join(' ') : String(v)}`,
    );
  }
  return out;
}

/** Registers `xray-lp report`. */
export function registerReport(program: Command, { io, version }: CommandContext): void {
  addPolicyOptions(
    program
      .command('report')
      .description(
        'write one self-contained HTML file for an offline review: every workload with its policy, evidence, warnings, activity and whether the traces are enough',
      )
      .addOption(
        new Option('--out <file>', 'the HTML file to write (replaced if it exists)')
          .default('xray-lp-report.html')
          .helpGroup(OUTPUT),
      )
      .addOption(
        new Option(
          '--granted <files...>',
          'compare each workload with what these files grant (as `compare --granted`)',
        ).helpGroup(OUTPUT),
      ),
  ).action(async (o: ReportCliOptions, cmd: Command) => {
    noteExcludeDenied(o, io);
    const file = path.resolve(io.cwd, o.out);
    onInterrupt({
      graceful: true,
      message: `report interrupted: ${safe(o.out)} was not written (left as it was); its temporary file was removed.`,
      atOnce: `report stopped at once: ${safe(o.out)} was not written (left as it was); the next report in its folder removes the temporary file.`,
    });
    if (!fs.existsSync(path.dirname(file)))
      throw new UserInputError(`--out ${o.out}: the folder ${path.dirname(file)} does not exist.`);
    if (fs.statSync(file, { throwIfNoEntry: false })?.isDirectory())
      throw new UserInputError(
        `--out ${o.out} is a folder: give the name of the HTML file to write (${path.join(o.out, 'xray-lp-report.html')}, say).`,
      );
    const granted = o.granted ? await readGrantedFiles(o.granted, io.cwd, io.stdin) : undefined;
    const store = openForRead(cmd, io);
    try {
      // The policy text the report shows is IAM JSON: that is what is re-read and replayed. The
      // other formats are folded views; each is re-read and replayed when `policy --format`
      // prints it for deployment (re-reading all five doubled the report's time at 1,000 workloads).
      const options = { ...policyOptions(o as never, store, io.env), replayFormats: ['iam' as const] };
      const summary = await writeReport(
        file,
        report(store, {
          ...options,
          ...(granted ? { granted } : {}),
          meta: {
            database: path.resolve(io.cwd, dbPath(cmd, io)),
            toolVersion: version,
            schemaVersion: SCHEMA_VERSION,
            options: givenOptions(cmd),
            generatedAt: new Date().toISOString(),
          },
        }),
        {
          signal: io.signal,
          removed: (name) => io.err(`xray-lp: removed ${safe(name)}, left by an interrupted run\n`),
        },
      );
      const verdicts = Object.entries(summary.verdicts)
        .map(([v, n]) => `${int(n)} ${v}`)
        .join(', ');
      io.out(
        `Wrote ${safe(file)} (${int(summary.workloads)} workload${summary.workloads === 1 ? '' : 's'}${verdicts ? `: ${verdicts}` : ''}; ${int(Math.round(summary.bytes / 1024))} KiB)\n`,
      );
    } finally {
      store.close();
    }
  });
}
