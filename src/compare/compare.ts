/**
 * Observed usage versus what is granted today: per workload, the grants it never used (what to
 * remove) and the permissions it used but is not granted (what is missing), offline.
 *
 * "Used" is the permissions of the workload's selected calls (`target_permissions`), denied calls
 * included: a denied call is a permission the workload needed and lacks today. "Granted" is the
 * identity policies of the workload's role, read from `--granted` files, with action wildcards
 * expanded to concrete actions through the Service Authorization Reference (iam-data).
 *
 * The usage comes through {@link ObservedUsage}: the database ({@link storeUsage}, `compare`) or
 * usage rows (usage-rows.ts, `compare --usage`), so that both are compared by the same code.
 */
import { UserInputError } from '../shared/errors.js';
import { actionInfo, referenceCatalogue, type ActionCatalogue, type ActionInfo } from '../iam/catalogue.js';
import {
  actionFitsResources,
  allActions,
  explain,
  expandActionPattern,
  resourceMatches,
  statementApplies,
  type Origin,
  type Policy,
  type Statement,
  type StatementRef,
} from '../iam/evaluate.js';
import { arnParts } from '../iam/arn.js';
import { actionMatches, globMatch, globsOverlap } from '../iam/glob.js';
import { permissionRisk, RISK_CLASSES, riskRank, type PermissionRisk, type RiskLevel } from '../iam/risk.js';
import { POLICY_FILES_ROLE, type GrantedInputs, type GrantedRole } from '../granted/granted.js';
import { bindPseudoParameters, usesPseudoParameters, type DeployScope } from '../granted/bind.js';
import { compareText } from '../shared/order.js';
import { didYouMean } from '../shared/suggest.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { verdictOf, type CallerClass } from '../iam/caller.js';
import {
  filteredTrailRows,
  hasTrail,
  roleRunsLambda,
  trailLinks,
  trailRoleSelected,
  trailRoles,
} from '../store/trail.js';
import { roleWorkloads } from '../runtime/role-workloads.js';
import { readPermissions, readUnmapped, type UsageScope, type UsageSource } from '../store/usage.js';
import type { ReadThreadMode } from '../store/read-thread/index.js';
import { loadWorkloads } from '../store/workloads.js';
import { loadFunctionConfigs, storedRoles } from '../store/configs.js';
import {
  dependentNeeds,
  factsOf,
  runtimeNeeds,
  unionNeeds,
  type RuntimeNeed,
  type RuntimeNeeds,
} from '../runtime/needs.js';

/** Options for {@link compareUsage}: what is granted, and how to compare. */
export interface ComparisonOptions {
  granted: GrantedInputs;
  /** Compare every selected workload with this role (ARN or name), instead of the functions file. */
  role?: string;
  /** Action patterns (`logs:*`) that may stay granted though unused, e.g. used by AWS itself. */
  allowUnused?: string[];
  /** Defaults to the bundled reference ({@link referenceCatalogue}). */
  catalogue?: ActionCatalogue;
  /** `none`: no run-time need is recognised (every grant no call shows is unused), as `policy --runtime none`. */
  runtime?: 'all' | 'none';
  /**
   * `--max-risk`: only unused grants at or above this risk level fail a workload (missing
   * permissions still do). Default: every unused grant fails it.
   */
  maxRisk?: RiskLevel;
}

/** Options for {@link compareGranted}: the comparison's, and which calls of the database. */
export interface CompareOptions extends ComparisonOptions {
  filter: CallFilter;
  /** Where whole days are read from (tests compare `calls` with the default `rollups`). */
  source?: UsageSource;
  /** Count the calls CloudTrail shows made with a role's credentials from outside its workload as used (`--include-outside`). */
  includeOutside?: boolean;
  /** Whether the permissions are read on worker threads (`XRAY_LP_READ_THREAD`; default `auto`: by database size). */
  readThread?: ReadThreadMode;
}

/** One (action, resource) permission a workload used, summed over its selected calls. */
export interface ObservedPermission {
  action: string;
  resource: string;
  /** The trace did not record the resource: `resource` is the narrowest wildcard for its type. */
  resourceUnknown: boolean;
  /** Calls that needed it, denied ones included. */
  calls: number;
  denied: number;
}

/** A selected workload and what it was observed to use. */
export interface ObservedWorkload {
  /** The workload's ARN, else its key (as `policy --json` prints it). */
  principal: string;
  kind: string;
  name: string;
  account: string | null;
  /** The names a functions file may give it, tried in this order (its ARN, name, key). */
  lookup: string[];
  /**
   * Its permissions, one per (action, resource), read once and in any order: a source may stream
   * them from its reader while the workload is compared (memory holds the result, not the rows).
   */
  permissions: Iterable<ObservedPermission>;
  /** Calls that map to no IAM action: their permissions cannot be counted as used. */
  unmappedCalls: number;
  /** Its run-time needs (src/runtime): granted for them, a permission is needed though no call shows it. */
  runtime?: RuntimeNeeds;
  /** The role it is known to run as, before any functions file: a CloudTrail role is its own. */
  role?: string;
  /** What its evidence says beyond its permissions (CloudTrail calls counted, outside calls not). */
  notes?: string[];
}

