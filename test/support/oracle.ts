/**
 * The test oracle: `@cloud-copilot/iam-simulate` (AGPL, a devDependency used only here) decides
 * whether an identity policy allows a request, so that tests can check our policies and our
 * evaluator against an independent implementation.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

/**
 * True when `policy`, as the only identity policy of a role in `account`, allows the request
 * (with the condition keys of `context`).
 */
export async function oracleAllows(
  policy: unknown,
  action: string,
  resource: string,
  account: string,
  context: Record<string, string> = {},
): Promise<boolean> {
  const r = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${account}:role/xray-lp-test`,
        action,
        resource: { resource, accountId: account },
        contextVariables: context,
      },
      identityPolicies: [{ name: 'generated', policy }],
      // A KMS key is governed by its key policy first: the default one, which lets the account's
      // IAM policies decide, so that the identity policy is what is checked.
      ...(/^arn:[^:]+:kms:[^:]*:\d{12}:key\//.test(resource)
        ? {
            resourcePolicy: {
              Version: '2012-10-17',
              Statement: [
                {
                  Sid: 'Enable IAM User Permissions',
                  Effect: 'Allow',
                  Principal: { AWS: `arn:aws:iam::${account}:root` },
                  Action: 'kms:*',
                  Resource: '*',
                },
              ],
            },
          }
        : {}),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    } as never,
    {},
  );
  if (r.resultType === 'error')
    throw new Error(`oracle could not simulate ${action} on ${resource}: ${JSON.stringify(r)}`);
  return r.overallResult === 'Allowed';
}
