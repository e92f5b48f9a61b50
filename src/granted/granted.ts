/**
 * What a workload is granted today, read from exported files and infrastructure as code: pure
 * functions over file text.
 *
 * The kinds of `--granted` files are recognised by their content, not their name:
 * - an IAM policy document (`{"Version", "Statement"}`), a list of them (`policy --format iam`),
 *   or `aws iam get-policy-version` / `get-role-policy` output that wraps one;
 * - `aws iam get-account-authorization-details` output: roles with their inline policies and
 *   attached managed policies, whose default version is resolved from the same file. The CLI
 *   prints documents as JSON objects; the raw API returns them URL-encoded: both are accepted;
 * - `aws lambda list-functions` / `get-function-configuration` output: which role each function
 *   runs as (parsed by {@link parseRoleMap});
 * - infrastructure as code (src/granted/iac.ts): CloudFormation and SAM templates in JSON or YAML
 *   (a CDK synth output is one), Serverless Framework files, Terraform plans, states and `.tf`
 *   source, and what `policy --format …` writes in each format.
 */
import { UserInputError } from '../shared/errors.js';
import { parseRoleMap, type RoleMap } from './roles.js';
import { iacShape, looksLikeHcl, readIacText } from './iac.js';
import {
  lookupManagedPolicy,
  managedCatalogueInfo,
  managedPolicyArn,
  type ManagedPolicy,
} from './managed.js';
import { readTerraformSource } from './terraform.js';
import { parsePolicy, type Origin, type Policy } from '../iam/evaluate.js';

/** A role and the policies attached to it. */
export interface GrantedRole {
  arn: string;
  name: string;
  /** Inline policies (named `inline:<name>`) and attached managed policies (named by ARN). */
  policies: Policy[];
  /** What could not be taken into account (a boundary, an attached policy missing from the file). */
  notes: string[];
  /** The file it was read from. */
  file: string;
  /** Where it is defined, when read from infrastructure as code (template resource, line). */
  origin?: Origin;
  /**
   * Managed policies attached by ARN whose documents are not in the same file: looked up in the
   * other `--granted` files and the bundled AWS managed policies when the files are merged.
   */
  attached?: AttachedPolicy[];
}

/** A managed policy attached by ARN, and where the attachment is written. */
export interface AttachedPolicy {
  /** As written: an ARN (any partition), or for SAM an AWS managed policy's name alone. */
  arn: string;
  origin: Origin;
}

/** The infrastructure-as-code formats read. */
export type IacFormat = 'cloudformation' | 'serverless' | 'terraform';

/** One `--granted` file, classified. */
export type GrantedFile =
  | { kind: 'policy'; file: string; policy: Policy }
  | { kind: 'policies'; file: string; policies: Policy[] }
  | {
      kind: 'authorization-details';
      file: string;
      roles: GrantedRole[];
      /** Managed policy ARN → default document, for roles of other files that attach it. */
      managed: Map<string, unknown>;
    }
  | { kind: 'functions'; file: string; functions: RoleMap }
  | {
      kind: 'iac';
      file: string;
      format: IacFormat;
      roles: GrantedRole[];
      policies: Policy[];
      functions: RoleMap;
    };

/** All `--granted` files together. */
export interface GrantedInputs {
  roles: GrantedRole[];
  /** Plain policy documents: together they form the {@link POLICY_FILES_ROLE} pseudo-role. */
  policies: Policy[];
  /** Function name or ARN → role ARN. */
  functions: RoleMap;
  files: { file: string; kind: GrantedFile['kind']; format?: IacFormat }[];
}

/** Name of the pseudo-role formed by plain policy documents. */
export const POLICY_FILES_ROLE = 'policy-files';

const EXPECTED =
  'Pass an IAM policy document, `aws iam get-account-authorization-details` output, `aws lambda list-functions` output, a CloudFormation, SAM or CDK template (JSON or YAML), a Serverless file, `terraform show -json` output or .tf source.';

