/**
 * Policies in the formats people deploy: IAM JSON, CloudFormation and SAM YAML, Serverless
 * Framework `iamRoleStatements`, Terraform `aws_iam_policy_document`. Pure string builders; every
 * scalar is quoted so that no value from the data can change the structure of the output.
 */
import { neutralize } from '../shared/text.js';
import type { PolicyDocument, PolicyStatement, WorkloadPolicy } from './build.js';
import type { PolicyCondition, PolicyFormat } from './types.js';
import { warningLines } from './warnings.js';

export type { PolicyFormat };

export const POLICY_FORMATS: readonly PolicyFormat[] = [
  'iam',
  'cloudformation',
  'sam',
  'serverless',
  'terraform',
];

/** What each format is called where people read it (the report). */
export const FORMAT_LABEL: Record<PolicyFormat, string> = {
  iam: 'IAM JSON',
  cloudformation: 'CloudFormation',
  sam: 'SAM',
  serverless: 'Serverless Framework',
  terraform: 'Terraform',
};

/** File extension per format, for `--out`. */
export const FORMAT_EXTENSION: Record<PolicyFormat, string> = {
  iam: '.policy.json',
  cloudformation: '.cfn.yaml',
  sam: '.sam.yaml',
  serverless: '.serverless.yml',
  terraform: '.tf',
};

const ACCOUNT = '${AWS::AccountId}';
const REGION = '${AWS::Region}';

/**
 * A YAML scalar that is always a string: single-quoted (only `'` is special inside) when it is
 * printable ASCII; otherwise double-quoted with JSON escapes, which YAML reads the same way, so
 * that a line break or control character in the data cannot end the scalar.
 */
function yq(s: string): string {
  if (/^[\x20-\x7e]*$/.test(s)) return `'${s.replace(/'/g, "''")}'`;
  return JSON.stringify(s);
}

/** A CloudFormation resource string: `!Sub` when it carries placeholders. */
function cfnValue(s: string): string {
  if (!s.includes(ACCOUNT) && !s.includes(REGION)) return yq(s);
  // In !Sub, a literal `${` must be written `${!`; ours are the two pseudo parameters only.
  const escaped = s.replace(/\$\{(?!AWS::AccountId\}|AWS::Region\})/g, '${!');
  return `!Sub ${yq(escaped)}`;
}

function yamlList(items: string[], indent: string, value: (s: string) => string = yq): string {
  return items.map((i) => `${indent}- ${value(i)}`).join('\n');
}

function yamlStatements(
  statements: PolicyStatement[],
  indent: string,
  value: (s: string) => string,
  withSid = true,
): string {
  return statements
    .map((s) => {
      const lines = [
        withSid ? `${indent}- Sid: ${yq(s.Sid)}` : `${indent}- Effect: ${yq(s.Effect)}`,
        ...(withSid ? [`${indent}  Effect: ${yq(s.Effect)}`] : []),
        `${indent}  Action:`,
        yamlList(s.Action, `${indent}    `),
        `${indent}  Resource:`,
        yamlList(s.Resource, `${indent}    `, value),
        ...(s.Condition ? [`${indent}  Condition:`, ...yamlCondition(s.Condition, `${indent}    `)] : []),
      ];
      return lines.join('\n');
    })
    .join('\n');
}

/** A statement's `Condition` as YAML lines: operator, then each key with its list of values. */
function yamlCondition(c: PolicyCondition, indent: string): string[] {
  return Object.entries(c).flatMap(([op, keys]) => [
    `${indent}${yq(op)}:`,
    ...Object.entries(keys).flatMap(([k, values]) => [
      `${indent}  ${yq(k)}:`,
      yamlList(values, `${indent}    `),
    ]),
  ]);
}

/** A statement's `Condition` as Terraform `condition` blocks, one per operator and key. */
function terraformConditions(c: PolicyCondition): string[] {
  return Object.entries(c).flatMap(([op, keys]) =>
    Object.entries(keys).flatMap(([k, values]) => [
      `    condition {`,
      `      test     = ${hq(op, false)}`,
      `      variable = ${hq(k, false)}`,
      `      values   = [${values.map((v) => hq(v, false)).join(', ')}]`,
      `    }`,
    ]),
  );
}

