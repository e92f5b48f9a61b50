/**
 * Regenerates the sample OpenTelemetry exports in samples/otel/ (or --out <dir>):
 *
 *   npm run generate        (= node --import tsx generate/generate.ts)
 *
 * 1. runs every execution environment of the plan (plan.ts) in a child process with the real
 *    OpenTelemetry instrumentation and AWS SDK v3 clients against the local stub
 *    (capture.ts, workload.ts, tracing.ts, ../../common/stub.ts);
 * 2. makes ids and times deterministic, keeping every attribute as written (normalize.ts);
 * 3. writes the five layouts (layouts.ts).
 *
 * No network access other than 127.0.0.1. Output is byte-identical across runs. OTS_ACCOUNT and
 * OTS_REGION move every workload and resource to another account and region (plan.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { captureAll, dirOption, here } from './capture.js';
import { normalize } from './normalize.js';
import { uuid } from '../../common/seed.js';
import { ACCOUNT, buildPlan, REGION, WEEK_END_MS, WEEK_START_MS } from './plan.js';
import { awsSpansJsonl, filterLogEvents, listRetrievedTraces, otlpJsonl, s3ExportGzip } from './layouts.js';

// samples/otel, or the folder given with --out (the live check in xray-lp's tests writes elsewhere).
const outDir = dirOption('out') ?? path.resolve(here, '../../../otel');
const plan = buildPlan();
const capture = await captureAll(plan);

const traces = plan.flatMap((env, i) => normalize(env, capture.captures[i]!));
for (const t of traces)
  for (const s of t.spans)
    if (s.startNs < BigInt(WEEK_START_MS) * 1_000_000n || s.endNs > BigInt(WEEK_END_MS) * 1_000_000n)
      throw new Error(`${t.unit}: span ${s.name} outside the week`);

/** The export task id of the S3 export (deterministic stand-in for the id CreateExportTask returns). */
const exportTaskId = uuid('export-task:aws-spans');
const files: { file: string; bytes: Buffer; note: string }[] = [];
const add = (file: string, data: string | Buffer, note: string): void => {
  files.push({ file, bytes: typeof data === 'string' ? Buffer.from(data) : data, note });
};
const spanCount = traces.reduce((n, t) => n + t.spans.length, 0);
add('aws-spans.jsonl', awsSpansJsonl(traces), `${spanCount} records`);
add('filter-log-events-aws-spans.json', filterLogEvents(traces), `${spanCount} events`);
add(`s3-export/exportedlogs/${exportTaskId}/default/000000.gz`, s3ExportGzip(traces), `${spanCount} lines`);
const xray = listRetrievedTraces(traces);
add('list-retrieved-traces-otel.json', xray.text, `${traces.length} traces in ${xray.pages} pages`);
add('otlp-traces.jsonl', otlpJsonl(traces), `${traces.length} requests`);

fs.rmSync(path.join(outDir, 's3-export'), { recursive: true, force: true });
for (const f of files) {
  const p = path.join(outDir, f.file);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, f.bytes);
  console.log(`${path.relative(process.cwd(), p)}: ${f.note}, ${f.bytes.length} bytes`);
}
console.log(
  `${traces.length} traces, ${spanCount} spans (account ${ACCOUNT}, ${REGION}); stub answered ${capture.stubLog.length} AWS requests`,
);
