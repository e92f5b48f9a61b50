/**
 * OpenTelemetry attribute spellings: which attributes name the resource of an AWS call, its
 * region and its account, in every spelling the instrumentations use or used (docs/otel-format.md),
 * brought to the parameters the IAM mapping reads. Shared by the span extractor (extract-span.ts)
 * and the X-Ray one (extract.ts), which meets the same attributes when X-Ray renders
 * OTel-instrumented code as segments. Pure: no I/O.
 */
import { parseArn } from '../iam/arn.js';
import { serviceFromHost } from '../iam/service-names.js';
import { parseQueueUrl } from '../iam/services/sqs.js';
import { isObject, str, strList } from '../shared/values.js';
import type { CallParams } from './extract.js';

/** A plain attribute map (arrays kept as arrays). */
export type Attributes = Readonly<Record<string, unknown>>;

/** Attributes that identify a resource, copied as call parameters (the IAM mapping reads them). */
export const ID_KEYS: ReadonlySet<string> = new Set([
  'aws.dynamodb.table_names',
  'aws.dynamodb.table.arn',
  'aws.dynamodb.index_name',
  'aws.table_name',
  'aws.table.name',
  'aws.s3.bucket',
  'aws.s3.key',
  'aws.s3.copy_source',
  'aws.bucket.name',
  'aws.sqs.queue.url',
  'aws.sqs.queue.name',
  'aws.queue_url',
  'aws.queue.url',
  'aws.queue.name',
  'messaging.url',
  'aws.sns.topic.arn',
  'aws.kinesis.stream_name',
  'aws.kinesis.stream.name',
  'aws.kinesis.stream.arn',
  'aws.stream.name',
  'aws.lambda.function.name',
  'aws.lambda.function.arn',
  'aws.lambda.resource_mapping.id',
  'aws.step_functions.state_machine.arn',
  'aws.step_functions.activity.arn',
  'aws.stepfunctions.state_machine.arn',
  'aws.stepfunctions.activity.arn',
  'aws.secretsmanager.secret.arn',
  'aws.bedrock.agent.id',
  'aws.bedrock.knowledge_base.id',
  'aws.bedrock.data_source.id',
  'aws.bedrock.guardrail.id',
  'aws.bedrock.guardrail.arn',
  'gen_ai.request.model',
]);

/** Application Signals' attributes about the call's remote end. */
const REMOTE_KEYS = [
  'aws.remote.service',
  'aws.remote.operation',
  'aws.remote.environment',
  'aws.remote.resource.type',
  'aws.remote.resource.identifier',
  'aws.remote.resource.cfn.primary.identifier',
  'aws.remote.resource.account.id',
  'aws.remote.resource.region',
  'aws.local.service',
  'aws.local.operation',
  'aws.local.environment',
];

/**
 * X-Ray annotation keys allow only letters, digits and `_`: the OpenTelemetry Collector's X-Ray
 * exporter writes `aws.remote.service` as `aws_remote_service` (unless its allowDot gate is on).
 */
const ANNOTATION_KEYS = new Map(
  [...ID_KEYS, ...REMOTE_KEYS].map((k) => [k.replace(/[^A-Za-z0-9]/g, '_'), k] as const),
);

/** Undoes Application Signals' escaping of identifiers: `^|` is `|`, `^^` is `^`. */
export function unescapeIdentifier(s: string): string {
  return s.replace(/\^([|^])/g, '$1');
}

/**
 * The call's resource parameters: the identifying attributes as recorded, and the spellings the
 * instrumentations use outside `aws.*` brought to the keys the IAM mapping reads. `service` is
 * the IAM prefix of the called service. Null when nothing identifies a resource.
 */
export function otelParams(a: Attributes, service: string): CallParams | null {
  const params: CallParams = {};
  const get = (k: string): string | null => str(a[k]);
  const set = (k: string, v: string | string[] | null): void => {
    if (v !== null && !(k in params)) params[k] = v;
  };
  for (const [k, v] of Object.entries(a)) {
    if (!ID_KEYS.has(k)) continue;
    set(k, Array.isArray(v) ? strList(v) : str(v));
  }
  switch (service) {
    case 'dynamodb': {
      // JS 0.78 `db.namespace`, older `db.name`: the table of single-table operations.
      const table = get('db.namespace') ?? get('db.name');
      if (table && !('aws.dynamodb.table_names' in params)) set('aws.table_name', table);
      break;
    }
    case 'sqs': {
      // JS puts the queue URL in `url.full`, its name in `messaging.destination.name`; Python
      // upstream the name in `messaging.destination`.
      const url = get('url.full');
      if (url && parseQueueUrl(url)) set('aws.sqs.queue.url', url);
      const name = get('messaging.destination.name') ?? get('messaging.destination');
      if (name && !name.includes('/')) set('aws.sqs.queue.name', name);
      break;
    }
    case 'sns': {
      const dest = get('messaging.destination.name') ?? get('messaging.destination');
      if (dest && parseArn(dest)?.service === 'sns') set('aws.sns.topic.arn', dest);
      break;
    }
    case 'lambda': {
      // JS and Python record the function as the caller passed it (name, partial or full ARN,
      // maybe qualified); ADOT's `aws.lambda.function.name` keeps only what follows the last `:`.
      set('function_name', get('faas.invoked_name'));
      break;
    }
  }
  remoteResource(a, set);
  return Object.keys(params).length > 0 ? params : null;
}

