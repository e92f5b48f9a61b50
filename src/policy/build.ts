/**
 * Least-privilege policies: one IAM policy per workload (or per role) granting what the selected
 * calls were seen to use, with the evidence for every grant. Deterministic: the same database and
 * options give byte-identical documents.
 */
import { compareText } from '../shared/order.js';
import { DAY, isoTime } from '../shared/time.js';
import type { Store } from '../store/db.js';
import { compileFilter, selectCalls, type CallFilter } from '../store/filter.js';
import { loadWorkloads, type WorkloadRecord } from '../query/workloads.js';
import { dropCovered, generaliseArn, merge, scopeS3Objects, sum, type Grant } from './grants.js';
import {
  buildStatements,
  compactSize,
  INLINE_POLICIES_LIMIT,
  MANAGED_POLICY_LIMIT,
  packDocuments,
} from './statements.js';
import type { PolicyOptions, PolicyResult, PolicyWarning, WorkloadPolicy } from './types.js';

export type * from './types.js';

/** Builds one policy per selected workload (or per role). */
export function buildPolicies(store: Store, options: PolicyOptions): PolicyResult {
  const { rows, unmapped } = selectUsage(store, options.filter, options.excludeDenied === true);

  const workloads = new Map(loadWorkloads(store).map((w) => [w.id, w]));

  const grantsByPid = new Map<number, Grant[]>();
  for (const r of rows) {
    const list = grantsByPid.get(r.pid) ?? [];
    list.push({
      action: r.action,
      resource: r.resource,
      resourceType: r.resourceType,
      resourceUnknown: r.resourceUnknown === 1,
      calls: r.calls,
      denied: r.denied,
      first: r.first,
      last: r.last,
      traces: r.t1 === r.t2 ? [r.t1] : [r.t1, r.t2],
      observed: new Map([[r.resource, r.calls]]),
    });
    grantsByPid.set(r.pid, list);
  }
  const unmappedByPid = new Map<number, PolicyWarning[]>();
  for (const u of unmapped) {
    const list = unmappedByPid.get(u.pid) ?? [];
    list.push({
      code: 'unmapped',
      message: `${u.calls} call${u.calls === 1 ? '' : 's'} to ${u.serviceName}${u.operation ? ` ${u.operation}` : ''} could not be mapped to an IAM action (${u.reason ?? 'unknown'}); review them by hand`,
    });
    unmappedByPid.set(u.pid, list);
  }

  // Group workloads into policy subjects: each workload, or each role.
  const subjects: Subject[] = [];
  const sharedRoles: PolicyResult['sharedRoles'] = [];
  const unmatched: string[] = [];
  const selected = [...new Set([...grantsByPid.keys(), ...unmappedByPid.keys()])].sort((a, b) => {
    const wa = workloads.get(a);
    const wb = workloads.get(b);
    return compareText(wa?.key ?? '', wb?.key ?? '');
  });
  if (options.roles) {
    const byRole = new Map<string, number[]>();
    for (const pid of selected) {
      const w = workloads.get(pid);
      if (!w) continue;
      const role = options.roles.get(w.arn ?? '') ?? options.roles.get(w.name) ?? options.roles.get(w.key);
      if (!role) {
        unmatched.push(w.arn ?? w.key);
        subjects.push(ownSubject(w));
        continue;
      }
      byRole.set(role, [...(byRole.get(role) ?? []), pid]);
    }
    for (const [role, pids] of [...byRole.entries()].sort((a, b) => compareText(a[0], b[0]))) {
      const members = pids.map((p) => workloads.get(p)?.arn ?? workloads.get(p)?.key ?? String(p));
      if (pids.length > 1) sharedRoles.push({ role, functions: members });
      const roleName = role.split('/').pop() ?? role;
      const first = workloads.get(pids[0] as number);
      subjects.push({
        key: role,
        kind: 'role',
        name: roleName,
        account: first?.account ?? null,
        region: null,
        pids,
        members,
      });
    }
  } else {
    for (const pid of selected) {
      const w = workloads.get(pid);
      if (w) subjects.push(ownSubject(w));
    }
  }

  const policies = subjects.map((s) => {
    const grants = s.pids.flatMap((p) => grantsByPid.get(p) ?? []);
    const warnings = s.pids.flatMap((p) => unmappedByPid.get(p) ?? []);
    const policy = buildOne(grants, options, warnings, s.kind);
    return {
      principal: s.key,
      kind: s.kind,
      name: s.name,
      account: s.account,
      region: s.region,
      ...policy,
      ...(s.members ? { members: s.members } : {}),
    };
  });
  policies.sort((a, b) => compareText(a.principal, b.principal));
  return { policies, sharedRoles, unmatched: unmatched.sort(compareText) };
}

/** Per workload, action and resource: what the selected calls add up to. */
interface UsageRow {
  pid: number;
  action: string;
  resource: string;
  resourceType: string | null;
  resourceUnknown: number;
  calls: number;
  denied: number;
  first: number;
  last: number;
  t1: string;
  t2: string;
}

/** Per workload: calls that map to no IAM action, grouped by what was called. */
interface UnmappedRow {
  pid: number;
  serviceName: string;
  operation: string | null;
  reason: string | null;
  calls: number;
}

