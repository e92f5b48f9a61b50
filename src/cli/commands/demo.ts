import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { EXIT } from '../../shared/errors.js';
import { ingest } from '../../ingest/ingest.js';
import { listWorkloads } from '../../query/workloads.js';
import { openStore } from '../../store/db.js';
import { onInterrupt } from '../interrupt.js';
import type { CommandContext } from '../command.js';
import { tableWidth } from '../output.js';
import { renderSummary as renderIngestSummary } from '../views/ingest.js';
import { policies } from '../../policy/build.js';
import { renderIamPolicy, renderSummary, summaryOf } from '../views/policy.js';
import { renderWorkloads } from '../views/workloads.js';
import { report } from '../../report/report.js';
import { SCHEMA_VERSION } from '../../store/schema.js';
import { writeReport } from '../report-file.js';
import { compareGranted } from '../../compare/compare.js';
import { renderTable } from '../views/compare.js';
import { readGrantedFiles } from '../options.js';
import { SAMPLES, bundledSamples } from '../samples.js';

/** The AWS managed policies a traced Lambda function is usually given (samples/granted). */
const MANAGED = ['AWSLambdaBasicExecutionRole.json', 'AWSXRayDaemonWriteAccess.json'];

/** Registers `xray-lp demo` (what `npm start` runs). */
export function registerDemo(program: Command, { io, setExit, version }: CommandContext): void {
  program
    .command('demo')
    .description(
      'ingest the bundled samples (X-Ray and OpenTelemetry exports of the same workloads) into a fresh database and show workloads and policies',
    )
    .option('--samples <dir>', 'read these dumps instead of the bundled samples')
    .option('--demo-db <path>', 'the fresh database to create (replaced if it exists)', 'xray-lp-demo.db')
    .action(async (opts: { samples?: string; demoDb: string }, cmd: Command) => {
      onInterrupt({
        graceful: false,
        message: 'interrupted; the demo database may be incomplete: run the demo again (it starts afresh).',
      });
      const width = tableWidth(cmd, io);
      const sets = opts.samples ? [{ title: 'the dumps given', inputs: [opts.samples] }] : bundledSamples();
      const dbFile = path.resolve(io.cwd, opts.demoDb);
      for (const f of [dbFile, `${dbFile}-wal`, `${dbFile}-shm`]) fs.rmSync(f, { force: true });
      const store = openStore({ path: dbFile });
      try {
        io.out(`A fresh database: ${dbFile}\n`);
        let rejected = 0;
        for (const set of sets) {
          io.out(
            `\nIngesting ${set.title}: ${set.inputs.map((i) => path.relative(io.cwd, i) || i).join(', ')}\n`,
          );
          const summary = await ingest(store, { inputs: set.inputs, stdin: io.stdin });
          io.out(renderIngestSummary(summary));
          rejected += summary.rejected;
          for (const r of summary.results) if (r.error) io.err(`rejected ${r.input}: ${r.error.message}\n`);
        }
        io.out(
          '\nWorkloads found (a function traced first with X-Ray, then with OpenTelemetry, is one workload):\n',
        );
        io.out(renderWorkloads(listWorkloads(store), width));
        io.out('\nLeast-privilege policies, one per workload:\n');
        const run = policies(store, { filter: {} });
        const rows = [];
        for (const p of run) {
          rows.push(summaryOf(p));
          io.out(renderIamPolicy(p));
        }
        io.out(`\nSummary:\n${renderSummary(rows, run, width)}`);
        // What a traced function is usually given: the two managed policies, all run-time needs.
        if (!opts.samples) {
          const managed = MANAGED.map((f) => path.relative(io.cwd, path.join(SAMPLES, 'granted', f)));
          io.out(
            `\norders-api compared with ${MANAGED.map((f) => f.replace('.json', '')).join(' + ')} alone (samples/granted): logs and X-Ray writes are run-time needs, not unused grants; what fails is what the function calls and is not granted:\n`,
          );
          io.out(
            renderTable(
              compareGranted(store, {
                filter: { workloads: ['orders-api'] },
                granted: await readGrantedFiles(managed, io.cwd),
              }),
              width,
            ),
          );
        }
        // The same, for a reviewer: one HTML file next to the database.
        const reportFile = path.join(path.dirname(dbFile), 'xray-lp-report.html');
        const written = await writeReport(
          reportFile,
          report(store, {
            filter: {},
            meta: {
              database: dbFile,
              toolVersion: version,
              schemaVersion: SCHEMA_VERSION,
              options: [],
              generatedAt: new Date().toISOString(),
            },
          }),
          { signal: io.signal },
        );
        io.out(`\nThe review report (${written.workloads} workloads, offline HTML): ${reportFile}\n`);
        const db = path.relative(io.cwd, dbFile) || dbFile;
        io.out(
          [
            '',
            'Explore further:',
            `  npx xray-lp --db ${db} usage --workload orders-api`,
            `  npx xray-lp --db ${db} policy --workload billing-worker --since 2026-11-23   # the OpenTelemetry week only`,
            `  npx xray-lp --db ${db} policy --format terraform --s3-objects bucket`,
            `  npx xray-lp --db ${db} explain orders-api dynamodb:DeleteItem   # denied, so left out: exit 6`,
            '',
          ].join('\n'),
        );
        setExit(rejected > 0 ? EXIT.rejectedInputs : EXIT.ok);
      } finally {
        store.close();
      }
    });
}
