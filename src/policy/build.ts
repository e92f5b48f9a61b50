/**
 * Least-privilege policies: one IAM policy per workload (or per role) granting what the selected
 * calls were seen to use, with the evidence for every grant. Deterministic: the same database and
 * options give byte-identical documents.
 */
import { createHash } from 'node:crypto';
import type { Store } from '../store/db.js';
import { selectCalls } from '../query/calls.js';
import { loadWorkloads, type WorkloadRecord } from '../query/workloads.js';
import { compileFilter, type CallFilter } from '../query/filters.js';
import { isoTime } from '../query/stats.js';

/** How S3 object keys seen in calls become resources. */
export type S3ObjectScope = 'exact' | 'prefix' | 'bucket';

/** Options for {@link buildPolicies}. Every generalisation is opt-in except the S3 default. */
export interface PolicyOptions {
  filter: CallFilter;
  /** Leave out permissions seen only in denied calls (default: include them, flagged). */
  excludeDenied?: boolean;
  /** Default `prefix`: the longest common `/`-prefix of the keys per bucket and action set. */
  s3Objects?: S3ObjectScope;
  accountWildcard?: boolean;
  regionWildcard?: boolean;
  /** Write `${AWS::AccountId}` / `${AWS::Region}` in ARNs (for templates). */
  placeholders?: boolean;
  /** Permissions whose resource was not recorded: `include` (narrowest wildcard, default) or `omit`. */
  unknownResources?: 'include' | 'omit';
  /** Split a policy into several whose compact size is at most this many characters. */
  maxSize?: number;
  /** Build one policy per IAM role from the union of its functions (see {@link RoleMap}). */
  roles?: RoleMap;
}

/** Function (name or ARN) → role ARN, from `aws lambda list-functions` or a JSON map. */
export type RoleMap = Map<string, string>;

/** One statement, in IAM policy grammar. */
export interface PolicyStatement {
  Sid: string;
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
}

/** A policy document: only `Version` and `Statement`, as IAM accepts. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

/** Why a reviewer should look twice. */
export interface PolicyWarning {
  code:
    | 'denied'
    | 'resource-unknown'
    | 'omitted-unknown'
    | 'unmapped'
    | 'size-managed'
    | 'size-inline'
    | 'split'
    | 'placeholders';
  message: string;
  action?: string;
  resource?: string;
}

/** Evidence for one action of one statement. */
export interface ActionEvidence {
  action: string;
  calls: number;
  denied: number;
  firstSeen: string | null;
  lastSeen: string | null;
  /** Up to 3 trace ids of calls that needed this action. */
  sampleTraceIds: string[];
  /** The resources as recorded (before S3 scoping or wildcards), with their call counts. */
  observed: { resource: string; calls: number }[];
}

/** Evidence for one statement. */
export interface StatementEvidence {
  sid: string;
  actions: ActionEvidence[];
}

/** One generated policy (`policy --json` prints an array of these). */
export interface WorkloadPolicy {
  /** The workload's ARN, or its key where it has none; for `--by role`, the role ARN. */
  principal: string;
  kind: string;
  name: string;
  account: string | null;
  region: string | null;
  /** The policy; when `--max-size` split it, the first part (all parts are in `documents`). */
  document: PolicyDocument;
  documents: PolicyDocument[];
  /** Compact size of `document` as IAM counts it (no whitespace). */
  size: number;
  warnings: PolicyWarning[];
  evidence: StatementEvidence[];
  /** For `--by role`: the workloads whose usage was merged into this policy. */
  members?: string[];
}

/** The result of {@link buildPolicies}. */
export interface PolicyResult {
  policies: WorkloadPolicy[];
  /** For `--by role`: roles shared by several functions. */
  sharedRoles: { role: string; functions: string[] }[];
  /** Workloads in the selection that the role map does not name (they keep their own policy). */
  unmatched: string[];
}

/** IAM's limits on policy size, in characters without whitespace. */
export const MANAGED_POLICY_LIMIT = 6144;
export const INLINE_POLICIES_LIMIT = 10240;

interface Grant {
  action: string;
  resource: string;
  resourceType: string | null;
  resourceUnknown: boolean;
  calls: number;
  denied: number;
  first: number;
  last: number;
  traces: string[];
  observed: Map<string, number>;
}

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
    return (wa?.key ?? '').localeCompare(wb?.key ?? '');
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
    for (const [role, pids] of [...byRole.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
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
  policies.sort((a, b) => a.principal.localeCompare(b.principal));
  return { policies, sharedRoles, unmatched: unmatched.sort() };
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

const DAY = 86400;

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
  const documents = split(statements, options.maxSize);
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
    (a.code + (a.action ?? '') + (a.resource ?? '')).localeCompare(
      b.code + (b.action ?? '') + (b.resource ?? ''),
    ),
  );
  return { document, documents, size, warnings, evidence };
}

function sum(ns: number[]): number {
  return ns.reduce((a, b) => a + b, 0);
}

