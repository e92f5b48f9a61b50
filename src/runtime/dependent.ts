/**
 * Dependent actions: what AWS needs of the caller's role to carry out a call it makes. Two
 * tables, each rule with its source:
 *
 * - `iam:PassRole`: the Service Authorization Reference lists it in the "Dependent actions" of the
 *   calls that hand a role to a service; the grant names the role, with `iam:PassedToService`.
 * - KMS: a service that encrypts with a customer managed key calls KMS with the caller's
 *   permissions (the "forward access session"), so the caller needs the KMS action each
 *   operation uses, on the key, with `kms:ViaService` naming the service's endpoint. The Service
 *   Authorization Reference does not list these; each service's encryption documentation does.
 *
 * Neither the passed role nor the key is in a call's trace (no SDK instrumentation records a
 * `Role` parameter, and nothing says whether a queue or object is encrypted with a customer
 * managed key): the needs are recognised (compare does not call them unused) and said in a
 * warning that names the call, never granted on a guess. Where an AccessDenied message names the
 * role or key ({@link namedDependent}), the need is granted on it, with its condition.
 */
import { compareText } from '../shared/order.js';
import type { Scope } from './scope.js';
import type { RuntimeNeed, RuntimeNote } from './types.js';

/** A call that passes a role: the service principal the role is passed to, and the source. */
export interface PassRoleRule {
  passedTo: string;
  source: string;
}

const SAR = 'https://docs.aws.amazon.com/service-authorization/latest/reference';

/** Calls whose "Dependent actions" include `iam:PassRole`, by IAM action. */
export const PASS_ROLE: Readonly<Record<string, PassRoleRule>> = {
  'lambda:CreateFunction': { passedTo: 'lambda.amazonaws.com', source: `${SAR}/list_awslambda.html` },
  'lambda:UpdateFunctionConfiguration': {
    passedTo: 'lambda.amazonaws.com',
    source: `${SAR}/list_awslambda.html`,
  },
  'ecs:RegisterTaskDefinition': {
    passedTo: 'ecs-tasks.amazonaws.com',
    source: `${SAR}/list_amazonelasticcontainerservice.html`,
  },
  'ecs:RunTask': {
    passedTo: 'ecs-tasks.amazonaws.com',
    source: `${SAR}/list_amazonelasticcontainerservice.html`,
  },
  'ecs:StartTask': {
    passedTo: 'ecs-tasks.amazonaws.com',
    source: `${SAR}/list_amazonelasticcontainerservice.html`,
  },
  'states:CreateStateMachine': {
    passedTo: 'states.amazonaws.com',
    source: `${SAR}/list_awsstepfunctions.html`,
  },
  'states:UpdateStateMachine': {
    passedTo: 'states.amazonaws.com',
    source: `${SAR}/list_awsstepfunctions.html`,
  },
  'ec2:RunInstances': { passedTo: 'ec2.amazonaws.com', source: `${SAR}/list_amazonec2.html` },
  'ec2:AssociateIamInstanceProfile': { passedTo: 'ec2.amazonaws.com', source: `${SAR}/list_amazonec2.html` },
};

/** The KMS actions one call needs on a customer managed key, and the service that makes them. */
export interface KmsRule {
  kms: readonly string[];
  /** The `kms:ViaService` prefix: `{via}.{region}.amazonaws.com`. */
  via: string;
  source: string;
}

const S3_KMS = 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html';
const SQS_KMS =
  'https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-key-management.html';
const SNS_KMS = 'https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html';
const SM_KMS = 'https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html';
const SSM_KMS =
  'https://docs.aws.amazon.com/systems-manager/latest/userguide/secure-string-parameter-kms-encryption.html';
const KINESIS_KMS = 'https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html';