/**
 * Where the observed usage comes from: a database ({@link storeUsage}) or usage rows
 * (`rowsUsage`, usage-rows.ts). The comparison itself is the same for both.
 */
export interface ObservedUsage {
  /**
   * The selected workloads with a permission or an unmapped call (any order), each compared
   * before the next is asked for.
   */
  workloads(): Iterable<ObservedWorkload>;
}

/** How a workload was matched to what it is granted. */
export type MatchedBy = 'functions' | 'role-option' | 'policy-files' | 'cloudtrail';

/** An Allow statement's (action pattern × resource pattern) pair with actions nobody used. */
export interface UnusedGrant {
  policy: string;
  sid: string | null;
  /** 1-based statement number in the policy. */
  statement: number;
  /** The action pattern, or `NotAction: a, b` for a NotAction statement. */
  action: string;
  /** The resource pattern, or `NotResource: a, b`. */
  resource: string;
  /** The statement has a Condition or a policy variable: it grants only when that holds. */
  conditional: boolean;
  /** How many concrete actions the pair grants. */
  granted: number;
  /** Concrete actions granted and never used (what to remove), minus `allowedUnused`. */
  unused: string[];
  /** Unused, but matched by an `--allow-unused` pattern. */
  allowedUnused: string[];
  /**
   * Never called, but needed by the services that run the workload (its logs, trace upload,
   * event-source polling): run-time needs, never "remove".
   */
  runtime: string[];
  /** Concrete actions used through the pair. */
  used: string[];
  /** Resources those actions were used on (at most 10): the narrower pattern to write. */
  usedResources: string[];
  /** Where the statement is written (infrastructure as code): the file, resource and line to change. */
  origin?: Origin;
  /** The highest risk of its `unused` actions on its resource (src/iam/risk.ts); `none` when none is risky. */
  risk: RiskLevel;
  /**
   * What makes it risky: its `unused` actions that have a risk class, the riskiest first (level,
   * then class: privilege escalation before the others), at most {@link RISKY_LISTED} of them.
   */
  risky: PermissionRisk[];
  /** How many of its `unused` actions have a risk class (`risky` lists the first of them). */
  riskyCount: number;
}

/** A permission the workload used (or was denied) that its role does not grant. */
export interface MissingPermission {
  action: string;
  resource: string;
  calls: number;
  denied: number;
  reason: 'not-granted' | 'denied-explicit';
  deniedBy: StatementRef[];
  /**
   * True when a run-time need of the workload covers it: a call the service running the workload
   * made with its role (CloudTrail shows Lambda's `awslambda-worker` writing logs), listed among
   * the run-time needs as well. It is still missing: the check fails on it like on any other.
   */
  runtimeNeed?: boolean;
}

/** A used permission whose outcome depends on a condition or a policy variable. */
export interface ConditionalPermission {
  action: string;
  resource: string;
  calls: number;
  denied: number;
  statements: StatementRef[];
}

/** A used permission whose resource the trace did not record, granted only on some resources. */
export interface UnverifiablePermission {
  action: string;
  resource: string;
  calls: number;
  statements: StatementRef[];
}

/** Granted by the files, yet denied when called: something else denies it. */
export interface DeniedAtRuntime {
  action: string;
  resource: string;
  denied: number;
  allowedBy: StatementRef[];
}

/** A run-time need of a workload and whether its role grants it. */
export interface RuntimeNeedStatus extends RuntimeNeed {
  granted: boolean;
  possible: boolean;
}

/** One workload compared with its role. */
export interface WorkloadComparison {
  principal: string;
  kind: string;
  name: string;
  account: string | null;
  role: {
    name: string;
    arn: string | null;
    matchedBy: MatchedBy;
    policies: string[];
    /** Where the role is defined (infrastructure as code): where a missing permission is added. */
    origin?: Origin;
  };
  granted: {
    /** Concrete actions granted (conditionally or not) on at least one resource. */
    actions: number;
    /** Of those, granted only by conditional statements. */
    conditional: number;
  };
  used: {
    /** Distinct actions used (denied calls included). */
    actions: number;
    /** Of those, how many are among the granted actions. */
    granted: number;
    /** Distinct (action, resource) pairs used. */
    permissions: number;
    calls: number;
  };
  /** "uses 4 of 312 granted actions (1%)". */
  headline: string;
  unused: UnusedGrant[];
  missing: MissingPermission[];
  conditional: ConditionalPermission[];
  unverifiable: UnverifiablePermission[];
  deniedAtRuntime: DeniedAtRuntime[];
  /**
   * The workload's run-time needs and whether the role grants each (`possible`: needed or not
   * depending on what the inputs do not show, such as how OpenTelemetry data is uploaded).
   */
  runtimeNeeds: RuntimeNeedStatus[];
  notes: string[];
  /** The highest risk of its unused grants (`none` without any): the report ranks workloads by it. */
  risk: RiskLevel;
  /**
   * No unused grant beyond `--allow-unused` and run-time needs (with `maxRisk`: none at or above
   * it), and nothing missing.
   */
  passes: boolean;
}

