import fs from 'node:fs';
import { awsCall, batch, lambdaSegment, traceId, T0, hexId } from './support/helpers.js';
const traces: Record<string, unknown>[][] = [];
let n = 1;
// orders-api in 111111111111 sends to a queue of 222222222222 and reads its own table, many resources unknown
for (let i = 0; i < 3; i++) {
  traces.push([lambdaSegment(traceId(n++), 'orders-api', [
    awsCall('SQS', 'SendMessage', { queue_url: 'https://sqs.eu-west-1.amazonaws.com/222222222222/shared-jobs' }),
    awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }),
  ], { account: '111111111111' })]);
}
// same name in another account
traces.push([lambdaSegment(traceId(n++), 'orders-api', [awsCall('DynamoDB', 'GetItem', { table_name: 'orders' })], { account: '333333333333' })]);
// a service with no account
traces.push([{ id: hexId(), name: 'svc', trace_id: traceId(n++), start_time: T0, end_time: T0 + 1,
  subsegments: [awsCall('DynamoDB', 'GetItem', { table_name: 'orders' }, {})] }]);
fs.writeFileSync('/tmp/wf/dump.json', batch(traces));
