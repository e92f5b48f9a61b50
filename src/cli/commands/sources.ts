import type { Command } from 'commander';
import { listSources } from '../../query/stats.js';
import type { CommandContext } from '../command.js';
import { safeJson, tableWidth } from '../output.js';
import { openForRead } from '../options.js';
import { bytes, int, shorten, table } from '../render.js';

/** Registers `xray-lp sources`: the inputs ingested so far. */
export function registerSources(program: Command, { io }: CommandContext): void {
  program
    .command('sources')
    .description('the inputs ingested so far, with their checksums and what each added')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const store = openForRead(cmd, io);
      try {
        const rows = listSources(store);
        if (opts.json) {
          io.out(`${safeJson(rows)}\n`);
          return;
        }
        if (rows.length === 0) {
          io.out('No inputs ingested yet. Run `xray-lp ingest <dump>`.\n');
          return;
        }
        const width = tableWidth(cmd, io);
        const whole = width === undefined;
        io.out(
          `${table(
            // To fit the terminal: the input is shortened, then sha256, shape, ingested at, size,
            // traces, new calls, calls and problems are hidden in that order.
            [
              { header: 'ingested at', drop: 3 },
              { header: 'input', minWidth: 32 },
              { header: 'shape', drop: 2 },
              { header: 'size', align: 'right', drop: 4 },
              { header: 'traces', align: 'right', drop: 5 },
              { header: 'calls', align: 'right', drop: 7 },
              { header: 'new calls', align: 'right', drop: 6 },
              { header: 'problems', align: 'right', drop: 8 },
              { header: 'sha256', drop: 1 },
            ],
            rows.map((r) => [
              r.ingestedAt.replace(/\.\d+Z$/, 'Z'),
              whole ? r.path : shorten(r.path, 48),
              r.shape ?? '',
              bytes(r.size),
              int(r.traces),
              int(r.calls),
              int(r.newCalls),
              int(r.problems),
              whole ? r.sha256 : r.sha256.slice(0, 12),
            ]),
            width,
          )}\n`,
        );
      } finally {
        store.close();
      }
    });
}
