/**
 * The pseudo parameters of infrastructure as code bound to a workload: a template deployed for a
 * workload runs in the workload's account, region and partition, so `${AWS::AccountId}`,
 * `${AWS::Region}` and `${AWS::Partition}` (and Terraform's caller-identity, region and partition
 * data sources, read as them) stand for those, and for nothing else. A value the workload does
 * not tell (an OpenTelemetry workload without an ARN has no region) stays a placeholder, which
 * matches nothing (src/iam/glob.ts).
 */
import type { Origin, Policy, Statement } from '../iam/evaluate.js';

/** Where a workload runs; null when its identity does not say. */
export interface DeployScope {
  account: string | null;
  region: string | null;
  partition: string | null;
}

const PSEUDO = /\$\{AWS::(AccountId|Region|Partition|URLSuffix)\}/g;

/** True when some statement of `policies` names a pseudo parameter. */
export function usesPseudoParameters(policies: readonly Policy[]): boolean {
  return policies.some((p) =>
    p.statements.some(
      (s) =>
        s.resources.some((r) => r.includes('${AWS::')) ||
        s.conditions.some((c) => c.values.some((v) => v.includes('${AWS::'))),
    ),
  );
}

/** `policies` with their pseudo parameters replaced by the scope's values (where it has them). */
export function bindPseudoParameters(policies: readonly Policy[], scope: DeployScope): Policy[] {
  const value = (name: string): string | null =>
    name === 'AccountId'
      ? scope.account
      : name === 'Region'
        ? scope.region
        : name === 'Partition'
          ? scope.partition
          : scope.partition === null
            ? null
            : scope.partition === 'aws-cn'
              ? 'amazonaws.com.cn'
              : 'amazonaws.com';
  const bind = (s: string): string =>
    s.includes('${AWS::') ? s.replace(PSEUDO, (m, name: string) => value(name) ?? m) : s;
  return policies.map((p) => ({
    ...p,
    statements: p.statements.map((s): Statement => ({
      ...s,
      resources: s.resources.map(bind),
      conditions: s.conditions.map((c) => ({ ...c, values: c.values.map(bind) })),
    })),
  }));
}

/** Where something is written, as a finding shows it: `template.yaml:12 (OrdersRole)`. */
export function originText(o: Origin): string {
  return `${o.file}${o.line === undefined ? '' : `:${o.line}`}${o.resource ? ` (${o.resource})` : ''}`;
}
