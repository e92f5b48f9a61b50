/**
 * Which IAM role each Lambda function runs as, from `aws lambda list-functions` output (also
 * concatenated pages, or `get-function-configuration` output) or a plain JSON map.
 */
import { UserInputError } from '../shared/errors.js';
import type { RoleMap } from '../policy/build.js';

/**
 * Parses the text of a roles file. Accepts `{"Functions":[{FunctionName, FunctionArn, Role}]}`,
 * a single function configuration `{FunctionName, FunctionArn, Role}`, a bare array of those, or
 * a map `{"function name or ARN": "role ARN"}`. Both the name and the ARN of each function map.
 */
export function parseRoleMap(text: string, file: string): RoleMap {
  let values: unknown[];
  try {
    values = splitJsonDocuments(text);
  } catch (err) {
    throw new UserInputError(
      `--roles ${file}: not JSON (${(err as Error).message}). Pass the output of \`aws lambda list-functions\` or a {"function": "role ARN"} map.`,
    );
  }
  const map: RoleMap = new Map();
  const addConfig = (c: Record<string, unknown>): void => {
    const role = typeof c.Role === 'string' ? c.Role : undefined;
    if (!role) return;
    if (typeof c.FunctionName === 'string') map.set(c.FunctionName, role);
    // Workloads are keyed by the unqualified function ARN; get-function-configuration may add a qualifier.
    if (typeof c.FunctionArn === 'string') map.set(c.FunctionArn.split(':').slice(0, 7).join(':'), role);
  };
  for (const v of values) {
    if (Array.isArray(v)) {
      for (const c of v) if (isObject(c)) addConfig(c);
    } else if (isObject(v) && Array.isArray(v.Functions)) {
      for (const c of v.Functions) if (isObject(c)) addConfig(c);
    } else if (isObject(v) && 'Role' in v && ('FunctionName' in v || 'FunctionArn' in v)) {
      addConfig(v);
    } else if (isObject(v)) {
      for (const [k, r] of Object.entries(v)) {
        if (typeof r !== 'string')
          throw new UserInputError(
            `--roles ${file}: the value for ${JSON.stringify(k)} is not a role ARN string.`,
          );
        map.set(k, r);
      }
    }
  }
  if (map.size === 0)
    throw new UserInputError(
      `--roles ${file}: no function → role pairs found. Pass the output of \`aws lambda list-functions\` or a {"function": "role ARN"} map.`,
    );
  return map;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses one or more concatenated JSON documents (CLI pagination can print several). */
function splitJsonDocuments(text: string): unknown[] {
  const out: unknown[] = [];
  let i = 0;
  const s = text.replace(/^\ufeff/, '');
  while (i < s.length) {
    while (i < s.length && /\s/.test(s[i] as string)) i++;
    if (i >= s.length) break;
    let depth = 0;
    let inStr = false;
    let j = i;
    for (; j < s.length; j++) {
      const c = s[j];
      if (inStr) {
        if (c === '\\') j++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) break;
      }
    }
    out.push(JSON.parse(s.slice(i, j + 1)));
    i = j + 1;
  }
  return out;
}
