/**
 * `xray-lp report`: the offline HTML review report (src/report/), written to one file as it is
 * built, then its path printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { report, type ReportSummary } from '../../report/report.js';
import { UserInputError } from '../../shared/errors.js';
import { SCHEMA_VERSION } from '../../store/schema.js';
import type { CliIO } from '../io.js';
import { dbPath, openForRead, readGrantedFiles } from '../options.js';
import { OUTPUT } from '../output.js';
import { int, safe } from '../render.js';
import { addPolicyOptions, noteExcludeDenied, policyOptions } from './policy.js';

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

/** Writes the report for `store`'s database to `file`; returns its summary. */
export async function writeReport(
  file: string,
  run: Iterable<string> & { summary: ReportSummary },
): Promise<ReportSummary> {
  const tmp = `${file}.partial-${process.pid}`;
  const out = fs.createWriteStream(tmp);
  try {
    for (const chunk of run)
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
    await new Promise<void>((resolve, reject) =>
      out.end((err?: Error | null) => (err ? reject(err) : resolve())),
    );
    // Whole or not at all: a reviewer must never open half a report.
    fs.renameSync(tmp, file);
  } catch (err) {
    out.destroy();
    fs.rmSync(tmp, { force: true });
    throw err;
  }
  return run.summary;
}

/** Registers `xray-lp report`. */
export function registerReport(program: Command, io: CliIO, version: string): void {
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
    if (!fs.existsSync(path.dirname(file)))
      throw new UserInputError(`--out ${o.out}: the folder ${path.dirname(file)} does not exist.`);
    const granted = o.granted ? readGrantedFiles(o.granted) : undefined;
    const store = openForRead(cmd, io);
    try {
      const options = policyOptions(o as never, store);
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