/** The result of {@link compareGranted}. */
export interface CompareResult {
  workloads: WorkloadComparison[];
  /** Selected workloads that could not be matched to anything granted. */
  unmatchedWorkloads: { principal: string; kind: string; name: string; reason: string }[];
  /** Roles in the files that no selected workload was matched to. */
  unmatchedRoles: { name: string; arn: string }[];
  /** `--check` verdict: false when a workload fails or no workload could be compared. */
  passed: boolean;
}

type Used = ObservedPermission;

interface Subject {
  name: string;
  arn: string | null;
  policies: Policy[];
  notes: string[];
  origin?: Origin;
}

/**
 * The database as an {@link ObservedUsage}: the permissions of the selected calls, read by the
 * same reader as policies (whole days from the rollups, partial days from calls).
 *
 * With `roles` (function → role ARN, as the functions files and configuration exports say), the
 * CloudTrail calls made with a role's credentials count as used: for each traced workload that
 * runs as it (as `policy --by role` links them), else for the role itself, `role:ARN`, compared
 * with that role. Calls made with them outside the workload are not used: they are named in notes.
 */
export function storeUsage(
  store: Store,
  scope: UsageScope,
  roles?: ReadonlyMap<string, string>,
  /** Count the outside calls as used too (`--include-outside`); they are still named. */
  includeOutside = false,
): ObservedUsage {
  return {
    *workloads() {
      // The roles with CloudTrail calls in the range; each role's calls are read once.
      const trail = roles && hasTrail(store) ? new Set(trailRoles(store, scope.filter)) : new Set<string>();
      const evidence = new Map<string, TrailUsage>();
      const trailOf = (role: string): TrailUsage => {
        let e = evidence.get(role);
        if (!e) evidence.set(role, (e = trailUsage(store, role, scope.filter, includeOutside)));
        return e;
      };
      const unmapped = new Map<number, number>();
      for (const u of readUnmapped(store, scope))
        unmapped.set(u.workloadId, (unmapped.get(u.workloadId) ?? 0) + u.calls);
      // One read ordered by workload id, each workload's rows handed over as it is compared.
      const rows = readPermissions(store, scope);
      const configs = loadFunctionConfigs(store);
      // The read is closed however the caller stops (the last workloads may not be read through):
      // an open read keeps the connection busy, and closing the store would fail.
      try {
        let next = rows.next();
        for (const w of loadWorkloads(store).sort((a, b) => a.id - b.id)) {
          // Rows of a workload the caller did not read through (it could not be matched).
          while (!next.done && next.value.subject < w.id) next = rows.next();
          const any = !next.done && next.value.subject === w.id;
          if (!any && !unmapped.has(w.id)) continue;
          const lookup = [w.arn ?? '', w.name, w.key];
          const role = lookup.reduce<string | undefined>((found, k) => found ?? roles?.get(k), undefined);
          const ct = role !== undefined && trail.has(role) ? trailOf(role) : undefined;
          const permissions = function* (): Generator<ObservedPermission> {
            const seen = new Set<string>();
            for (; !next.done && next.value.subject === w.id; next = rows.next()) {
              const r = next.value;
              const key = `${r.action}\u0000${r.resource}`;
              const c = ct?.permissions.get(key);
              if (c) seen.add(key);
              yield {
                action: r.action,
                resource: r.resource,
                resourceUnknown: r.resourceUnknown,
                calls: r.calls + (c?.calls ?? 0),
                denied: r.denied + (c?.denied ?? 0),
              };
            }
            for (const [key, c] of ct?.permissions ?? []) if (!seen.has(key)) yield c;
          };
          yield {
            principal: w.arn ?? w.key,
            kind: w.kind,
            name: w.name,
            account: w.account,
            lookup,
            permissions: permissions(),
            unmappedCalls: (unmapped.get(w.id) ?? 0) + (ct?.unmappedCalls ?? 0),
            runtime: runtimeNeeds({ ...factsOf(w), config: w.arn ? configs.get(w.arn) : undefined }),
            ...(ct ? { notes: ct.notes } : {}),
          };
        }
      } finally {
        rows.return(undefined);
      }
      // A role no compared workload runs as: its CloudTrail calls are its own usage, and the
      // run-time needs of the workloads its links name are its needs (as `policy` gives them).
      let links: ReturnType<typeof trailLinks> | undefined;
      for (const role of trail) {
        if (evidence.has(role) || !trailRoleSelected(scope.filter, role)) continue;
        const ct = trailOf(role);
        if (ct.events === 0) continue;
        const name = role.split('/').pop() ?? role;
        const linked = roleWorkloads(role, configs, (links ??= trailLinks(store))).workloads;
        yield {
          principal: `role:${role}`,
          kind: 'role',
          name,
          account: arnParts(role)?.[4] || null,
          lookup: [role, name, `role:${role}`],
          permissions: ct.permissions.values(),
          unmappedCalls: ct.unmappedCalls,
          ...(linked.length > 0 ? { runtime: unionNeeds(linked.map(runtimeNeeds)) } : {}),
          role,
          notes: ct.notes,
        };
      }
    },
  };
}

