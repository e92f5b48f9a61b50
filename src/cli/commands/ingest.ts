import type { Command } from 'commander';
import { EXIT, type ExitCode } from '../../shared/errors.js';
import { ingest, type IngestProgress, type IngestSummary } from '../../ingest/ingest.js';
import fs from 'node:fs';
import { UserInputError } from '../../shared/errors.js';
import { openStore, schemaVersionOf } from '../../store/db.js';
import { SCHEMA_VERSION } from '../../store/schema.js';
import { onInterrupt } from '../interrupt.js';
import type { CliIO } from '../io.js';
import { safeJson } from '../output.js';
import { dbPath } from '../options.js';
import { bytes, int, safe } from '../render.js';

interface IngestOptions {
  quiet?: boolean;
  json?: boolean;
  busyTimeout?: string;
}

/** Registers `xray-lp ingest`. */
export function registerIngest(program: Command, io: CliIO, setExit: (code: ExitCode) => void): void {
  program
    .command('ingest')
    .description(
      'read trace exports, X-Ray and OpenTelemetry (files, directories, - for stdin; .gz too), into the database; with no input, only migrate it',
    )
    .argument(
      '[input...]',
      'X-Ray (batch-get-traces output, Trace arrays, segment documents, daemon packets) or OpenTelemetry (aws/spans records, filter-log-events output, list-retrieved-traces OTEL, OTLP/JSON)',
    )
    .option('-q, --quiet', 'print nothing but errors')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--busy-timeout <seconds>', 'wait this long for another process writing the database', '60')
    .addHelpText(
      'after',
      `
Exit codes: 0 all inputs ingested, 3 some inputs rejected (the others are kept),
            2 usage error, 1 failure (database unusable, disk full…).
Each input is ingested atomically (a savepoint; inputs are committed in groups of up to 64 MiB
or 2 s): a rejected input leaves nothing behind, and an interrupted run keeps only whole inputs.`,
    )
    .action(async (inputs: string[], opts: IngestOptions, cmd: Command) => {
      if (inputs.length === 0) {
        migrateDatabase(dbPath(cmd, io), io, opts.quiet === true);
        return;
      }
      // The inputs since the last commit are one uncommitted transaction, which SQLite discards
      // when the process ends: ending at once loses nothing whole.
      onInterrupt({
        graceful: false,
        message:
          'interrupted. What was committed is kept, whole; the inputs not yet committed were rolled back. Run the same command again to finish: what is stored is never stored twice.',
      });
      const timeout = Number(opts.busyTimeout ?? '60');
      const store = openStore({
        path: dbPath(cmd, io),
        busyTimeoutMs: Number.isFinite(timeout) ? timeout * 1000 : 60_000,
      });
      try {
        const showProgress = io.errIsTTY && !opts.quiet && !opts.json;
        const summary = await ingest(store, {
          inputs,
          stdin: io.stdin,
          onProgress: showProgress ? (p) => io.err(`\r${progressLine(p)}\u001b[K`) : undefined,
        });
        if (showProgress) io.err('\r\u001b[K');
        if (opts.json) io.out(`${safeJson(summary)}\n`);
        else if (!opts.quiet) io.out(renderSummary(summary));
        for (const r of summary.results) {
          if (r.status !== 'rejected' || !r.error) continue;
          const at =
            r.error.line !== undefined
              ? `:${r.error.line}:${r.error.column}`
              : r.error.offset !== undefined
                ? ` @ byte ${r.error.offset}`
                : '';
          io.err(
            `xray-lp: rejected ${safe(r.input)}${at}: ${safe(r.error.message)}${r.error.hint ? `\n  hint: ${safe(r.error.hint)}` : ''}\n`,
          );
        }
        setExit(summary.rejected > 0 ? EXIT.rejectedInputs : EXIT.ok);
      } finally {
        store.close();
      }
    });
}

/**
 * `xray-lp migrate` (and `ingest` with no input): brings an existing database to this release's
 * schema, in one transaction, and says what it did.
 */
