/**
 * The vocabulary of run-time needs: the permissions a workload's role needs for what the AWS
 * services that run it do with that role (write its logs, upload its traces, poll its event
 * sources, attach its network interfaces), which no trace of the workload shows.
 */
import type { FunctionConfig } from '../shared/function-config.js';

export type { FunctionConfig };

/**
 * Why a permission is in a policy: `observed` in the traces; `runtime` needed by the service that
 * runs the workload (from the workload's kind, its trace format and the triggers its traces
 * show); `config` needed for something a configuration export says (a log group, a VPC, an
 * event-source mapping, a dead-letter target); `dependent` needed by AWS to carry out an observed
 * call (KMS for an encrypted resource, `iam:PassRole`).
 */
export type PermissionOrigin = 'observed' | 'runtime' | 'config' | 'dependent';

/** The origins a run-time need can have. */
export type NeedOrigin = Exclude<PermissionOrigin, 'observed'>;

/** One permission a workload's role needs that its traces do not show, with why and whence. */
export interface RuntimeNeed {
  action: string;
  /** As narrow as the facts allow (`*` only where the action has no resource type). */
  resource: string;
  origin: NeedOrigin;
  /** The rule that produced it (`lambda-logs`, `sqs-trigger`…): one row of docs/runtime-needs.md. */
  rule: string;
  /** Plain-language reason, naming the fact it rests on (the trigger, the log group…). */
  why: string;
  /** The public source of the fact (see sources.ts). */
  source: string;
  /** The condition the grant carries (dependent needs only): the request must match one value. */
  condition?: NeedCondition;
}

/** One condition of a dependent need, in the words Terraform uses (`condition { test variable values }`). */
export interface NeedCondition {
  test: 'StringEquals';
  /** The condition key: `kms:ViaService`, `iam:PassedToService`. */
  variable: string;
  /** Sorted, distinct. */
  values: string[];
}

/** Something about the run time that cannot be told from the inputs, said rather than guessed. */
export interface RuntimeNote {
  rule: string;
  message: string;
  source: string;
}

/** What the run-time rules read about a workload. */
export interface WorkloadFacts {
  kind: string;
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
  /** How its data was recorded: `x-ray`, `opentelemetry` (the workload's `formats`). */
  formats: readonly string[];
  /** Event-source ARNs its traces show invoking it (an SQS queue…). */
  triggers: readonly string[];
  config?: FunctionConfig;
}

/** The run-time needs of one workload (or the union for a role). */
export interface RuntimeNeeds {
  /** Granted in the policy, in `Runtime` statements. */
  needs: RuntimeNeed[];
  /**
   * Needed or not depending on something the inputs do not show (how OpenTelemetry data is
   * uploaded): not granted, but recognised by compare as run-time needs rather than unused.
   */
  possible: RuntimeNeed[];
  notes: RuntimeNote[];
  /** Where the workload's own resources are (for the dependent needs of its calls). */
  scope?: { partition: string; region: string; account: string };
}
