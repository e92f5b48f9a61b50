/**
 * The AWS SDK v3 calls that the workloads of both sample generators make (X-Ray in samples/generate,
 * OpenTelemetry in samples/generate/otel): the steps a plan lists, the input each step becomes, and
 * how a workload's clients reach the local stub (stub.ts).
 *
 * Plain objects only: each generator has its own install of the AWS SDK clients, so its workload
 * passes these inputs to its own clients' commands. A generator's plan adds the steps only it makes.
 */

/** The receipt handle the stub gives every received SQS message, and so the one DeleteMessage sends. */
export const RECEIPT_HANDLE = 'AQEBstubReceiptHandle==';

/** A step both generators' workloads know: one AWS SDK call. */
export type SdkStep =
  | { kind: 'ddb.getItem'; table: string; key: string }
  | { kind: 'ddb.putItem'; table: string; key: string }
  | { kind: 'ddb.updateItem'; table: string; key: string }
  | { kind: 'ddb.deleteItem'; table: string; key: string }
  | { kind: 'ddb.query'; table: string; index: string; customer: string }
  | { kind: 's3.getObject'; bucket: string; key: string }
  | { kind: 's3.putObject'; bucket: string; key: string }
  | { kind: 's3.headObject'; bucket: string; key: string }
  | { kind: 's3.putObjectAcl'; bucket: string; key: string }
  | { kind: 'sns.publish'; topicArn: string; orderId: string }
  | { kind: 'sqs.sendMessage'; queueUrl: string; orderId: string }
  | { kind: 'sqs.receiveMessage'; queueUrl: string }
  | { kind: 'sqs.deleteMessage'; queueUrl: string }
  | { kind: 'sfn.startExecution'; stateMachineArn: string; orderId: string }
  | { kind: 'secrets.getSecretValue'; secretId: string };

type Of<K extends SdkStep['kind']> = Extract<SdkStep, { kind: K }>;

/** The input of each step's command (`GetItemCommand` for `getItem`, …). */
export const sdkInput = {
  getItem: (s: Of<'ddb.getItem'>) => ({
    TableName: s.table,
    Key: { orderId: { S: s.key } },
    ConsistentRead: true,
  }),
  /** Conditional: an order is created once (the stub can fail the condition, see Failures). */
  putItem: (s: Of<'ddb.putItem'>) => ({
    TableName: s.table,
    Item: { orderId: { S: s.key }, status: { S: 'NEW' } },
    ConditionExpression: 'attribute_not_exists(orderId)',
  }),
  updateItem: (s: Of<'ddb.updateItem'>) => ({
    TableName: s.table,
    Key: { [s.table === 'invoices' ? 'invoiceId' : 'orderId']: { S: s.key } },
    UpdateExpression: 'SET #s = :s',
    ExpressionAttributeNames: { '#s': 'status' },
    ExpressionAttributeValues: { ':s': { S: 'PAID' } },
  }),
  deleteItem: (s: Of<'ddb.deleteItem'>) => ({ TableName: s.table, Key: { orderId: { S: s.key } } }),
  query: (s: Of<'ddb.query'>) => ({
    TableName: s.table,
    IndexName: s.index,
    KeyConditionExpression: 'customerId = :c',
    ExpressionAttributeValues: { ':c': { S: s.customer } },
    Limit: 20,
  }),
  getObject: (s: Of<'s3.getObject'>) => ({ Bucket: s.bucket, Key: s.key }),
  putObject: (s: Of<'s3.putObject'>) => ({
    Bucket: s.bucket,
    Key: s.key,
    Body: Buffer.from('thumb'),
    ContentType: 'image/jpeg',
  }),
  headObject: (s: Of<'s3.headObject'>) => ({ Bucket: s.bucket, Key: s.key }),
  putObjectAcl: (s: Of<'s3.putObjectAcl'>) => ({ Bucket: s.bucket, Key: s.key, ACL: 'public-read' as const }),
  publish: (s: Of<'sns.publish'>) => ({
    TopicArn: s.topicArn,
    Message: JSON.stringify({ orderId: s.orderId }),
  }),
  sendMessage: (s: Of<'sqs.sendMessage'>) => ({
    QueueUrl: s.queueUrl,
    MessageBody: JSON.stringify({ orderId: s.orderId }),
  }),
  receiveMessage: (s: Of<'sqs.receiveMessage'>) => ({
    QueueUrl: s.queueUrl,
    MaxNumberOfMessages: 1,
    WaitTimeSeconds: 0,
  }),
  deleteMessage: (s: Of<'sqs.deleteMessage'>) => ({ QueueUrl: s.queueUrl, ReceiptHandle: RECEIPT_HANDLE }),
  startExecution: (s: Of<'sfn.startExecution'>) => ({
    stateMachineArn: s.stateMachineArn,
    name: `order-${s.orderId}`,
    input: JSON.stringify({ orderId: s.orderId }),
  }),
  getSecretValue: (s: Of<'secrets.getSecretValue'>) => ({ SecretId: s.secretId }),
};

/**
 * The configuration every client of a workload gets: its region, the stub as endpoint, and fake
 * static credentials (the documentation example access key). S3 clients add `forcePathStyle`.
 */
export function stubClientConfig(region: string, endpoint: string) {
  return {
    region,
    endpoint,
    credentials: {
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      sessionToken: 'stub-session-token',
    },
  };
}

/**
 * The environment of a workload's child process, before the generator's and platform's own
 * variables: the SDK never picks up a developer's real profile, config or instance credentials.
 */
export function sdkChildEnv(region: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_REGION: region,
    AWS_CONFIG_FILE: '/dev/null',
    AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
    AWS_EC2_METADATA_DISABLED: 'true',
    NODE_NO_WARNINGS: '1',
  };
}
