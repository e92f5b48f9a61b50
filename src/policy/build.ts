/**
 * Least-privilege policies: one IAM policy per workload (or per role) granting what the selected
 * calls were seen to use, with the evidence for every grant. Deterministic: the same database and
 * options give byte-identical documents, on any machine and in any locale.
 *
 * Policies are built one subject at a time from one grouped read of the usage reader, ordered by
 * subject, so that a caller can print each as it comes: memory holds one policy, not all of them.
 */
import { compareText } from '../shared/order.js';
import { isoTime } from '../shared/time.js';
import type { Store } from '../store/db.js';
import {
  readPermissions,
  readUnmapped,
  readWorkloads,
  type PermissionUsage,
  type WorkloadUsage,
} from '../store/usage.js';
import {
  completenessOf,
  completenessWarning,
  DEFAULT_THRESHOLDS,
  type CompletenessThresholds,
  type Observation,
} from './completeness.js';
import { loadWorkloads, type WorkloadRecord } from '../store/workloads.js';
import { loadFunctionConfigs } from '../store/configs.js';
import { dropCovered, generaliseArn, generalises, merge, scopeS3Objects, sum, type Grant } from './grants.js';
import {
  buildStatements,
  compactSize,
  INLINE_POLICIES_LIMIT,
  MANAGED_POLICY_LIMIT,
  isRuntimeStatement,
  packDocuments,
} from './statements.js';
import { replayEvidence } from './replay.js';
import { attrsOf, factsOf, needsOf, runtimeEvidence, runtimeStatements } from './runtime.js';
import type { RuntimeNeeds } from '../runtime/types.js';
import type { ActionEvidence, PolicyOptions, PolicyResult, PolicyWarning, WorkloadPolicy } from './types.js';

export type * from './types.js';

/** Who a policy is for: one workload, or a role and the workloads (`members`) that run as it. */
export interface Subject<M> {
  key: string;
  kind: string;
  name: string;
  account: string | null;
  region: string | null;
  /** Workloads whose usage it holds (for a role: every workload the role map gives it). */
  members: M[];
  role: boolean;
}

/** How {@link subjectsOf} sees a workload: its own subject, and the names a role map may use for it. */
export interface SubjectView {
  key: string;
  kind: string;
  name: string;
  account: string | null;
  region: string | null;
  /** Role-map keys to try, in order (ARN, name, key). */
  lookups: string[];
  /** The order in which a role's members are listed (the workload key). */
  order: string;
}

/**
 * The policy subjects, in output order (code-unit order of their keys): each workload, or with
 * `options.roles` each role and its workloads. One definition for the database and for usage rows.
 */
export function subjectsOf<M>(
  members: readonly M[],
  options: PolicyOptions,
  view: (m: M) => SubjectView,
): Subject<M>[] {
  const out = new Map<string, Subject<M>>();
  const views = members.map((m) => [m, view(m)] as const).sort((a, b) => compareText(a[1].order, b[1].order));
  for (const [m, v] of views) {
    let role: string | undefined;
    if (options.roles)
      for (const k of v.lookups) if (k !== '' && (role = options.roles.get(k)) !== undefined) break;
    if (role === undefined) {
      // Two workloads with one key cannot happen (keys are unique), but ARNs could repeat a key.
      if (!out.has(v.key))
        out.set(v.key, {
          key: v.key,
          kind: v.kind,
          name: v.name,
          account: v.account,
          region: v.region,
          members: [m],
          role: false,
        });
      continue;
    }
    const s = out.get(role);
    if (s) s.members.push(m);
    else
      out.set(role, {
        key: role,
        kind: 'role',
        name: role.split('/').pop() ?? role,
        account: null,
        region: null,
        members: [m],
        role: true,
      });
  }
  return [...out.values()].sort((a, b) => compareText(a.key, b.key));
}

/**
 * Policies as they are built, in output order (by subject key, code-unit order). The role
 * summaries are complete once the iteration has ended.
 */
export interface PolicyRun extends Iterable<WorkloadPolicy> {
  /** For `--by role`: roles shared by several functions with selected calls. */
  readonly sharedRoles: PolicyResult['sharedRoles'];
  /** Workloads with selected calls that the role map does not name (they keep their own policy). */
  readonly unmatched: string[];
}

