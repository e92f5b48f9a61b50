/**
 * What a CloudFormation or SAM template grants (also a CDK synth output, `cdk.out/*.template.json`,
 * which is CloudFormation): its roles, each with its inline policies, the policies attached to it
 * elsewhere in the template, its managed policies by ARN and, for SAM functions, the policies SAM
 * generates. Each statement keeps its origin (file, logical id, line).
 *
 * Resource types read (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/):
 * `AWS::IAM::Role` (`Policies`, `ManagedPolicyArns`), `AWS::IAM::Policy`, `AWS::IAM::RolePolicy`,
 * `AWS::IAM::ManagedPolicy` (`Roles`), `AWS::Lambda::Function` (which role it runs as) and
 * `AWS::Serverless::Function` (`Role`, or `Policies`: documents, managed policy names or ARNs and
 * SAM policy templates, https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-templates.html).
 */
import { UserInputError } from '../shared/errors.js';
import { isObject } from '../shared/values.js';
import type { Origin, Policy } from '../iam/evaluate.js';
import type { GrantedRole } from './granted.js';
import { placeholder, resolve, type Mappings } from './intrinsics.js';
import type { RoleMap } from './roles.js';
import { AWS_MANAGED_PREFIX } from './managed.js';
import { SAM_POLICY_TEMPLATES } from './sam-policy-templates.js';
import { linedPolicy, type LinedValue } from './yaml-lines.js';

/** What one infrastructure-as-code file grants. */
export interface IacGrants {
  /** Roles (and SAM functions' generated roles), with their policies and origins. */
  roles: GrantedRole[];
  /** Policies attached to no role in the file (a `Policies` fragment, a lone managed policy). */
  policies: Policy[];
  /** Function name → role ARN, where the file fixes the function's name. */
  functions: RoleMap;
}

/** True when `v` is a CloudFormation template: `Resources` whose entries have a `Type`. */
export function isTemplate(
  v: unknown,
): v is Record<string, unknown> & { Resources: Record<string, unknown> } {
  if (!isObject(v) || !isObject(v.Resources)) return false;
  const entries = Object.values(v.Resources);
  return entries.length > 0 && entries.every((r) => isObject(r) && typeof r.Type === 'string');
}

/**
 * A role's identity in a template: its ARN as compare shows it is the file and logical id (the
 * account is not in the template); its name is `RoleName` when the template fixes it (so that
 * `aws lambda list-functions` output finds it by name), else the logical id.
 */
function roleArn(file: string, id: string): string {
  return `${file}#${id}`;
}

