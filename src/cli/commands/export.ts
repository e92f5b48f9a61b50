/**
 * `xray-lp export --out DIR`: usage, calls and workloads as Hive-partitioned Parquet
 * (src/export/), for Athena, Trino, Spark or DuckDB; then `policy --usage` builds policies from
 * what the engine aggregates (docs/scale.md).
 */
import path from 'node:path';
import { Option, type Command } from 'commander';
import { EXPORT_TABLES, exportTables, type ExportTable } from '../../export/export.js';
import type { RawFilterOptions } from '../../query/filters.js';
import { UserInputError } from '../../shared/errors.js';
import { addFilterOptions, collect, filterFromOptions } from '../filter-options.js';
import { onInterrupt } from '../interrupt.js';
import type { CommandContext } from '../command.js';
import { openForRead } from '../options.js';
import { OUTPUT, safeJson } from '../output.js';
import { bytes, int, safe } from '../render.js';

interface ExportCliOptions extends RawFilterOptions {
  out: string;
  tables?: string[];
  filePrefix: string;
  json?: boolean;
}

/** Parses `--tables` (comma-separated, repeatable). */
function tablesOf(values: string[] | undefined): ExportTable[] {
  if (!values) return [...EXPORT_TABLES];
  const out = new Set<ExportTable>();
  for (const raw of values.flatMap((v) => v.split(','))) {
    const name = raw.trim();
    if (name === '') continue;
    if (!(EXPORT_TABLES as readonly string[]).includes(name))
      throw new UserInputError(
        `--tables ${JSON.stringify(name)} is not a table. Use a comma-separated list of: ${EXPORT_TABLES.join(', ')}.`,
      );
    out.add(name as ExportTable);
  }
  if (out.size === 0)
    throw new UserInputError(`--tables needs at least one of: ${EXPORT_TABLES.join(', ')}.`);
  return EXPORT_TABLES.filter((t) => out.has(t));
}

/** Registers `xray-lp export`. */
export function registerExport(program: Command, { io, version }: CommandContext): void {
  addFilterOptions(
    program
      .command('export')
      .description(
        'write usage, calls and workloads as Hive-partitioned Parquet (DIR/<table>/day=YYYY-MM-DD/part-00000.parquet) for Athena, Trino, Spark or DuckDB',
      )
      .addOption(
        new Option('--out <dir>', 'the folder to write the tables into (created when missing)')
          .makeOptionMandatory()
          .helpGroup(OUTPUT),
      )
      .addOption(
        new Option(
          '--tables <list>',
          `comma-separated, repeatable: ${EXPORT_TABLES.join(', ')} (default all)`,
        )
          .argParser(collect)
          .helpGroup(OUTPUT),
      )
      .addOption(
        new Option(
          '--file-prefix <name>',
          'file names are <name>-00000.parquet: give each shard its own to export them into one folder',
        )
          .default('part')
          .helpGroup(OUTPUT),
      )
      .addOption(new Option('--json', 'print what was written as JSON').helpGroup(OUTPUT)),
  ).action(async (o: ExportCliOptions, cmd: Command) => {
    const tables = tablesOf(o.tables);
    onInterrupt({
      graceful: true,
      message: `export interrupted: nothing was published to ${safe(o.out)}; its temporary files were removed.`,
      atOnce: `export stopped at once: nothing was published to ${safe(o.out)} (its staging folder, hidden from engines, is removed by the next export there).`,
    });
    const store = openForRead(cmd, io);
    try {
      const summary = await exportTables(store, {
        dir: path.resolve(io.cwd, o.out),
        filter: filterFromOptions(o, store),
        tables,
        prefix: o.filePrefix,
        createdBy: `xray-lp version ${version}`,
        signal: io.signal,
        recovered: (r) =>
          io.err(
            r.action === 'removed'
              ? `xray-lp: removed ${safe(r.stage)}, the staging folder of an interrupted export (none of its files had been published)\n`
              : `xray-lp: removed the ${int(r.files)} file${r.files === 1 ? '' : 's'} an export interrupted while it published had moved into place (${safe(r.stage)}): none of that export is left; run it again\n`,
          ),
      });
      if (o.json) {
        io.out(`${safeJson(summary)}\n`);
        return;
      }
      for (const t of summary.tables) {
        const days = new Set(t.files.map((f) => path.dirname(f.path))).size;
        io.out(
          `${t.table}: ${int(t.rows)} row${t.rows === 1 ? '' : 's'} in ${int(t.files.length)} file${t.files.length === 1 ? '' : 's'}${t.table === 'workloads' ? '' : ` (${int(t.files.length === 0 ? 0 : days)} day${days === 1 ? '' : 's'})`}, ${bytes(t.bytes)}\n`,
        );
      }
      io.out(`Wrote ${safe(summary.dir)}\n`);
    } finally {
      store.close();
    }
  });
}
