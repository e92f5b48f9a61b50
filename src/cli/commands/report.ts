/**
 * `xray-lp report`: the offline HTML review report (src/report/), written to one file as it is
 * built, then its path printed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Option, type Command } from 'commander';
import { report, type ReportSummary } from '../../report/report.js';
import { UserInputError } from '../../shared/errors.js';
import { AtomicFile, checkInterrupted, interruptionPoints } from '../../shared/files.js';
import { SCHEMA_VERSION } from '../../store/schema.js';
import { onInterrupt } from '../interrupt.js';
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

/**
 * Writes the report to `file` whole or not at all (src/shared/files.ts: a new temporary in the
 * same folder, renamed over `file` once complete; a reviewer never opens half a report), and
 * returns its summary. The event loop runs between chunks, so that an interrupt (`signal`) is
 * seen: then the temporary is removed and `file` is left as it was.
 */
export async function writeReport(
  file: string,
  run: Iterable<string> & { summary: ReportSummary },
  o: { signal?: AbortSignal; removed?: (name: string) => void } = {},
): Promise<ReportSummary> {
  const out = new AtomicFile(file);
  for (const name of out.removed) o.removed?.(name);
  try {
    const step = interruptionPoints(o.signal);
    // Chunks are small (a table row, a chart): written in blocks of 64 KiB.
    let block: string[] = [];
    let size = 0;
    for (const chunk of run) {
      block.push(chunk);
      size += chunk.length;
      if (size >= 1 << 16) {
        out.write(block.join(''));
        block = [];
        size = 0;
      }
      await step();
    }
    out.write(block.join(''));
    checkInterrupted(o.signal);
    out.commit();
  } catch (err) {
    out.discard();
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
      const options = { ...policyOptions(o as never, store), replayFormats: ['iam' as const] };
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
