import type { Command } from 'commander';
import { EXIT } from '../../shared/errors.js';
import { ingest } from '../../ingest/ingest.js';
import fs from 'node:fs';
import { UserInputError } from '../../shared/errors.js';
import { openStore, schemaVersionOf } from '../../store/db.js';
import { SCHEMA_VERSION } from '../../store/schema.js';
import { onInterrupt } from '../interrupt.js';
import type { CommandContext } from '../command.js';
import type { CliIO } from '../io.js';
import { safeJson } from '../output.js';
import { dbPath } from '../options.js';
import { safe } from '../render.js';
import { progressLine, renderSummary } from '../views/ingest.js';

interface IngestOptions {
  quiet?: boolean;
  json?: boolean;
  busyTimeout?: string;
}

/** Registers `xray-lp ingest`. */
export function registerIngest(program: Command, { io, setExit }: CommandContext): void {
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
export function registerMigrate(program: Command, { io }: CommandContext): void {
  program
    .command('migrate')
    .description(
      "upgrade the database to this release's schema (query commands refuse an older one; writing commands migrate it first)",
    )
    .option('-q, --quiet', 'print nothing but errors')
    .action((opts: { quiet?: boolean }, cmd: Command) => {
      onInterrupt({
        graceful: false,
        message:
          'migrate interrupted: each schema step is its own transaction, so the database is at the last step completed (the one under way was rolled back). Run `xray-lp migrate` again to finish.',
      });
      migrateDatabase(dbPath(cmd, io), io, opts.quiet === true);
    });
}