/** Reads the roles and policies of a template (`lined.value` must satisfy {@link isTemplate}). */
export function readTemplate(lined: LinedValue, file: string): IacGrants {
  const template = lined.value as Record<string, unknown> & { Resources: Record<string, unknown> };
  const resources = template.Resources as Record<string, Record<string, unknown>>;
  const mappings: Mappings = isObject(template.Mappings) ? template.Mappings : {};
  const globals =
    isObject(template.Globals) && isObject(template.Globals.Function) ? template.Globals.Function : {};
  const originOf = (id: string, at?: unknown): Origin => {
    const line = lineOf(at) ?? lineOf(resources[id]);
    return { file, resource: id, ...(line === undefined ? {} : { line }) };
  };
  const lineOf = (v: unknown): number | undefined => lined.lineOf(v);
  const fail = (id: string, at: unknown, what: string): never => {
    const line = lineOf(at) ?? lineOf(resources[id]);
    throw new UserInputError(`--granted ${file}${line === undefined ? '' : `:${line}`}: ${id}: ${what}`);
  };
  const props = (id: string): Record<string, unknown> => {
    const p = resources[id]?.Properties;
    return isObject(p) ? p : {};
  };

  /** A policy document of the template (original, unresolved), parsed with its lines. */
  const policy = (doc: unknown, name: string, id: string): Policy => {
    if (!isObject(doc)) return fail(id, doc, `${name}: the policy document is not a map with a Statement`);
    return linedPolicy(lined, doc, resolve(doc, mappings), name, file, id);
  };

  const roles = new Map<string, GrantedRole>();
  const byName = new Map<string, GrantedRole>();
  const functions: RoleMap = new Map();
  const loose: Policy[] = [];
  const newRole = (id: string, name: string): GrantedRole => {
    const role: GrantedRole = {
      arn: roleArn(file, id),
      name,
      policies: [],
      notes: [],
      file,
      origin: originOf(id),
      attached: [],
    };
    roles.set(id, role);
    byName.set(name, role);
    return role;
  };
  /** A managed policy ARN as written (a name alone is an AWS managed policy, as SAM reads it). */
  const attach = (role: GrantedRole, v: unknown, id: string, line?: number): void => {
    const r = resolve(v, mappings);
    const arn = typeof r === 'string' ? r : placeholder('Fn::', 'Value');
    const ref = isObject(v) && typeof v.Ref === 'string' ? v.Ref : undefined;
    const own = ref !== undefined ? resources[ref] : undefined;
    if (own?.Type === 'AWS::IAM::ManagedPolicy') {
      role.policies.push(policy(props(ref!).PolicyDocument, ref!, ref!));
      return;
    }
    const origin = originOf(id, v);
    // A name alone stays a name: the catalogue knows its path (`service-role/` or none).
    role.attached!.push({
      arn: arn.replace('arn:${AWS::Partition}:', 'arn:aws:'),
      origin: line === undefined ? origin : { ...origin, line },
    });
  };
  /** The roles a `Roles` list or `RoleName` names: `!Ref` to a template role, or a role name. */
  const targets = (v: unknown): GrantedRole[] =>
    (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => {
      if (isObject(x) && typeof x.Ref === 'string') {
        const r = roles.get(x.Ref);
        return r ? [r] : [];
      }
      const name = resolve(x, mappings);
      return typeof name === 'string' ? [byName.get(name) ?? newRole(name, name)] : [];
    });
  /** The template role a function's `Role` points at (`!GetAtt R.Arn`, `!Ref R`), else the ARN. */
  const roleOf = (v: unknown): string | undefined => {
    if (isObject(v)) {
      const att = v['Fn::GetAtt'];
      const id = Array.isArray(att) ? att[0] : typeof v.Ref === 'string' ? v.Ref : undefined;
      if (typeof id === 'string' && roles.has(id)) return roles.get(id)!.arn;
    }
    const r = resolve(v, mappings);
    return typeof r === 'string' ? r : undefined;
  };

  // Roles first: the policies and functions below refer to them.
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::IAM::Role') continue;
    const p = props(id);
    const name = resolve(p.RoleName, mappings);
    const role = newRole(id, typeof name === 'string' ? name : id);
    for (const [i, ip] of (Array.isArray(p.Policies) ? p.Policies : []).entries()) {
      if (!isObject(ip)) fail(id, p.Policies, `Policies[${i}] is not a map`);
      const pn = resolve(ip.PolicyName, mappings);
      role.policies.push(policy(ip.PolicyDocument, `inline:${typeof pn === 'string' ? pn : i}`, id));
    }
    const arns = Array.isArray(p.ManagedPolicyArns) ? p.ManagedPolicyArns : [];
    for (const [i, arn] of arns.entries()) attach(role, arn, id, lined.itemLine(arns, i));
    if (p.PermissionsBoundary !== undefined)
      role.notes.push(
        `permissions boundary of ${id} is not evaluated: the role may be granted less than shown`,
      );
  }
  for (const [id, r] of Object.entries(resources)) {
    const p = props(id);
    switch (r.Type) {
      case 'AWS::IAM::Policy':
      case 'AWS::IAM::ManagedPolicy': {
        const to = targets(p.Roles);
        const parsed = policy(p.PolicyDocument, id, id);
        // A managed policy no role of the template lists may be attached by `ManagedPolicyArns`.
        const referenced = Object.values(resources).some((x) =>
          JSON.stringify(isObject(x.Properties) ? (x.Properties.ManagedPolicyArns ?? null) : null).includes(
            `{"Ref":${JSON.stringify(id)}}`,
          ),
        );
        for (const role of to) role.policies.push(parsed);
        if (to.length === 0 && !referenced) loose.push(parsed);
        break;
      }
      case 'AWS::IAM::RolePolicy': {
        const pn = resolve(p.PolicyName, mappings);
        const parsed = policy(p.PolicyDocument, `inline:${typeof pn === 'string' ? pn : id}`, id);
        for (const role of targets(p.RoleName)) role.policies.push(parsed);
        break;
      }
      case 'AWS::Lambda::Function': {
        const name = resolve(p.FunctionName, mappings);
        const role = roleOf(p.Role);
        if (typeof name === 'string' && !name.includes('${') && role) functions.set(name, role);
        break;
      }
      case 'AWS::Serverless::Function':
        samFunction(id, p);
        break;
    }
  }

  function samFunction(id: string, p: Record<string, unknown>): void {
    const name = resolve(p.FunctionName, mappings);
    const fixedName = typeof name === 'string' && !name.includes('${') ? name : undefined;
    if (p.Role !== undefined) {
      const role = roleOf(p.Role);
      if (fixedName && role) functions.set(fixedName, role);
      return;
    }
    // SAM generates the role `<LogicalId>Role`: the basic execution policy, the policies listed,
    // and the managed policies its tracing, events and VPC settings imply.
    const role = newRole(`${id}Role`, `${id}Role`);
    role.origin = originOf(id);
    if (fixedName) functions.set(fixedName, role.arn);
    const auto = (arn: string): void => {
      role.attached!.push({ arn: `${AWS_MANAGED_PREFIX}${arn}`, origin: originOf(id) });
    };
    auto('service-role/AWSLambdaBasicExecutionRole');
    if ((p.Tracing ?? globals.Tracing) === 'Active') auto('AWSXrayWriteOnlyAccess');
    if (p.VpcConfig !== undefined || globals.VpcConfig !== undefined)
      auto('service-role/AWSLambdaVPCAccessExecutionRole');
    const eventPolicy: Record<string, string> = {
      SQS: 'service-role/AWSLambdaSQSQueueExecutionRole',
      Kinesis: 'service-role/AWSLambdaKinesisExecutionRole',
      DynamoDB: 'service-role/AWSLambdaDynamoDBExecutionRole',
    };
    for (const e of isObject(p.Events) ? Object.values(p.Events) : [])
      if (isObject(e) && typeof e.Type === 'string' && eventPolicy[e.Type]) auto(eventPolicy[e.Type]!);
    const list = p.Policies === undefined ? [] : Array.isArray(p.Policies) ? p.Policies : [p.Policies];
    for (const [i, entry] of list.entries()) {
      const at = `Policies[${i}]`;
      if (typeof entry === 'string' || (isObject(entry) && ('Ref' in entry || 'Fn::Sub' in entry))) {
        attach(role, entry, id, lined.itemLine(list, i));
        continue;
      }
      if (!isObject(entry))
        fail(id, list, `${at} is neither a policy, a managed policy nor a policy template`);
      if ('Statement' in entry) {
        role.policies.push(policy(entry, `${id} ${at}`, id));
        continue;
      }
      const [templateName, params] = Object.entries(entry)[0] ?? [];
      const def = templateName ? SAM_POLICY_TEMPLATES[templateName] : undefined;
      if (!def || Object.keys(entry).length !== 1)
        fail(
          id,
          entry,
          `${at}: ${JSON.stringify(templateName)} is not a SAM policy template (see https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/serverless-policy-template-list.html)`,
        );
      const given = isObject(params) ? params : {};
      for (const param of def!.parameters)
        if (!(param in given))
          fail(id, entry, `${at}: the SAM policy template ${templateName} needs ${param}`);
      // The template's `Ref: Parameter` stands for the value the function gives it.
      const bound = bindParameters(def!.definition, given);
      const parsed = policy({ Version: '2012-10-17', ...(bound as object) }, `${id} ${templateName}`, id);
      // The statements SAM generates are written where the template names the policy template.
      const line = lineOf(entry);
      role.policies.push({
        ...parsed,
        origin: originOf(id, entry),
        statements: parsed.statements.map((s) => (line === undefined ? s : { ...s, line })),
      });
    }
  }

  return { roles: [...roles.values()], policies: loose, functions };
}

/** A SAM policy template's definition with each `Ref: Parameter` replaced by the value given. */
function bindParameters(v: unknown, given: Record<string, unknown>): unknown {
  if (Array.isArray(v)) return v.map((x) => bindParameters(x, given));
  if (!isObject(v)) return v;
  const keys = Object.keys(v);
  if (keys.length === 1 && keys[0] === 'Ref' && typeof v.Ref === 'string' && v.Ref in given)
    return given[v.Ref];
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bindParameters(x, given)]));
}
