/**
 * AWS Lambda. Every invoke flavour is authorised by `lambda:InvokeFunction`, and
 * `function_name` comes in four shapes: `name`, `name:qualifier`,
 * `123456789012:function:name[:qualifier]` or a full ARN. A qualifier (recorded separately or
 * inside the name) is part of the resource IAM checks: `function:name:qualifier`.
 */
import { formatArn, isAccountId, isRegion, parseArn } from '../arn.js';
import { buildArn, withOverrides } from '../resources.js';
import { str } from '../params.js';
import { needs } from './rules.js';
import type { Candidate, IamCall, OperationRule, Scope, ServiceHandler, Step } from '../types.js';

const INVOKE_ASYNC_NOTE =
  'deprecated InvokeAsync: AWS documents both lambda:InvokeFunction and lambda:InvokeAsync';

const OPERATIONS: Record<string, OperationRule> = {
  Invoke: needs('lambda:InvokeFunction'),
  InvokeWithResponseStream: needs('lambda:InvokeFunction'),
  // The deprecated InvokeAsync is documented (older Lambda API reference) as requiring
  // lambda:InvokeFunction, while the Service Authorization Reference also defines a dedicated
  // lambda:InvokeAsync. Both are scoped to the same function, so emit both rather than guess.
  InvokeAsync: needs(
    { action: 'lambda:InvokeFunction', note: INVOKE_ASYNC_NOTE },
    { action: 'lambda:InvokeAsync', note: INVOKE_ASYNC_NOTE },
  ),
  // The SDK method takes a layer version ARN; IAM knows it as GetLayerVersion.
  GetLayerVersionByArn: needs('lambda:GetLayerVersion'),
};

/** A function reference, split into its parts. */
export interface FunctionRef {
  name: string;
  qualifier?: string;
  account?: string;
  region?: string;
  partition?: string;
}

const NAME = /^[A-Za-z0-9_-]{1,140}$/;
const QUALIFIER = /^(\$LATEST|[A-Za-z0-9_-]{1,128})$/;

/** Reads `FunctionName` in any of its documented forms. Undefined when it is none of them. */
export function parseFunctionName(text: string): FunctionRef | undefined {
  let account: string | undefined;
  let region: string | undefined;
  let partition: string | undefined;
  let rest: string;
  if (text.startsWith('arn:')) {
    const arn = parseArn(text);
    if (!arn || arn.service !== 'lambda' || !arn.resource.startsWith('function:')) return undefined;
    account = arn.account || undefined;
    region = arn.region || undefined;
    partition = arn.partition;
    rest = arn.resource.slice('function:'.length);
  } else {
    const partial = /^(\d{12}):function:(.+)$/.exec(text);
    if (partial) {
      account = partial[1];
      rest = partial[2] ?? '';
    } else rest = text;
  }
  const [name, qualifier, extra] = rest.split(':');
  if (name === undefined || !NAME.test(name) || extra !== undefined) return undefined;
  if (qualifier !== undefined && !QUALIFIER.test(qualifier)) return undefined;
  return {
    name,
    ...(qualifier !== undefined ? { qualifier } : {}),
    ...(account ? { account } : {}),
    ...(region ? { region } : {}),
    ...(partition ? { partition } : {}),
  };
}

/** A Lambda function identified by an ARN: the unqualified ARN is the function, whatever alias or version ran. */
export interface LambdaFunction {
  /** `arn:partition:lambda:region:account:function:name`, without qualifier. */
  arn: string;
  name: string;
  qualifier: string | null;
  account: string | null;
  region: string | null;
}

/**
 * A function ARN (`…:function:name` or `…:function:name:alias`) as the function it names.
 * Undefined for anything else, partial ARNs included (they carry no region).
 */
export function parseLambdaFunction(text: string): LambdaFunction | undefined {
  const arn = parseArn(text);
  if (!arn || arn.service !== 'lambda' || !arn.resource.startsWith('function:')) return undefined;
  const ref = parseFunctionName(text);
  if (!ref) return undefined;
  return {
    arn: formatArn({ ...arn, resource: `function:${ref.name}` }),
    name: ref.name,
    qualifier: ref.qualifier ?? null,
    account: isAccountId(arn.account) ? arn.account : null,
    region: isRegion(arn.region) ? arn.region : null,
  };
}

/** Lambda handler: see the file comment. */
export const lambda: ServiceHandler = {
  prefix: 'lambda',
  operations: OPERATIONS,
  resources(call: IamCall, _step: Step, types: readonly string[], scope: Scope): Candidate[] {
    if (!types.includes('function')) return [];
    const text = str(call.params, 'function_name', 'aws.lambda.function.name', 'aws.lambda.function.arn');
    const ref = text !== undefined ? parseFunctionName(text) : undefined;
    if (!ref) return [];
    const param = str(call.params, 'qualifier');
    const qualifier = ref.qualifier ?? (param !== undefined && QUALIFIER.test(param) ? param : undefined);
    const name = qualifier !== undefined ? `${ref.name}:${qualifier}` : ref.name;
    const c = buildArn(
      'lambda',
      'function',
      { FunctionName: name },
      withOverrides(scope, ref.region, ref.account),
    );
    return c ? [c] : [];
  },
};
