import type { Command } from 'commander';
import { listSources, storeStats } from '../../query/stats.js';
import type { CliIO } from '../io.js';
import { safeJson, tableWidth } from '../output.js';
import { openForRead } from '../options.js';
import { bytes, int, shorten, table } from '../render.js';

/** Registers `xray-lp stats` and `xray-lp sources`. */
export function registerStats(program: Command, io: CliIO): void {
  program
    .command('stats')
    .description('what the database holds: counts, recorded period, calls by outcome and service')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const store = openForRead(cmd, io);
      try {
        const s = storeStats(store);
        if (opts.json) {
          io.out(`${safeJson(s)}\n`);
          return;
        }
        const lines = [
          `sources ${int(s.sources)}, traces ${int(s.traces)}, segments ${int(s.segments)}, AWS calls ${int(s.calls)}, workloads ${int(s.workloads)}`,
          s.firstCall ? `recorded period: ${s.firstCall} … ${s.lastCall}` : 'no calls recorded yet',
          `outcomes: ${
            Object.entries(s.byOutcome)
              .map(([k, v]) => `${k} ${int(v)}`)
              .join(', ') || '-'
          }`,
        ];
        if (s.unattributedCalls > 0)
          lines.push(`calls not attributed to a workload: ${int(s.unattributedCalls)}`);
        if (s.unprocessedTraceIds > 0)
          lines.push(`trace ids X-Ray could not return (UnprocessedTraceIds): ${int(s.unprocessedTraceIds)}`);
        if (s.problems > 0) lines.push(`problems found in the data: ${int(s.problems)}`);
        io.out(`${lines.join('\n')}\n`);
        if (s.byService.length > 0)
          io.out(
            `${table(
              [
                { header: 'service', minWidth: 16 },
                { header: 'calls', align: 'right' },
              ],
              s.byService.map((r) => [r.service, int(r.calls)]),
              tableWidth(cmd, io),
            )}\n`,
          );
      } finally {
        store.close();
      }
    });

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