/** Builds one policy per selected workload (or per role), one at a time: see {@link PolicyRun}. */
export function policies(store: Store, options: PolicyOptions): PolicyRun {
  const sharedRoles: PolicyResult['sharedRoles'] = [];
  const unmatched: string[] = [];
  const subjects = subjectsOf(loadWorkloads(store), options, (w) => ({
    key: w.arn ?? w.key,
    kind: w.kind,
    name: w.name,
    account: w.account,
    region: w.region,
    lookups: [w.arn ?? '', w.name, w.key],
    order: w.key,
  }));
  return {
    sharedRoles,
    unmatched,
    *[Symbol.iterator]() {
      const ranks = new Map<number, number>();
      subjects.forEach((s, rank) => {
        for (const w of s.members) ranks.set(w.id, rank);
      });
      // Calls that map to no IAM action are not silently lost: they become warnings.
      const unmapped = new Map<number, PolicyWarning[]>();
      const unmappedCalls = new Map<number, number>();
      for (const u of readUnmapped(store, { filter: options.filter, source: options.source })) {
        const list = unmapped.get(u.workloadId) ?? [];
        list.push({
          code: 'unmapped',
          message: `${u.calls} call${u.calls === 1 ? '' : 's'} to ${u.serviceName}${u.operation ? ` ${u.operation}` : ''} could not be mapped to an IAM action (${u.reason ?? 'unknown'}); review them by hand`,
        });
        unmapped.set(u.workloadId, list);
        unmappedCalls.set(u.workloadId, (unmappedCalls.get(u.workloadId) ?? 0) + u.calls);
      }
      // What each workload's range holds, for the completeness verdict.
      const observed = new Map(
        readWorkloads(store, { filter: options.filter, source: options.source }).map((w) => [w.id, w]),
      );
      const thresholds = { ...DEFAULT_THRESHOLDS, ...options.completeness };
      // What configuration exports say of the functions (log group, VPC, mappings…), read before
      // the rows are iterated: the connection runs one statement at a time.
      const configs = loadFunctionConfigs(store);
      const rows = readPermissions(store, {
        filter: options.filter,
        source: options.source,
        excludeDenied: options.excludeDenied === true,
        subjects: ranks,
        members: options.roles !== undefined,
      });
      let next = rows.next();
      for (let rank = 0; rank < subjects.length; rank++) {
        const s = subjects[rank] as Subject<WorkloadRecord>;
        const grants: Grant[] = [];
        const used = new Set<number>();
        for (; !next.done && next.value.subject === rank; next = rows.next()) {
          grants.push(grantOf(next.value));
          for (const id of next.value.members ?? []) used.add(id);
        }
        for (const w of s.members) if (unmapped.has(w.id) || (!s.role && grants.length > 0)) used.add(w.id);
        if (grants.length === 0 && !s.members.some((w) => unmapped.has(w.id))) continue;
        const members = s.members.filter((w) => used.has(w.id));
        const warnings = members.flatMap((w) => unmapped.get(w.id) ?? []);
        const label = members.map((w) => w.arn ?? w.key);
        if (s.role && members.length > 1) sharedRoles.push({ role: s.key, functions: label });
        if (!s.role && options.roles) unmatched.push(s.key);
        yield {
          principal: s.key,
          kind: s.kind,
          name: s.name,
          account: s.role ? (members[0]?.account ?? null) : s.account,
          region: s.region,
          ...buildOne(
            grants,
            options,
            warnings,
            s.kind,
            observation(members, observed),
            thresholds,
            needsOf(
              members.map((w) => ({ ...factsOf(w), config: w.arn ? configs.get(w.arn) : undefined })),
              options,
            ),
          ),
          ...(s.role ? { members: label } : {}),
        };
      }
      unmatched.sort(compareText);
    },
  };
}

/** Builds every policy at once (tests, `explain`, the report): see {@link policies}. */
export function buildPolicies(store: Store, options: PolicyOptions): PolicyResult {
  const run = policies(store, options);
  const all = [...run];
  return { policies: all, sharedRoles: run.sharedRoles, unmatched: run.unmatched };
}

