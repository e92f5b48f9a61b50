/**
 * Reading a policy back from what an output format wrote, so that the replay (replay.ts) checks
 * what is deployed, not only the IAM JSON it started from: CloudFormation, SAM and Serverless
 * YAML through an independent YAML parser (`yaml`), Terraform through a reader of exactly what
 * formats.ts writes. Placeholders are turned back into `${AWS::AccountId}` and `${AWS::Region}`.
 */
import { parse as parseYaml } from 'yaml';
import { isObject } from '../shared/values.js';
import type { PolicyFormat } from './formats.js';
import type { PolicyCondition, PolicyDocument, PolicyStatement } from './types.js';

const ACCOUNT = '${AWS::AccountId}';
const REGION = '${AWS::Region}';

/** Thrown when a format's text is not what formats.ts writes: a bug of this tool. */
function broken(format: PolicyFormat, what: string): never {
  throw new Error(`the ${format} output cannot be read back (${what})`);
}

/** The policy documents in `text`, one file of `format` as {@link renderAll} writes it. */
export function readBack(text: string, format: PolicyFormat): PolicyDocument[] {
  switch (format) {
    case 'iam': {
      const v = JSON.parse(text) as unknown;
      return (Array.isArray(v) ? v.flat() : [v]).map((d) => documentOf(d, format, (s) => s));
    }
    case 'cloudformation': {
      const v = yaml(text);
      const list = isObject(v) && Array.isArray(v.Policies) ? v.Policies : broken(format, 'no Policies list');
      return list.map((e: unknown) =>
        documentOf(isObject(e) ? e.PolicyDocument : undefined, format, (s) => s),
      );
    }
    case 'sam': {
      const v = yaml(text);
      const resources = isObject(v) && isObject(v.Resources) ? v.Resources : broken(format, 'no Resources');
      return Object.values(resources).flatMap((r) => {
        const policies = isObject(r) && isObject(r.Properties) ? r.Properties.Policies : undefined;
        if (!Array.isArray(policies)) return broken(format, 'a function without Properties.Policies');
        return policies.map((d: unknown) => documentOf(d, format, (s) => s));
      });
    }
    case 'serverless': {
      const v = yaml(text);
      const functions = isObject(v) && isObject(v.functions) ? v.functions : broken(format, 'no functions');
      const fromServerless = (s: string): string =>
        s.replaceAll('${aws:accountId}', ACCOUNT).replaceAll('${aws:region}', REGION);
      return Object.values(functions).map((f) => {
        const list = isObject(f) ? f.iamRoleStatements : undefined;
        return documentOf({ Version: '2012-10-17', Statement: list }, format, fromServerless);
      });
    }
    case 'terraform':
      return readTerraform(text);
  }
}

/** YAML with CloudFormation's `!Sub` read as its string, its `${!` escape undone. */
function yaml(text: string): unknown {
  return parseYaml(text, {
    customTags: [{ tag: '!Sub', resolve: (s: string) => s.replace(/\$\{!/g, '${') }],
  });
}

function strings(v: unknown, format: PolicyFormat, what: string): string[] {
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || !list.every((x) => typeof x === 'string')) return broken(format, what);
  return list as string[];
}

function documentOf(d: unknown, format: PolicyFormat, value: (s: string) => string): PolicyDocument {
  if (!isObject(d) || !Array.isArray(d.Statement)) return broken(format, 'a policy without Statement');
  return {
    Version: '2012-10-17',
    Statement: d.Statement.map((s: unknown, i): PolicyStatement => {
      if (!isObject(s) || s.Effect !== 'Allow') return broken(format, `statement ${i + 1}`);
      const condition = s.Condition;
      return {
        Sid: typeof s.Sid === 'string' ? s.Sid : `S${i + 1}`,
        Effect: 'Allow',
        Action: strings(s.Action, format, `statement ${i + 1} Action`),
        Resource: strings(s.Resource, format, `statement ${i + 1} Resource`).map(value),
        ...(condition === undefined ? {} : { Condition: conditionOf(condition, format) }),
      };
    }),
  };
}

