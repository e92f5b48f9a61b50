import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { listWorkloads } from '../../src/query/workloads.js';
import { awsCall, lambdaSegment, tempStore, traceId, writeFile, T0, independentCall } from '../helpers.js';

test('workload_day_actions follows a call attributed by a later ingest', async (t) => {
  const id = traceId(901);
  const seg = lambdaSegment(id, 'fn', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k' })]);
  const indep = independentCall(seg, awsCall('DynamoDB', 'PutItem', { table_name: 't' }));
  const { store, dir } = tempStore();
  await ingest(store, { inputs: [writeFile(dir, 'a.json', JSON.stringify(indep))] });
  t.deepEqual(listWorkloads(store), []);
  await ingest(store, { inputs: [writeFile(dir, 'b.json', JSON.stringify(seg))] });
  const actions = store
    .prepare('SELECT day, action, calls FROM workload_day_actions ORDER BY action')
    .all() as { day: number; action: string; calls: number }[];
  const day = Math.floor((T0 + 1) / 86400);
  t.deepEqual(actions, [
    { day, action: 'dynamodb:PutItem', calls: 1 },
    { day, action: 's3:GetObject', calls: 1 },
  ]);
  t.like(listWorkloads(store)[0], { name: 'fn', calls: 2, distinctActions: 2 });
});