/** One role's CloudTrail calls as usage (see {@link trailUsage}). */
interface TrailUsage {
  /** Calls kept by the filter (outside ones included). */
  events: number;
  /** The workload's own calls and the services' on its behalf, per `action\0resource`. */
  permissions: Map<string, ObservedPermission>;
  unmappedCalls: number;
  notes: string[];
}

/** Distinct outside callers named per role (the rest are summed into one note). */
const MAX_OUTSIDE_NOTES = 10;
/** Distinct outside callers kept per role while reading (memory stays bounded; later ones are summed). */
const MAX_OUTSIDE_KEPT = 50;

/**
 * One role's CloudTrail calls under the filter, as `filteredTrailRows` reads them, classified as
 * policies classify them (src/iam/caller.ts): the workload's own calls and the services' calls
 * on its behalf are used; calls with its credentials from outside the workload are not, and are
 * named by source address and user agent. Memory holds the role's distinct permissions.
 */
function trailUsage(store: Store, role: string, filter: CallFilter, includeOutside: boolean): TrailUsage {
  const permissions = new Map<string, ObservedPermission>();
  const outside = new Map<string, { calls: number; actions: Set<string> }>();
  let events = 0;
  let counted = 0;
  let unmappedCalls = 0;
  // Calls of outside callers beyond those kept.
  let others = 0;
  const tokenSeen = roleRunsLambda(store, role);
  for (const { row, outcome, mapped, permissions: kept } of filteredTrailRows(store, role, filter)) {
    events++;
    if (verdictOf(row.caller as CallerClass, tokenSeen) === 'outside') {
      // The AWS CLI names each command in its agent (`command/s3.ls`): one tool, one caller.
      const agent = row.userAgent?.replace(/ command\/\S+/, '') ?? '(none)';
      const key = `${row.sourceIp ?? 'an unknown address'}, user agent ${agent}`;
      if (!outside.has(key) && outside.size >= MAX_OUTSIDE_KEPT) {
        others++;
        continue;
      }
      const c = outside.get(key) ?? { calls: 0, actions: new Set<string>() };
      c.calls++;
      if (mapped.status === 'mapped') for (const p of kept) c.actions.add(p.action);
      else c.actions.add(`${row.eventSource.split('.')[0]}:${row.eventName}`);
      outside.set(key, c);
      // Named either way; counted as used only when the reviewer says the calls are theirs.
      if (!includeOutside) continue;
    }
    counted++;
    if (mapped.status === 'unmapped') unmappedCalls++;
    if (mapped.status !== 'mapped') continue;
    const denied = outcome === 'denied' ? 1 : 0;
    for (const p of kept) {
      const key = `${p.action}\u0000${p.resource}`;
      const u = permissions.get(key);
      if (u) {
        u.calls++;
        u.denied += denied;
      } else
        permissions.set(key, {
          action: p.action,
          resource: p.resource,
          resourceUnknown: p.resourceUnknown,
          calls: 1,
          denied,
        });
    }
  }
  const plural = (n: number): string => `${n} call${n === 1 ? '' : 's'}`;
  const notes: string[] = [];
  if (counted > 0) notes.push(`${plural(counted)} recorded by CloudTrail with ${role} counted as used`);
  const callers = [...outside].sort((a, b) => b[1].calls - a[1].calls || compareText(a[0], b[0]));
  for (const [from, c] of callers.slice(0, MAX_OUTSIDE_NOTES))
    notes.push(
      `credentials used outside the workload: ${plural(c.calls)} with ${role} from ${from}: ${[...c.actions].sort().join(', ')}; ${includeOutside ? 'COUNTED AS USED (--include-outside)' : 'not counted as used: check who holds these credentials, then pass --include-outside if they are yours'}`,
    );
  const rest = callers.slice(MAX_OUTSIDE_NOTES).reduce((n, [, c]) => n + c.calls, others);
  if (rest > 0)
    notes.push(
      `credentials used outside the workload: ${plural(rest)} with ${role} from other callers; ${includeOutside ? 'COUNTED AS USED (--include-outside)' : 'not counted as used'}`,
    );
  return { events, permissions, unmappedCalls, notes };
}

/** Compares each selected workload's usage in the database with what its role is granted. */
export function compareGranted(store: Store, options: CompareOptions): CompareResult {
  // Which role each function runs as: the functions files, else the configuration exports ingested.
  const functions = new Map([...storedRoles(store), ...options.granted.functions]);
  return compareUsage(
    storeUsage(
      store,
      { filter: options.filter, source: options.source, thread: options.readThread },
      functions,
      options.includeOutside === true,
    ),
    {
      ...options,
      granted: { ...options.granted, functions },
    },
  );
}

