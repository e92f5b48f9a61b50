/**
 * What Terraform grants: `terraform show -json` of a plan or a state
 * (https://developer.hashicorp.com/terraform/internals/json-format), and `.tf` source read
 * through HashiCorp's HCL parser (`@cdktf/hcl2json`, MPL-2.0) for the literal and `jsonencode`
 * cases. Resource types: `aws_iam_role` (`inline_policy`, `managed_policy_arns`),
 * `aws_iam_role_policy`, `aws_iam_policy`, `aws_iam_role_policy_attachment`, the
 * `aws_iam_policy_document` data source, and `aws_lambda_function` (which role it runs as).
 *
 * Values Terraform computes are kept as named placeholders that never match (`${tf:aws_s3_bucket.b.arn}`),
 * except the account, region and partition data sources, which are the pseudo parameters the
 * comparison binds to the workload's own. A policy that is not known (computed at apply, read
 * from a file, built by a function other than `jsonencode`) is named in the role's notes as
 * unresolved, never guessed.
 */
import { UserInputError } from '../shared/errors.js';
import { isObject } from '../shared/values.js';
import { parsePolicy, type Origin, type Policy } from '../iam/evaluate.js';
import type { GrantedFile, GrantedRole } from './granted.js';
import { placeholder } from './intrinsics.js';
import type { RoleMap } from './roles.js';

/** One resource or data source, from a plan, a state or source. */
interface TfResource {
  address: string;
  mode: 'managed' | 'data';
  type: string;
  values: Record<string, unknown>;
  /** Attribute → the addresses it refers to (`aws_iam_role.r`), where the format says. */
  references: Record<string, string[]>;
  line?: number;
}

/** True when a JSON value is `terraform show -json` output (a plan or a state). */
export function isTerraformJson(v: unknown): v is Record<string, unknown> {
  return (
    isObject(v) &&
    typeof v.format_version === 'string' &&
    (isObject(v.planned_values) || isObject(v.values) || isObject(v.prior_state))
  );
}

/** The Terraform expressions that are the pseudo parameters. */
const PSEUDO: [RegExp, string][] = [
  [/^data\.aws_caller_identity\.[^.]+\.account_id$/, '${AWS::AccountId}'],
  [/^data\.aws_region\.[^.]+\.(name|region)$/, '${AWS::Region}'],
  [/^data\.aws_partition\.[^.]+\.partition$/, '${AWS::Partition}'],
];

/**
 * A value with Terraform's interpolations (`${expr}`, as hcl2json writes an expression) as
 * placeholders, and `$${` (a literal `${`, how an IAM policy variable is written) undone.
 */
function tfValue(v: unknown): unknown {
  if (typeof v === 'string') {
    let out = '';
    for (let i = 0; i < v.length;) {
      if (v.startsWith('$${', i)) {
        out += '${';
        i += 3;
      } else if (v.startsWith('${', i)) {
        const end = closing(v, i + 2);
        const expr = v.slice(i + 2, end).trim();
        out += PSEUDO.find(([re]) => re.test(expr))?.[1] ?? placeholder('tf:', expr);
        i = end + 1;
      } else out += v[i++];
    }
    return out;
  }
  if (Array.isArray(v)) return v.map(tfValue);
  if (isObject(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, tfValue(x)]));
  return v;
}

/** The index of the `}` that closes an interpolation starting at `from` (nesting counted). */
function closing(s: string, from: number): number {
  let depth = 1;
  let quote = false;
  for (let i = from; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (c === '"') quote = !quote;
    else if (!quote && c === '{') depth++;
    else if (!quote && c === '}' && --depth === 0) return i;
  }
  return s.length;
}

/** A reference expression (`aws_iam_role.r.arn`) → the address it names (`aws_iam_role.r`). */
function addressOf(expr: string): string | undefined {
  const m = /^(data\.)?([a-z0-9_]+)\.([A-Za-z0-9_-]+)/.exec(expr.trim());
  return m ? `${m[1] ?? ''}${m[2]}.${m[3]}` : undefined;
}

/** `${aws_iam_role.r.name}` alone → the address; else undefined. */
function soleReference(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  const m = /^\$\{([^${}]+)\}$/.exec(v);
  return m ? addressOf(m[1]!) : undefined;
}

/* ------------------------------------------------------------------ terraform show -json */

