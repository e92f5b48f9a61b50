/**
 * The shapes of a generated policy and the options that shape it (`policy --json` prints
 * {@link WorkloadPolicy} objects).
 */
import type { RoleMap } from '../granted/roles.js';
import type { PermissionOrigin } from '../runtime/types.js';
import type { CallFilter } from '../store/filter.js';
import type { ReadThreadMode } from '../store/read-thread/index.js';
import type { UsageSource } from '../store/usage.js';
import type { Completeness, CompletenessThresholds } from './completeness.js';

/** How S3 object keys seen in calls become resources. */
export type S3ObjectScope = 'exact' | 'prefix' | 'bucket';

/** Options for {@link buildPolicies}. Every generalisation is opt-in except the S3 default. */
/** Output formats of `policy --format`. */
export type PolicyFormat = 'iam' | 'cloudformation' | 'sam' | 'serverless' | 'terraform';

export interface PolicyOptions {
  filter: CallFilter;
  /**
   * The output formats whose text is read back and replayed through the evaluator before a
   * policy is returned. Default: every format (the report shows them all); `policy` names the
   * one it prints, as a re-read costs about as much as building the policy.
   */
  replayFormats?: readonly PolicyFormat[];
  /**
   * Grant permissions seen only in denied calls. Default: leave them out and list them as
   * `denied` warnings (a denial may be intended: granting it would widen access).
   */
  includeDenied?: boolean;
  /** Default `prefix`: the longest common `/`-prefix of the keys per bucket and action set. */
  s3Objects?: S3ObjectScope;
  accountWildcard?: boolean;
  regionWildcard?: boolean;
  /**
   * Write `${AWS::AccountId}` / `${AWS::Region}` in ARNs (for templates), for the policy's own
   * account and region only: ARNs of other accounts stay literal (a `cross-account` warning).
   */
  placeholders?: boolean;
  /** Permissions whose resource was not recorded: `include` (narrowest wildcard, default) or `omit`. */
  unknownResources?: 'include' | 'omit';
  /** Split a policy into several whose compact size is at most this many characters. */
  maxSize?: number;
  /** Build one policy per IAM role from the union of its functions (see {@link RoleMap}). */
  roles?: RoleMap;
  /**
   * Grant the calls CloudTrail shows made with a role's credentials from outside its workload
   * (default: withheld and named in an `outside` warning).
   */
  includeOutside?: boolean;
  /** Where whole days are read from (tests compare `calls` with the default `rollups`). */
  source?: UsageSource;
  /**
   * Whether the permissions are read on a second thread (store/read-thread): `auto` (default) for
   * a large database; `always` and `never` for tests and `XRAY_LP_READ_THREAD`.
   */
  readThread?: ReadThreadMode;
  /** Thresholds of the completeness verdict (defaults: {@link DEFAULT_THRESHOLDS}). */
  completeness?: Partial<CompletenessThresholds>;
  /**
   * `all` (default): every policy also grants its workloads' run-time needs (src/runtime), in
   * `Runtime` statements; `none` leaves them out.
   */
  runtime?: 'all' | 'none';
}

/** One statement, in IAM policy grammar. */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  /**
   * Only on the statements of dependent needs (`iam:PassedToService`, `kms:ViaService`): operator
   * → condition key → values, as IAM writes it. Statements with different conditions are never
   * merged (src/policy/statements.ts).
   */
  Condition?: PolicyCondition;
}

/** A statement's `Condition` block: operator (`StringEquals`) → key → values (any of them). */
export type PolicyCondition = Record<string, Record<string, string[]>>;

/** A policy document: only `Version` and `Statement`, as IAM accepts. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** Why a reviewer should look twice. */
export interface PolicyWarning {
  code:
    | 'denied'
    | 'resource-unknown'
    | 'omitted-unknown'
    | 'unmapped'
    | 'size-managed'
    | 'size-inline'
    | 'split'
    | 'placeholders'
    | 'cross-account'
    | 'wildcard'
    | 'incomplete'
    | 'runtime'
    | 'dependent'
    | 'risky'
    /** CloudTrail: calls with the role's credentials from outside the workload (src/policy/trail.ts). */
    | 'outside';
  message: string;
  action?: string;
  resource?: string;
  /** For a warning about one permission: the explanation it shares with others of its kind. */
  hint?: string;
  /** For a warning about one permission: what is particular to it (counts, sample traces). */
  detail?: string;
}

/** Evidence for one action of one statement. */
export interface ActionEvidence {
  action: string;
  /** Why it is granted: seen in calls, or a run-time need (with `runtime` saying why). */
  origin: PermissionOrigin;
  calls: number;
  denied: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Up to 3 trace ids of calls that needed this action. */
  sampleTraceIds: string[];
  /** How many distinct resources were recorded (before S3 scoping or wildcards). */
  resourcesObserved: number;
  /**
   * The first 100 of them (`MAX_OBSERVED`) in code-unit order, with their call counts (all of
   * them: `usage --workload W --action A --csv`, or `policy --s3-objects exact`).
   */
  observed: { resource: string; calls: number }[];
  /** Where the policy holds CloudTrail evidence: which sources saw the calls (`trace`, `cloudtrail`). */
  sources?: ('trace' | 'cloudtrail')[];
  /** For a run-time need: per resource, the rule, the reason and the public source of the fact. */
  runtime?: { resource: string; rule: string; why: string; source: string }[];
}

/** Evidence for one statement. */
export interface StatementEvidence {
  sid: string;
  actions: ActionEvidence[];
}

/** One generated policy (`policy --json` prints an array of these). */
export interface WorkloadPolicy {
  /** The workload's ARN, or its key where it has none; for `--by role`, the role ARN. */
  principal: string;
  kind: string;
  name: string;
  account: string | null;
  region: string | null;
  /** The policy; when `--max-size` split it, the first part (all parts are in `documents`). */
  document: PolicyDocument;
  documents: PolicyDocument[];
  /** Compact size of `document` as IAM counts it (no whitespace). */
  size: number;
  warnings: PolicyWarning[];
  evidence: StatementEvidence[];
  /** Whether the traces are enough to trust this policy (see {@link Completeness}). */
  completeness: Completeness;
  /**
   * The policy checked against its own evidence: every observed permission and every run-time
   * need replayed through the evaluator (src/iam/evaluate.ts) against the final documents.
   */
  replay: { permissions: number; allowed: number };
  /** For `--by role`: the workloads whose usage was merged into this policy. */
  members?: string[];
  /**
   * For a role with CloudTrail evidence: what it held, and the calls made with the role's
   * credentials from outside the workload (withheld unless `--include-outside`).
   */
  cloudtrail?: {
    role: string;
    events: number;
    managementEvents: number;
    dataEvents: number;
    sessions: string[];
    /** The calls AWS services made with the role on the workload's behalf, per permission (most calls first). */
    onBehalf: { action: string; resource: string; calls: number }[];
    /** True when the outside calls are granted (`--include-outside`). */
    outsideGranted: boolean;
    outside: {
      sourceIp: string | null;
      userAgent: string | null;
      reason: string;
      calls: number;
      actions: string[];
      firstSeen: string | null;
      lastSeen: string | null;
      eventIds: string[];
    }[];
  };
}

/** The result of {@link buildPolicies}. */
export interface PolicyResult {
  policies: WorkloadPolicy[];
  /** For `--by role`: roles shared by several functions. */
  sharedRoles: { role: string; functions: string[] }[];
  /** Workloads in the selection that the role map does not name (they keep their own policy). */
  unmatched: string[];
}
