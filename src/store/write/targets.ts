/**
 * What identifies a call's target (the `targets` table), as plain functions: the signature that
 * keys it, canonical parameters, and how an inferred segment fills in its caller. Pure: ingest's
 * preparer runs them on a worker thread, and the writers (ingest, merge) in the store.
 */

/** Recorded resource parameters: name → value or list of values. */
export type TargetParams = Record<string, string | string[]>;

/** What was called: the fields that identify a target (see the `targets` table). */
export interface TargetFields {
  service: string;
  serviceName: string;
  operation: string | null;
  region: string | null;
  account: string | null;
  params: TargetParams | null;
  deniedAction: string | null;
  deniedResource: string | null;
}

/** A stored target's identifying fields, as the `targets` columns hold them. */
export interface StoredTarget {
  service: string;
  service_name: string;
  operation: string | null;
  region: string | null;
  account: string | null;
  params: string | null;
  denied_action: string | null;
  denied_resource: string | null;
}

/** Parameters as stored: keys sorted, so that equal parameters give equal targets. */
export function canonicalParams(p: TargetParams): string {
  const out: TargetParams = {};
  for (const k of Object.keys(p).sort()) out[k] = p[k] as string | string[];
  return JSON.stringify(out);
}

/** What identifies a call's target (service, operation, parameters…): the `targets.sig` column. */
export function signature(t: TargetFields, paramsJson: string | null): string {
  return JSON.stringify([
    t.service,
    t.serviceName,
    t.operation,
    t.region,
    t.account,
    paramsJson,
    t.deniedAction,
    t.deniedResource,
  ]);
}

/** Copies into `caller` what an inferred segment knows and the caller did not record. */
export function fillIn(caller: TargetFields, inferred: TargetFields): void {
  if (caller.service === '') caller.service = inferred.service;
  caller.operation ??= inferred.operation;
  caller.region ??= inferred.region;
  caller.account ??= inferred.account;
  if (inferred.params) caller.params = { ...inferred.params, ...(caller.params ?? {}) };
}

/** A stored target back as the fields that identify it. */
export function storedFields(s: StoredTarget): TargetFields {
  let params: TargetParams | null = null;
  try {
    params = s.params ? (JSON.parse(s.params) as TargetParams) : null;
  } catch {
    params = null;
  }
  return {
    service: s.service,
    serviceName: s.service_name,
    operation: s.operation,
    region: s.region,
    account: s.account,
    params,
    deniedAction: s.denied_action,
    deniedResource: s.denied_resource,
  };
}