/** Compares each workload of `usage` with what its role is granted. */
export function compareUsage(usage: ObservedUsage, options: ComparisonOptions): CompareResult {
  const catalogue = options.catalogue ?? referenceCatalogue;
  const { granted } = options;
  if (granted.roles.length === 0 && granted.policies.length === 0)
    throw new UserInputError(
      '--granted: no role or policy found in the files. Pass a policy document or `aws iam get-account-authorization-details` output (a functions file alone says which role, not what it grants).',
    );
  const pseudo: Subject | undefined =
    granted.policies.length > 0
      ? {
          // Shown as the files themselves; `--role policy-files` selects it.
          name: [...new Set(granted.policies.map((p) => p.name.split('#')[0] ?? p.name))].join(', '),
          arn: null,
          policies: granted.policies,
          notes: [],
        }
      : undefined;
  const fromRole = (r: GrantedRole): Subject => ({
    name: r.name,
    arn: r.arn,
    policies: r.policies,
    notes: r.notes,
    ...(r.origin ? { origin: r.origin } : {}),
  });
  const findRole = (arnOrName: string): GrantedRole | undefined =>
    granted.roles.find((r) => r.arn === arnOrName) ??
    granted.roles.find((r) => r.name === arnOrName) ??
    // Role names are unique case-insensitively in IAM; a functions file's ARN may carry a path.
    granted.roles.find((r) => r.name.toLowerCase() === (arnOrName.split('/').pop() ?? '').toLowerCase());

  let forced: Subject | undefined;
  if (options.role !== undefined) {
    const r = findRole(options.role);
    if (r) forced = fromRole(r);
    else if (options.role === POLICY_FILES_ROLE && pseudo) forced = pseudo;
    else {
      const names = [...granted.roles.map((x) => x.name), ...(pseudo ? [POLICY_FILES_ROLE] : [])];
      throw new UserInputError(
        `--role ${JSON.stringify(options.role)} is not in the --granted files${didYouMean(options.role, [...granted.roles.flatMap((x) => [x.name, x.arn]), ...(pseudo ? [POLICY_FILES_ROLE] : [])])}. Roles there: ${names.slice(0, 20).join(', ') || '(none)'}${names.length > 20 ? `, … ${names.length - 20} more` : ''}.`,
      );
    }
  }

  const out: WorkloadComparison[] = [];
  const unmatchedWorkloads: CompareResult['unmatchedWorkloads'] = [];
  const matchedRoles = new Set<string>();
  const cache = new Map<Subject, Map<string, { subject: Subject; set: GrantedSet }>>();
  // One workload at a time, as the source reads them; the results are ordered by principal.
  for (const w of usage.workloads()) {
    const { principal } = w;
    let subject: Subject | undefined;
    let matchedBy: MatchedBy = 'role-option';
    let reason = '';
    if (forced) subject = forced;
    else if (w.role !== undefined) {
      // A CloudTrail role: compared with itself.
      const r = findRole(w.role);
      if (r) {
        subject = fromRole(r);
        matchedBy = 'cloudtrail';
      } else reason = `its CloudTrail calls are made with ${w.role}, which is not in the --granted files`;
      if (!subject && pseudo) {
        subject = pseudo;
        matchedBy = 'policy-files';
      }
    } else {
      const roleArn = w.lookup.reduce<string | undefined>(
        (found, k) => found ?? granted.functions.get(k),
        undefined,
      );
      if (roleArn) {
        const r = findRole(roleArn);
        if (r) {
          subject = fromRole(r);
          matchedBy = 'functions';
        } else reason = `runs as ${roleArn}, which is not in the --granted files`;
      } else
        reason =
          granted.functions.size === 0
            ? 'no functions file says which role it runs as; pass `aws lambda list-functions` output or --role'
            : w.kind === 'lambda'
              ? 'not in the functions file'
              : `only Lambda functions are matched through a functions file; compare it with --workload ${w.name} --role ROLE`;
      if (!subject && pseudo) {
        subject = pseudo;
        matchedBy = 'policy-files';
      }
    }
    if (!subject) {
      unmatchedWorkloads.push({ principal, kind: w.kind, name: w.name, reason });
      continue;
    }
    if (subject.arn) matchedRoles.add(subject.arn);
    // Infrastructure as code names the account and region as pseudo parameters: bound to the
    // workload's own, one granted set per role and scope.
    const scope = usesPseudoParameters(subject.policies) ? scopeOf(w) : undefined;
    const key = scope ? `${scope.account}|${scope.region}|${scope.partition}` : '';
    let byScope = cache.get(subject);
    if (!byScope) cache.set(subject, (byScope = new Map()));
    let bound = byScope.get(key);
    if (!bound) {
      const s = scope ? { ...subject, policies: bindPseudoParameters(subject.policies, scope) } : subject;
      bound = { subject: s, set: grantedSet(s.policies, catalogue) };
      byScope.set(key, bound);
    }
    out.push(compareOne(w, bound.subject, matchedBy, bound.set, options));
  }
  out.sort((a, b) => compareText(a.principal, b.principal));
  unmatchedWorkloads.sort((a, b) => compareText(a.principal, b.principal));
  const unmatchedRoles = granted.roles
    .filter((r) => !matchedRoles.has(r.arn))
    .map((r) => ({ name: r.name, arn: r.arn }))
    .sort((a, b) => compareText(a.arn, b.arn));
  return {
    workloads: out,
    unmatchedWorkloads,
    unmatchedRoles,
    passed: out.length > 0 && out.every((w) => w.passes),
  };
}

