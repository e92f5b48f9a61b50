/**
 * The workloads a role known only from CloudTrail runs, for their run-time needs (src/runtime):
 * what a configuration export and the services' `sts:AssumeRole` records say runs as it.
 */
import { parseArn, partitionOf } from '../iam/arn.js';
import type { FunctionConfig } from '../shared/function-config.js';
import type { WorkloadFacts } from './types.js';

/** A role a service assumed for a workload (store/trail.ts `TrailLink`): the session names it. */
export interface RoleLink {
  role: string;
  session: string;
  /** `lambda.amazonaws.com` or `ecs-tasks.amazonaws.com`. */
  service: string;
  region: string | null;
  account: string | null;
}

/** The services whose `sts:AssumeRole` says what kind of workload runs as the role. */
const KIND_OF_SERVICE: Readonly<Record<string, string>> = {
  'lambda.amazonaws.com': 'lambda',
  'ecs-tasks.amazonaws.com': 'ecs',
};

/**
 * The workloads a role known from CloudTrail runs, for their run-time needs: the functions a
 * configuration export gives the role (`Role`), and the sessions the Lambda and ECS services
 * opened with it (`sts:AssumeRole`: the session names the function, or the task). When nothing
 * says, no kind is guessed: the result holds a warning saying so instead. Used by `policy` and
 * `compare` alike.
 */
export function roleWorkloads(
  role: string,
  configs: ReadonlyMap<string, FunctionConfig>,
  links: readonly RoleLink[],
): { workloads: WorkloadFacts[]; warning?: string } {
  const out = new Map<string, WorkloadFacts>();
  for (const [fn, config] of configs) {
    if (config.role !== role) continue;
    const arn = parseArn(fn);
    const name = arn?.resource.split(':')[1] ?? fn;
    out.set(`lambda\u0000${name}`, {
      kind: 'lambda',
      name,
      arn: fn,
      account: arn?.account || null,
      region: arn?.region || null,
      formats: [],
      triggers: [],
      config,
    });
  }
  for (const l of links) {
    const kind = KIND_OF_SERVICE[l.service];
    if (l.role !== role || !kind || out.has(`${kind}\u0000${l.session}`)) continue;
    out.set(`${kind}\u0000${l.session}`, {
      kind,
      name: l.session,
      arn:
        kind === 'lambda' && l.region && l.account
          ? `arn:${partitionOf(l.region)}:lambda:${l.region}:${l.account}:function:${l.session}`
          : null,
      account: l.account,
      region: l.region,
      formats: [],
      triggers: [],
    });
  }
  if (out.size > 0) return { workloads: [...out.values()] };
  return {
    workloads: [],
    warning: `${role}: no run-time needs: nothing says what kind of workload runs as this role (no configuration export names it as a function's Role, and no sts:AssumeRole record by lambda.amazonaws.com or ecs-tasks.amazonaws.com names it); ingest the function's configuration (aws lambda get-function-configuration) or the CloudTrail records of the service assuming the role`,
  };
}
