/**
 * Regenerates the sample X-Ray exports in samples/traces/:
 *
 *   node --import tsx samples/generate/generate.ts
 *
 * 1. runs every workload with the real aws-xray-sdk-core + AWS SDK v3 against a local stub
 *    (capture.ts, workloads.ts, common/stub.ts), collecting what the SDK sends to the daemon over UDP;
 * 2. post-processes the documents the way the X-Ray service does (postprocess.ts);
 * 3. writes `batch-get-traces` output as the AWS CLI prints it.
 *
 * Deterministic: ids, times and request ids come from fixed seeds (plan.ts), so the output is
 * byte-identical across runs. No network access other than 127.0.0.1.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { captureAll } from './capture.js';
import { buildPlan, countCalls, traceIdAt, WEEK_START, type LambdaWorkload } from './plan.js';
import { buildEcs, buildLambda, buildPipeline, renderExport, type Built } from './postprocess.js';

const outDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../traces');
const plan = buildPlan();

const capture = await captureAll([plan.ordersApi, plan.thumbnailer, plan.reportBuilder, plan.billing]);

// Every call the plan makes must have produced exactly one document (UDP is lossy in principle).
function expectCalls(w: LambdaWorkload): void {
  for (const inv of w.invocations) {
    const got = capture.docs.filter((d) => d.trace_id === inv.traceId && d.type === 'subsegment').length;
    const want = countCalls(inv.steps);
    if (got !== want)
      throw new Error(`${w.name} ${inv.traceId}: captured ${got} subsegments, planned ${want}`);
  }
}
[plan.ordersApi, plan.thumbnailer, plan.reportBuilder].forEach(expectCalls);
for (const t of plan.billing.tasks) {
  const got = capture.docs.filter((d) => d.trace_id === t.traceId).length;
  if (got !== 1) throw new Error(`billing-worker ${t.traceId}: captured ${got} documents, expected 1`);
}

const orders = buildLambda(plan.ordersApi, capture.docs);
const pipelineIds = new Set(plan.pipeline.map((p) => p.traceId));
const ordersOwn = orders.filter((b) => !pipelineIds.has(b.traceId));
const billing = buildEcs(plan.billing, capture.docs);
const thumbs = buildLambda(plan.thumbnailer, capture.docs);
const reports = buildLambda(plan.reportBuilder, capture.docs);
const pipeline: Built[] = plan.pipeline.map((exec) => {
  const lambda = orders.find((b) => b.traceId === exec.traceId);
  if (!lambda) throw new Error(`no orders-api invocation for pipeline ${exec.traceId}`);
  return buildPipeline(exec, lambda);
});

// One trace id the export asked for but X-Ray had not finished indexing.
const stillIndexing = traceIdAt(WEEK_START + 6 * 86400 + 23 * 3600 + 59 * 60 + 58, 'still-indexing');

const outputs: { file: string; text: string; traces: number; documents: number; gzip?: boolean }[] = [
  {
    file: 'orders-2023.json',
    ...renderExport([...ordersOwn, ...billing], { limitExceeded: true, unprocessed: [stillIndexing] }),
  },
  { file: 'thumbnailer-2018.json', ...renderExport(thumbs, { limitExceeded: false }) },
  { file: 'reports-us-east-1.json.gz', ...renderExport(reports, { limitExceeded: true }), gzip: true },
  { file: 'pipeline.json', ...renderExport(pipeline, { limitExceeded: true }) },
];

for (const o of outputs) {
  const bytes = o.gzip ? zlib.gzipSync(o.text, { level: 9 }) : Buffer.from(o.text);
  fs.writeFileSync(path.join(outDir, o.file), bytes);
  console.log(`${o.file}: ${o.traces} traces in ${o.documents} documents, ${bytes.length} bytes`);
}
console.log(
  `stub answered ${capture.stubLog.length} requests; daemon received ${capture.docs.length} documents`,
);