/** A workload's account, region and partition, from its ARN (else its account alone). */
function scopeOf(w: ObservedWorkload): DeployScope {
  const parts = arnParts(w.principal);
  return {
    account: w.account ?? (parts?.[4] || null),
    region: parts?.[3] || null,
    partition: parts?.[1] || null,
  };
}

/** The concrete actions a set of policies grants. */
interface GrantedSet {
  /** Lower-cased action → canonical spelling, granted by an unconditional statement. */
  plain: Map<string, string>;
  /** Granted only conditionally. */
  conditional: Map<string, string>;
  /** Per Allow statement and pair: the concrete actions (computed once per role). */
  pairs: {
    s: Statement;
    action: string;
    resource: string;
    match: (a: string, r: Used) => boolean;
    concrete: string[];
    origin?: Origin;
  }[];
}

const isConditional = (s: Statement): boolean => s.conditionKeys.length > 0 || s.usesVariables;

function grantedSet(policies: readonly Policy[], catalogue: ActionCatalogue): GrantedSet {
  const statements = policies.flatMap((p) => p.statements);
  const origins = new Map<Statement, Origin>();
  for (const p of policies)
    if (p.origin)
      for (const s of p.statements)
        origins.set(s, s.line === undefined ? p.origin : { ...p.origin, line: s.line });
  const denies = statements.filter((s) => s.effect === 'Deny' && !isConditional(s));
  const infoCache = new Map<string, ActionInfo | undefined>();
  const info = (a: string): ActionInfo | undefined => {
    if (!infoCache.has(a)) infoCache.set(a, actionInfo(a));
    return infoCache.get(a);
  };
  // An unconditional Deny that covers every resource of the pair removes the action from it.
  const deniedOn = (action: string, mode: Statement['resourceMode'], resources: readonly string[]): boolean =>
    denies.some(
      (d) =>
        d.actions.some((p) => actionMatches(p, action)) === (d.actionMode === 'Action') &&
        d.resourceMode === 'Resource' &&
        (d.resources.includes('*') ||
          (mode === 'Resource' && resources.every((r) => d.resources.some((p) => globMatch(p, r))))),
    );
  let everything: string[] | undefined;
  const pairs: GrantedSet['pairs'] = [];
  const plain = new Map<string, string>();
  const conditional = new Map<string, string>();
  for (const s of statements) {
    if (s.effect !== 'Allow') continue;
    const actionPatterns =
      s.actionMode === 'Action'
        ? s.actions.map((a) => ({
            label: a,
            concrete: expandActionPattern(a, catalogue),
            match: (x: string) => actionMatches(a, x),
          }))
        : [
            {
              label: `NotAction: ${s.actions.join(', ')}`,
              concrete: (everything ??= allActions(catalogue)).filter(
                (x) => !s.actions.some((p) => actionMatches(p, x)),
              ),
              match: (x: string) => !s.actions.some((p) => actionMatches(p, x)),
            },
          ];
    const resourcePatterns =
      s.resourceMode === 'Resource'
        ? s.resources.map((r) => ({ label: r, list: [r] }))
        : [{ label: `NotResource: ${s.resources.join(', ')}`, list: s.resources }];
    for (const a of actionPatterns)
      for (const r of resourcePatterns) {
        const concrete = a.concrete.filter(
          (x) => actionFitsResources(info(x), s.resourceMode, r.list) && !deniedOn(x, s.resourceMode, r.list),
        );
        const single: Statement = { ...s, resources: r.list };
        const origin = origins.get(s);
        pairs.push({
          s,
          action: a.label,
          resource: r.label,
          concrete,
          ...(origin ? { origin } : {}),
          match: (action, u) =>
            a.match(action) &&
            (u.resourceUnknown && s.resourceMode === 'Resource'
              ? r.list.some((p) => p === '*' || globsOverlap(p, u.resource))
              : statementApplies(
                  { ...single, conditionKeys: [], actions: ['*'], actionMode: 'Action' },
                  action,
                  u.resource,
                ) !== 'no'),
        });
        for (const x of concrete) {
          const k = x.toLowerCase();
          if (!isConditional(s)) {
            plain.set(k, x);
            conditional.delete(k);
          } else if (!plain.has(k)) conditional.set(k, x);
        }
      }
  }
  return { plain, conditional, pairs };
}

