import type { Command } from 'commander';
import { explainEmpty } from '../../query/calls.js';
import { listWorkloads } from '../../query/workloads.js';
import { policies } from '../../policy/build.js';
import type { Completeness } from '../../policy/completeness.js';
import type { Store } from '../../store/db.js';
import type { CallFilter } from '../../store/filter.js';
import { addFilterOptions, filterFromOptions } from '../filter-options.js';
import type { CommandContext } from '../command.js';
import { openForRead } from '../options.js';
import { addFormatOptions, emit, outputFormat, tableWidth } from '../output.js';
import type { RawFilterOptions } from '../../query/filters.js';
import { workloadColumns } from '../views/workloads.js';

/** Registers `xray-lp workloads` (`principals`, its first name, still works). */
export function registerWorkloads(program: Command, { io }: CommandContext): void {
  const cmd = program
    .command('workloads')
    .alias('principals')
    .description(
      'one row per workload (Lambda function, ECS task family, state machine…) with its activity in the selected range',
    );
  addFormatOptions(addFilterOptions(cmd))
    .option(
      '--completeness',
      "add each workload's completeness verdict (is the data enough? see `policy`): builds every selected policy, so it takes as long",
    )
    .action(
      (opts: RawFilterOptions & { json?: boolean; csv?: boolean; completeness?: boolean }, c: Command) => {
        const format = outputFormat(opts);
        const store = openForRead(c, io);
        try {
          const filter = filterFromOptions(opts, store);
          const listed = listWorkloads(store, { filter });
          if (!opts.completeness) {
            emit(io, format, workloadColumns(listed), listed, tableWidth(c, io), () =>
              emptyText(store, filter),
            );
            return;
          }
          // The verdict is about the policy as granted: the policy layer computes it.
          const verdicts = new Map<string, Completeness>();
          for (const p of policies(store, { filter })) verdicts.set(p.principal, p.completeness);
          const rows = listed.map((r) => ({ ...r, completeness: verdicts.get(r.arn ?? r.key) ?? null }));
          emit(io, format, workloadColumns(rows, true), rows, tableWidth(c, io), () =>
            emptyText(store, filter),
          );
        } finally {
          store.close();
        }
      },
    );
}

/** Why the list is empty. */
function emptyText(store: Store, filter: CallFilter): string {
  return Object.keys(filter).length === 0
    ? 'No workloads recorded. Run `xray-lp ingest <dump>` first.'
    : explainEmpty(store, filter, 'workloads with calls');
}
