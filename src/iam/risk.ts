/**
 * Risk triage of IAM permissions: what a permission lets its holder do, ranked, so that a
 * reviewer cuts the dangerous grants first. Every permission gets the access level the Service
 * Authorization Reference gives its action (iam-data, catalogue.ts) and the risk classes of
 * {@link RISK_RULES}, the one table of rules, each row with its source (cloudsplaining,
 * Salesforce's IAM triage tool, is the reference). Its resource scope is weighed: `*`, a whole
 * account, or one resource. The result is an ordered {@link RiskLevel} (docs/risk.md gives the
 * formula and the table).
 *
 * It lives in src/iam because compare, policy and the report all rank with it, and iam is the
 * lowest layer they share (it needs only the catalogue and the ARN parser, both here).
 */
import { wildcardSpans } from './arn.js';
import { actionInfo, type AccessLevel } from './catalogue.js';

/** The risk classes of cloudsplaining, as identifiers. */
export type RiskClass =
  | 'privilege-escalation'
  | 'data-exfiltration'
  | 'resource-exposure'
  | 'credentials-exposure'
  | 'infrastructure-modification';

/** Risk levels, lowest first: `none` < `low` < `medium` < `high` < `critical`. */
export type RiskLevel = 'none' | 'low' | 'medium' | 'high' | 'critical';

/** Every risk level, lowest first (the index is its rank). */
export const RISK_LEVELS: readonly RiskLevel[] = ['none', 'low', 'medium', 'high', 'critical'];

/** How many resources a permission's resource pattern spans. */
export type ResourceScope =
  /** `*`, a NotResource list, or a pattern over every account. */
  | 'all'
  /** Every resource of a type in an account (`table/*`), or in every region of it. */
  | 'account'
  /** One resource, or resources under one name (`bucket/prefix/*`). */
  | 'resource';

/** One row of {@link RISK_RULES}: which actions belong to a class, and where that comes from. */
export interface RiskRule {
  class: RiskClass;
  /** Actions (`service:Action`, any case) the rule names. */
  actions?: readonly string[];
  /** Or: every action of these access levels. */
  accessLevels?: readonly AccessLevel[];
  /** Where the rule comes from (a file and the name in it). */
  source: string;
}

const CS = 'salesforce/cloudsplaining';
const CONSTANTS = `${CS} cloudsplaining/shared/constants.py`;
const POLICY_DOCUMENT = `${CS} cloudsplaining/scan/policy_document.py`;

/**
 * The rules, one table for every class. Privilege escalation lists the actions that are a whole
 * escalation method on their own, and `iam:PassRole`, the part every "pass a role to a new
 * resource" method shares (cloudsplaining flags the methods as combinations; one permission is
 * ranked here on its own, so a part of a method counts).
 */