/** Merges grants with the same action and resource, adding their evidence. */
function merge(grants: Grant[]): Grant[] {
  const out = new Map<string, Grant>();
  for (const g of grants) {
    const key = `${g.action}\u0000${g.resource}`;
    const prev = out.get(key);
    if (!prev) {
      out.set(key, { ...g, observed: new Map(g.observed), traces: [...g.traces] });
      continue;
    }
    prev.calls += g.calls;
    prev.denied += g.denied;
    prev.first = Math.min(prev.first, g.first);
    prev.last = Math.max(prev.last, g.last);
    prev.traces = [...new Set([...prev.traces, ...g.traces])].sort().slice(0, 3);
    prev.resourceUnknown = prev.resourceUnknown && g.resourceUnknown;
    for (const [r, n] of g.observed) prev.observed.set(r, (prev.observed.get(r) ?? 0) + n);
  }
  return [...out.values()];
}

const S3_OBJECT = /^(arn:[^:]+:s3:::)([^/]+)\/(.*)$/;

/**
 * S3 object ARNs keep their full key at ingest; here they are scoped. `prefix`: per bucket and
 * set of actions, the longest common path prefix of the keys at `/` boundaries, as `prefix*`.
 */
export function scopeS3Objects(grants: Grant[], scope: S3ObjectScope): Grant[] {
  if (scope === 'exact') return grants;
  const objects = grants.filter(
    (g) => g.resourceType === 'object' && !g.resourceUnknown && S3_OBJECT.test(g.resource),
  );
  if (objects.length === 0) return grants;
  const rest = grants.filter((g) => !objects.includes(g));
  // For each object ARN, the set of actions used on it.
  const actionsByArn = new Map<string, Set<string>>();
  for (const g of objects) {
    const set = actionsByArn.get(g.resource) ?? new Set<string>();
    set.add(g.action);
    actionsByArn.set(g.resource, set);
  }
  // Group object ARNs by bucket and action set.
  const groups = new Map<string, string[]>();
  for (const [arn, actions] of actionsByArn) {
    const m = S3_OBJECT.exec(arn)!;
    const key = `${m[1]}${m[2]}\u0000${[...actions].sort().join(',')}`;
    groups.set(key, [...(groups.get(key) ?? []), arn]);
  }
  const scoped = new Map<string, string>();
  for (const [key, arns] of groups) {
    const bucketArn = key.split('\u0000')[0] as string;
    if (scope === 'bucket') {
      for (const a of arns) scoped.set(a, `${bucketArn}/*`);
      continue;
    }
    const keys = arns.map((a) => S3_OBJECT.exec(a)![3] as string);
    const prefix = commonPathPrefix(keys);
    for (const a of arns) scoped.set(a, `${bucketArn}/${prefix}*`);
  }
  return [...rest, ...objects.map((g) => ({ ...g, resource: scoped.get(g.resource) ?? g.resource }))];
}

/** Longest common prefix of the keys that ends at a `/` (or is empty). */
export function commonPathPrefix(keys: string[]): string {
  if (keys.length === 0) return '';
  let prefix = keys[0] as string;
  for (const k of keys) {
    let i = 0;
    while (i < prefix.length && i < k.length && prefix[i] === k[i]) i++;
    prefix = prefix.slice(0, i);
  }
  const cut = prefix.lastIndexOf('/');
  return cut >= 0 ? prefix.slice(0, cut + 1) : '';
}

/** Applies `--account-wildcard`, `--region-wildcard` and `--placeholders` to an ARN. */
export function generaliseArn(
  arn: string,
  o: Pick<PolicyOptions, 'accountWildcard' | 'regionWildcard' | 'placeholders'>,
): string {
  if (!arn.startsWith('arn:')) return arn;
  const parts = arn.split(':');
  if (parts.length < 6) return arn;
  if (parts[3]) parts[3] = o.regionWildcard ? '*' : o.placeholders ? '${AWS::Region}' : (parts[3] as string);
  if (parts[4])
    parts[4] = o.accountWildcard ? '*' : o.placeholders ? '${AWS::AccountId}' : (parts[4] as string);
  return parts.join(':');
}

