/**
 * Least-privilege policies: one IAM policy per workload (or per role) granting what the selected
 * calls were seen to use, with the evidence for every grant. Deterministic: the same database and
 * options give byte-identical documents, on any machine and in any locale.
 *
 * Policies are built one subject at a time from one grouped read of the usage reader, ordered by
 * subject, so that a caller can print each as it comes: memory holds one policy, not all of them.
 */
import { arnParts } from '../iam/arn.js';
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
import { compareUtf8 } from '../store/usage.js';
import { hasTrail, trailLinks, trailRoleSelected, trailRoles } from '../store/trail.js';
import { MANAGEMENT_ONLY, trailEvidence, trailWarnings, type TrailEvidence } from './trail.js';
import { roleWorkloads } from '../runtime/role-workloads.js';
import {
  absorbGrant,
  addObserved,
  dropCovered,
  generaliseArn,
  generalises,
  merge,
  observedOne,
  S3ObjectScoper,
  sum,
  type Grant,
  type ObservedResources,
  type OwnScope,
} from './to-grant.js';
import {
  buildStatements,
  compactSize,
  INLINE_POLICIES_LIMIT,
  MANAGED_POLICY_LIMIT,
  isRuntimeStatement,
  packDocuments,
} from './statements.js';
import { documentsKey, replayEvidence, replayFormats } from './replay.js';
import {
  attrsOf,
  factsOf,
  namedDependent,
  needsOf,
  runtimeEvidence,
  runtimeStatements,
  seenNeeds,
  type NamedDependent,
} from './runtime.js';
import type { RuntimeNeeds } from '../runtime/types.js';
import type { ActionEvidence, PolicyOptions, PolicyResult, PolicyWarning, WorkloadPolicy } from './types.js';
import { permissionWarning, sortWarnings, spanWords, wildcardSpans } from './warnings.js';
import { classWords, OBSERVED_RISK_FLAG, permissionRisk, riskRank } from '../iam/risk.js';

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
  const trail = trailSubjects(store, options, subjects);
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
      // The roles' links to the workloads that run as them, for a role known only from CloudTrail.
      const links = trail.size > 0 ? trailLinks(store) : [];
      const rows = readPermissions(store, {
        filter: options.filter,
        source: options.source,
        thread: options.readThread,
        // Denied calls are read, and left out or kept by buildOne, which lists them either way.
        excludeDenied: false,
        subjects: ranks,
        members: options.roles !== undefined,
        // Each resource's actions together: buildOne folds S3 keys as they come.
        order: 'resource',
      });
      // Closed however the run ends: a consumer that stops early (a failed write) must leave the
      // connection free, or closing it fails with "busy executing a query", hiding the cause.
      try {
        let next = rows.next();
        for (let rank = 0; rank < subjects.length; rank++) {
          const s = subjects[rank] as Subject<WorkloadRecord>;
          const any = !next.done && next.value.subject === rank;
          const trailRole = trail.get(s.key);
          // A role's CloudTrail evidence under the filter; a role none of whose calls it keeps has none.
          const found = trailRole
            ? trailEvidence(store, trailRole, {
                filter: options.filter,
                includeOutside: options.includeOutside === true,
              })
            : undefined;
          const ct = found && found.events > 0 ? found : undefined;
          if (!any && !ct && !s.members.some((w) => unmapped.has(w.id))) continue;
          const used = new Set<number>();
          // This subject's rows, one at a time: buildOne folds them as they come.
          const traced = function* (): Generator<Grant> {
            for (; !next.done && next.value.subject === rank; next = rows.next()) {
              yield grantOf(next.value);
              for (const id of next.value.members ?? []) used.add(id);
            }
          };
          const grants = (): Iterable<Grant> => (ct ? withTrail([...traced()], ct) : traced());
          const membersOf = (): WorkloadRecord[] => {
            for (const w of s.members) if (unmapped.has(w.id) || (!s.role && any)) used.add(w.id);
            return s.members.filter((w) => used.has(w.id));
          };
          // Every member with an unmapped call is used: its warnings are known before the rows.
          const warnings = s.members.flatMap((w) => unmapped.get(w.id) ?? []);
          const raw = grants();
          if (ct) warnings.push(...trailWarnings(ct, options.includeOutside === true));
          // A role no traced workload runs as: the run-time needs of the workloads its links name.
          const linked =
            ct && s.members.length === 0 && options.runtime !== 'none'
              ? roleWorkloads(ct.role, configs, links)
              : undefined;
          if (linked?.warning) warnings.push({ code: 'runtime', message: linked.warning });
          const body = buildOne(
            raw,
            options,
            warnings,
            s.kind,
            () => withTrailObservation(observation(membersOf(), observed), ct),
            thresholds,
            () => {
              const m = membersOf();
              return {
                account: s.role ? (m[0]?.account ?? null) : s.account,
                region: s.region ?? m[0]?.region ?? null,
              };
            },
            () =>
              needsOf(
                linked
                  ? linked.workloads
                  : membersOf().map((w) => ({
                      ...factsOf(w),
                      config: w.arn ? configs.get(w.arn) : undefined,
                    })),
                options,
              ),
          );
          if (ct) addTrailCompleteness(body, ct);
          const members = membersOf();
          const label = members.map((w) => w.arn ?? w.key);
          if (s.role && members.length > 1) sharedRoles.push({ role: s.key, functions: label });
          if (!s.role && options.roles) unmatched.push(s.key);
          yield {
            principal: s.key,
            kind: s.kind,
            name: s.name,
            account: s.role ? (members[0]?.account ?? roleAccount(s.key)) : s.account,
            region: s.region,
            ...body,
            ...(s.role ? { members: label } : {}),
            ...(ct ? { cloudtrail: trailSummary(ct, options.includeOutside === true) } : {}),
          };
        }
      } finally {
        rows.return(undefined);
      }
      unmatched.sort(compareText);
    },
  };
}