/** Per IAM action: the KMS actions its service makes with the caller's role. */
export const KMS_BY_ACTION: Readonly<Record<string, KmsRule>> = {
  // SSE-KMS: reading decrypts the object's data key; writing generates one.
  's3:GetObject': { kms: ['kms:Decrypt'], via: 's3', source: S3_KMS },
  's3:PutObject': { kms: ['kms:GenerateDataKey'], via: 's3', source: S3_KMS },
  // SQS: a producer generates data keys and (AWS's SQS guide) decrypts them; a consumer decrypts.
  'sqs:SendMessage': { kms: ['kms:Decrypt', 'kms:GenerateDataKey'], via: 'sqs', source: SQS_KMS },
  'sqs:ReceiveMessage': { kms: ['kms:Decrypt'], via: 'sqs', source: SQS_KMS },
  'sns:Publish': { kms: ['kms:Decrypt', 'kms:GenerateDataKey'], via: 'sns', source: SNS_KMS },
  'secretsmanager:GetSecretValue': { kms: ['kms:Decrypt'], via: 'secretsmanager', source: SM_KMS },
  'ssm:GetParameter': { kms: ['kms:Decrypt'], via: 'ssm', source: SSM_KMS },
  'ssm:GetParameters': { kms: ['kms:Decrypt'], via: 'ssm', source: SSM_KMS },
  'ssm:GetParametersByPath': { kms: ['kms:Decrypt'], via: 'ssm', source: SSM_KMS },
  'ssm:PutParameter': { kms: ['kms:Encrypt'], via: 'ssm', source: SSM_KMS },
  'kinesis:PutRecord': { kms: ['kms:GenerateDataKey'], via: 'kinesis', source: KINESIS_KMS },
  'kinesis:PutRecords': { kms: ['kms:GenerateDataKey'], via: 'kinesis', source: KINESIS_KMS },
  'kinesis:GetRecords': { kms: ['kms:Decrypt'], via: 'kinesis', source: KINESIS_KMS },
};

/** Looks an action up case-insensitively in a table keyed by canonical spellings. */
function lookup<T>(table: Readonly<Record<string, T>>, action: string): [string, T] | undefined {
  const lower = action.toLowerCase();
  for (const [k, v] of Object.entries(table)) if (k.toLowerCase() === lower) return [k, v];
  return undefined;
}

/**
 * The dependent needs of the actions a workload was seen to use: recognised (`possible`, origin
 * `dependent`: the role or key is not in the traces) and said in one note per kind naming the calls.
 */
export function dependentNeeds(
  actions: Iterable<string>,
  scope: Scope,
  /** Calls whose role or key an input named (see {@link namedDependent}): granted, not said. */
  named: { passRole: ReadonlySet<string>; kms: ReadonlySet<string> } = {
    passRole: new Set(),
    kms: new Set(),
  },
): { possible: RuntimeNeed[]; notes: RuntimeNote[] } {
  const possible: RuntimeNeed[] = [];
  const passes = new Map<string, PassRoleRule>();
  const kms = new Map<string, KmsRule>();
  for (const a of new Set(actions)) {
    const p = lookup(PASS_ROLE, a);
    if (p && !named.passRole.has(p[0])) passes.set(p[0], p[1]);
    const k = lookup(KMS_BY_ACTION, a);
    if (k && !named.kms.has(k[0])) kms.set(k[0], k[1]);
  }
  const notes: RuntimeNote[] = [];
  for (const [call, rule] of [...passes].sort((x, y) => compareText(x[0], y[0]))) {
    possible.push({
      action: 'iam:PassRole',
      resource: `arn:${scope.partition}:iam::${scope.account}:role/*`,
      origin: 'dependent',
      rule: 'pass-role',
      why: `${call} passes a role to ${rule.passedTo}: iam:PassRole on that role, with the condition iam:PassedToService = ${rule.passedTo}`,
      source: rule.source,
    });
    notes.push({
      rule: 'pass-role',
      source: rule.source,
      message: `${call} passes a role, so it also needs iam:PassRole on that role (condition iam:PassedToService = ${rule.passedTo}); the traces do not record which role: grant it on that role's ARN`,
    });
  }
  if (kms.size > 0) {
    const calls = [...kms].sort((x, y) => compareText(x[0], y[0]));
    for (const [call, rule] of calls)
      for (const action of rule.kms)
        possible.push({
          action,
          resource: `arn:${scope.partition}:kms:${scope.region}:${scope.account}:key/*`,
          origin: 'dependent',
          rule: 'kms-via-service',
          why: `${call} on a resource encrypted with a customer managed key makes ${rule.via} call ${action} with this role (condition kms:ViaService = ${rule.via}.${scope.region}.amazonaws.com)`,
          source: rule.source,
        });
    // One note per service, citing that service's encryption guide.
    for (const via of [...new Set(calls.map(([, r]) => r.via))].sort()) {
      const mine = calls.filter(([, r]) => r.via === via);
      notes.push({
        rule: 'kms-via-service',
        source: mine[0]![1].source,
        message: `where ${via} resources are encrypted with a customer managed KMS key, ${mine
          .map(([call, rule]) => `${call} needs ${rule.kms.join(' and ')}`)
          .join(
            ', ',
          )} on that key, with the condition kms:ViaService = ${via}.${scope.region}.amazonaws.com; the traces do not say which are (an AccessDenied naming a kms: action and its key does, and is granted as observed)`,
      });
    }
  }
  return { possible, notes };
}

