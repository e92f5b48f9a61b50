/**
 * What a workload is granted today, read from exported files: pure functions over file text.
 *
 * Three kinds of `--granted` files are recognised by their shape:
 * - an IAM policy document (`{"Version", "Statement"}`), or `aws iam get-policy-version` /
 *   `get-role-policy` output that wraps one;
 * - `aws iam get-account-authorization-details` output: roles with their inline policies and
 *   attached managed policies, whose default version is resolved from the same file. The CLI
 *   prints documents as JSON objects; the raw API returns them URL-encoded: both are accepted;
 * - `aws lambda list-functions` / `get-function-configuration` output: which role each function
 *   runs as (parsed by {@link parseRoleMap}).
 */
import { UserInputError } from '../shared/errors.js';
import { parseRoleMap, type RoleMap } from './roles.js';
import { parsePolicy, type Policy } from '../iam/evaluate.js';

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
}

/** One `--granted` file, classified. */
export type GrantedFile =
  | { kind: 'policy'; file: string; policy: Policy }
  | { kind: 'authorization-details'; file: string; roles: GrantedRole[] }
  | { kind: 'functions'; file: string; functions: RoleMap };

/** All `--granted` files together. */
export interface GrantedInputs {
  roles: GrantedRole[];
  /** Plain policy documents: together they form the {@link POLICY_FILES_ROLE} pseudo-role. */
  policies: Policy[];
  /** Function name or ARN → role ARN. */
  functions: RoleMap;
  files: { file: string; kind: GrantedFile['kind'] }[];
}

/** Name of the pseudo-role formed by plain policy documents. */
export const POLICY_FILES_ROLE = 'policy-files';

const EXPECTED =
  'Pass an IAM policy document, `aws iam get-account-authorization-details` output, or `aws lambda list-functions` output.';

/** Classifies and parses one `--granted` file. Throws {@link UserInputError} naming the file. */
export function parseGrantedFile(text: string, file: string): GrantedFile {
  const where = `--granted ${file}`;
  let doc: unknown;
  try {
    doc = JSON.parse(text.replace(/^\ufeff/, ''));
  } catch (err) {
    // list-functions with several pages printed one after the other is not one JSON value.
    if (/"Functions"\s*:/.test(text)) return functionsFile(text, file);
    throw new UserInputError(`${where}: not JSON (${(err as Error).message}). ${EXPECTED}`);
  }
  if (isObject(doc) && 'Statement' in doc)
    return { kind: 'policy', file, policy: parsePolicy(doc, file, where) };
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
  if (isObject(doc) && ('RoleDetailList' in doc || 'Policies' in doc || 'UserDetailList' in doc))
    return { kind: 'authorization-details', file, roles: parseAuthorizationDetails(doc, file) };
  if (
    (isObject(doc) && (Array.isArray(doc.Functions) || ('Role' in doc && 'FunctionName' in doc))) ||
    (Array.isArray(doc) && doc.every((f) => isObject(f) && 'FunctionName' in f))
  )
    return functionsFile(text, file);
  throw new UserInputError(
    `${where}: not a file we recognise (no Statement, RoleDetailList or Functions). ${EXPECTED}`,
  );
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
    if (def) managed.set(p.Arn, def.Document);
  }
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
    for (const ap of Array.isArray(r.AttachedManagedPolicies) ? r.AttachedManagedPolicies : []) {
      if (!isObject(ap) || typeof ap.PolicyArn !== 'string') continue;
      const d = managed.get(ap.PolicyArn);
      if (d === undefined) {
        role.notes.push(
          `attached policy ${ap.PolicyArn} is not in ${file}: its grants are not counted (export with --filter Role LocalManagedPolicy AWSManagedPolicy)`,
        );
        continue;
      }
      role.policies.push(parsePolicy(decodeDocument(d, where), ap.PolicyArn, `${where} role ${r.RoleName}`));
    }
    if (isObject(r.PermissionsBoundary) && typeof r.PermissionsBoundary.PermissionsBoundaryArn === 'string')
      role.notes.push(
        `permissions boundary ${r.PermissionsBoundary.PermissionsBoundaryArn} is not evaluated: the role may be granted less than shown`,
      );
    out.push(role);
  }
  return out;
}

/** Merges classified files. A role seen in two files keeps the first and notes the second. */
export function mergeGranted(files: readonly GrantedFile[]): GrantedInputs {
  const out: GrantedInputs = { roles: [], policies: [], functions: new Map(), files: [] };
  const byArn = new Map<string, GrantedRole>();
  for (const f of files) {
    out.files.push({ file: f.file, kind: f.kind });
    if (f.kind === 'policy') out.policies.push(f.policy);
    else if (f.kind === 'functions') for (const [k, v] of f.functions) out.functions.set(k, v);
    else
      for (const r of f.roles) {
        const prev = byArn.get(r.arn);
        if (prev) {
          prev.notes.push(`also in ${r.file}; the copy in ${prev.file} is used`);
          continue;
        }
        byArn.set(r.arn, r);
        out.roles.push(r);
      }
  }
  return out;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
