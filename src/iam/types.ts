/**
 * Types shared by the IAM mapping module: the public call/result shapes and the contract that
 * each per-service handler in `services/` implements.
 */

/** One recorded call, as ingest normalises it. */
export interface IamCall {
  /** IAM prefix (`dynamodb`) or any recorded spelling (`DynamoDBv2`, `Amazon S3`, `SFN`). */
  service: string;
  /**
   * The IAM prefix, when the source names it exactly (CloudTrail's `eventSource`): used for a
   * service that has no spelling in the alias table but exists in the reference (`cloudfront`).
   */
  prefix?: string;
  /** Operation as the SDK recorded it (`ListObjectsV2`, Java v1 `SetObjectTagging`, `list_objects_v2`). */
  operation: string;
  /** Region of the call. */
  region?: string | null;
  /** Account of the call (`aws.account_id`), if known. */
  account?: string | null;
  /**
   * Recorded resource parameters, snake_case (`table_name`, `bucket_name`, `queue_url`…), the
   * AccessDenied fields `denied_action` / `denied_resource`, and OTel ids copied from
   * `metadata.default` (`aws.s3.bucket`, `aws.sns.topic.arn`…). Values are untrusted.
   */
  params: Record<string, unknown>;
}

/** The workload's account and region: the fallback when the call itself does not say. */
export interface IamContext {
  account?: string | null;
  region?: string | null;
}

/** One IAM permission a call needed. */
export interface Permission {
  /** `service:Action`, spelled exactly as in the Service Authorization Reference. */
  action: string;
  /** Full ARN, a wildcard ARN for the resource type, or `*`. */
  resource: string;
  /** iam-data resource type key (`table`, `object`, `bucket`…) when the action is resource-scoped. */
  resourceType?: string;
  /** True when the action is resource-scoped but the trace did not record (all of) the identifier. */
  resourceUnknown: boolean;
  /** Why this permission is less certain than usual (e.g. one of several possible actions). */
  note?: string;
}

/** Outcome of mapping one call. */
export type MappingResult =
  | { status: 'mapped'; permissions: Permission[] }
  | { status: 'no-permission'; reason: string }
  | { status: 'unmapped'; reason: string };

/** Which side of a two-sided operation (a copy) a step acts on. */
export type StepRole = 'source' | 'target';

/** One IAM action an operation needs. */
export interface Step {
  /** `service:Action` in canonical spelling; the enumeration test proves it exists. */
  readonly action: string;
  /** Action to use instead when the call recorded a version id for this step's side. */
  readonly versionAction?: string;
  /** Side of a copy this step acts on; absent for one-sided operations. */
  readonly role?: StepRole;
  /** Carried to the permission: why the action is uncertain. */
  readonly note?: string;
}

/** What an operation needs: a list of actions, nothing at all, or no known IAM action. */
export type OperationRule =
  | { readonly kind: 'actions'; readonly steps: readonly Step[] }
  | { readonly kind: 'no-permission'; readonly reason: string }
  | { readonly kind: 'unmapped'; readonly reason: string };

/** Account, region and partition used to fill ARN templates; `*` where unknown. */
export interface Scope {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** True when the region came from the call or context (not a `*` fill). */
  readonly regionKnown: boolean;
  /** True when the account came from the call or context (not a `*` fill). */
  readonly accountKnown: boolean;
}

/** A resource a handler identified for one step. */
export interface Candidate {
  /** iam-data resource type key, compared case-insensitively with the action's types. */
  readonly type: string;
  /** Full ARN (may contain `*` where part of the identifier was not recorded). */
  readonly arn: string;
  /** True when part of the identifier (not account/region) was missing and filled with `*`. */
  readonly unknown: boolean;
}

/** Special handling for one AWS service. Handlers are pure and registered in `registry.ts`. */
export interface ServiceHandler {
  /** IAM service prefix the handler serves. */
  readonly prefix: string;
  /**
   * Display names (from `resolveService`) the handler serves; absent means every service with
   * this prefix. Lets `S3Control`, which shares the `s3` prefix, skip the S3 object table.
   */
  readonly displays?: readonly string[];
  /** Explicit operation table, keyed by operation name in any case (normalised by the registry). */
  readonly operations: Readonly<Record<string, OperationRule>>;
  /** Resource type to use for the wildcard ARN when several are optional (S3: `object`, not `accesspointobject`). */
  readonly preferredTypes?: readonly string[];
  /** True when the call recorded a version id for the given side, selecting `Step.versionAction`. */
  versioned?(params: Record<string, unknown>, role: StepRole | undefined): boolean;
  /**
   * The resources the call names for one step. `types` are the action's resource type keys
   * (lower-cased). Return nothing when the trace recorded no identifier.
   */
  resources?(call: IamCall, step: Step, types: readonly string[], scope: Scope): Candidate[];
}