function moduleResources(m: unknown, out: TfResource[], refs: Map<string, Record<string, string[]>>): void {
  if (!isObject(m)) return;
  for (const r of Array.isArray(m.resources) ? m.resources : []) {
    if (!isObject(r) || typeof r.address !== 'string' || typeof r.type !== 'string') continue;
    out.push({
      address: r.address,
      mode: r.mode === 'data' ? 'data' : 'managed',
      type: r.type,
      values: isObject(r.values) ? r.values : {},
      references: refs.get(r.address) ?? {},
    });
  }
  for (const c of Array.isArray(m.child_modules) ? m.child_modules : []) moduleResources(c, out, refs);
}

/** Reads a plan's or a state's IAM resources. */
export function readTerraformJson(doc: Record<string, unknown>, file: string): TfGrants {
  // What each attribute refers to, from the plan's configuration (root module).
  const refs = new Map<string, Record<string, string[]>>();
  const config = isObject(doc.configuration) ? doc.configuration.root_module : undefined;
  for (const r of isObject(config) && Array.isArray(config.resources) ? config.resources : []) {
    if (!isObject(r) || typeof r.address !== 'string' || !isObject(r.expressions)) continue;
    const e: Record<string, string[]> = {};
    for (const [k, x] of Object.entries(r.expressions))
      if (isObject(x) && Array.isArray(x.references))
        e[k] = x.references.filter((s): s is string => typeof s === 'string');
    refs.set(r.address, e);
  }
  const list: TfResource[] = [];
  const state = isObject(doc.values) ? doc.values : isObject(doc.planned_values) ? doc.planned_values : {};
  moduleResources(state.root_module, list, refs);
  // A plan's data sources are read into its prior state.
  const prior = isObject(doc.prior_state) && isObject(doc.prior_state.values) ? doc.prior_state.values : {};
  const prev: TfResource[] = [];
  moduleResources(prior.root_module, prev, refs);
  const seen = new Set(list.map((r) => r.address));
  for (const r of prev) if (!seen.has(r.address)) list.push(r);
  return grantsOf(list, file, (v) => {
    // A state or plan holds policies as JSON text.
    if (typeof v !== 'string') return undefined;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return undefined;
    }
  });
}

/* ------------------------------------------------------------------ .tf source */

/** Reads `.tf` source through the HCL parser. Throws a {@link UserInputError} with its position. */
export async function readTerraformSource(text: string, file: string): Promise<GrantedFile> {
  // Loaded only for .tf files: loading the parser (WebAssembly) takes about half a second, which
  // every other command would pay (docs/performance.md).
  const { parse: parseHcl } = await import('@cdktf/hcl2json');
  let body: Record<string, unknown>;
  try {
    body = await parseHcl(file, text);
  } catch (err) {
    throw new UserInputError(
      `--granted ${file}: not valid Terraform (${String((err as Error).message ?? err)
        .replace(/^parse config: /, '')
        .replace(/^\[(.*)\]$/s, '$1')}). Check the file with \`terraform validate\`.`,
    );
  }
  const lines = text.split('\n');
  const lineOf = (mode: string, type: string, name: string): number | undefined => {
    const re = new RegExp(`^\\s*${mode}\\s+"${type}"\\s+"${name.replace(/[^\w-]/g, '')}"`);
    const i = lines.findIndex((l) => re.test(l));
    return i < 0 ? undefined : i + 1;
  };
  const list: TfResource[] = [];
  for (const mode of ['resource', 'data'] as const) {
    const byType = body[mode];
    if (!isObject(byType)) continue;
    for (const [type, byName] of Object.entries(byType)) {
      if (!isObject(byName)) continue;
      for (const [name, blocks] of Object.entries(byName)) {
        const values = Array.isArray(blocks) && isObject(blocks[0]) ? blocks[0] : {};
        const address = `${mode === 'data' ? 'data.' : ''}${type}.${name}`;
        const line = lineOf(mode, type, name);
        list.push({
          address,
          mode: mode === 'data' ? 'data' : 'managed',
          type,
          values: await sourceValues(type, values, file, parseHcl),
          references: {},
          ...(line === undefined ? {} : { line }),
        });
      }
    }
  }
  return { kind: 'iac', file, format: 'terraform', ...grantsOf(list, file, (v) => v) };
}

/**
 * Source attribute values: a `policy` written as `jsonencode({…})` is parsed as the HCL object it
 * is (through the same parser); a heredoc or string is JSON text; anything else stays an
 * expression (named as unresolved).
 */
