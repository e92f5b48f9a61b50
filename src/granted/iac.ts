/**
 * Infrastructure as code as the granted side, recognised by content: CloudFormation and SAM
 * templates (JSON or YAML; a CDK synth output is one: cloudformation.ts), Serverless Framework
 * files, `terraform show -json` output (terraform.ts), and what `policy --format cloudformation`
 * writes (a role's `Policies` list). Terraform `.tf` source is read by terraform.ts.
 */
import { UserInputError } from '../shared/errors.js';
import { isObject } from '../shared/values.js';
import type { Policy } from '../iam/evaluate.js';
import { isTemplate, readTemplate } from './cloudformation.js';
import type { GrantedFile, GrantedRole } from './granted.js';
import { placeholder, resolve } from './intrinsics.js';
import { isTerraformJson, readTerraformJson } from './terraform.js';
import { linedPolicy, parseLined, type LinedValue } from './yaml-lines.js';

/** True when a parsed JSON value is a shape this module reads. */
export function iacShape(v: unknown): boolean {
  return isTemplate(v) || isTerraformJson(v) || isPoliciesFragment(v) || isServerless(v);
}

/** True when `text` looks like Terraform source (`resource "…" "…" {`, `data "…" "…" {`). */
export function looksLikeHcl(text: string): boolean {
  return /^\s*(resource|data|provider|terraform|locals|variable|module)\b[^\n=:]*\{\s*$/m.test(text);
}

/** `policy --format cloudformation`: `Policies:` entries of a role, each a name and a document. */
function isPoliciesFragment(v: unknown): v is { Policies: Record<string, unknown>[] } {
  return (
    isObject(v) &&
    !('RoleDetailList' in v) &&
    Array.isArray(v.Policies) &&
    v.Policies.length > 0 &&
    v.Policies.every((p) => isObject(p) && 'PolicyDocument' in p)
  );
}

/** A Serverless Framework file: `functions`, or a provider with IAM statements. */
function isServerless(v: unknown): v is Record<string, unknown> {
  if (!isObject(v)) return false;
  const provider = isObject(v.provider) ? v.provider : {};
  return (
    (isObject(v.functions) && Object.values(v.functions).every((f) => isObject(f))) ||
    'iamRoleStatements' in provider ||
    (isObject(provider.iam) && isObject(provider.iam.role))
  );
}

/**
 * Reads `text` (JSON or YAML) as infrastructure as code; undefined when it is none of the shapes
 * (the caller says what it expected). A YAML syntax error is an error naming its line.
 */
export function readIacText(text: string, file: string, hint: string): GrantedFile | undefined {
  const lined = parseLined(text, file, hint);
  const v = lined.value;
  if (isTemplate(v)) return { kind: 'iac', file, format: 'cloudformation', ...readTemplate(lined, file) };
  if (isTerraformJson(v)) return { kind: 'iac', file, format: 'terraform', ...readTerraformJson(v, file) };
  if (isPoliciesFragment(v))
    return {
      kind: 'iac',
      file,
      format: 'cloudformation',
      roles: [],
      functions: new Map(),
      policies: fragment(lined, file),
    };
  if (isServerless(v)) return { kind: 'iac', file, format: 'serverless', ...readServerless(lined, file) };
  if (isObject(v) && 'Resources' in v)
    throw new UserInputError(
      `--granted ${file}: "Resources" holds no resource with a Type: not a CloudFormation template we can read. ${hint}`,
    );
  return undefined;
}

function fragment(lined: LinedValue, file: string): Policy[] {
  const list = (lined.value as { Policies: Record<string, unknown>[] }).Policies;
  return list.map((p, i) => {
    const name = typeof p.PolicyName === 'string' ? p.PolicyName : `Policies[${i}]`;
    return linedPolicy(lined, p.PolicyDocument, resolve(p.PolicyDocument), `${file}#${name}`, file, name);
  });
}

/**
 * Serverless Framework values: `${aws:accountId}` and `${aws:region}` are the pseudo parameters;
 * any other `${…}` is a Serverless variable (`${self:custom.table}`, `${param:…}`) this file does
 * not fix, kept as a placeholder.
 */
function serverlessValue(v: unknown): unknown {
  if (typeof v === 'string')
    return v.replace(/\$\{([^}]*)\}/g, (_, inner: string) =>
      inner === 'aws:accountId'
        ? '${AWS::AccountId}'
        : inner === 'aws:region'
          ? '${AWS::Region}'
          : inner === 'aws:partition'
            ? '${AWS::Partition}'
            : placeholder('Ref:', inner),
    );
  if (Array.isArray(v)) return v.map(serverlessValue);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, serverlessValue(x)]));
  return v;
}