export const RISK_RULES: readonly RiskRule[] = [
  {
    class: 'privilege-escalation',
    actions: [
      'iam:CreateAccessKey',
      'iam:CreateLoginProfile',
      'iam:UpdateLoginProfile',
      'iam:AddUserToGroup',
    ],
    source: `${CONSTANTS} PRIVILEGE_ESCALATION_METHODS, "1. IAM Permissions on Other Users" (Rhino Security Labs)`,
  },
  {
    class: 'privilege-escalation',
    actions: [
      'iam:CreatePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:AttachUserPolicy',
      'iam:AttachGroupPolicy',
      'iam:AttachRolePolicy',
      'iam:PutUserPolicy',
      'iam:PutGroupPolicy',
      'iam:PutRolePolicy',
    ],
    source: `${CONSTANTS} PRIVILEGE_ESCALATION_METHODS, "2. Permissions on Policies"`,
  },
  {
    class: 'privilege-escalation',
    actions: ['iam:UpdateAssumeRolePolicy'],
    source: `${CONSTANTS} PRIVILEGE_ESCALATION_METHODS, "3. Updating an AssumeRolePolicy"`,
  },
  {
    class: 'privilege-escalation',
    actions: ['iam:PassRole'],
    source: `${CONSTANTS} PRIVILEGE_ESCALATION_METHODS, "4. iam:PassRole:*" (part of every PassExistingRole… method)`,
  },
  {
    class: 'privilege-escalation',
    actions: ['glue:UpdateDevEndpoint', 'lambda:UpdateFunctionCode'],
    source: `${CONSTANTS} PRIVILEGE_ESCALATION_METHODS, "5. Privilege Escalation Using AWS Services"`,
  },
  {
    class: 'privilege-escalation',
    actions: [
      'sagemaker:CreatePresignedNotebookInstanceUrl',
      'ecs:ExecuteCommand',
      'ec2-instance-connect:SendSSHPublicKey',
    ],
    source: `${CONSTANTS} PRIVILEGE_ESCALATION_METHODS, pathfinding.cloud additions (sagemaker-004, ecs-006, ec2instanceconnect-003)`,
  },
  {
    class: 'data-exfiltration',
    actions: [
      's3:GetObject',
      'ssm:GetParameter',
      'ssm:GetParameters',
      'ssm:GetParametersByPath',
      'secretsmanager:GetSecretValue',
    ],
    source: `${CONSTANTS} READ_ONLY_DATA_EXFILTRATION_ACTIONS`,
  },
  {
    class: 'data-exfiltration',
    actions: ['rds:CopyDBSnapshot', 'rds:CreateDBSnapshot'],
    source: `${CONSTANTS} RISK_DEFINITION["DataExfiltration"]`,
  },
  {
    class: 'credentials-exposure',
    actions: [
      'airflow:CreateCliToken',
      'airflow:CreateWebLoginToken',
      'appsync:CreateApiKey',
      'chime:CreateApiKey',
      'cloud9:CreateEnvironmentToken',
      'codeartifact:GetAuthorizationToken',
      'codepipeline:PollForJobs',
      'cognito-identity:GetOpenIdToken',
      'cognito-identity:GetOpenIdTokenForDeveloperIdentity',
      'cognito-identity:GetCredentialsForIdentity',
      'cognito-idp:GetSigningCertificate',
      'connect:GetFederationToken',
      'ec2:GetPasswordData',
      'ecr:GetAuthorizationToken',
      'ecr-public:GetAuthorizationToken',
      'emr-containers:GetManagedEndpointSessionCredentials',
      'finspace-api:GetProgrammaticAccessCredentials',
      'gamelift:RequestUploadCredentials',
      'gamelift:GetInstanceAccess',
      'grafana:CreateWorkspaceApiKey',
      'iam:CreateAccessKey',
      'iam:CreateLoginProfile',
      'iam:CreateServiceSpecificCredential',
      'iam:ResetServiceSpecificCredential',
      'iam:UpdateAccessKey',
      'license-manager:GetAccessToken',
      'lightsail:GetInstanceAccessDetails',
      'lightsail:DownloadDefaultKeyPair',
      'lightsail:CreateBucketAccessKey',
      'lightsail:GetRelationalDatabaseMasterUserPassword',
      'mediapackage:RotateChannelCredentials',
      'mediapackage:RotateIngestEndpointCredentials',
      'rds-db:connect',
      'redshift:GetClusterCredentials',
      'redshift:GetClusterCredentialsWithIAM',
      'redshift-serverless:GetCredentials',
      'sts:AssumeRole',
      'sts:AssumeRoleWithSAML',
      'sts:AssumeRoleWithWebIdentity',
      'sts:GetFederationToken',
      'sts:GetSessionToken',
    ],
    source: `${CONSTANTS} ACTIONS_THAT_RETURN_CREDENTIALS`,
  },
  {
    class: 'resource-exposure',
    accessLevels: ['Permissions management'],
    source: `${POLICY_DOCUMENT} permissions_management_without_constraints (policy_sentry access levels)`,
  },
  {
    class: 'infrastructure-modification',
    accessLevels: ['Write', 'Permissions management'],
    source: `${POLICY_DOCUMENT} infrastructure_modification (missing_resource_constraints_for_modify_actions)`,
  },
];

/** Each class's severity: cloudsplaining's ISSUE_SEVERITY (shared/constants.py). */
export const CLASS_SEVERITY: Readonly<Record<RiskClass, RiskLevel>> = {
  'privilege-escalation': 'high',
  'resource-exposure': 'high',
  'credentials-exposure': 'high',
  'data-exfiltration': 'medium',
  'infrastructure-modification': 'low',
};

/** The classes, most severe first (the order a permission's classes are listed in). */
export const RISK_CLASSES: readonly RiskClass[] = [
  'privilege-escalation',
  'credentials-exposure',
  'resource-exposure',
  'data-exfiltration',
  'infrastructure-modification',
];

/** How the scope moves the level: `*` up one, one resource down one (never below `low` with a class). */
const SCOPE_STEP: Readonly<Record<ResourceScope, number>> = { all: 1, account: 0, resource: -1 };