/**
 * The usage a policy is built from. Over whole UTC days it reads the per-day rollup
 * (principal_day_targets), which holds the same sums without reading calls one by one; a range
 * that starts or ends inside a day, or an outcome filter, reads the calls themselves.
 */
export function selectUsage(
  store: Store,
  filter: CallFilter,
  excludeDenied: boolean,
): { rows: UsageRow[]; unmapped: UnmappedRow[] } {
  const aligned = (t: number | undefined): boolean => t === undefined || t % DAY === 0;
  if (filter.outcomes === undefined && aligned(filter.since) && aligned(filter.until)) {
    return fromRollup(store, filter, excludeDenied);
  }
  const f: CallFilter = excludeDenied
    ? {
        ...filter,
        outcomes: (filter.outcomes ?? ['ok', 'error', 'fault', 'throttle']).filter((o) => o !== 'denied'),
      }
    : filter;
  // selectCalls walks the (workload, time) index once the workload patterns are resolved.
  const granted = selectCalls(f, { permissions: true });
  const rows = store
    .prepare(
      `SELECT c.principal_id AS pid, tp.action, tp.resource, tp.resource_type AS resourceType, tp.resource_unknown AS resourceUnknown,
              count(*) AS calls, sum(c.outcome = 'denied') AS denied, min(c.start_time) AS first, max(c.start_time) AS last,
              min(c.trace_id) AS t1, max(c.trace_id) AS t2
       FROM ${granted.from}
       WHERE c.principal_id IS NOT NULL AND tp.action IS NOT NULL AND ${granted.where}
       GROUP BY c.principal_id, tp.action, tp.resource`,
    )
    .all(...granted.params) as UsageRow[];
  // Calls that map to no IAM action are not silently lost: they become warnings.
  const callLevel = selectCalls({ ...f, actions: undefined, resources: undefined });
  const unmapped = store
    .prepare(
      `SELECT c.principal_id AS pid, t.service_name AS serviceName, t.operation, t.mapping_reason AS reason, count(*) AS calls
       FROM ${callLevel.from}
       WHERE c.principal_id IS NOT NULL AND t.mapping = 'unmapped' AND ${callLevel.where}
       GROUP BY c.principal_id, t.service_name, t.operation, t.mapping_reason`,
    )
    .all(...callLevel.params) as UnmappedRow[];
  return { rows, unmapped };
}

function fromRollup(
  store: Store,
  filter: CallFilter,
  excludeDenied: boolean,
): { rows: UsageRow[]; unmapped: UnmappedRow[] } {
  const { principals, since, until, ...rest } = filter;
  const where: string[] = [];
  const params: unknown[] = [];
  if (principals?.length) {
    const inner = compileFilter({ principals }, { calls: 'r', targets: 't', principals: 'p2' });
    where.push(`r.principal_id IN (SELECT p2.id FROM principals p2 WHERE ${inner.where})`);
    params.push(...inner.params);
  }
  if (since !== undefined) {
    where.push('r.day >= ?');
    params.push(since / DAY);
  }
  if (until !== undefined) {
    where.push('r.day < ?');
    params.push(until / DAY);
  }
  if (excludeDenied) where.push('r.denied = 0');
  const base = where.length > 0 ? where.join(' AND ') : '1';
  // What is left (service, action, resource, region, account) reads targets, permissions and workloads only.
  const perm = compileFilter(rest, { calls: 'r', targets: 't', principals: 'p', permissions: 'tp' });
  const rows = store
    .prepare(
      `SELECT r.principal_id AS pid, tp.action, tp.resource, tp.resource_type AS resourceType, tp.resource_unknown AS resourceUnknown,
              sum(r.calls) AS calls, sum(CASE WHEN r.denied = 1 THEN r.calls ELSE 0 END) AS denied, min(r.first_time) AS first,
              max(r.last_time) AS last, min(r.trace_min) AS t1, max(r.trace_max) AS t2
       FROM principal_day_targets r JOIN targets t ON t.id = r.target_id JOIN target_permissions tp ON tp.target_id = r.target_id
       JOIN principals p ON p.id = r.principal_id
       WHERE ${base} AND ${perm.where}
       GROUP BY r.principal_id, tp.action, tp.resource`,
    )
    .all(...params, ...perm.params) as UsageRow[];
  const plain = compileFilter(
    { ...rest, actions: undefined, resources: undefined },
    { calls: 'r', targets: 't', principals: 'p' },
  );
  const unmapped = store
    .prepare(
      `SELECT r.principal_id AS pid, t.service_name AS serviceName, t.operation, t.mapping_reason AS reason, sum(r.calls) AS calls
       FROM principal_day_targets r JOIN targets t ON t.id = r.target_id JOIN principals p ON p.id = r.principal_id
       WHERE ${base} AND t.mapping = 'unmapped' AND ${plain.where}
       GROUP BY r.principal_id, t.service_name, t.operation, t.mapping_reason`,
    )
    .all(...params, ...plain.params) as UnmappedRow[];
  return { rows, unmapped };
}

