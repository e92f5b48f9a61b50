/**
 * The steps both writers (ingest's InputWriter, merge) take after writing rows: targets stored
 * with their IAM permissions on first sight, calls given the workload of their document once it
 * is known (re-targeted with the workload's account and region), OpenTelemetry spans settled for
 * their fallback workload, and the daily rollups of the touched (workload, day) pairs recomputed.
 */
import { mapCall, type MappingResult } from '../../iam/index.js';
import { dayOf } from '../../shared/time.js';
import type { Store } from '../db.js';
import { prepareIngest, type IngestStatements } from './sql.js';
import { canonicalParams, signature, storedFields, type TargetFields } from './targets.js';

/** The IAM permissions a call needed (src/iam), or why there are none. */
export function mapTarget(c: TargetFields): MappingResult {
  if (c.service === '') return { status: 'unmapped', reason: `service "${c.serviceName}" not recognised` };
  if (c.operation === null) {
    return {
      status: 'unmapped',
      reason:
        'operation not recorded: the client is not instrumented (plain-HTTP capture); wrap it with the X-Ray SDK to record operations',
    };
  }
  const params: Record<string, unknown> = { ...(c.params ?? {}) };
  if (c.deniedAction) params.denied_action = c.deniedAction;
  if (c.deniedResource) params.denied_resource = c.deniedResource;
  return mapCall({
    service: c.service,
    operation: c.operation,
    region: c.region,
    account: c.account,
    params,
  });
}

/**
 * The id of the target with these fields, stored (with its IAM permissions) on first sight.
 * `sig` and `paramsJson` may be passed when already computed.
 */
export function storeTarget(
  st: IngestStatements,
  t: TargetFields,
  sig?: string,
  paramsJson?: string | null,
): number {
  const params = paramsJson !== undefined ? paramsJson : t.params ? canonicalParams(t.params) : null;
  const signed = sig ?? signature(t, params);
  const found = st.findTarget.get(signed);
  if (found) return found.id;
  const mapping = mapTarget(t);
  const id = Number(
    st.insertTarget.run({
      sig: signed,
      service: t.service,
      service_name: t.serviceName,
      operation: t.operation,
      region: t.region,
      account: t.account,
      params,
      denied_action: t.deniedAction,
      denied_resource: t.deniedResource,
      mapping: mapping.status,
      mapping_reason: mapping.status === 'mapped' ? null : mapping.reason,
    }).lastInsertRowid,
  );
  if (mapping.status === 'mapped') {
    for (const p of mapping.permissions) {
      st.insertPermission.run(
        id,
        p.action,
        p.resource,
        p.resourceType ?? null,
        p.resourceUnknown ? 1 : 0,
        p.note ?? null,
      );
    }
  }
  return id;
}

/** The identifying fields of a stored target. */
export function targetFields(st: IngestStatements, targetId: number): TargetFields {
  const row = st.targetById.get(targetId);
  // A bug, not bad input: target ids come from stored calls.
  if (row === undefined) throw new Error(`target #${targetId} is not stored`);
  return storedFields(row);
}

/**
 * Gives calls still without a workload the workload of their document, now known (an
 * independent subsegment's parent, a span's SERVER span), and inferred-only calls the workload
 * of whoever holds their calling subsegment. A call that recorded no account or region takes the
 * workload's: the same fallback as for a call inside a segment of a known workload (extract.ts),
 * applied once the workload is known. `touch` hears of every (workload, start time) changed.
 * Returns the number of calls attributed.
 */
export function attributeWaitingCalls(
  st: IngestStatements,
  touch: (workloadId: number | null, startTime: number) => void,
): number {
  const scopes = new Map<number, { account: string | null; region: string | null }>();
  const retargeted = new Map<string, number>();
  let attributed = 0;
  for (const stmt of [st.attributeCalls, st.attributeInferredCalls]) {
    for (const r of stmt.all()) {
      touch(r.workload_id, r.start_time);
      if (r.workload_id === null) continue;
      attributed++;
      let scope = scopes.get(r.workload_id);
      if (!scope) {
        scope = st.workloadScope.get(r.workload_id) ?? { account: null, region: null };
        scopes.set(r.workload_id, scope);
      }
      const key = `${r.target_id}|${r.workload_id}`;
      let target = retargeted.get(key);
      if (target === undefined) {
        const t = targetFields(st, r.target_id);
        const filled = { ...t, account: t.account ?? scope.account, region: t.region ?? scope.region };
        target =
          filled.account === t.account && filled.region === t.region ? r.target_id : storeTarget(st, filled);
        retargeted.set(key, target);
      }
      if (target !== r.target_id) st.setCallTarget.run(target, r.id);
    }
  }
  return attributed;
}

/**
 * Recomputes the daily rollups of the touched `workload|day` pairs from calls, set-based, in
 * slices so that the sort behind each aggregation stays small whatever the input.
 */
export function rebuildDays(st: IngestStatements, touched: Iterable<string>): void {
  const keys = [...touched];
  for (let i = 0; i < keys.length; i += 256) {
    for (const key of keys.slice(i, i + 256)) {
      const bar = key.indexOf('|');
      st.insertTouched.run(Number(key.slice(0, bar)), Number(key.slice(bar + 1)));
    }
    for (const stmt of st.rebuildTouchedDays) stmt.run();
    st.clearTouched.run();
  }
}

/** What {@link settleFallbacks} did. */
export interface SettledFallbacks {
  /** Calls stored under a workload their trace could not complete. */
  calls: number;
  /** Those workloads' keys (a Lambda function without its account: `lambda::region:name`). */
  workloads: string[];
}

/**
 * At the end of a writing run (ingest, merge): the spans of a Lambda function whose trace held no
 * span with the function's account (its SERVER span) take the workload their resource gives, and
 * their calls with it. Run once per run, not per input, because the SERVER span of a trace is
 * often in a later file than its calls (it ends, and is logged, last).
 */
export function settleFallbacks(db: Store, st: IngestStatements = prepareIngest(db)): SettledFallbacks {
  const ids = st.fallbackCandidates.all().map((r) => r.id);
  if (ids.length === 0) return { calls: 0, workloads: [] };
  st.settleFallbacks.run();
  for (let i = 0; i < 64; i++) if (st.attributeSubsegments.run().changes === 0) break;
  const touched = new Set<string>();
  const used = new Map<number, number>();
  for (const r of st.attributeCalls.all()) {
    if (r.workload_id === null) continue;
    touched.add(`${r.workload_id}|${dayOf(r.start_time)}`);
    used.set(r.workload_id, (used.get(r.workload_id) ?? 0) + 1);
  }
  // Fallback workloads that every span found better (now or in an earlier run) are not workloads.
  for (const id of ids) st.dropUnusedFallback.run({ id });
  rebuildDays(st, touched);
  const keys: string[] = [];
  for (const id of used.keys()) {
    const w = st.workloadKey.get(id);
    if (w) keys.push(w.key);
  }
  return { calls: [...used.values()].reduce((a, b) => a + b, 0), workloads: keys.sort() };
}