/**
 * The CloudTrail roles that are policy subjects, added to `subjects` (in place, kept in key
 * order): with `--by role`, each role's subject is keyed by its ARN and takes the evidence of
 * its traced members too; otherwise a role's evidence is its own subject, `role:ARN`. Roles
 * join a selection only when no workload pattern narrows it (a pattern names traced workloads),
 * except a selected role's own evidence. Returns subject key → role ARN.
 */
function trailSubjects(
  store: Store,
  options: PolicyOptions,
  subjects: Subject<WorkloadRecord>[],
): Map<string, string> {
  const out = new Map<string, string>();
  if (!hasTrail(store)) return out;
  const f = options.filter;
  const keys = new Set(subjects.map((s) => s.key));
  for (const role of trailRoles(store, f)) {
    const key = options.roles ? role : `role:${role}`;
    if (keys.has(key)) out.set(key, role);
    else if (trailRoleSelected(f, role)) {
      subjects.push({
        key,
        kind: 'role',
        name: role.split('/').pop() ?? role,
        account: null,
        region: null,
        members: [],
        role: options.roles !== undefined,
      });
      out.set(key, role);
    }
  }
  subjects.sort((a, b) => compareText(a.key, b.key));
  return out;
}

/**
 * A subject's traced grants with its role's CloudTrail grants merged in: each (action, resource)
 * once, with the evidence of both and which source saw it, ordered by resource as the reader
 * orders them (S3 keys fold as they come).
 */
function withTrail(traced: Grant[], ct: TrailEvidence): Grant[] {
  const byKey = new Map<string, Grant>();
  for (const g of traced) byKey.set(`${g.action}\u0000${g.resource}`, { ...g, sources: ['trace'] });
  for (const g of ct.grants) {
    const prev = byKey.get(`${g.action}\u0000${g.resource}`);
    if (prev) absorbGrant(prev, g);
    else byKey.set(`${g.action}\u0000${g.resource}`, g);
  }
  return [...byKey.values()].sort(
    (a, b) => compareUtf8(a.resource, b.resource) || compareText(a.action, b.action),
  );
}

/** A subject's observation with its role's CloudTrail calls: each record is one piece of evidence, counted apart from the traces. */
function withTrailObservation(o: Observation, ct: TrailEvidence | undefined): Observation {
  if (!ct || ct.events === 0) return o;
  return {
    traces: o.traces ?? 0,
    records: ct.events,
    activeDays: Math.max(o.activeDays ?? 0, ct.days),
    first: o.first === null ? ct.first : Math.min(o.first, ct.first ?? o.first),
    last: o.last === null ? ct.last : Math.max(o.last, ct.last ?? o.last),
    formats: [...new Set([...o.formats, 'cloudtrail'])].sort(),
  };
}

