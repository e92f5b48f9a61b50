import type { Command } from 'commander';
import { listPrincipals, type PrincipalRow } from '../../query/principals.js';
import type { CliIO } from '../io.js';
import { openForRead } from '../options.js';
import { int, shorten, table } from '../render.js';

/** Registers `xray-lp principals`. */
export function registerPrincipals(program: Command, io: CliIO): void {
  program
    .command('principals')
    .description('one row per workload (Lambda function, ECS task family, state machine…) with its activity')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }, cmd: Command) => {
      const store = openForRead(cmd, io);
      try {
        const rows = listPrincipals(store);
        if (opts.json) io.out(`${JSON.stringify(rows, null, 2)}\n`);
        else io.out(renderPrincipals(rows));
      } finally {
        store.close();
      }
    });
}

/** The workloads table. */
export function renderPrincipals(rows: PrincipalRow[]): string {
  if (rows.length === 0) return 'No workloads recorded. Run `xray-lp ingest <dump>` first.\n';
  return `${table(
    [
      { header: 'kind' },
      { header: 'name' },
      { header: 'account' },
      { header: 'region' },
      { header: 'traces', align: 'right' },
      { header: 'calls', align: 'right' },
      { header: 'operations', align: 'right' },
      { header: 'denied', align: 'right' },
      { header: 'first seen' },
      { header: 'last seen' },
    ],
    rows.map((r) => [
      r.kind,
      shorten(r.name, 40),
      r.account ?? '',
      r.region ?? '',
      int(r.traces),
      int(r.calls),
      int(r.distinctOperations),
      int(r.denied),
      r.firstSeen?.replace(/\.\d+Z$/, 'Z') ?? '',
      r.lastSeen?.replace(/\.\d+Z$/, 'Z') ?? '',
    ]),
  )}\n`;
}