/** A permission, triaged (shared between callers: read it, never change it). */
export interface PermissionRisk {
  action: string;
  /** The catalogue's access levels (`Permissions management`, `Write`); empty for an action it does not know. */
  accessLevels: AccessLevel[];
  /** Its risk classes, most severe first; empty when none applies. */
  classes: RiskClass[];
  scope: ResourceScope;
  level: RiskLevel;
}

const byAction = new Map<string, RiskClass[]>();
for (const rule of RISK_RULES)
  for (const a of rule.actions ?? []) {
    const k = a.toLowerCase();
    const list = byAction.get(k) ?? [];
    if (!list.includes(rule.class)) list.push(rule.class);
    byAction.set(k, list);
  }

/** The rank of a level (its index in {@link RISK_LEVELS}). */
export function riskRank(level: RiskLevel): number {
  return RISK_LEVELS.indexOf(level);
}

/** The higher of two levels. */
export function maxRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  return riskRank(a) >= riskRank(b) ? a : b;
}

/** True when `value` names a risk level (for option parsing). */
export function isRiskLevel(value: string): value is RiskLevel {
  return (RISK_LEVELS as readonly string[]).includes(value);
}

/**
 * How many resources a resource pattern spans: `*`, NotResource and a wildcard account are
 * `all`; a wildcard region or every resource of a type (`table/*`) is `account`; the rest names
 * resources (`bucket/prefix/*` is under one name).
 */
export function resourceScope(resource: string): ResourceScope {
  if (resource === '*' || resource.startsWith('NotResource')) return 'all';
  const spans = wildcardSpans(resource, '');
  if (spans.includes('account')) return 'all';
  return spans.length > 0 ? 'account' : 'resource';
}

/** The risk classes of an action (concrete, `service:Action`), most severe first. */
export function riskClasses(action: string): RiskClass[] {
  const levels = actionInfo(action)?.accessLevels ?? [];
  const named = byAction.get(action.toLowerCase()) ?? [];
  const classes = new Set<RiskClass>(named);
  for (const rule of RISK_RULES)
    if (levels.some((l) => rule.accessLevels?.includes(l))) classes.add(rule.class);
  return RISK_CLASSES.filter((c) => classes.has(c));
}

/**
 * Triage of one permission (a concrete action on a resource pattern). The level is the most
 * severe of its classes' severities ({@link CLASS_SEVERITY}), one up for `*` (or any account),
 * one down for one resource, at least `low` when a class applies, at most `critical`; `none`
 * when no class applies. Conditions are not weighed: a conditional grant ranks as the grant.
 */
export function permissionRisk(action: string, resource: string): PermissionRisk {
  const scope = resourceScope(resource);
  // Memoised per (scope, action): compare ranks every action of an `Action: "*"` grant for each
  // workload (22,000 actions: 31 ms a pass uncached). At most three entries per known action.
  const key = `${scope}\u0000${action}`;
  const known = memo.get(key);
  if (known) return known;
  const r = rank(action, scope);
  if (memo.size < MEMO_MAX) memo.set(key, r);
  return r;
}

const memo = new Map<string, PermissionRisk>();
/** Bounds the memo (action names come from the data): three per action of the reference, and some. */
const MEMO_MAX = 100_000;

function rank(action: string, scope: ResourceScope): PermissionRisk {
  const info = actionInfo(action);
  const classes = riskClasses(action);
  let level: RiskLevel = 'none';
  if (classes.length > 0) {
    const base = Math.max(...classes.map((c) => riskRank(CLASS_SEVERITY[c])));
    const rank = Math.min(riskRank('critical'), Math.max(riskRank('low'), base + SCOPE_STEP[scope]));
    level = RISK_LEVELS[rank] as RiskLevel;
  }
  return {
    action: info?.action ?? action,
    accessLevels: [...(info?.accessLevels ?? [])],
    classes,
    scope,
    level,
  };
}

/** The words for a class in a sentence (`privilege escalation`). */
export function classWords(c: RiskClass): string {
  return c.replace(/-/g, ' ');
}

/**
 * Observed permissions at or above this level are flagged in `policy` (a `risky` warning): the
 * workload really calls them, and that is worth a second look.
 */
export const OBSERVED_RISK_FLAG: RiskLevel = 'medium';

/** Orders by risk, highest first (a comparator; ties keep their order in a stable sort). */
export function byRiskDesc<T extends { level: RiskLevel }>(a: T, b: T): number {
  return riskRank(b.level) - riskRank(a.level);
}