async function sourceValues(
  type: string,
  values: Record<string, unknown>,
  file: string,
  parseHcl: (file: string, text: string) => Promise<Record<string, unknown>>,
): Promise<Record<string, unknown>> {
  const policy = async (v: unknown): Promise<unknown> => {
    if (typeof v !== 'string') return v;
    const m = /^\$\{jsonencode\(([\s\S]*)\)\}$/.exec(v.trim());
    if (m) {
      try {
        const parsed = await parseHcl(file, `locals {\n  policy = ${m[1]}\n}\n`);
        const locals = parsed.locals as { policy?: unknown }[] | undefined;
        return locals?.[0]?.policy;
      } catch {
        return v;
      }
    }
    if (v.trimStart().startsWith('{')) {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }
    return v;
  };
  const out = { ...values };
  if ('policy' in out) out.policy = await policy(out.policy);
  if (type === 'aws_iam_role' && Array.isArray(out.inline_policy))
    out.inline_policy = await Promise.all(
      out.inline_policy.map(async (p) => (isObject(p) ? { ...p, policy: await policy(p.policy) } : p)),
    );
  return out;
}

/* ------------------------------------------------------------------ both */

/** What a Terraform file grants. */
type TfGrants = { roles: GrantedRole[]; policies: Policy[]; functions: RoleMap };

/**
 * The roles, policies and functions of a list of resources. `document` turns a `policy` value
 * into a policy document (JSON text in a plan or state, an object already in source), or
 * undefined when it is not known.
 */
function grantsOf(list: TfResource[], file: string, document: (v: unknown) => unknown): TfGrants {
  const byAddress = new Map(list.map((r) => [r.address, r]));
  const roles = new Map<string, GrantedRole>();
  const origin = (r: TfResource): Origin => ({
    file,
    resource: r.address,
    ...(r.line === undefined ? {} : { line: r.line }),
  });
  const docs = new Map<string, unknown>();
  // A document data source is where its statements are written: findings point there.
  const writtenIn = new Map<unknown, TfResource>();
  for (const r of list)
    if (r.mode === 'data' && r.type === 'aws_iam_policy_document') {
      const d = policyDocument(r, document);
      docs.set(r.address, d);
      if (isObject(d)) writtenIn.set(d, r);
    }
  /** A `policy` attribute as a document: literal, jsonencode, JSON text, or a document data source. */
  const policyOf = (r: TfResource, v: unknown, attribute: string): unknown => {
    const ref =
      soleReference(v) ?? r.references[attribute]?.map(addressOf).find((a) => a?.startsWith('data.'));
    if (ref && docs.has(ref)) return docs.get(ref);
    const d = document(v);
    return isObject(d) ? d : undefined;
  };
  const parsed = (r: TfResource, d: unknown, name: string): Policy => {
    const p = parsePolicy(tfValue(d), name, `--granted ${file} ${r.address}`);
    return { ...p, origin: origin(writtenIn.get(d) ?? r) };
  };
  const unresolved = (role: GrantedRole, r: TfResource, what: string): void => {
    role.notes.push(
      `${what} of ${r.address} (${file}${r.line === undefined ? '' : `:${r.line}`}) is not known from this file: its grants are not counted; pass \`terraform show -json\` of the applied state`,
    );
  };
  const policies = new Map<string, Policy | undefined>();
  for (const r of list)
    if (r.mode === 'managed' && r.type === 'aws_iam_policy') {
      const d = policyOf(r, r.values.policy, 'policy');
      policies.set(r.address, d === undefined ? undefined : parsed(r, d, r.address));
    }
  const attached = new Set<string>();
  const loose: Policy[] = [];
  const functions: RoleMap = new Map();
  for (const r of list) {
    if (r.mode !== 'managed' || r.type !== 'aws_iam_role') continue;
    const name =
      typeof r.values.name === 'string' && !r.values.name.includes('${') ? r.values.name : r.address;
    const arn =
      typeof r.values.arn === 'string' && r.values.arn.startsWith('arn:')
        ? r.values.arn
        : `${file}#${r.address}`;
    const role: GrantedRole = { arn, name, policies: [], notes: [], file, origin: origin(r), attached: [] };
    for (const [i, ip] of (Array.isArray(r.values.inline_policy) ? r.values.inline_policy : []).entries()) {
      if (!isObject(ip) || ip.policy === undefined) continue;
      const d = policyOf(r, ip.policy, 'inline_policy');
      const label = `inline:${typeof ip.name === 'string' ? ip.name : i}`;
      if (d === undefined) unresolved(role, r, `inline policy ${label}`);
      else role.policies.push(parsed(r, d, label));
    }
    for (const a of Array.isArray(r.values.managed_policy_arns) ? r.values.managed_policy_arns : [])
      attach(role, a, r);
    roles.set(r.address, role);
  }
  /** The role an attribute names: a reference to a role of the file, or the role's name. */
  const roleOf = (r: TfResource, attribute: string): GrantedRole | undefined => {
    const v = r.values[attribute];
    const ref = soleReference(v) ?? r.references[attribute]?.map(addressOf).find((a) => a && roles.has(a));
    if (ref && roles.has(ref)) return roles.get(ref);
    if (typeof v === 'string') return [...roles.values()].find((x) => x.name === v || x.arn === v);
    return undefined;
  };
  function attach(role: GrantedRole, v: unknown, r: TfResource): void {
    const ref = soleReference(v) ?? undefined;
    if (ref && policies.has(ref)) {
      attached.add(ref);
      const p = policies.get(ref);
      if (p) role.policies.push(p);
      else unresolved(role, byAddress.get(ref) ?? r, 'the policy');
      return;
    }
    const arn = tfValue(v);
    if (typeof arn === 'string') role.attached!.push({ arn, origin: origin(r) });
  }
  for (const r of list) {
    if (r.mode !== 'managed') continue;
    if (r.type === 'aws_iam_role_policy') {
      const role = roleOf(r, 'role');
      if (!role) continue;
      const d = policyOf(r, r.values.policy, 'policy');
      const label = `inline:${typeof r.values.name === 'string' ? r.values.name : r.address}`;
      if (d === undefined) unresolved(role, r, 'the policy');
      else role.policies.push(parsed(r, d, label));
    } else if (r.type === 'aws_iam_role_policy_attachment') {
      const role = roleOf(r, 'role');
      if (!role) continue;
      const ref = r.references.policy_arn?.map(addressOf).find((a) => a && policies.has(a));
      attach(role, ref ? `\${${ref}.arn}` : r.values.policy_arn, r);
    } else if (r.type === 'aws_lambda_function') {
      const name = r.values.function_name;
      const role = roleOf(r, 'role');
      const arn = role?.arn ?? (typeof r.values.role === 'string' ? r.values.role : undefined);
      if (typeof name === 'string' && !name.includes('${') && arn) functions.set(name, arn);
    }
  }
  // A policy no role of the file attaches: compared as a plain policy document.
  for (const [address, p] of policies) if (p && !attached.has(address)) loose.push(p);
  // Document data sources no resource of the file uses: the tool's own Terraform output.
  const used = JSON.stringify(list.filter((r) => r.mode === 'managed').map((r) => [r.values, r.references]));
  for (const [address, d] of docs) {
    const r = byAddress.get(address)!;
    if (!used.includes(address) && isObject(d)) loose.push(parsed(r, d, address));
  }
  return { roles: [...roles.values()], policies: loose, functions };
}

