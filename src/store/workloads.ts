/**
 * Workload identities as stored (who made the calls). Their activity is read through usage.ts.
 */
import type { Store } from './db.js';

/**
 * The trace formats a workload can be seen in, kept as the sorted `formats` list of its stored
 * attributes: a function traced first with the X-Ray SDK and then with OpenTelemetry is one
 * workload with both.
 */
export type TraceFormat = 'x-ray' | 'opentelemetry';

/** A workload's identity, as policy building and comparison need it. */
export interface WorkloadRecord {
  id: number;
  /** Stable id: the unqualified ARN where there is one, else `kind:account:region:name`. */
  key: string;
  kind: string;
  name: string;
  arn: string | null;
  account: string | null;
  region: string | null;
  /** Stored attributes (JSON): qualifiers, the trace formats, the triggers seen… */
  attrs: string;
}

/** Every workload's identity, by id. */
export function loadWorkloads(store: Store): WorkloadRecord[] {
  return store
    .prepare('SELECT id, key, kind, name, arn, account, region, attrs FROM workloads ORDER BY id')
    .all() as WorkloadRecord[];
}
