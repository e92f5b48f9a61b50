/**
 * The real and documented X-Ray documents in ../shared/fixtures/public (written by others):
 * each either ingests with the counts below or is rejected with a specific message. Skipped
 * when ../shared is absent.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { counts, sharedDir, tempStore } from '../support/helpers.js';

const dir = path.join(sharedDir, 'fixtures/public');
const present = fs.existsSync(dir);

/** file-name suffix → expected outcome: [status, shape, segments, calls, workloads] or a rejection message. */
const expected: [string, ['ingested', string, number, number, number] | ['rejected', RegExp]][] = [
  ['batch-traces-get__output.json', ['ingested', 'batch-get-traces', 1, 1, 1]],
  ['get-trace-summaries__output.json', ['rejected', /--query projection/]],
  ['put-trace-segments__output.json', ['rejected', /put-trace-segments output/]],
  // An inferred segment alone: its call is stored, the document itself is not (it only describes the call).
  ['put-trace-segments__segment-document.json', ['ingested', 'segment-documents', 0, 1, 0]],
  ['apigateway-understanding-xray-traces__block02.json', ['ingested', 'segment-documents', 1, 1, 1]],
  ['xray-api-gettingdata__block05.json', ['rejected', /trace summaries/]],
  // 3 SDK calls; the 2 inferred segments describe two of them and are not counted again.
  ['xray-api-gettingdata__block07.json', ['ingested', 'batch-get-traces', 3, 3, 2]],
  ['xray-api-segmentdocuments__block00.json', ['ingested', 'segment-documents', 1, 0, 1]],
  ['xray-api-segmentdocuments__block06.json', ['ingested', 'segment-documents', 0, 1, 0]],
  ['segment_test.go__literal03.json', ['ingested', 'segment-documents', 0, 1, 0]],
  ['traceWithLinks01.json', ['ingested', 'trace', 2, 0, 1]],
  ['python-powertools__README__block03.json', ['ingested', 'batch-get-traces', 1, 0, 0]],
  ['python-xray-sdk__README__block07.json', ['rejected', /trace summaries/]],
  // LocalStack does not merge: two independent subsegments whose parent segment is not in the dump.
  ['python-xray-sdk__README__block08.json', ['ingested', 'trace-array', 2, 1, 0]],
  ['xray-segmentdocument-schema-v1.0.0.json', ['rejected', /not a trace export \(found keys: \$schema/]],
  ['xray-api-segmentdocuments__block03.txt', ['rejected', /invalid JSON in this document/]],
  ['xray-api-segmentdocuments__block04.txt', ['rejected', /truncated/]],
  ['xray-api-sendingdata__block05.txt', ['rejected', /expected '\{' or '\[' but found '\$'/]],
  ['xray-api-sendingdata__block10.txt', ['ingested', 'daemon-packets', 1, 0, 1]],
  // Go SDK: DescribeTable + PutItem; marshal/attempt/… children are not calls.
  ['testdata__ddbSample.txt', ['ingested', 'segment-documents', 1, 2, 1]],
  ['testdata__indepSubsegment.txt', ['ingested', 'segment-documents', 1, 0, 0]],
  // A JDBC connection to an RDS host is not an AWS API call.
  ['testdata__indepSubsegmentWithSql.txt', ['ingested', 'segment-documents', 1, 0, 0]],
  ['testdata__minInProgress.txt', ['ingested', 'segment-documents', 1, 0, 1]],
];

for (const [suffix, outcome] of expected) {
  test(`public fixture …${suffix}`, async (t) => {
    if (!present) {
      t.pass('../shared/fixtures/public is absent: skipped');
      return;
    }
    const file = fs.readdirSync(dir).find((f) => f.endsWith(suffix));
    if (!file) {
      t.pass(`no fixture ending in ${suffix}: skipped`);
      return;
    }
    const { store } = tempStore();
    const s = await ingest(store, { inputs: [path.join(dir, file)] });
    const r = s.results[0]!;
    if (outcome[0] === 'rejected') {
      t.is(r.status, 'rejected');
      t.regex(r.error!.message, outcome[1]);
      t.deepEqual(counts(store), { traces: 0, segments: 0, calls: 0, workloads: 0 });
      return;
    }
    const [, shape, segments, calls, workloads] = outcome;
    t.is(r.status, 'ingested', r.error?.message);
    t.is(r.shape, shape);
    const c = counts(store);
    t.deepEqual([c.segments, c.calls, c.workloads], [segments, calls, workloads]);
  });
}

test('every public fixture either ingests or is rejected with a message (no crash)', async (t) => {
  if (!present) {
    t.pass('skipped');
    return;
  }
  const files = fs.readdirSync(dir).filter((f) => f !== 'README.md');
  const { store } = tempStore();
  const s = await ingest(store, { inputs: files.map((f) => path.join(dir, f)) });
  t.is(s.inputs, files.length);
  for (const r of s.results) if (r.status === 'rejected') t.true(r.error!.message.length > 10, r.input);
  t.true(s.ingested >= 25);
});