/**
 * An `aws_iam_policy_document` as a policy document: its `json` where the plan or state has it,
 * else its `statement` blocks (source).
 */
function policyDocument(r: TfResource, document: (v: unknown) => unknown): unknown {
  const json = document(r.values.json);
  if (isObject(json)) return json;
  const statements = Array.isArray(r.values.statement) ? r.values.statement : [];
  if (statements.length === 0) return undefined;
  const list = (v: unknown): string[] | undefined =>
    Array.isArray(v) ? v.map(String) : typeof v === 'string' ? [v] : undefined;
  return {
    Version: '2012-10-17',
    Statement: statements.filter(isObject).map((s) => {
      const out: Record<string, unknown> = { Effect: typeof s.effect === 'string' ? s.effect : 'Allow' };
      if (typeof s.sid === 'string' && s.sid !== '') out.Sid = s.sid;
      if (s.actions !== undefined) out.Action = list(s.actions);
      if (s.not_actions !== undefined) out.NotAction = list(s.not_actions);
      if (s.resources !== undefined) out.Resource = list(s.resources);
      if (s.not_resources !== undefined) out.NotResource = list(s.not_resources);
      const conditions = Array.isArray(s.condition) ? s.condition.filter(isObject) : [];
      if (conditions.length > 0) {
        const c: Record<string, Record<string, string[]>> = {};
        for (const x of conditions) (c[String(x.test)] ??= {})[String(x.variable)] = list(x.values) ?? [];
        out.Condition = c;
      }
      return out;
    }),
  };
}