/** Says in the completeness verdict what a role's CloudTrail evidence cannot show. */
function addTrailCompleteness(
  body: Pick<WorkloadPolicy, 'completeness' | 'warnings'>,
  ct: TrailEvidence,
): void {
  if (ct.events === 0 || ct.managementEvents < ct.events) return;
  body.completeness.reason += `; ${MANAGEMENT_ONLY}`;
  body.warnings.push({ code: 'incomplete', message: `${ct.role}: ${MANAGEMENT_ONLY}` });
  sortWarnings(body.warnings);
}

/** What a role's CloudTrail evidence held, for `policy --json`. */
function trailSummary(ct: TrailEvidence, includeOutside: boolean): NonNullable<WorkloadPolicy['cloudtrail']> {
  return {
    role: ct.role,
    events: ct.events,
    managementEvents: ct.managementEvents,
    dataEvents: ct.events - ct.managementEvents,
    sessions: ct.sessions,
    onBehalf: ct.grants
      .filter((g) => g.onBehalf === true)
      .map((g) => ({ action: g.action, resource: g.resource, calls: g.calls }))
      .sort(
        (a, b) => b.calls - a.calls || compareText(a.action, b.action) || compareUtf8(a.resource, b.resource),
      ),
    outsideGranted: includeOutside,
    outside: ct.outside.map((c) => ({
      sourceIp: c.sourceIp,
      userAgent: c.userAgent,
      reason: c.reason,
      calls: c.calls,
      actions: c.actions,
      firstSeen: isoTime(c.first),
      lastSeen: isoTime(c.last),
      eventIds: c.eventIds,
    })),
  };
}