/**
 * Classifies and parses one `--granted` file by its content. Throws {@link UserInputError} naming
 * the file (and, for templates, the line) and what to pass instead. Terraform `.tf` source needs
 * an HCL parser that runs asynchronously: see {@link readGranted}.
 */
export function parseGrantedFile(text: string, file: string): GrantedFile {
  const where = `--granted ${file}`;
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (err) {
    // list-functions with several pages printed one after the other is not one JSON value.
    if (/"Functions"\s*:/.test(text)) return functionsFile(text, file);
    if (looksLikeHcl(text))
      throw new UserInputError(`${where}: Terraform source is read by readGranted (asynchronous).`);
    // Not JSON: YAML (a template, a Serverless file, the tool's own YAML outputs), else an error.
    const meantAsJson = /^\ufeff?\s*[[{]/.test(text);
    const iac = meantAsJson ? undefined : readIacText(text, file, EXPECTED);
    if (iac) return iac;
    throw new UserInputError(`${where}: not JSON (${(err as Error).message}). ${EXPECTED}`);
  }
  if (isObject(doc) && 'Statement' in doc)
    return { kind: 'policy', file, policy: parsePolicy(doc, file, where) };
  // `policy --format iam` of several workloads: a list of documents (or of lists of them).
  if (Array.isArray(doc) && doc.length > 0 && doc.flat().every((d) => isObject(d) && 'Statement' in d))
    return {
      kind: 'policies',
      file,
      policies: doc.flat().map((d, i) => parsePolicy(d, `${file}#${i + 1}`, `${where} document ${i + 1}`)),
    };
  if (isObject(doc) && isObject(doc.PolicyVersion) && 'Document' in doc.PolicyVersion)
    return {
      kind: 'policy',
      file,
      policy: parsePolicy(decodeDocument(doc.PolicyVersion.Document, where), file, where),
    };
  if (isObject(doc) && 'PolicyDocument' in doc && typeof doc.PolicyName === 'string')
    return {
      kind: 'policy',
      file,
      policy: parsePolicy(decodeDocument(doc.PolicyDocument, where), `${file}#${doc.PolicyName}`, where),
    };
  const iac = iacShape(doc) ? readIacText(text, file, EXPECTED) : undefined;
  if (iac) return iac;
  if (isObject(doc) && ('RoleDetailList' in doc || 'Policies' in doc || 'UserDetailList' in doc))
    return {
      kind: 'authorization-details',
      file,
      roles: parseAuthorizationDetails(doc, file),
      managed: managedPolicies(doc, where),
    };
  if (
    (isObject(doc) && (Array.isArray(doc.Functions) || ('Role' in doc && 'FunctionName' in doc))) ||
    (Array.isArray(doc) && doc.every((f) => isObject(f) && 'FunctionName' in f))
  )
    return functionsFile(text, file);
  throw new UserInputError(
    `${where}: not a file we recognise (no Statement, RoleDetailList, Functions, Resources or Terraform values). ${EXPECTED}`,
  );
}

/**
 * {@link parseGrantedFile}, and Terraform `.tf` source (through an HCL parser): what the CLI
 * calls for each `--granted` file.
 */
export async function readGranted(text: string, file: string): Promise<GrantedFile> {
  if (looksLikeHcl(text)) return readTerraformSource(text, file);
  return parseGrantedFile(text, file);
}

function functionsFile(text: string, file: string): GrantedFile {
  try {
    return { kind: 'functions', file, functions: parseRoleMap(text, file) };
  } catch (err) {
    if (err instanceof UserInputError)
      throw new UserInputError(err.message.replace(/^--roles /, '--granted '));
    throw err;
  }
}

/** A policy document as the CLI (object) or the raw API (URL-encoded JSON string) gives it. */
export function decodeDocument(v: unknown, where: string): unknown {
  if (typeof v !== 'string') return v;
  const text = v.trimStart().startsWith('{') ? v : safeDecode(v, where);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UserInputError(`${where}: a policy document is not JSON (${(err as Error).message})`);
  }
}

function safeDecode(v: string, where: string): string {
  try {
    // RFC 3986 encoding, as the IAM API documents: `%7B%22Version%22…`.
    return decodeURIComponent(v);
  } catch {
    throw new UserInputError(`${where}: a policy document is neither JSON nor URL-encoded JSON`);
  }
}

/**
 * Roles from `get-account-authorization-details` output, each with its inline policies and the
 * default version of each attached managed policy found in the same file.
 */
export function parseAuthorizationDetails(doc: Record<string, unknown>, file: string): GrantedRole[] {
  const where = `--granted ${file}`;
  const managed = managedPolicies(doc, where);
  const roles = doc.RoleDetailList;
  if (roles !== undefined && !Array.isArray(roles))
    throw new UserInputError(`${where}: "RoleDetailList" is not a list`);
  const out: GrantedRole[] = [];
  for (const [i, r] of (roles ?? []).entries()) {
    if (!isObject(r) || typeof r.Arn !== 'string' || typeof r.RoleName !== 'string')
      throw new UserInputError(`${where}: RoleDetailList[${i}] has no Arn and RoleName`);
    const role: GrantedRole = { arn: r.Arn, name: r.RoleName, policies: [], notes: [], file };
    for (const ip of Array.isArray(r.RolePolicyList) ? r.RolePolicyList : []) {
      if (!isObject(ip) || typeof ip.PolicyName !== 'string') continue;
      const name = `inline:${ip.PolicyName}`;
      role.policies.push(
        parsePolicy(decodeDocument(ip.PolicyDocument, where), name, `${where} role ${r.RoleName}`),
      );
    }
    const bundled: ManagedPolicy[] = [];
    for (const ap of Array.isArray(r.AttachedManagedPolicies) ? r.AttachedManagedPolicies : []) {
      if (!isObject(ap) || typeof ap.PolicyArn !== 'string') continue;
      // The export's own copy first; an AWS managed policy it left out (--filter Role) is bundled.
      const own = managed.get(managedPolicyArn(ap.PolicyArn));
      const copy = own === undefined ? lookupManagedPolicy(ap.PolicyArn) : undefined;
      if (copy) bundled.push(copy);
      const d = own ?? copy?.document;
      if (d === undefined) {
        role.notes.push(
          `attached policy ${ap.PolicyArn} is not in ${file}: its grants are not counted (export with --filter Role LocalManagedPolicy AWSManagedPolicy)`,
        );
        continue;
      }
      role.policies.push(parsePolicy(decodeDocument(d, where), ap.PolicyArn, `${where} role ${r.RoleName}`));
    }
    if (bundled.length > 0) role.notes.push(bundledNote(bundled));
    if (isObject(r.PermissionsBoundary) && typeof r.PermissionsBoundary.PermissionsBoundaryArn === 'string')
      role.notes.push(
        `permissions boundary ${r.PermissionsBoundary.PermissionsBoundaryArn} is not evaluated: the role may be granted less than shown`,
      );
    out.push(role);
  }
  return out;
}

/** The default version of each managed policy of `get-account-authorization-details` output, by ARN. */
function managedPolicies(doc: Record<string, unknown>, where: string): Map<string, unknown> {
  const managed = new Map<string, unknown>();
  const policies = doc.Policies;
  if (policies !== undefined && !Array.isArray(policies))
    throw new UserInputError(`${where}: "Policies" is not a list`);
  for (const p of policies ?? []) {
    if (!isObject(p) || typeof p.Arn !== 'string' || !Array.isArray(p.PolicyVersionList)) continue;
    const versions = p.PolicyVersionList.filter(isObject);
    const def =
      versions.find((v) => v.VersionId === p.DefaultVersionId) ??
      versions.find((v) => v.IsDefaultVersion === true);
    // Keyed as the templates' references are looked up: AWS managed ARNs in partition `aws`.
    if (def) managed.set(managedPolicyArn(p.Arn), def.Document);
  }
  return managed;
}

/** Merges classified files. A role seen in two files keeps the first and notes the second. */
export function mergeGranted(files: readonly GrantedFile[]): GrantedInputs {
  const out: GrantedInputs = { roles: [], policies: [], functions: new Map(), files: [] };
  const byArn = new Map<string, GrantedRole>();
  // Managed policies attached by ARN in templates: from any authorization-details file (the
  // account's truth), else from the bundled catalogue (looked up only when one is attached).
  const managed = new Map<string, { document: unknown; file: string }>();
  for (const f of files)
    if (f.kind === 'authorization-details')
      for (const [k, document] of f.managed) managed.set(k, { document, file: f.file });
  const addRoles = (roles: readonly GrantedRole[]): void => {
    for (const r of roles) {
      const prev = byArn.get(r.arn);
      if (prev) {
        prev.notes.push(`also in ${r.file}; the copy in ${prev.file} is used`);
        continue;
      }
      byArn.set(r.arn, r);
      out.roles.push(resolveAttached(r, managed));
    }
  };
  for (const f of files) {
    out.files.push({ file: f.file, kind: f.kind, ...(f.kind === 'iac' ? { format: f.format } : {}) });
    if (f.kind === 'policy') out.policies.push(f.policy);
    else if (f.kind === 'policies') out.policies.push(...f.policies);
    else if (f.kind === 'functions') for (const [k, v] of f.functions) out.functions.set(k, v);
    else if (f.kind === 'iac') {
      out.policies.push(...f.policies);
      for (const [k, v] of f.functions) out.functions.set(k, v);
      addRoles(f.roles);
    } else addRoles(f.roles);
  }
  return out;
}

/**
 * A role with its managed policies attached by ARN looked up, in the `--granted` exports first,
 * then in the bundled catalogue; the role's notes say which copies were used. One neither holds
 * is named in the notes as unknown, and its grants are not counted (never assumed empty: the
 * note says the comparison is incomplete).
 */
function resolveAttached(
  role: GrantedRole,
  managed: ReadonlyMap<string, { document: unknown; file: string }>,
): GrantedRole {
  if (!role.attached || role.attached.length === 0) return role;
  const policies = [...role.policies];
  const notes = [...role.notes];
  const bundled: ManagedPolicy[] = [];
  const exported = new Map<string, string[]>();
  for (const a of role.attached) {
    const where =
      `${a.origin.file}${a.origin.line === undefined ? '' : `:${a.origin.line}`} ${a.origin.resource ?? ''}`.trim();
    // `arn:${AWS::Partition}:…`, other partitions and a name alone name the same AWS managed policy.
    const arn = managedPolicyArn(a.arn);
    const own = managed.get(arn);
    const copy = own === undefined ? lookupManagedPolicy(arn) : undefined;
    if (own) exported.set(own.file, [...(exported.get(own.file) ?? []), arn]);
    if (copy) bundled.push(copy);
    const doc = own?.document ?? copy?.document;
    if (doc === undefined) {
      notes.push(
        `managed policy ${arn} (attached at ${where}) is unknown: its grants are not counted; pass \`aws iam get-account-authorization-details\` output that holds it with --granted`,
      );
      continue;
    }
    const parsed = parsePolicy(decodeDocument(doc, `--granted ${where}`), arn, `--granted ${where}`);
    policies.push({ ...parsed, origin: a.origin });
  }
  for (const [file, arns] of exported) notes.push(`managed policies read from ${file}: ${arns.join(', ')}`);
  if (bundled.length > 0) notes.push(bundledNote(bundled));
  return { ...role, policies, notes, attached: [] };
}

/** The note that says which AWS managed policies came from the bundled catalogue, and how old. */
function bundledNote(policies: readonly ManagedPolicy[]): string {
  const list = policies.map((p) => `${p.name} ${p.version} of ${p.updated.slice(0, 10)}`);
  return `AWS managed policies from the bundled catalogue of ${managedCatalogueInfo().date}: ${[...new Set(list)].join(', ')}; pass \`aws iam get-account-authorization-details\` output with --granted to use the account's own copies`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