function conditionOf(c: unknown, format: PolicyFormat): PolicyCondition {
  if (!isObject(c)) return broken(format, 'a Condition that is not a map');
  const out: PolicyCondition = {};
  for (const [op, keys] of Object.entries(c)) {
    if (!isObject(keys)) return broken(format, `Condition ${op}`);
    out[op] = Object.fromEntries(
      Object.entries(keys).map(([k, v]) => [k, strings(v, format, `Condition ${op} ${k}`)]),
    );
  }
  return out;
}

/* ------------------------------------------------------------------ Terraform */

const TF_ACCOUNT = '${data.aws_caller_identity.current.account_id}';
const TF_REGION = '${data.aws_region.current.name}';

/** Reads the quoted HCL strings of `s` (`"a", "b"`), undoing formats.ts's escapes. */
function hclStrings(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    if (s[i] === ' ' || s[i] === ',') {
      i++;
      continue;
    }
    if (s[i] !== '"') broken('terraform', `unexpected ${JSON.stringify(s.slice(i, i + 10))}`);
    i++;
    let v = '';
    for (;;) {
      const c = s[i];
      if (c === undefined) broken('terraform', 'an unterminated string');
      if (c === '"') {
        i++;
        break;
      }
      if (c === '\\') {
        const e = s[i + 1];
        v += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : (e ?? '');
        i += 2;
      } else if (s.startsWith('$${', i) || s.startsWith('%%{', i)) {
        v += `${c}{`;
        i += 3;
      } else if (s.startsWith(TF_ACCOUNT, i)) {
        v += ACCOUNT;
        i += TF_ACCOUNT.length;
      } else if (s.startsWith(TF_REGION, i)) {
        v += REGION;
        i += TF_REGION.length;
      } else if (s.startsWith('${', i) || s.startsWith('%{', i)) {
        broken('terraform', `an unexpected template sequence in ${JSON.stringify(s)}`);
      } else {
        v += c;
        i++;
      }
    }
    out.push(v);
  }
  return out;
}

/** The `aws_iam_policy_document` blocks formats.ts writes, as documents. */
function readTerraform(text: string): PolicyDocument[] {
  const docs: PolicyDocument[] = [];
  let doc: PolicyDocument | undefined;
  let st: PolicyStatement | undefined;
  let cond: { test?: string; variable?: string; values?: string[] } | undefined;
  let inResources = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    let m: RegExpExecArray | null;
    if (t.startsWith('data "aws_iam_policy_document"')) {
      doc = { Version: '2012-10-17', Statement: [] };
      docs.push(doc);
    } else if (t.startsWith('data ')) {
      continue;
    } else if (t === 'statement {') {
      if (!doc) broken('terraform', 'a statement outside a policy document');
      st = { Sid: '', Effect: 'Allow', Action: [], Resource: [] };
      doc.Statement.push(st);
    } else if (inResources) {
      if (t === ']') inResources = false;
      else st!.Resource.push(...hclStrings(t));
    } else if (st && cond && (m = /^(test|variable|values)\s*=\s*(.*)$/.exec(t))) {
      const body = m[2]!.startsWith('[') ? m[2]!.slice(1, -1) : m[2]!;
      if (m[1] === 'values') cond.values = hclStrings(body);
      else cond[m[1] as 'test' | 'variable'] = hclStrings(body)[0];
    } else if (st && (m = /^(sid|effect|actions|resources)\s*=\s*(.*)$/.exec(t))) {
      const [, key, rest] = m as unknown as [string, string, string];
      if (key === 'resources' && rest === '[') inResources = true;
      else if (key === 'sid') st.Sid = hclStrings(rest)[0] ?? '';
      else if (key === 'effect') {
        if (hclStrings(rest)[0] !== 'Allow') broken('terraform', `effect ${rest}`);
      } else if (key === 'actions') st.Action = hclStrings(rest.slice(1, -1));
      else st.Resource = hclStrings(rest.slice(1, -1));
    } else if (st && t === 'condition {') {
      cond = {};
    } else if (t === '}') {
      if (cond) {
        if (!cond.test || !cond.variable || !cond.values) broken('terraform', 'an incomplete condition');
        const c = (st!.Condition ??= {});
        (c[cond.test] ??= {})[cond.variable] = cond.values;
        cond = undefined;
      } else if (st) st = undefined;
      else doc = undefined;
    } else {
      broken('terraform', `an unexpected line ${JSON.stringify(t)}`);
    }
  }
  return docs;
}
