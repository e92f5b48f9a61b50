/**
 * The test oracle: `@cloud-copilot/iam-simulate` (AGPL, a devDependency used only here) decides
 * whether an identity policy allows a request, so that tests can check our policies and our
 * evaluator against an independent implementation.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';

/** True when `policy`, as the only identity policy of a role in `account`, allows the request. */
export async function oracleAllows(
  policy: unknown,
  action: string,
  resource: string,
  account: string,
): Promise<boolean> {
  const r = await runSimulation(
    {
      request: {
        principal: `arn:aws:iam::${account}:role/xray-lp-test`,
        action,
        resource: { resource, accountId: account },
        contextVariables: {},
      },
      identityPolicies: [{ name: 'generated', policy }],
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    } as never,
    {},
  );
  if (r.resultType === 'error')
    throw new Error(`oracle could not simulate ${action} on ${resource}: ${JSON.stringify(r)}`);
  return r.overallResult === 'Allowed';
}
