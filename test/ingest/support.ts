/**
 * Helpers shared by the ingest tests: reading back what was stored, a small scenario, ingesting a text.
 */
import { ingest } from '../../src/ingest/ingest.js';
import type { Store } from '../../src/store/db.js';
import type { WorkloadRecord } from '../../src/store/workloads.js';
import { awsCall, lambdaSegment, tempStore, traceId, writeFile } from '../support/helpers.js';

export interface CallRowDb {
  trace_id: string;
  sub_id: string;
  workload_id: number | null;
  start_time: number;
  service: string;
  service_name: string;
  operation: string | null;
  region: string | null;
  account: string | null;
  outcome: string;
  http_status: number | null;
  denied_action: string | null;
  denied_resource: string | null;
  params: string | null;
  via: string;
}

export function calls(store: Store): CallRowDb[] {
  return store
    .prepare(
      `SELECT c.*, t.service, t.service_name, t.operation, t.region, t.account, t.params, t.denied_action, t.denied_resource
       FROM calls c JOIN targets t ON t.id = c.target_id ORDER BY c.start_time, c.sub_id`,
    )
    .all() as CallRowDb[];
}

/** The stored workloads, by key. */
export function workloadRows(store: Store): (Omit<WorkloadRecord, 'id'> & { attrs: string })[] {
  return store
    .prepare('SELECT key, kind, name, arn, account, region, attrs FROM workloads ORDER BY key')
    .all() as never;
}

/** A small two-trace scenario used across shape tests. */
export function scenario(): { id: string; segments: Record<string, unknown>[] }[] {
  const t1 = traceId(1);
  const t2 = traceId(2);
  return [
    {
      id: t1,
      segments: [
        lambdaSegment(t1, 'orders', [
          awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
          awsCall('SQS', 'SendMessage', {
            queue_url: 'https://sqs.eu-west-1.amazonaws.com/123456789012/jobs',
          }),
        ]),
      ],
    },
    {
      id: t2,
      segments: [
        lambdaSegment(t2, 'orders', [awsCall('S3', 'GetObject', { bucket_name: 'b', key: 'k/1' })], {
          qualifier: 'live',
        }),
      ],
    },
  ];
}

export async function ingestText(
  text: string | Buffer,
  name = 'dump.json',
  parallel: boolean | 'auto' = 'auto',
): Promise<{ store: Store; summary: Awaited<ReturnType<typeof ingest>>; file: string; dir: string }> {
  const { store, dir } = tempStore();
  const file = writeFile(dir, name, text);
  const summary = await ingest(store, { inputs: [file], parallel });
  return { store, summary, file, dir };
}

/** The scenario, built once. */
export const traces = scenario();
