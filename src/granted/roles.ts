/**
 * Which IAM role each Lambda function runs as, from `aws lambda list-functions` output (also
 * concatenated pages, or `get-function-configuration` output) or a plain JSON map.
 */
import { parseAll } from '../json/split.js';
import { parseLambdaFunction } from '../iam/services/lambda.js';
import { DumpFormatError, UserInputError } from '../shared/errors.js';
import { isObject } from '../shared/values.js';

/** Function (name or unqualified ARN) → role ARN. */
export type RoleMap = Map<string, string>;

/**
 * Parses the text of a roles file. Accepts `{"Functions":[{FunctionName, FunctionArn, Role}]}`,
 * a single function configuration `{FunctionName, FunctionArn, Role}`, a bare array of those, or
 * a map `{"function name or ARN": "role ARN"}`. Both the name and the ARN of each function map.
 */
export function parseRoleMap(text: string, file: string): RoleMap {
  let values: unknown[];
  try {
    values = parseAll(text, file);
  } catch (err) {
    if (!(err instanceof DumpFormatError)) throw err;
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
    const fn = typeof c.FunctionArn === 'string' ? parseLambdaFunction(c.FunctionArn) : undefined;
    if (fn) map.set(fn.arn, role);
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
