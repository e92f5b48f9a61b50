import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EXIT, type ExitCode } from '../../shared/errors.js';
import { ingest } from '../../ingest/ingest.js';
import { listWorkloads } from '../../query/workloads.js';
import { openStore } from '../../store/db.js';
import type { CliIO } from '../io.js';
import { renderSummary as renderIngestSummary } from './ingest.js';
import { policies } from '../../policy/build.js';
import { renderIamPolicy, renderSummary, summaryOf } from './policy.js';
import { renderWorkloads } from './workloads.js';

/** The samples shipped with the package. */
export function bundledSamples(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../samples/traces');
}

/** Registers `xray-lp demo` (what `npm start` runs). */
export function registerDemo(program: Command, io: CliIO, setExit: (code: ExitCode) => void): void {
  program
    .command('demo')
    .description('ingest the bundled samples/traces into a fresh database and show workloads and policies')
    .option('--samples <dir>', 'read these dumps instead of the bundled samples')
    .option('--demo-db <path>', 'the fresh database to create (replaced if it exists)', 'xray-lp-demo.db')
    .action(async (opts: { samples?: string; demoDb: string }) => {
      const samples = opts.samples ?? bundledSamples();
      const dbFile = path.resolve(io.cwd, opts.demoDb);
      for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) fs.rmSync(f, { force: true });
      const store = openStore({ path: dbFile });
      try {
        io.out(`Ingesting ${samples} into a fresh database ${dbFile}\n\n`);
        const summary = await ingest(store, { inputs: [samples], stdin: io.stdin });
        io.out(renderIngestSummary(summary));
        for (const r of summary.results) if (r.error) io.err(`rejected ${r.input}: ${r.error.message}\n`);
        io.out('\nWorkloads found:\n');
        io.out(renderWorkloads(listWorkloads(store)));
        io.out('\nLeast-privilege policies, one per workload:\n');
        const run = policies(store, { filter: {} });
        const rows = [];
        for (const p of run) {
          rows.push(summaryOf(p));
          io.out(renderIamPolicy(p));
        }
        io.out(`\nSummary:\n${renderSummary(rows, run)}`);
        const db = path.relative(io.cwd, dbFile) || dbFile;
        io.out(
          [
            '',
            'Explore further:',
            `  npx xray-lp --db ${db} usage --workload orders-api`,
            `  npx xray-lp --db ${db} policy --format terraform --s3-objects bucket`,
            `  npx xray-lp --db ${db} explain orders-api dynamodb:DeleteItem`,
            '',
          ].join('\n'),
        );
        setExit(summary.rejected > 0 ? EXIT.rejectedInputs : EXIT.ok);
      } finally {
        store.close();
      }
    });
}
