/**
 * Amazon DynamoDB (and DynamoDB Streams, which shares the `dynamodb` prefix). Most operations
 * are `dynamodb:<Operation>`; the exceptions are transactions and PartiQL, which are authorised
 * by the underlying item actions, and `DescribeEndpoints`, which needs no permission.
 */
import { buildArn } from '../resources.js';
import { str, strList } from '../params.js';
import { needs, noPermission } from './rules.js';
import type { Candidate, IamCall, OperationRule, Scope, ServiceHandler, Step } from '../types.js';

const TRANSACT_NOTE = 'one of the item actions a transaction may need; the trace does not record which';
const PARTIQL_NOTE = 'one of the PartiQL actions; the statement is not recorded, so which one is unknown';

/** Each PartiQL action, flagged as one possibility among four. */
const PARTIQL = needs(
  { action: 'dynamodb:PartiQLSelect', note: PARTIQL_NOTE },
  { action: 'dynamodb:PartiQLInsert', note: PARTIQL_NOTE },
  { action: 'dynamodb:PartiQLUpdate', note: PARTIQL_NOTE },
  { action: 'dynamodb:PartiQLDelete', note: PARTIQL_NOTE },
);

const OPERATIONS: Record<string, OperationRule> = {
  // Transactions have no action of their own: IAM checks each item action.
  TransactGetItems: needs('dynamodb:GetItem'),
  TransactWriteItems: needs(
    { action: 'dynamodb:PutItem', note: TRANSACT_NOTE },
    { action: 'dynamodb:UpdateItem', note: TRANSACT_NOTE },
    { action: 'dynamodb:DeleteItem', note: TRANSACT_NOTE },
    { action: 'dynamodb:ConditionCheckItem', note: TRANSACT_NOTE },
  ),
  ExecuteStatement: PARTIQL,
  BatchExecuteStatement: PARTIQL,
  ExecuteTransaction: PARTIQL,
  // Endpoint discovery is unauthenticated at the IAM level.
  DescribeEndpoints: noPermission('DynamoDB DescribeEndpoints is not authorised by IAM'),
};

const TABLE_NAME = /^[A-Za-z0-9_.-]{1,255}$/;

/** Tables named by the call (`table_name`, or the keys of RequestItems in `table_names`). */
function tables(params: Record<string, unknown>): string[] {
  return strList(
    params,
    'table_names',
    'table_name',
    'aws.dynamodb.table_names',
    'aws.table_name',
    'aws.table.name',
  );
}

/** DynamoDB handler: see the file comment. */
export const dynamodb: ServiceHandler = {
  prefix: 'dynamodb',
  operations: OPERATIONS,
  preferredTypes: ['table'],
  resources(call: IamCall, _step: Step, types: readonly string[], scope: Scope): Candidate[] {
    const out: Candidate[] = [];
    const names = tables(call.params);
    // X-Ray's allow-list spelling, and OpenTelemetry's.
    const rawIndex = str(call.params, 'index_name', 'aws.dynamodb.index_name');
    const index = rawIndex !== undefined && TABLE_NAME.test(rawIndex) ? rawIndex : undefined;
    for (const name of names) {
      if (name.startsWith('arn:')) {
        // Newer SDKs accept a table ARN as TableName.
        if (/^arn:[^:]+:dynamodb:[^:]*:\d{12}:table\/[^/]+$/.test(name) && types.includes('table')) {
          out.push({ type: 'table', arn: name, unknown: false });
        }
        continue;
      }
      if (!TABLE_NAME.test(name)) continue;
      // A Query/Scan on an index is authorised against the index ARN only.
      const type = index !== undefined && types.includes('index') ? 'index' : 'table';
      if (!types.includes(type)) continue;
      const c = buildArn('dynamodb', type, { TableName: name, IndexName: index }, scope);
      if (c) out.push(c);
    }
    return out;
  },
};
