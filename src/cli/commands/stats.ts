import type { Command } from 'commander';
import { storeStats } from '../../query/stats.js';
import type { CommandContext } from '../command.js';
import { safeJson, tableWidth } from '../output.js';
import { openForRead } from '../options.js';
import { int, table } from '../render.js';

/** Registers `xray-lp stats`. */
export function registerStats(program: Command, { io }: CommandContext): void {
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
}