/** A CloudFormation/SAM logical id: letters and digits only, starting with a letter. */
export function logicalId(name: string, suffix: string): string {
  const base = name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('');
  const id = /^[A-Za-z]/.test(base) ? base : `W${base}`;
  return `${id}${suffix}`.slice(0, 255);
}

/** A Terraform identifier. */
export function terraformName(name: string): string {
  const n = name.replace(/[^A-Za-z0-9_-]+/g, '_').replace(/^[^A-Za-z_]+/, '');
  return /[A-Za-z0-9]/.test(n) ? n : 'workload';
}

/** A Terraform quoted string: escapes quotes, backslashes and template sequences. */
function hq(s: string, placeholders: boolean): string {
  let out = s
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\n/g, '\\n')
    .replace(/\r/g, '\\r')
    .replace(/\t/g, '\\t')
    // Literal `${` and `%{` start templates in HCL; doubling the sigil writes them as text.
    .replace(/\$\{/g, () => '$${')
    .replace(/%\{/g, () => '%%{');
  if (placeholders) {
    out = out
      .replace(/\$\$\{AWS::AccountId\}/g, '${data.aws_caller_identity.current.account_id}')
      .replace(/\$\$\{AWS::Region\}/g, '${data.aws_region.current.name}');
  }
  return `"${out}"`;
}

function usesPlaceholders(p: WorkloadPolicy): boolean {
  return p.documents.some((d) =>
    d.Statement.some((s) => s.Resource.some((r) => r.includes(ACCOUNT) || r.includes(REGION))),
  );
}

/**
 * A comment line, safe: no newline from the data can end it, and control characters (which YAML
 * does not allow even in comments) are written as visible escapes.
 */
function comment(prefix: string, text: string): string {
  return `${prefix} ${neutralize(text.replace(/[\r\n\u2028\u2029]/g, ' '))}`;
}

/** A policy's header comment and its warnings, one comment line per kind. */
function header(prefix: string, text: string, p: WorkloadPolicy): string {
  return [
    comment(prefix, text),
    ...warningLines(p.warnings).map((l) => comment(prefix, `  warning ${l}`)),
  ].join('\n');
}

/** Renders one workload's policy in `format`. */
export function renderPolicy(p: WorkloadPolicy, format: PolicyFormat, label: string = p.name): string {
  switch (format) {
    case 'iam':
      return p.documents.map((d) => JSON.stringify(d, null, 2)).join('\n') + '\n';
    case 'cloudformation': {
      const entries = p.documents
        .map((d: PolicyDocument, i) =>
          [
            `- PolicyName: ${yq(`${label}-least-privilege${p.documents.length > 1 ? `-${i + 1}` : ''}`.slice(0, 128))}`,
            `  PolicyDocument:`,
            `    Version: '2012-10-17'`,
            `    Statement:`,
            yamlStatements(d.Statement, '      ', cfnValue),
          ].join('\n'),
        )
        .join('\n');
      return `${header('#', `${p.kind} ${p.principal}: AWS::IAM::Role Properties.Policies`, p)}\n${entries}\n`;
    }
    case 'sam': {
      const policies = p.documents
        .map((d) =>
          [
            `      - Version: '2012-10-17'`,
            `        Statement:`,
            yamlStatements(d.Statement, '          ', cfnValue),
          ].join('\n'),
        )
        .join('\n');
      return (
        [
          header('#', `${p.kind} ${p.principal}`, p),
          `${logicalId(label, 'Function')}:`,
          `  Type: AWS::Serverless::Function`,
          `  Properties:`,
          `    Policies:`,
          policies,
        ].join('\n') + '\n'
      );
    }
    case 'serverless': {
      const value = (s: string): string =>
        yq(s.replaceAll(ACCOUNT, '${aws:accountId}').replaceAll(REGION, '${aws:region}'));
      const statements = p.documents.flatMap((d) => d.Statement);
      return (
        [
          header('#', `${p.kind} ${p.principal} (per-function roles: serverless-iam-roles-per-function)`, p),
          `${yq(label)}:`,
          `  iamRoleStatements:`,
          yamlStatements(statements, '    ', value, false),
        ].join('\n') + '\n'
      );
    }
    case 'terraform': {
      const placeholders = usesPlaceholders(p);
      const blocks = p.documents.map((d, i) => {
        const name = terraformName(`${label}${p.documents.length > 1 ? `_${i + 1}` : ''}`);
        const stmts = d.Statement.map((s) =>
          [
            `  statement {`,
            `    sid       = ${hq(s.Sid, false)}`,
            `    effect    = "Allow"`,
            `    actions   = [${s.Action.map((a) => hq(a, false)).join(', ')}]`,
            `    resources = [`,
            ...s.Resource.map((r) => `      ${hq(r, placeholders)},`),
            `    ]`,
            ...(s.Condition ? terraformConditions(s.Condition) : []),
            `  }`,
          ].join('\n'),
        ).join('\n\n');
        const head =
          i === 0 ? header('#', `${p.kind} ${p.principal}`, p) : comment('#', `${p.kind} ${p.principal}`);
        return `${head}\ndata "aws_iam_policy_document" ${hq(name, false)} {\n${stmts}\n}\n`;
      });
      return blocks.join('\n');
    }
  }
}

/**
 * Indents every line of `text` by two spaces. Only `\n` ends a line: a regular expression's `^`
 * with the `m` flag also matches after U+2028, U+2029 and `\r`, which JSON and YAML values may
 * hold unescaped, and indenting there would change the value.
 */
function indent(text: string, trimEnd = false, keepComments = false): string {
  return text
    .split('\n')
    .map((l) => {
      const line = keepComments && l.startsWith('#') ? l : `  ${l}`;
      return trimEnd ? line.replace(/ +$/, '') : line;
    })
    .join('\n');
}

/** Terraform data sources that `${AWS::AccountId}` and `${AWS::Region}` are rewritten to. */
const TERRAFORM_DATA = 'data "aws_caller_identity" "current" {}\ndata "aws_region" "current" {}\n\n';

/**
 * Writes the policies of one file in `format`, one at a time, so that a caller can print each
 * policy as it is built: `begin()`, then `add()` per policy, then `end()`. Names that must be
 * unique within a file (CloudFormation logical ids, Serverless function keys, Terraform blocks)
 * are allocated as policies come: two workloads may share a name (same function in two accounts).
 */
export class PolicyWriter {
  private count = 0;
  private readonly used = new Set<string>();

  /**
   * @param terraformData Terraform only: write the `aws_caller_identity` and `aws_region` data
   *   sources that placeholders refer to.
   */
  constructor(
    private readonly format: PolicyFormat,
    private readonly terraformData = false,
  ) {}

  /** What the file starts with. */
  begin(): string {
    switch (this.format) {
      case 'iam':
        return '[';
      case 'cloudformation':
        return 'Policies:\n';
      case 'sam':
        return 'Resources:\n';
      case 'serverless':
        return 'functions:\n';
      case 'terraform':
        return this.terraformData ? TERRAFORM_DATA : '';
    }
  }

  /** The text of one more policy. */
  add(p: WorkloadPolicy): string {
    const first = this.count++ === 0;
    if (this.format === 'iam') {
      const doc = JSON.stringify(p.documents.length === 1 ? p.document : p.documents, null, 2);
      return `${first ? '\n' : ',\n'}${indent(doc)}`;
    }
    const body = renderPolicy(p, this.format, this.label(p.name));
    if (this.format === 'sam' || this.format === 'serverless') return indent(body, true);
    if (this.format === 'cloudformation') return indent(body, false, true);
    return first ? body : `\n${body}`;
  }

  /** What the file ends with. */
  end(): string {
    if (this.format === 'iam') return this.count > 0 ? '\n]\n' : ']\n';
    return '';
  }

  private label(name: string): string {
    const key = (n: string): string =>
      (this.format === 'sam'
        ? logicalId(n, '')
        : this.format === 'terraform'
          ? terraformName(n)
          : n
      ).toLowerCase();
    let label = name;
    for (let n = 2; this.used.has(key(label)); n++) label = `${name}-${n}`;
    this.used.add(key(label));
    return label;
  }
}

/** Renders all policies as one file in `format` (what {@link PolicyWriter} writes). */
export function renderAll(policies: WorkloadPolicy[], format: PolicyFormat): string {
  const w = new PolicyWriter(format, format === 'terraform' && policies.some(usesPlaceholders));
  return w.begin() + policies.map((p) => w.add(p)).join('') + w.end();
}