/** A grant from one permission row of the usage reader (or of aggregated usage rows, usage.ts). */
export function grantOf(r: Omit<PermissionUsage, 'subject' | 'members'>): Grant {
  return {
    action: r.action,
    resource: r.resource,
    resourceType: r.resourceType,
    resourceUnknown: r.resourceUnknown,
    calls: r.calls,
    denied: r.denied,
    first: r.first,
    last: r.last,
    traces: r.traceMin === r.traceMax ? [r.traceMin] : [r.traceMin, r.traceMax],
    observed: new Map([[r.resource, r.calls]]),
  };
}

/**
 * What a subject's workloads did in the range. For a role, the union of its functions: traces
 * add up; its active days are those of its most active function (a lower bound).
 */
function observation(members: WorkloadRecord[], observed: Map<number, WorkloadUsage>): Observation {
  const us = members.map((w) => observed.get(w.id)).filter((u): u is WorkloadUsage => u !== undefined);
  const firsts = us.map((u) => u.first).filter((t): t is number => t !== null);
  const lasts = us.map((u) => u.last).filter((t): t is number => t !== null);
  return {
    traces: sum(us.map((u) => u.traces)),
    activeDays: Math.max(0, ...us.map((u) => u.days)),
    first: firsts.length > 0 ? Math.min(...firsts) : null,
    last: lasts.length > 0 ? Math.max(...lasts) : null,
    formats: [...new Set(us.flatMap((u) => formatsOf(u.attrs)))].sort(),
  };
}

/** The `formats` list of a workload's stored attributes. */
function formatsOf(attrs: string): string[] {
  const v = attrsOf(attrs).formats;
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/**
 * One policy's body from its grants as read: scoping and generalising, statements, the size
 * checks, the warnings, the evidence and the completeness verdict; the run-time needs in their
 * own statements; the replay of all of it through the evaluator. Shared by the database path
 * and `policy --usage` (from aggregated usage rows), so both give the same documents.
 */
export function buildOne(
  raw: Grant[],
  options: PolicyOptions,
  warnings: PolicyWarning[],
  kind: string,
  observed: Observation,
  thresholds: CompletenessThresholds,
  runtime?: RuntimeNeeds,
): Pick<
  WorkloadPolicy,
  'document' | 'documents' | 'size' | 'warnings' | 'evidence' | 'completeness' | 'replay'
> {
  // Rows are unique per (action, resource): the reader groups them so.
  let grants = raw;
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
            : 'X-Ray SDKs record only the request parameters on their allow-list (add this one; Node: AWSXRay.appendAWSWhitelist), and OpenTelemetry instrumentations a fixed set (S3: the bucket, never the key), so record the resource yourself or review the wildcard'
        }, or pass --unknown-resources omit`,
      });
    }
  }
  grants = scopeS3Objects(grants, options.s3Objects ?? 'prefix');
  if (generalises(options))
    grants = grants.map((g) => ({ ...g, resource: generaliseArn(g.resource, options) }));
  grants = merge(grants);
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
  const completeness = completenessOf(grants, observed, thresholds);
  if (completeness.verdict !== 'settled')
    warnings.push({ code: 'incomplete', message: completenessWarning(completeness) });
  const statements = buildStatements(grants);
  const rt = runtimeStatements(runtime, grants, options);
  warnings.push(...rt.warnings);
  const documents = packDocuments([...statements, ...rt.statements], options.maxSize);
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
      actions: st.Action.map((action): ActionEvidence => {
        if (isRuntimeStatement(st)) return runtimeEvidence(st, action, rt.needs);
        const gs = st.Resource.map((r) => byKey.get(`${action}\u0000${r}`)).filter(
          (g): g is Grant => g !== undefined,
        );
        const observed = new Map<string, number>();
        for (const g of gs) for (const [r, n] of g.observed) observed.set(r, (observed.get(r) ?? 0) + n);
        return {
          action,
          origin: 'observed',
          calls: sum(gs.map((g) => g.calls)),
          denied: sum(gs.map((g) => g.denied)),
          // Loops, not Math.min(...list): a statement may hold more resources than a call takes arguments.
          firstSeen: isoTime(gs.reduce((m, g) => Math.min(m, g.first), Infinity)),
          lastSeen: isoTime(gs.reduce((m, g) => Math.max(m, g.last), -Infinity)),
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
  const replay = replayEvidence(
    documents,
    grants.flatMap((g) => [...g.observed.keys()].map((resource) => ({ action: g.action, resource }))),
    rt.needs,
    options,
  );
  return { document, documents, size, warnings, evidence, completeness, replay };
}
