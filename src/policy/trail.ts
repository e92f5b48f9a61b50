/**
 * A role's CloudTrail evidence as policy grants: each stored call mapped through the trace
 * mapping core (src/iam/cloudtrail.ts), with who made it (src/ingest/caller.ts). Calls made by
 * the workload's own code and by AWS services on its behalf are granted; calls made with the
 * role's credentials from elsewhere (a laptop's CLI, an SDK without the run time's token on a
 * Lambda role) are withheld by default and named as "credentials used outside the workload",
 * by source address, user agent, actions and count (`--include-outside` grants them).
 *
 * Memory holds one role's distinct (action, resource) pairs and its distinct outside callers,
 * not its calls: the rows are read one at a time.
 */
import { verdictOf, type CallerClass } from '../iam/caller.js';
import { DAY } from '../shared/time.js';
import type { Store } from '../store/db.js';
import type { CallFilter } from '../store/filter.js';
import { filteredTrailRows, roleRunsLambda } from '../store/trail.js';
import { absorbGrant, observedOne, type Grant } from './to-grant.js';
import type { PolicyWarning } from './types.js';

/** Where a permission was seen. */
export type EvidenceSource = 'trace' | 'cloudtrail';

/** Calls with a role's credentials from one place that is not the workload. */
export interface OutsideCaller {
  sourceIp: string | null;
  userAgent: string | null;
  /** Why they are not the workload's (the caller rule). */
  reason: string;
  calls: number;
  /** The IAM actions they needed (or the event names that map to none), sorted. */
  actions: string[];
  first: number;
  last: number;
  /** Up to 3 eventIDs. */
  eventIds: string[];
}

/** What one role's CloudTrail says, for its policy. */
export interface TrailEvidence {
  role: string;
  /** Granted: the workload's own calls and the services' calls on its behalf (and outside ones with `includeOutside`). */
  grants: Grant[];
  /** Withheld (or, with `includeOutside`, granted and still named). */
  outside: OutsideCaller[];
  /** Calls whose event maps to no IAM action: `eventSource eventName` → calls and reason. */
  unmapped: Map<string, { calls: number; reason: string }>;
  events: number;
  managementEvents: number;
  days: number;
  first: number | null;
  last: number | null;
  /** Session names seen (the functions or tasks that ran as the role), sorted, at most 20. */
  sessions: string[];
}

/** Distinct outside callers kept per role (the rest are summed into the last). */
const MAX_OUTSIDE = 50;

/**
 * One role's CloudTrail evidence (`includeOutside`: grant the outside calls too): the calls the
 * filter keeps, as `filteredTrailRows` (store/trail.ts) reads them; workload patterns choose
 * the roles (src/policy/build.ts).
 */