function migrateDatabase(file: string, io: CliIO, quiet: boolean): void {
  if (!fs.existsSync(file))
    throw new UserInputError(
      `No database at ${file} to migrate. Pass --db (or set XRAY_LP_DB), or run \`xray-lp ingest <dump>\` to create one.`,
    );
  const before = schemaVersionOf(file);
  openStore({ path: file }).close();
  if (quiet) return;
  io.err(
    before === SCHEMA_VERSION
      ? `${safe(file)} is already at schema ${SCHEMA_VERSION}: nothing to do.\n`
      : `Migrated ${safe(file)} from schema ${before} to ${SCHEMA_VERSION}.\n`,
  );
}

/** Registers `xray-lp migrate`. */
export function registerMigrate(program: Command, io: CliIO): void {
  program
    .command('migrate')
    .description(
      "upgrade the database to this release's schema (query commands refuse an older one; writing commands migrate it first)",
    )
    .option('-q, --quiet', 'print nothing but errors')
    .action((opts: { quiet?: boolean }, cmd: Command) =>
      migrateDatabase(dbPath(cmd, io), io, opts.quiet === true),
    );
}

/** The progress line drawn on a terminal: how far, how fast, and how long to go. */
export function progressLine(p: IngestProgress): string {
  const secs = p.elapsedMs / 1000;
  const rate = secs > 0 ? p.totalBytes / secs : 0;
  const of =
    p.size !== undefined
      ? ` of ${bytes(p.size)} (${Math.min(100, Math.floor((p.bytes / Math.max(1, p.size)) * 100))}%)`
      : '';
  let eta = '';
  if (p.totalSize !== undefined && rate > 0 && secs >= 1) {
    const left = Math.max(0, Math.round((p.totalSize - p.totalBytes) / rate));
    eta = `, ETA ${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
  }
  return `ingest [${p.index + 1}/${p.inputs}] ${safe(p.input)}: ${bytes(p.bytes)}${of}, ${int(p.traces)} traces, ${(rate / 1e6).toFixed(1)} MB/s${eta}`;
}

/** The human summary printed after an ingest. */
export function renderSummary(s: IngestSummary): string {
  const lines: string[] = [];
  lines.push(
    `Ingested ${int(s.ingested)} of ${int(s.inputs)} input${s.inputs === 1 ? '' : 's'} (${bytes(s.bytes)} in ${(s.elapsedMs / 1000).toFixed(2)} s, ${s.mbPerSecond.toFixed(1)} MB/s)`,
  );
  lines.push(
    `  traces ${int(s.traces)} (${int(s.newTraces)} new), segments ${int(s.segments)} (${int(s.newSegments)} new, ${int(s.duplicateSegments)} already stored${s.replacedSegments > 0 ? `, ${int(s.replacedSegments)} complete replacing in-progress` : ''}${s.callOnlySpans > 0 ? `, ${int(s.callOnlySpans)} spans kept only as their calls` : ''}), AWS calls ${int(s.calls)} (${int(s.newCalls)} new)`,
  );
  if (s.trailEvents > 0)
    lines.push(
      `  CloudTrail records ${int(s.trailEvents)} (${int(s.newTrailEvents)} new, ${int(s.trailEvents - s.newTrailEvents)} already stored)`,
    );
  lines.push(`  workloads in the database: ${int(s.workloads)}`);
  if (s.problems > 0) {
    lines.push(
      `  ${int(s.problems)} problem${s.problems === 1 ? '' : 's'} in the data (kept going; see \`xray-lp sources\`):`,
    );
    const all = s.results.flatMap((r) => r.problems);
    for (const p of all.slice(0, 5)) lines.push(`    ${safe(p.path)}: ${safe(p.message)}`);
    if (all.length > 5) lines.push(`    … and ${int(all.length - 5)} more`);
  }
  if (s.fallbacks.calls > 0) {
    const w = s.fallbacks.workloads;
    lines.push(
      `  ${int(s.fallbacks.calls)} call${s.fallbacks.calls === 1 ? '' : 's'} of ${w.length === 1 ? 'a Lambda function' : `${int(w.length)} Lambda functions`} stored without the function's account (${w.slice(0, 3).map(safe).join(', ')}${w.length > 3 ? ', …' : ''}):`,
      "    their traces held no span naming it (the function's SERVER span). Ingest the rest of those traces and they move to the function's ARN.",
    );
  }
  if (s.rejected > 0)
    lines.push(`  ${int(s.rejected)} input${s.rejected === 1 ? '' : 's'} rejected (details on stderr)`);
  return `${lines.join('\n')}\n`;
}
