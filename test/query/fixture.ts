/**
 * A small store for the query tests, ingested from a dump (so the rollups are the ones ingest
 * maintains). Every call, its time and its outcome are spelled out here.
 */
import { ingest } from '../../src/ingest/ingest.js';
import type { Store } from '../../src/store/db.js';
import { awsCall, batch, hexId, lambdaSegment, tempStore, traceId, writeFile } from '../support/helpers.js';

/** 2026-11-20T00:00:00Z and the next two days. */
export const D20 = Date.UTC(2026, 10, 20) / 1000;
export const D21 = D20 + 86400;
export const D22 = D21 + 86400;
export const H = 3600;

const at = (t: number, status = 200, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  start_time: t,
  end_time: t + 0.05,
  http: { response: { status } },
  ...(status === 429 ? { throttle: true } : {}),
  ...extra,
});

/**
 * api (Lambda, eu-west-1, 111111111111):
 *   D20 10:00:00 DynamoDB PutItem notes            ok
 *   D20 10:00:01 DynamoDB PutItem notes            throttle (429)
 *   D21 12:00    STS GetCallerIdentity             ok (no permission needed)
 *   D21 23:30    S3 GetObject b/k1                 ok
 *   D22 00:30    S3 GetObject b/k2                 denied (403)
 * worker (Lambda, us-east-1, 222222222222):
 *   D20 12:00    SQS SendMessage jobs              error (400)
 *   D20 13:00    DynamoDB BatchGetItem a, b        ok (two permissions)
 *   D21 01:00    DynamoDB GetItem a                fault (500)
 * unattributed (independent subsegment whose parent never arrives):
 *   D21 02:00    DynamoDB PutItem notes            ok
 */
export async function fixtureStore(): Promise<{ store: Store; file: string }> {
  const { store, file, dir } = tempStore();
  const api = [
    lambdaSegment(traceId(101), 'api', [
      awsCall('DynamoDB', 'PutItem', { table_name: 'notes' }, at(D20 + 10 * H)),
      awsCall('DynamoDB', 'PutItem', { table_name: 'notes' }, at(D20 + 10 * H + 1, 429)),
    ]),
    lambdaSegment(traceId(102), 'api', [
      awsCall('STS', 'GetCallerIdentity', {}, at(D21 + 12 * H)),
      awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k1' }, at(D21 + 23.5 * H)),
      awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k2' }, at(D22 + 0.5 * H, 403)),
    ]),
  ];
  const workerOpts = { region: 'us-east-1', account: '222222222222' };
  const worker = [
    lambdaSegment(
      traceId(201),
      'worker',
      [
        awsCall(
          'SQS',
          'SendMessage',
          { queue_url: 'https://sqs.us-east-1.amazonaws.com/222222222222/jobs', region: 'us-east-1' },
          at(D20 + 12 * H, 400),
        ),
        awsCall(
          'DynamoDB',
          'BatchGetItem',
          { table_names: ['a', 'b'], region: 'us-east-1' },
          at(D20 + 13 * H),
        ),
      ],
      workerOpts,
    ),
    lambdaSegment(
      traceId(202),
      'worker',
      [awsCall('DynamoDB', 'GetItem', { table_name: 'a', region: 'us-east-1' }, at(D21 + 1 * H, 500))],
      workerOpts,
    ),
  ];
  const orphan = {
    ...awsCall('DynamoDB', 'PutItem', { table_name: 'notes' }, at(D21 + 2 * H)),
    type: 'subsegment',
    trace_id: traceId(301),
    parent_id: hexId(),
  };
  const dump = writeFile(
    dir,
    'dump.json',
    batch([
      { id: traceId(101), segments: [api[0]!] },
      { id: traceId(102), segments: [api[1]!] },
      { id: traceId(201), segments: [worker[0]!] },
      { id: traceId(202), segments: [worker[1]!] },
    ]),
  );
  const orphanFile = writeFile(dir, 'orphan.json', JSON.stringify(orphan));
  await ingest(store, { inputs: [dump, orphanFile] });
  return { store, file };
}