/** A dependent need an input names (the role or key), granted with its condition. */
export interface NamedDependent {
  need: RuntimeNeed;
  /** The workload's calls it serves (their warnings are not repeated). */
  calls: string[];
}

const ROLE_ARN = /^arn:[a-z-]+:iam::\d{12}:role\/\S+$/;
const KEY_ARN = /^arn:[a-z-]+:kms:([a-z0-9-]+):\d{12}:key\/\S+$/;

/**
 * A permission an AccessDenied message named (`iam:PassRole` on a role, a `kms:` action on a
 * key) that is a dependent action of calls the workload made (`actions`): the need, granted on
 * that role or key with the condition that limits it to those calls' services
 * (`iam:PassedToService`, `kms:ViaService` in the key's region). Undefined when it is not one:
 * no call of the workload explains it (a direct KMS call is granted as observed).
 */
export function namedDependent(
  permission: { action: string; resource: string },
  actions: Iterable<string>,
): NamedDependent | undefined {
  const all = [...new Set(actions)].sort(compareText);
  const action = permission.action.toLowerCase();
  if (action === 'iam:passrole' && ROLE_ARN.test(permission.resource)) {
    const calls = all.map((a) => lookup(PASS_ROLE, a)).filter((x): x is [string, PassRoleRule] => !!x);
    if (calls.length === 0) return undefined;
    const values = [...new Set(calls.map(([, r]) => r.passedTo))].sort(compareText);
    const names = calls.map(([c]) => c);
    return {
      calls: names,
      need: {
        action: 'iam:PassRole',
        resource: permission.resource,
        origin: 'dependent',
        rule: 'pass-role',
        why: `${names.join(', ')} pass${names.length === 1 ? 'es' : ''} a role, and an AccessDenied named iam:PassRole on this one: granted only for passing it to ${values.join(', ')}`,
        source: calls[0]![1].source,
        condition: { test: 'StringEquals', variable: 'iam:PassedToService', values },
      },
    };
  }
  const key = KEY_ARN.exec(permission.resource);
  if (action.startsWith('kms:') && key) {
    const calls = all
      .map((a) => lookup(KMS_BY_ACTION, a))
      .filter((x): x is [string, KmsRule] => !!x && x[1].kms.some((k) => k.toLowerCase() === action));
    if (calls.length === 0) return undefined;
    const kms = calls[0]![1].kms.find((k) => k.toLowerCase() === action)!;
    const values = [...new Set(calls.map(([, r]) => `${r.via}.${key[1]}.amazonaws.com`))].sort(compareText);
    const names = calls.map(([c]) => c);
    return {
      calls: names,
      need: {
        action: kms,
        resource: permission.resource,
        origin: 'dependent',
        rule: 'kms-via-service',
        why: `an AccessDenied named ${kms} on this key behind ${names.join(', ')}, whose service${values.length === 1 ? '' : 's'} call${values.length === 1 ? 's' : ''} KMS with this role: granted only through ${values.join(', ')}`,
        source: calls[0]![1].source,
        condition: { test: 'StringEquals', variable: 'kms:ViaService', values },
      },
    };
  }
  return undefined;
}
