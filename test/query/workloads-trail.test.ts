/**
 * `workloads` lists the roles known from CloudTrail (kind `role`, key `role:ARN`: the name
 * `policy --workload` takes) with their records as calls, under the same filters as traces.
 */
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { listWorkloads } from '../../src/query/workloads.js';
import type { CallFilter } from '../../src/store/filter.js';
import { FIXTURE_ROLE as ROLE } from '../support/cloudtrail.js';
import { cli, repoRoot, tempStore } from '../support/helpers.js';

const RECORDS = path.join(repoRoot, 'test/fixtures/cloudtrail/records.json');

/** Filter → the role's row (calls, distinct actions, denied), or null when it is not listed. */
const CASES: [string, CallFilter, { calls: number; distinctActions: number } | null][] = [
  // 11 calls made with the role (the service's AssumeRole and the service-linked role's are not its own).
  ['no filter', {}, { calls: 11, distinctActions: 8 }],
  ['--service ecr', { services: ['ecr'] }, { calls: 2, distinctActions: 1 }],
  ['--action s3:*', { actions: ['s3:*'] }, { calls: 2, distinctActions: 2 }],
  [
    '--workload orders-fn-role (its name)',
    { workloads: ['orders-fn-role'] },
    { calls: 11, distinctActions: 8 },
  ],
  ['--workload a traced name only', { workloads: ['orders-fn'] }, null],
  ['--exclude-workload role:*', { excludeWorkloads: ['role:*'] }, null],
  ['--region us-east-1', { regions: ['us-east-1'] }, null],
];

for (const [name, filter, expected] of CASES)
  test(`workloads lists CloudTrail roles: ${name}`, async (t) => {
    const { store } = tempStore();
    await ingest(store, { inputs: [RECORDS] });
    const row = listWorkloads(store, { filter }).find((r) => r.key === `role:${ROLE}`);
    if (expected === null) t.is(row, undefined);
    else {
      t.like(row, {
        kind: 'role',
        name: 'orders-fn-role',
        traces: 0,
        cloudtrailRecords: expected.calls,
        ...expected,
      });
    }
    store.close();
  });

test('workloads --json and the table name the role as policy --workload takes it', async (t) => {
  const { store, file } = tempStore();
  await ingest(store, { inputs: [RECORDS] });
  store.close();
  const json = await cli(['workloads', '--db', file, '--json']);
  t.is(json.code, 0, json.err);
  t.true((JSON.parse(json.out) as { key: string }[]).some((r) => r.key === `role:${ROLE}`));
  const policy = await cli(['policy', '--db', file, '--workload', `role:${ROLE}`, '--json']);
  t.is(policy.code, 0, policy.err);
});