/** The account of a role ARN. */
function roleAccount(key: string): string | null {
  return arnParts(key.replace(/^role:/, ''))?.[4] || null;
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
    observed: observedOne(r.resource, r.calls),
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
 *
 * `raw` is consumed one grant at a time, unique per (action, resource) and with each resource's
 * actions together (the readers order them by resource): S3 object grants are folded into their
 * prefix as they come ({@link S3ObjectScoper}), so memory holds the policy, not every key seen
 * (except with `--s3-objects exact`, whose policy lists every key). `observed` is asked once
 * `raw` is consumed (a role's members are known only then).
 */
export function buildOne(
  raw: Iterable<Grant>,
  options: PolicyOptions,
  warnings: PolicyWarning[],
  kind: string,
  observed: Observation | (() => Observation),
  thresholds: CompletenessThresholds,
  ownScope: OwnScope | (() => OwnScope) = { account: null, region: null },
  runtime?: RuntimeNeeds | (() => RuntimeNeeds | undefined),
): Pick<
  WorkloadPolicy,
  'document' | 'documents' | 'size' | 'warnings' | 'evidence' | 'completeness' | 'replay'
> {
  // Rows are unique per (action, resource): the reader groups them so. They are consumed one
  // at a time: S3 object keys are folded into their prefix as they come.
  const scope = options.s3Objects ?? 'prefix';
  const scoper = scope === 'exact' ? undefined : new S3ObjectScoper(scope);
  const denied: PolicyWarning[] = [];
  const unknown: PolicyWarning[] = [];
  let grants: Grant[] = [];
  // Denied `iam:PassRole` and `kms:` permissions: dependent actions of the workload's calls when
  // one of them explains it (decided once every action is read), else handled as denied.
  const seen = new Set<string>();
  const deniedDependents: Grant[] = [];
  for (const g of raw) {
    seen.add(g.action);
    if (g.calls > 0 && g.denied >= g.calls && /^(iam:passrole|kms:.*)$/i.test(g.action)) {
      deniedDependents.push(g);
      continue;
    }
    // Permissions every call of which was denied: the workload lacks them today, and the denial
    // may be deliberate (an explicit Deny). Granting them would widen access, so by default they
    // are left out and listed; --include-denied grants them.
    if (!options.includeDenied && g.calls > 0 && g.denied >= g.calls) {
      denied.push(deniedWarning(g, 'left-out'));
      continue;
    }
    if (g.resourceUnknown) {
      if (options.unknownResources === 'omit') {
        unknown.push(
          permissionWarning(
            'omitted-unknown',
            g.action,
            g.resource,
            'left out: the trace did not record which resource it used (--unknown-resources omit)',
          ),
        );
        continue;
      }
      const how =
        kind === 'stepfunctions'
          ? 'Step Functions records no parameters of its service integrations: name the resources in the state machine definition'
          : 'X-Ray SDKs record only the request parameters on their allow-list (add this one; Node: AWSXRay.appendAWSWhitelist), and OpenTelemetry instrumentations a fixed set (S3: the bucket, never the key), so record the resource yourself or review the wildcard';
      unknown.push(
        permissionWarning(
          'resource-unknown',
          g.action,
          g.resource,
          `granted on the narrowest wildcard for its resource type: the trace did not record which resource it used. ${how}, or pass --unknown-resources omit`,
        ),
      );
    }
    if (scoper && S3ObjectScoper.takes(g)) scoper.add(g);
    else grants.push(g);
  }
  if (scoper) grants.push(...scoper.finish());
  const named: NamedDependent[] = [];
  for (const g of deniedDependents) {
    const d = namedDependent(g, seen);
    if (d) named.push(d);
    else if (options.includeDenied) grants.push(g);
    else denied.push(deniedWarning(g, 'left-out'));
  }
  warnings.push(...denied, ...unknown);
  // A role's members (and so its account) are known only once its rows are read.
  const own = typeof ownScope === 'function' ? ownScope() : ownScope;
  if (options.placeholders) {
    // Placeholders stand for the deploying account: another account's ARN keeps its account.
    const others = new Set<string>();
    for (const g of grants) {
      const a = arnParts(g.resource)?.[4];
      if (a && a !== own.account && !/[*?]/.test(a)) others.add(`${g.action}\u0000${g.resource}`);
    }
    for (const g of grants)
      if (others.has(`${g.action}\u0000${g.resource}`))
        warnings.push(
          permissionWarning(
            'cross-account',
            g.action,
            g.resource,
            own.account
              ? `another account than the workload's own (${own.account}): kept literal, --placeholders replaces only the workload's own account and region`
              : "the workload's own account is unknown: kept literal, --placeholders replaces only the workload's own account and region",
          ),
        );
  }
  if (generalises(options))
    grants = grants.map((g) => ({ ...g, resource: generaliseArn(g.resource, options, own) }));
  grants = merge(grants);
  grants = dropCovered(grants);
  for (const g of grants) {
    if (g.denied > 0) warnings.push(deniedWarning(g, g.denied >= g.calls ? 'included' : 'partly'));
    // A wildcard over accounts, regions or every resource of a type is never silent; a resource
    // the trace did not record already has its own warning.
    const spans = wildcardSpans(g.resource, g.resourceType).filter(
      (x) => !(x === 'resource' && g.resourceUnknown),
    );
    if (spans.length > 0)
      warnings.push(
        permissionWarning(
          'wildcard',
          g.action,
          g.resource,
          "the resource is a wildcard that spans more than the calls used: narrow it by hand, or find why the trace did not record the account or region (an OpenTelemetry Lambda span without its function's SERVER span has no account)",
          `spans ${spanWords(spans)}; ${callsBehind(g)}`,
        ),
      );
  }
  // A risky permission the workload really uses (iam:PassRole, secrets on every resource) is
  // granted, as it must be; it is still worth a reviewer's second look (docs/risk.md).
  for (const g of grants) {
    const r = permissionRisk(g.action, g.resource);
    if (riskRank(r.level) < riskRank(OBSERVED_RISK_FLAG)) continue;
    warnings.push(
      permissionWarning(
        'risky',
        g.action,
        g.resource,
        `risky permissions observed: ${r.classes.map(classWords).join(', ')} (docs/risk.md). The workload really calls them: check that it should, and that the resource is as narrow as it can be`,
        `risk ${r.level}; ${callsBehind(g)}`,
      ),
    );
  }
  if (options.placeholders) {
    warnings.push({
      code: 'placeholders',
      message:
        "ARNs in the workload's own account and region use ${AWS::AccountId} and ${AWS::Region}: substitute them (CloudFormation !Sub) before attaching",
    });
  }
  const completeness = completenessOf(
    grants,
    typeof observed === 'function' ? observed() : observed,
    thresholds,
  );
  if (completeness.verdict !== 'settled')
    warnings.push({ code: 'incomplete', message: completenessWarning(completeness) });
  const rt = runtimeStatements(typeof runtime === 'function' ? runtime() : runtime, grants, options, named);
  // CloudTrail calls the services made on the workload's behalf that a run-time need covers are that need, seen.
  grants = seenNeeds(grants, rt.needs);
  const statements = buildStatements(grants);
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
        const observed: ObservedResources = { count: 0, sample: [] };
        for (const g of gs) addObserved(observed, g.observed);
        return {
          action,
          origin: 'observed',
          calls: sum(gs.map((g) => g.calls)),
          denied: sum(gs.map((g) => g.denied)),
          // Loops, not Math.min(...list): a statement may hold more resources than a call takes arguments.
          firstSeen: isoTime(gs.reduce((m, g) => Math.min(m, g.first), Infinity)),
          lastSeen: isoTime(gs.reduce((m, g) => Math.max(m, g.last), -Infinity)),
          sampleTraceIds: [...new Set(gs.flatMap((g) => g.traces))].sort().slice(0, 3),
          resourcesObserved: observed.count,
          observed: observed.sample.map(([resource, calls]) => ({ resource, calls })),
          // Which sources saw it, where the policy holds CloudTrail evidence.
          ...(gs.some((g) => g.sources)
            ? { sources: [...new Set(gs.flatMap((g) => g.sources ?? ['trace' as const]))].sort() }
            : {}),
        };
      }),
    })),
  );
  sortWarnings(warnings);
  // Every permission as granted is replayed through the evaluator against the final documents,
  // each with the resources it was seen on (the bounded sample the evidence keeps).
  const observedSample = grants.flatMap((g) =>
    g.observed.sample.map(([resource]) => ({ action: g.action, resource })),
  );
  const replay = replayEvidence(documents, observedSample, rt.needs, options, own);
  const body = { document, documents, size, warnings, evidence, completeness, replay };
  // And again after every output format, read back from the text it writes.
  replayFormats(
    { principal: 'replay', kind, name: 'replay', account: null, region: null, ...body, warnings: [] },
    observedSample,
    rt.needs,
    options,
    own,
    undefined,
    // The documents themselves were just replayed: a format read back to them is not replayed again.
    new Set([documentsKey(documents)]),
  );
  return body;
}