/** Application Signals' remote resource, as the parameters of its type. */
function remoteResource(a: Attributes, set: (k: string, v: string | null) => void): void {
  const type = str(a['aws.remote.resource.type']);
  const raw =
    str(a['aws.remote.resource.cfn.primary.identifier']) ?? str(a['aws.remote.resource.identifier']);
  if (!type || !raw) return;
  const id = unescapeIdentifier(raw);
  const arn = id.startsWith('arn:') ? id : null;
  switch (type) {
    case 'AWS::DynamoDB::Table':
      if (arn) set('aws.dynamodb.table.arn', arn);
      else set('aws.table_name', id);
      break;
    case 'AWS::SQS::Queue':
      set(parseQueueUrl(id) ? 'aws.sqs.queue.url' : 'aws.sqs.queue.name', id);
      break;
    case 'AWS::S3::Bucket':
      set('aws.s3.bucket', id);
      break;
    case 'AWS::SNS::Topic':
      if (arn) set('aws.sns.topic.arn', arn);
      break;
    case 'AWS::SecretsManager::Secret':
      if (arn) set('aws.secretsmanager.secret.arn', arn);
      break;
    case 'AWS::StepFunctions::StateMachine':
      if (arn) set('aws.step_functions.state_machine.arn', arn);
      break;
    case 'AWS::StepFunctions::Activity':
      if (arn) set('aws.step_functions.activity.arn', arn);
      break;
    case 'AWS::Lambda::Function':
      set(arn ? 'aws.lambda.function.arn' : 'aws.lambda.function.name', id);
      break;
    case 'AWS::Kinesis::Stream':
      set(arn ? 'aws.kinesis.stream.arn' : 'aws.kinesis.stream.name', id);
      break;
    case 'AWS::Bedrock::Model':
      set('gen_ai.request.model', id);
      break;
    case 'AWS::Bedrock::KnowledgeBase':
      set('aws.bedrock.knowledge_base.id', id);
      break;
    case 'AWS::Bedrock::Agent':
      set('aws.bedrock.agent.id', id);
      break;
    case 'AWS::Bedrock::Guardrail':
      set(arn ? 'aws.bedrock.guardrail.arn' : 'aws.bedrock.guardrail.id', id);
      break;
  }
}

/** The region of the call: attributes in every instrumentation's spelling, then the endpoint host. */
export function otelRegion(a: Attributes): string | null {
  for (const k of [
    'cloud.region',
    'aws.region',
    'aws.remote.resource.region',
    'aws.auth.region',
    'faas.invoked_region',
  ]) {
    const v = str(a[k]);
    if (v) return v;
  }
  // Java records no region attribute: the endpoint host has it (`sqs.us-east-1.amazonaws.com`).
  const host = str(a['server.address']) ?? hostOf(str(a['url.full'])) ?? hostOf(str(a['http.url']));
  return serviceFromHost(host)?.region ?? null;
}

/** The account Application Signals recorded for the remote resource (12 digits), or null. */
export function otelAccount(a: Attributes): string | null {
  const v = str(a['aws.remote.resource.account.id']);
  return v && /^\d{12}$/.test(v) ? v : null;
}

function hostOf(url: string | null): string | null {
  if (!url) return null;
  try {
    return new URL(url).hostname;
  } catch {
    return null;
  }
}

/**
 * The OpenTelemetry attributes an X-Ray (sub)segment carries when X-Ray or the Collector's X-Ray
 * exporter rendered an OTel span: `metadata.default` under their full keys (the exporter), keys
 * of the `aws` block with a dot, whose `aws.` prefix X-Ray stripped (`"s3.bucket"`), and
 * annotations (Application Signals), with `_` for `.` where the exporter replaced it. Undefined
 * when there are none (a document written by an X-Ray SDK).
 */
export function otelAttributesOfNode(node: Readonly<Record<string, unknown>>): Attributes | undefined {
  // Called for every call node, most of which carry none: `for … in` over the parsed objects
  // (own keys only: JSON.parse makes plain objects) and no object until a key is found.
  let out: Record<string, unknown> | undefined;
  const metadata = isObject(node.metadata) ? node.metadata.default : undefined;
  if (isObject(metadata))
    for (const k in metadata) {
      out ??= {};
      out[k] = metadata[k];
    }
  const aws = node.aws;
  if (isObject(aws))
    for (const k in aws)
      if (k.includes('.') && !(out && `aws.${k}` in out)) {
        out ??= {};
        out[`aws.${k}`] = aws[k];
      }
  const annotations = node.annotations;
  if (isObject(annotations))
    for (const k in annotations) {
      const key = ANNOTATION_KEYS.get(k) ?? k;
      if (!(out && key in out)) {
        out ??= {};
        out[key] = annotations[k];
      }
    }
  return out && Object.keys(out).length > 0 ? out : undefined;
}
