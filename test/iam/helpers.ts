/** Shared builders for the table-driven IAM mapping tests. */
import type { IamCall, MappingResult, Permission } from '../../src/iam/index.js';

/** Workload context used by most cases. */
export const CTX = { account: '123456789012', region: 'eu-west-1' } as const;

/** A call with the given service, operation and params. */
export function call(service: string, operation: string, params: Record<string, unknown> = {}): IamCall {
  return { service, operation, params };
}

/** A permission, spelled out. */
export function perm(
  action: string,
  resource: string,
  resourceType?: string,
  resourceUnknown = false,
): Permission {
  return { action, resource, ...(resourceType !== undefined ? { resourceType } : {}), resourceUnknown };
}

/** A permission with a note. */
export function noted(p: Permission, note: string): Permission {
  return { ...p, note };
}

/** A `mapped` result. */
export function mapped(...permissions: Permission[]): MappingResult {
  return { status: 'mapped', permissions };
}
