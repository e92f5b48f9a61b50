/**
 * What Lambda itself does with a function's execution role: it writes the function's logs, and,
 * where the configuration says so, attaches network interfaces in a VPC and sends failed
 * asynchronous events to a dead-letter queue or topic. The customer managed keys a configuration
 * names (`KMSKeyArn`) are not used through the role's policy: said in notes, not granted.
 */
import { parseArn } from '../iam/arn.js';
import type { Scope } from './scope.js';
import { SOURCES } from './sources.js';
import type { FunctionConfig, NeedOrigin, RuntimeNeed, RuntimeNote } from './types.js';

/** The default log group of a function: `/aws/lambda/{name}`. */
export function defaultLogGroup(name: string): string {
  return `/aws/lambda/${name}`;
}

/**
 * Logging: `CreateLogStream` and `PutLogEvents` on the function's log group's streams
 * (`…:log-group:{group}:*`), `CreateLogGroup` on the group. The Service Authorization Reference
 * writes a log group's ARN without the `:*` suffix and AWS's scoped examples with it, so the
 * group is granted in both spellings: either is the group and nothing else.
 */
export function lambdaLogNeeds(name: string, scope: Scope, configured: string | undefined): RuntimeNeed[] {
  const group = configured ?? defaultLogGroup(name);
  const origin: NeedOrigin = configured ? 'config' : 'runtime';
  const base = `arn:${scope.partition}:logs:${scope.region}:${scope.account}:log-group:${group}`;
  const why = configured
    ? `Lambda writes the function's logs to ${group}, the log group its LoggingConfig names, with its role`
    : `Lambda writes the function's logs to its log group ${group} with its role`;
  const source = configured ? SOURCES.lambdaLoggingConfig : SOURCES.lambdaLogs;
  const rule = 'lambda-logs';
  return [
    { action: 'logs:CreateLogGroup', resource: base, origin, rule, why, source },
    { action: 'logs:CreateLogGroup', resource: `${base}:*`, origin, rule, why, source },
    { action: 'logs:CreateLogStream', resource: `${base}:*`, origin, rule, why, source },
    { action: 'logs:PutLogEvents', resource: `${base}:*`, origin, rule, why, source },
  ];
}

/** The actions Lambda uses to attach a function to its VPC (AWSLambdaVPCAccessExecutionRole). */
export const VPC_ACTIONS: readonly string[] = [
  'ec2:AssignPrivateIpAddresses',
  'ec2:CreateNetworkInterface',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:UnassignPrivateIpAddresses',
];

/**
 * A function in a VPC: the network-interface actions, on `*` as AWS documents them (the
 * interfaces do not exist before Lambda creates them, and the Describe actions take no resource).
 */
export function lambdaVpcNeeds(): RuntimeNeed[] {
  return VPC_ACTIONS.map((action) => ({
    action,
    resource: '*',
    origin: 'config',
    rule: 'lambda-vpc',
    why: "the function's VpcConfig names subnets: Lambda creates and manages its network interfaces with its role",
    source: SOURCES.lambdaVpc,
  }));
}

/**
 * A dead-letter target: Lambda sends the events it could not process with the function's role,
 * `sqs:SendMessage` to a queue or `sns:Publish` to a topic. Undefined for another ARN.
 */
export function deadLetterNeeds(target: string): RuntimeNeed[] | undefined {
  const service = parseArn(target)?.service;
  const action = service === 'sqs' ? 'sqs:SendMessage' : service === 'sns' ? 'sns:Publish' : undefined;
  if (!action) return undefined;
  return [
    {
      action,
      resource: target,
      origin: 'config',
      rule: 'lambda-dead-letter',
      why: `the function's DeadLetterConfig sends failed asynchronous events to ${target} with its role`,
      source: SOURCES.lambdaDlq,
    },
  ];
}

/**
 * The customer managed keys a function's configuration names, each said in a note and granted
 * nothing, as the Lambda developer guide states:
 *
 * - the function's `KMSKeyArn` (its environment variables): "No AWS KMS permissions are required
 *   for your user or the function's execution role to use the default encryption key. To use a
 *   customer managed key, you need permission to use the key. Lambda uses your permissions to
 *   create a grant on the key." ({@link SOURCES.lambdaEnvKey}). The permissions it lists are the
 *   deployer's; the role needs `kms:Decrypt` only when its code decrypts values itself (the
 *   console's encryption helpers), a call of its own, granted as observed where its traces record it.
 * - a mapping's `KMSKeyArn` (its filter criteria): "`kms:Decrypt` – Must be granted to the
 *   regional Lambda service principal (`lambda.{AWS_region}.amazonaws.com`)" in the key policy, and
 *   to whoever reads the plaintext criteria with `GetEventSourceMapping`
 *   ({@link SOURCES.lambdaFilterKey}): a key-policy grant to Lambda, not the role's.
 */
export function lambdaKeyNotes(config: FunctionConfig, scope: Scope): RuntimeNote[] {
  const notes: RuntimeNote[] = [];
  if (config.envKey)
    notes.push({
      rule: 'lambda-env-key',
      source: SOURCES.lambdaEnvKey,
      message: `the function's environment variables are encrypted with the customer managed key ${config.envKey} (its KMSKeyArn): Lambda decrypts them through the grant it creates on that key when the key is configured, not through the role's policy, so nothing is granted for it (if the function's own code decrypts values, that kms:Decrypt is a call of its own)`,
    });
  for (const f of config.filterKeys ?? []) {
    const region = parseArn(f.key)?.region || scope.region;
    notes.push({
      rule: 'mapping-filter-key',
      source: SOURCES.lambdaFilterKey,
      message: `the event-source mapping${f.eventSource ? ` of ${f.eventSource}` : ''} encrypts its filter criteria with the customer managed key ${f.key} (its KMSKeyArn): Lambda decrypts them as the service principal lambda.${region}.amazonaws.com, which that key's policy must allow kms:Decrypt, not with the function's role, so nothing is granted for it`,
    });
  }
  return notes;
}
