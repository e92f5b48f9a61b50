/**
 * Who made a call recorded on a role, from what CloudTrail says of it. A role's credentials work
 * for whoever holds them: a leaked key or credentials replayed from a laptop show up as the
 * role. These rules tell apart, per call:
 *
 * - `service`: an AWS service acting on the workload's behalf (`userIdentity.invokedBy`, the
 *   Lambda service's `awslambda-worker` agent, `AWS Internal`, a source that is a service host);
 * - `workload`: the workload's own code (the SDKs' `exec-env/AWS_Lambda_*` or `exec-env/AWS_ECS_*`
 *   user-agent token, set from the run time's `AWS_EXECUTION_ENV`; a call through a VPC endpoint
 *   or from a private address, which only reaches CloudTrail from inside a VPC);
 * - `interactive`: a person's tool (the AWS CLI, the console, CloudShell, PowerShell tools):
 *   credentials used outside the workload;
 * - `sdk`: an SDK with no run-time token. Decided per role when policies are built: outside for
 *   a role whose own calls carry the Lambda run time's token elsewhere (its SDKs send it on every
 *   call, so a call without it is not theirs), the workload's own otherwise (an instance or task
 *   whose SDK sends none, a function on an OS-only run time, which sets no AWS_EXECUTION_ENV),
 *   and said so.
 *
 * docs/cloudtrail.md lists each rule with its source and what it cannot tell. Pure.
 */

/** The class a call is given at ingest. */
export type CallerClass = 'service' | 'workload' | 'interactive' | 'sdk';

/** The class a call has once its role is known: what `policy` grants or withholds. */
export type CallerVerdict = 'service' | 'workload' | 'outside';

/** The fields of a record the rules read. */
export interface CallerFacts {
  invokedBy: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  vpcEndpointId: string | null;
  identityType: string | null;
}

/** User-agent tokens of the services that act with a workload's role. */
const SERVICE_AGENTS: readonly RegExp[] = [
  /^awslambda-worker/i,
  /^AWS Internal$/i,
  /^[a-z0-9.-]+\.amazonaws\.com$/i,
];

/** The SDKs' execution-environment token (AWS_EXECUTION_ENV) of a workload's run time. */
const EXEC_ENV = /exec-env\/(AWS_Lambda_[A-Za-z0-9._-]+|AWS_ECS_[A-Za-z0-9_]+)/;

/** Agents a person types into or clicks: never a workload's code. */
const INTERACTIVE_AGENTS: readonly RegExp[] = [
  /(^|\s)aws-cli\//i,
  /^console\.amazonaws\.com$/i,
  /^signin\.amazonaws\.com$/i,
  /^AWSConsole/i,
  /AWSCloudShell/i,
  /AWSPowerShell/i,
  /(^|\s)aws-sam-cli\//i,
];

/** RFC 1918 and RFC 4193 addresses: CloudTrail shows them only for calls from inside a VPC. */
function isPrivateIp(ip: string): boolean {
  return (
    /^10\./.test(ip) ||
    /^192\.168\./.test(ip) ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(ip) ||
    /^f[cd][0-9a-f]{2}:/i.test(ip)
  );
}

/** The class of one call and the rule that decided it. */
export function classifyCaller(f: CallerFacts): { caller: CallerClass; reason: string } {
  if (f.identityType === 'AWSService') return { caller: 'service', reason: 'an AWS service principal' };
  if (f.invokedBy !== null) return { caller: 'service', reason: `invokedBy ${f.invokedBy}` };
  const ua = f.userAgent ?? '';
  // The console's own host would pass for a service's: a person clicking is not the workload.
  if (INTERACTIVE_AGENTS.some((re) => re.test(ua)))
    return { caller: 'interactive', reason: `user agent ${cut(ua)}` };
  if (SERVICE_AGENTS.some((re) => re.test(ua))) return { caller: 'service', reason: `user agent ${cut(ua)}` };
  if (f.sourceIp !== null && /\.amazonaws\.com$/i.test(f.sourceIp))
    return { caller: 'service', reason: `source ${f.sourceIp}` };
  const env = EXEC_ENV.exec(ua);
  if (env) return { caller: 'workload', reason: `user agent token exec-env/${env[1]}` };
  if (f.vpcEndpointId !== null)
    return { caller: 'workload', reason: `through VPC endpoint ${f.vpcEndpointId}` };
  if (f.sourceIp !== null && isPrivateIp(f.sourceIp))
    return { caller: 'workload', reason: `private source address ${f.sourceIp}` };
  return { caller: 'sdk', reason: `user agent ${cut(ua) || '(none)'} without a run-time token` };
}

/**
 * The verdict on a call once its role is known. `tokenSeen`: other calls of the role carry the
 * Lambda run time's token, so the role's own code sends it on every call (the SDKs add it from
 * AWS_EXECUTION_ENV, which Lambda sets for every managed run time): a call without it is not its.
 */
export function verdictOf(caller: CallerClass, tokenSeen: boolean): CallerVerdict {
  if (caller === 'service' || caller === 'workload') return caller;
  if (caller === 'interactive') return 'outside';
  return tokenSeen ? 'outside' : 'workload';
}

function cut(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}