/**
 * A Serverless Framework file (https://www.serverless.com/framework/docs/providers/aws/guide/iam):
 * the provider's role (`provider.iam.role.statements`, or the older `provider.iamRoleStatements`)
 * that every function runs as, and each function's own role where it lists `iamRoleStatements`
 * (the serverless-iam-roles-per-function plugin, which `policy --format serverless` writes for).
 */
function readServerless(
  lined: LinedValue,
  file: string,
): { roles: GrantedRole[]; policies: Policy[]; functions: Map<string, string> } {
  const v = lined.value as Record<string, unknown>;
  const provider = isObject(v.provider) ? v.provider : {};
  const iamRole = isObject(provider.iam) && isObject(provider.iam.role) ? provider.iam.role : {};
  const shared = iamRole.statements ?? provider.iamRoleStatements;
  const managed = iamRole.managedPolicies ?? provider.iamManagedPolicies;
  const roles: GrantedRole[] = [];
  const functions = new Map<string, string>();
  const statementsPolicy = (list: unknown, name: string, resource: string): Policy => {
    const doc = { Version: '2012-10-17', Statement: list };
    const p = linedPolicy(lined, doc, resolve(serverlessValue(doc)), name, file, resource);
    const line = lined.lineOf(list);
    return line === undefined ? p : { ...p, origin: { ...p.origin!, line } };
  };
  const note =
    'the Serverless Framework also grants its functions their CloudWatch Logs log groups: those statements are not in the file and not counted';
  let providerRole: GrantedRole | undefined;
  if (shared !== undefined || managed !== undefined) {
    const line = lined.lineOf(provider);
    providerRole = {
      arn: `${file}#provider`,
      name: 'provider',
      policies:
        shared === undefined ? [] : [statementsPolicy(shared, 'provider.iam.role.statements', 'provider')],
      notes: [note],
      file,
      origin: { file, resource: 'provider', ...(line === undefined ? {} : { line }) },
      attached: (Array.isArray(managed) ? managed : []).map((m) => {
        const r = resolve(serverlessValue(m));
        return {
          arn: typeof r === 'string' ? r : placeholder('Fn::', 'Value'),
          origin: { file, resource: 'provider' },
        };
      }),
    };
    roles.push(providerRole);
  }
  for (const [key, f] of Object.entries(isObject(v.functions) ? v.functions : {})) {
    if (!isObject(f)) continue;
    const resource = `functions.${key}`;
    let arn = providerRole?.arn;
    if (f.iamRoleStatements !== undefined) {
      const line = lined.lineOf(f);
      const role: GrantedRole = {
        arn: `${file}#${resource}`,
        name: key,
        policies: [statementsPolicy(f.iamRoleStatements, `${resource}.iamRoleStatements`, resource)],
        notes: [note],
        file,
        origin: { file, resource, ...(line === undefined ? {} : { line }) },
      };
      // The plugin adds the provider's statements when the function says so.
      if (f.iamRoleStatementsInherit === true && providerRole) role.policies.push(...providerRole.policies);
      roles.push(role);
      arn = role.arn;
    }
    if (!arn) continue;
    functions.set(key, arn);
    if (typeof f.name === 'string' && !f.name.includes('${')) functions.set(f.name, arn);
  }
  return { roles, policies: [], functions };
}