export function trailEvidence(
  store: Store,
  role: string,
  o: { filter: CallFilter; includeOutside: boolean },
): TrailEvidence {
  const grants = new Map<string, Grant>();
  const outside = new Map<string, OutsideCaller & { actionSet: Set<string> }>();
  const unmapped = new Map<string, { calls: number; reason: string }>();
  const days = new Set<number>();
  const sessions = new Set<string>();
  let events = 0;
  let managementEvents = 0;
  let first: number | null = null;
  let last: number | null = null;
  // The role's own code sends the Lambda token if any of its calls carries it (src/iam/caller.ts).
  const tokenSeen = roleRunsLambda(store, role);
  for (const { row: r, outcome, mapped, permissions } of filteredTrailRows(store, role, o.filter)) {
    events++;
    if (r.management) managementEvents++;
    days.add(Math.floor(r.time / DAY));
    first = first === null ? r.time : Math.min(first, r.time);
    last = last === null ? r.time : Math.max(last, r.time);
    if (r.session !== null && sessions.size < 20) sessions.add(r.session);
    const verdict = verdictOf(r.caller as CallerClass, tokenSeen);
    if (verdict === 'outside') {
      // The AWS CLI names each command in its agent (`command/s3.ls`): one tool, one caller.
      const agent = r.userAgent?.replace(/ command\/\S+/, '') ?? null;
      const key = `${r.sourceIp ?? ''}\u0000${agent ?? ''}`;
      let c = outside.get(key);
      if (!c && outside.size >= MAX_OUTSIDE) c = [...outside.values()].pop();
      if (!c) {
        c = {
          sourceIp: r.sourceIp,
          userAgent: agent,
          reason: r.callerReason.replace(/ command\/\S+/, ''),
          calls: 0,
          actions: [],
          actionSet: new Set(),
          first: r.time,
          last: r.time,
          eventIds: [],
        };
        outside.set(key, c);
      }
      c.calls++;
      c.first = Math.min(c.first, r.time);
      c.last = Math.max(c.last, r.time);
      if (c.eventIds.length < 3) c.eventIds.push(r.eventId);
      if (mapped.status === 'mapped') for (const p of permissions) c.actionSet.add(p.action);
      else c.actionSet.add(`${r.eventSource.split('.')[0]}:${r.eventName} (${mapped.status})`);
      if (!o.includeOutside) continue;
    }
    if (mapped.status === 'no-permission') continue;
    if (mapped.status === 'unmapped') {
      const key = `${r.eventSource} ${r.eventName}`;
      const u = unmapped.get(key) ?? { calls: 0, reason: mapped.reason };
      u.calls++;
      unmapped.set(key, u);
      continue;
    }
    const denied = outcome === 'denied' ? 1 : 0;
    for (const p of permissions) {
      const g: Grant = {
        action: p.action,
        resource: p.resource,
        resourceType: p.resourceType ?? null,
        resourceUnknown: p.resourceUnknown,
        calls: 1,
        denied,
        first: r.time,
        last: r.time,
        traces: [r.eventId],
        observed: observedOne(p.resource, 1),
        sources: ['cloudtrail'],
        ...(verdict === 'service' ? { onBehalf: true } : {}),
      };
      const key = `${p.action}\u0000${p.resource}`;
      const prev = grants.get(key);
      if (prev) absorbGrant(prev, g);
      else grants.set(key, g);
    }
  }
  return {
    role,
    grants: [...grants.values()],
    outside: [...outside.values()]
      .map(({ actionSet, ...c }) => ({ ...c, actions: [...actionSet].sort() }))
      .sort((a, b) => b.calls - a.calls || (a.sourceIp ?? '').localeCompare(b.sourceIp ?? '')),
    unmapped,
    events,
    managementEvents,
    days: days.size,
    first,
    last,
    sessions: [...sessions].sort(),
  };
}

/** The warnings of a role's CloudTrail evidence: outside calls, unmapped events, management events only. */
export function trailWarnings(t: TrailEvidence, includeOutside: boolean): PolicyWarning[] {
  const out: PolicyWarning[] = [];
  for (const c of t.outside) {
    out.push({
      code: 'outside',
      message: `credentials used outside the workload: ${c.calls} call${c.calls === 1 ? '' : 's'} with ${t.role} from ${c.sourceIp ?? 'an unknown address'}, user agent ${c.userAgent ?? '(none)'}${c.reason.startsWith('user agent') ? '' : ` (${c.reason})`}: ${c.actions.join(', ')}; ${includeOutside ? 'GRANTED (--include-outside)' : 'not granted: check who holds these credentials, then pass --include-outside if they are yours'} (events ${c.eventIds.join(', ')}${c.calls > c.eventIds.length ? ', …' : ''})`,
    });
  }
  for (const [what, u] of t.unmapped)
    out.push({
      code: 'unmapped',
      message: `${u.calls} CloudTrail call${u.calls === 1 ? '' : 's'} ${what} could not be mapped to an IAM action (${u.reason}); review them by hand`,
    });
  return out;
}

/** What a role's evidence cannot show when CloudTrail logged only management events. */
export const MANAGEMENT_ONLY =
  'its CloudTrail evidence holds only management events: data events (S3 object reads and writes, Lambda Invoke, DynamoDB item reads and writes, SQS and SNS messages…) are off by default in a trail, so none of those calls can show here; turn on data events for the trail, or read the traces';