function compareOne(
  w: ObservedWorkload,
  subject: Subject,
  matchedBy: MatchedBy,
  set: GrantedSet,
  options: ComparisonOptions,
): WorkloadComparison {
  const unmappedCalls = w.unmappedCalls;
  const allow = options.allowUnused ?? [];
  const policies = subject.policies;
  const missing: MissingPermission[] = [];
  const conditional: ConditionalPermission[] = [];
  const unverifiable: UnverifiablePermission[] = [];
  const deniedAtRuntime: DeniedAtRuntime[] = [];
  // One pass over the permissions (a source may stream them): what each granted pair was used
  // through is gathered as they come.
  const through = set.pairs.map(() => ({
    actions: new Set<string>(),
    used: new Set<string>(),
    resources: [] as string[],
  }));
  const usedActions = new Set<string>();
  // As recorded (dependent needs are looked up by these names).
  const usedNames = new Set<string>();
  let permissions = 0;
  let calls = 0;
  for (const u of w.permissions) {
    permissions++;
    calls += u.calls;
    usedActions.add(u.action.toLowerCase());
    usedNames.add(u.action);
    set.pairs.forEach((pair, k) => {
      if (!pair.match(u.action, u)) return;
      const t = through[k]!;
      t.actions.add(u.action.toLowerCase());
      t.used.add(pair.concrete.find((c) => c.toLowerCase() === u.action.toLowerCase()) ?? u.action);
      keepFirst(t.resources, u.resource, USED_RESOURCES);
    });
    const e = explain(policies, u.action, u.resource);
    if (e.decision === 'allowed') {
      if (u.denied > 0)
        deniedAtRuntime.push({
          action: u.action,
          resource: u.resource,
          denied: u.denied,
          allowedBy: e.allowedBy,
        });
    } else if (e.decision === 'conditional')
      conditional.push({
        action: u.action,
        resource: u.resource,
        calls: u.calls,
        denied: u.denied,
        statements: [...e.conditionalAllow, ...e.conditionalDeny, ...e.allowedBy],
      });
    else {
      // The trace did not record the resource (`table/*`): an allow on some tables may cover it.
      const partial =
        e.decision === 'not-allowed' && u.resourceUnknown
          ? policies.flatMap((p) =>
              p.statements.filter(
                (s) =>
                  s.effect === 'Allow' &&
                  s.resourceMode === 'Resource' &&
                  statementApplies({ ...s, resources: ['*'], conditionKeys: [] }, u.action, u.resource) ===
                    'yes' &&
                  s.resources.some((r) => globsOverlap(r, u.resource)),
              ),
            )
          : [];
      if (partial.length > 0)
        unverifiable.push({
          action: u.action,
          resource: u.resource,
          calls: u.calls,
          statements: partial.map((s) => ({ policy: s.policy, sid: s.sid, index: s.index })),
        });
      else
        missing.push({
          action: u.action,
          resource: u.resource,
          calls: u.calls,
          denied: u.denied,
          reason: e.decision === 'denied-explicit' ? 'denied-explicit' : 'not-granted',
          deniedBy: e.deniedBy,
        });
    }
  }

  const runtime = options.runtime === 'none' ? undefined : w.runtime;
  const dependent = runtime?.scope ? dependentNeeds([...usedNames], runtime.scope).possible : [];
  const needs = [
    ...(runtime?.needs ?? []).map((n) => ({ ...n, possible: false })),
    ...[...(runtime?.possible ?? []), ...dependent].map((n) => ({ ...n, possible: true })),
  ];
  // A pair's resource that is a NotResource list or a pattern: a need on a resource it may cover.
  const isNeeded = (action: string, resource: string): boolean =>
    needs.some(
      (n) =>
        n.action.toLowerCase() === action.toLowerCase() &&
        (resource.startsWith('NotResource: ') || resource === '*' || globsOverlap(resource, n.resource)),
    );
  const runtimeStatus: RuntimeNeedStatus[] = needs.map((n) => ({
    ...n,
    granted: explain(policies, n.action, n.resource).decision === 'allowed',
  }));
  // A missing permission a run-time need covers was seen being used by the service that runs
  // the workload: said once, as that need, so that a reader does not count it twice.
  for (const m of missing)
    if (
      needs.some(
        (n) =>
          n.action.toLowerCase() === m.action.toLowerCase() &&
          resourceMatches(n.resource, m.resource) === 'yes',
      )
    )
      m.runtimeNeed = true;
  const unused: UnusedGrant[] = [];
  set.pairs.forEach((pair, k) => {
    const t = through[k]!;
    const idle = pair.concrete.filter((a) => !t.actions.has(a.toLowerCase()));
    if (idle.length === 0) return;
    // Needed by the run time on what this pair grants: not unused.
    const runtime = idle.filter((a) => isNeeded(a, pair.resource));
    const rest = idle.filter((a) => !runtime.includes(a));
    const allowed = rest.filter((a) => allow.some((p) => actionMatches(p, a)));
    const remove = rest.filter((a) => !allowed.includes(a));
    const risky = remove
      .map((a) => permissionRisk(a, pair.resource))
      .filter((r) => r.classes.length > 0)
      .sort(
        (a, b) =>
          riskRank(b.level) - riskRank(a.level) ||
          classOrder(a) - classOrder(b) ||
          compareText(a.action, b.action),
      );
    unused.push({
      policy: pair.s.policy,
      sid: pair.s.sid,
      statement: pair.s.index + 1,
      action: pair.action,
      resource: pair.resource,
      conditional: isConditional(pair.s),
      granted: pair.concrete.length,
      unused: remove,
      allowedUnused: allowed,
      runtime,
      used: [...t.used].sort(),
      usedResources: t.resources,
      ...(pair.origin ? { origin: pair.origin } : {}),
      risk: risky[0]?.level ?? 'none',
      // Bounded: an `Action: "*"` grant has thousands of risky actions (the output grew 5x).
      risky: risky.slice(0, RISKY_LISTED),
      riskyCount: risky.length,
    });
  });
  // What to remove, riskiest first; equal risks keep the policies' order (the sort is stable).
  unused.sort((a, b) => riskRank(b.risk) - riskRank(a.risk));
  const risk = unused.find((u) => u.unused.length > 0)?.risk ?? 'none';
  const floor = options.maxRisk === undefined ? 0 : riskRank(options.maxRisk);

  const grantedCount = set.plain.size + set.conditional.size;
  const usedGranted = [...usedActions].filter((a) => set.plain.has(a) || set.conditional.has(a)).length;
  const notes = [...subject.notes, ...(w.notes ?? [])];
  if (unmappedCalls > 0)
    notes.push(
      `${unmappedCalls} call${unmappedCalls === 1 ? '' : 's'} could not be mapped to an IAM action; their permissions are not counted as used`,
    );
  if (deniedAtRuntime.length > 0)
    notes.push(
      'some calls were denied although these files grant them: a permissions boundary, SCP, session or resource policy denies them',
    );
  if (unverifiable.length > 0)
    notes.push(
      'some calls did not record their resource, so whether the grant covers them is unknown; add the request parameter to the X-Ray SDK allow-list to record it',
    );
  const byKey = <T extends { action: string; resource: string }>(a: T, b: T): number =>
    compareText(a.action, b.action) || compareText(a.resource, b.resource);
  missing.sort(byKey);
  conditional.sort(byKey);
  unverifiable.sort(byKey);
  deniedAtRuntime.sort(byKey);
  return {
    principal: w.principal,
    kind: w.kind,
    name: w.name,
    account: w.account,
    role: {
      name: subject.name,
      arn: subject.arn,
      matchedBy,
      policies: policies.map((p) => p.name),
      ...(subject.origin ? { origin: subject.origin } : {}),
    },
    granted: { actions: grantedCount, conditional: set.conditional.size },
    used: {
      actions: usedActions.size,
      granted: usedGranted,
      permissions,
      calls,
    },
    headline: headline(usedGranted, grantedCount),
    unused,
    missing,
    conditional,
    unverifiable,
    deniedAtRuntime,
    runtimeNeeds: runtimeStatus,
    notes,
    risk,
    passes: missing.length === 0 && unused.every((u) => u.unused.length === 0 || riskRank(u.risk) < floor),
  };
}