/** The calls behind a grant, for a warning: how many, on what as recorded, a sample trace. */
function callsBehind(g: Grant): string {
  // The sample is in code-unit order; the count is exact.
  const { count, sample } = g.observed;
  const on = count === 1 ? sample[0]?.[0] : `${count} resources, first ${sample[0]?.[0]}`;
  return `${g.calls} call${g.calls === 1 ? '' : 's'} on ${on}${g.traces[0] ? `, trace ${g.traces[0]}` : ''}`;
}

/** The `denied` warning of a grant some or all of whose calls were denied. */
function deniedWarning(g: Grant, how: 'left-out' | 'included' | 'partly'): PolicyWarning {
  const detail = `denied ${g.denied} of ${g.calls} call${g.calls === 1 ? '' : 's'}${g.traces[0] ? `, AccessDenied in trace ${g.traces[0]}` : ''}`;
  const hint =
    how === 'left-out'
      ? 'LEFT OUT: every call that needed it was denied (AccessDenied). The workload lacks it today and the denial may be deliberate (compare --granted names an explicit Deny); grant it only if it should have it: --include-denied'
      : how === 'included'
        ? 'GRANTED although every call that needed it was denied (--include-denied): the workload lacks it today; check that no explicit Deny meant to refuse it'
        : 'granted: some calls were allowed, others denied; the workload lacks it in part today';
  return permissionWarning('denied', g.action, g.resource, hint, detail);
}