/** A workload as the subject of its own policy. */
function ownSubject(w: WorkloadRecord): Subject {
  return {
    key: w.arn ?? w.key,
    kind: w.kind,
    name: w.name,
    account: w.account,
    region: w.region,
    pids: [w.id],
  };
}

/** Who a policy is for: one workload, or a role and the workloads that run as it. */
interface Subject {
  key: string;
  kind: string;
  name: string;
  account: string | null;
  region: string | null;
  pids: number[];
  members?: string[];
}

function buildOne(
  raw: Grant[],
  options: PolicyOptions,
  warnings: PolicyWarning[],
  kind: string,
): Pick<WorkloadPolicy, 'document' | 'documents' | 'size' | 'warnings' | 'evidence'> {
  let grants = merge(raw);
  const unknown = grants.filter((g) => g.resourceUnknown);
  if (options.unknownResources === 'omit') {
    grants = grants.filter((g) => !g.resourceUnknown);
    for (const g of unknown) {
      warnings.push({
        code: 'omitted-unknown',
        action: g.action,
        resource: g.resource,
        message: `${g.action} left out: the trace did not record which resource it used (--unknown-resources omit)`,
      });
    }
  } else {
    for (const g of unknown) {
      warnings.push({
        code: 'resource-unknown',
        action: g.action,
        resource: g.resource,
        message: `${g.action} granted on ${g.resource}: the trace did not record which resource it used. ${
          kind === 'stepfunctions'
            ? 'Step Functions records no parameters of its service integrations: name the resources in the state machine definition'
            : "Add the request parameter to the X-Ray SDK's AWS parameter allow-list (Node: AWSXRay.appendAWSWhitelist) to record it"
        }, or pass --unknown-resources omit`,
      });
    }
  }
  grants = scopeS3Objects(grants, options.s3Objects ?? 'prefix');
  grants = merge(grants.map((g) => ({ ...g, resource: generaliseArn(g.resource, options) })));
  grants = dropCovered(grants);
  for (const g of grants) {
    if (g.denied > 0) {
      warnings.push({
        code: 'denied',
        action: g.action,
        resource: g.resource,
        message: `${g.action} on ${g.resource} was denied ${g.denied} time${g.denied === 1 ? '' : 's'}: the workload lacks it today${options.excludeDenied ? '' : ' (included; --exclude-denied leaves it out)'}`,
      });
    }
  }
  if (options.placeholders) {
    warnings.push({
      code: 'placeholders',
      message:
        'ARNs use ${AWS::AccountId} and ${AWS::Region}: substitute them (CloudFormation !Sub) before attaching',
    });
  }
  const statements = buildStatements(grants);
  const documents = packDocuments(statements, options.maxSize);
  if (documents.length > 1) {
    warnings.push({
      code: 'split',
      message: `split into ${documents.length} policies of at most ${options.maxSize} characters each; together they grant the same`,
    });
  }
  const document = documents[0] ?? { Version: '2012-10-17', Statement: [] };
  const size = compactSize(document);
  const total = documents.reduce((a, d) => a + compactSize(d), 0);
  if (total > INLINE_POLICIES_LIMIT) {
    warnings.push({
      code: 'size-inline',
      message: `${total} characters: above the ${INLINE_POLICIES_LIMIT}-character limit for all inline policies of one role; use managed policies (--max-size ${MANAGED_POLICY_LIMIT})`,
    });
  } else if (size > MANAGED_POLICY_LIMIT) {
    warnings.push({
      code: 'size-managed',
      message: `${size} characters: above the ${MANAGED_POLICY_LIMIT}-character limit of a managed policy; attach it inline or pass --max-size ${MANAGED_POLICY_LIMIT}`,
    });
  }
  const byKey = new Map(grants.map((g) => [`${g.action}\u0000${g.resource}`, g]));
  const evidence = documents.flatMap((d) =>
    d.Statement.map((st) => ({
      sid: st.Sid,
      actions: st.Action.map((action) => {
        const gs = st.Resource.map((r) => byKey.get(`${action}\u0000${r}`)).filter(
          (g): g is Grant => g !== undefined,
        );
        const observed = new Map<string, number>();
        for (const g of gs) for (const [r, n] of g.observed) observed.set(r, (observed.get(r) ?? 0) + n);
        return {
          action,
          calls: sum(gs.map((g) => g.calls)),
          denied: sum(gs.map((g) => g.denied)),
          firstSeen: isoTime(Math.min(...gs.map((g) => g.first))),
          lastSeen: isoTime(Math.max(...gs.map((g) => g.last))),
          sampleTraceIds: [...new Set(gs.flatMap((g) => g.traces))].sort().slice(0, 3),
          observed: [...observed.entries()]
            .sort((a, b) => (a[0] < b[0] ? -1 : 1))
            .map(([resource, calls]) => ({ resource, calls })),
        };
      }),
    })),
  );
  warnings.sort((a, b) =>
    compareText(
      a.code + (a.action ?? '') + (a.resource ?? ''),
      b.code + (b.action ?? '') + (b.resource ?? ''),
    ),
  );
  return { document, documents, size, warnings, evidence };
}