/** Risky actions an unused grant lists, at most (`riskyCount` counts them all). */
export const RISKY_LISTED = 20;

/** The rank of a triaged action's most severe class (RISK_CLASSES order), for ordering. */
const classOrder = (r: PermissionRisk): number => {
  const first = r.classes[0];
  return first === undefined ? RISK_CLASSES.length : RISK_CLASSES.indexOf(first);
};

/** Resources an unused grant lists as used through it, at most. */
const USED_RESOURCES = 10;

/** Keeps in `list` (sorted, distinct) the first `max` values in code-unit order, with `value`. */
function keepFirst(list: string[], value: string, max: number): void {
  const last = list[list.length - 1];
  if (list.length >= max && last !== undefined && value >= last) return;
  let i = list.length;
  while (i > 0 && (list[i - 1] as string) > value) i--;
  if (list[i - 1] === value) return;
  list.splice(i, 0, value);
  if (list.length > max) list.pop();
}

/** "uses 4 of 312 granted actions (1%)"; below 1% but not zero reads "<1%". */
export function headline(used: number, granted: number): string {
  if (granted === 0) return 'is granted nothing';
  const pct = (used / granted) * 100;
  const shown = used > 0 && pct < 1 ? '<1' : String(Math.round(pct));
  return `uses ${used} of ${granted} granted action${granted === 1 ? '' : 's'} (${shown}%)`;
}