/** Glob match with `*` and `?` as IAM evaluates resource patterns. */
export function iamGlobMatch(pattern: string, value: string): boolean {
  // Iterative matcher with backtracking on the last star: linear in practice, no regex.
  let p = 0;
  let v = 0;
  let star = -1;
  let mark = 0;
  while (v < value.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === value[v])) {
      p++;
      v++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      mark = v;
    } else if (star >= 0) {
      p = star + 1;
      v = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/** Drops a grant when another grant of the same action already covers its resource. */
function dropCovered(grants: Grant[]): Grant[] {
  const byAction = new Map<string, Grant[]>();
  for (const g of grants) byAction.set(g.action, [...(byAction.get(g.action) ?? []), g]);
  const out: Grant[] = [];
  for (const list of byAction.values()) {
    const patterns = list.filter((g) => /[*?]/.test(g.resource));
    for (const g of list) {
      const cover = patterns.find(
        (p) => p !== g && p.resource !== g.resource && iamGlobMatch(p.resource, g.resource),
      );
      if (!cover) {
        out.push(g);
        continue;
      }
      // Fold the evidence into the covering grant.
      cover.calls += g.calls;
      cover.denied += g.denied;
      cover.first = Math.min(cover.first, g.first);
      cover.last = Math.max(cover.last, g.last);
      cover.traces = [...new Set([...cover.traces, ...g.traces])].sort().slice(0, 3);
      for (const [r, n] of g.observed) cover.observed.set(r, (cover.observed.get(r) ?? 0) + n);
    }
  }
  return out;
}

/**
 * Statements that grant exactly the (action, resource) pairs: either one statement per set of
 * resources sharing an action set, or one per set of actions sharing a resource set, whichever
 * is smaller. Neither widens any grant.
 */
export function buildStatements(grants: { action: string; resource: string }[]): PolicyStatement[] {
  const byResource = new Map<string, Set<string>>();
  const byAction = new Map<string, Set<string>>();
  for (const g of grants) {
    (byResource.get(g.resource) ?? byResource.set(g.resource, new Set()).get(g.resource)!).add(g.action);
    (byAction.get(g.action) ?? byAction.set(g.action, new Set()).get(g.action)!).add(g.resource);
  }
  const group = (m: Map<string, Set<string>>): Map<string, { keys: string[]; values: string[] }> => {
    const out = new Map<string, { keys: string[]; values: string[] }>();
    for (const [k, set] of m) {
      const values = [...set].sort();
      const sig = values.join('\u0000');
      const entry = out.get(sig) ?? { keys: [], values };
      entry.keys.push(k);
      out.set(sig, entry);
    }
    return out;
  };
  const a: PolicyStatement[] = [...group(byResource).values()].map((e) => statement(e.values, e.keys));
  const b: PolicyStatement[] = [...group(byAction).values()].map((e) => statement(e.keys, e.values));
  const pick =
    compactSize({ Version: '2012-10-17', Statement: b }) <
    compactSize({ Version: '2012-10-17', Statement: a })
      ? b
      : a;
  return sortStatements(pick);
}

function statement(actions: string[], resources: string[]): PolicyStatement {
  const Action = [...actions].sort(
    (x, y) => x.toLowerCase().localeCompare(y.toLowerCase()) || (x < y ? -1 : 1),
  );
  const Resource = [...resources].sort();
  return { Sid: sidFor(Action, Resource), Effect: 'Allow', Action, Resource };
}

function sortStatements(st: PolicyStatement[]): PolicyStatement[] {
  return st.sort(
    (x, y) =>
      (x.Action[0] ?? '').localeCompare(y.Action[0] ?? '') ||
      (x.Resource[0] ?? '').localeCompare(y.Resource[0] ?? '') ||
      x.Sid.localeCompare(y.Sid),
  );
}

/** A stable Sid from the statement's content: service name + short hash. */
function sidFor(actions: string[], resources: string[]): string {
  const services = [...new Set(actions.map((a) => a.split(':')[0] ?? ''))].sort();
  const name =
    services
      .map((s) => s.replace(/[^A-Za-z0-9]/g, '').replace(/^./, (c) => c.toUpperCase()))
      .join('')
      .slice(0, 40) || 'Allow';
  const hash = createHash('sha256')
    .update(actions.join(','))
    .update('\u0000')
    .update(resources.join(','))
    .digest('hex')
    .slice(0, 8)
    .toUpperCase();
  return `${name}${hash}`;
}

/** Size of a policy as IAM counts it: the JSON without whitespace. */
export function compactSize(doc: PolicyDocument): number {
  return JSON.stringify(doc).length;
}

/** Splits statements into documents of at most `max` characters (a statement too big alone is split by resources). */
function split(statements: PolicyStatement[], max: number | undefined): PolicyDocument[] {
  const wrap = (s: PolicyStatement[]): PolicyDocument => ({ Version: '2012-10-17', Statement: s });
  if (!max || compactSize(wrap(statements)) <= max) return [wrap(statements)];
  const pieces: PolicyStatement[] = [];
  for (const st of statements) {
    if (compactSize(wrap([st])) <= max || st.Resource.length <= 1) {
      pieces.push(st);
      continue;
    }
    let chunk: string[] = [];
    for (const r of st.Resource) {
      const next = [...chunk, r];
      if (chunk.length > 0 && compactSize(wrap([{ ...st, Resource: next }])) > max) {
        pieces.push({ ...st, Sid: sidFor(st.Action, chunk), Resource: chunk });
        chunk = [r];
      } else {
        chunk = next;
      }
    }
    if (chunk.length > 0) pieces.push({ ...st, Sid: sidFor(st.Action, chunk), Resource: chunk });
  }
  const docs: PolicyStatement[][] = [];
  let current: PolicyStatement[] = [];
  for (const p of pieces) {
    if (current.length > 0 && compactSize(wrap([...current, p])) > max) {
      docs.push(current);
      current = [];
    }
    current.push(p);
  }
  if (current.length > 0) docs.push(current);
  return docs.map(wrap);
}
