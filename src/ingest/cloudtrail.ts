/**
 * CloudTrail records as evidence: the delivery forms recognised by content, one record read into
 * the facts the store keeps, and who made each call. Pure: no I/O, no database.
 *
 * Delivery forms: S3-delivered log files and plain files (`{"Records": [...]}`), `aws cloudtrail
 * lookup-events` output (`{"Events": [{"CloudTrailEvent": "<json string>"}]}`), and CloudTrail
 * Lake query results (`{"QueryResultRows": [[{"column": "value"}, ...]]}`, each row a list of
 * one-entry maps whose columns are the record's dotted field names).
 *
 * A record without `eventID`, `eventTime`, `eventSource` or `eventName`, or with an implausible
 * time, is never guessed: it is counted as a problem, with its position.
 */
import { isObject, str } from '../shared/values.js';
import { PLAUSIBLE_SECONDS } from '../shared/time.js';
import type { TrailEventFields, TrailProblemFields } from '../store/write/index.js';
import { ShapeError } from './errors.js';
import { classifyCaller, type CallerClass } from '../iam/caller.js';

/** The CloudTrail shapes, as `sources` names them. */
export type TrailShape = 'cloudtrail-records' | 'cloudtrail-lookup-events' | 'cloudtrail-lake';

/** Who made a call, as the record's `userIdentity` says. */
export type TrailPrincipal =
  /** A role session (`AssumedRole` with a `Role` issuer): evidence for that role. */
  | 'role'
  /** A service-linked role (`/aws-service-role/`): never a policy subject. */
  | 'service-linked-role'
  /** An AWS service principal (`AWSService`): only its role links are read. */
  | 'service'
  /** An IAM user, root, a federated or web identity: not a workload's role. */
  | 'other';

/**
 * One CloudTrail record, as stored (table `trail_events`): the writer's item fields, with the
 * principal and caller classes as this module and src/iam/caller.ts define them.
 */
export interface TrailEvent extends TrailEventFields {
  principal: TrailPrincipal;
  caller: CallerClass;
}

/** A record that could not be read as evidence: counted, with its position. */
export type TrailProblem = TrailProblemFields;

/** One record and where it is in its input. */
export interface TrailRecord {
  record: Record<string, unknown>;
  where: string;
}

/** Longest requestParameters JSON kept: identifiers are short; policies and documents are not needed. */
export const MAX_PARAMETERS = 16 * 1024;

const HINT =
  'pass CloudTrail log files unchanged (the .json.gz files under AWSLogs/…/CloudTrail/, or `aws cloudtrail lookup-events --output json`)';

/** What a top-level value is, if it is a CloudTrail export. */
export function trailShape(v: Record<string, unknown>): TrailShape | undefined {
  // One element that is a record (or a lookup-events entry) says what the file is; the others
  // are then read as such, and a malformed one refuses the file with its position.
  if (Array.isArray(v.Records) && v.Records.some((r) => isObject(r) && 'eventVersion' in r))
    return 'cloudtrail-records';
  if (Array.isArray(v.Events) && v.Events.some((e) => isObject(e) && 'CloudTrailEvent' in e))
    return 'cloudtrail-lookup-events';
  if (Array.isArray(v.QueryResultRows)) return 'cloudtrail-lake';
  if ('eventVersion' in v && 'eventSource' in v && 'userIdentity' in v) return 'cloudtrail-records';
  return undefined;
}

/** The records of one CloudTrail export (its shape from {@link trailShape}); throws {@link ShapeError}. */
export function trailRecords(v: Record<string, unknown>, offset: number): TrailRecord[] {
  const at = (where: string, record: Record<string, unknown>): TrailRecord => ({ record, where });
  if (Array.isArray(v.Records))
    return v.Records.map((r, i) => at(`Records[${i}]`, recordOf(r, offset, `Records[${i}]`)));
  if (Array.isArray(v.Events))
    return v.Events.map((e, i) => at(`Events[${i}]`, lookupRecord(e, offset, `Events[${i}]`)));
  if (Array.isArray(v.QueryResultRows))
    return v.QueryResultRows.map((r, i) => at(`QueryResultRows[${i}]`, lakeRecord(r, offset, i)));
  return [at('the record', recordOf(v, offset, 'the record'))];
}

/** One element of a `Records` array read on its own (a huge log file read member by member). */
export function recordOf(r: unknown, offset: number, where: string): Record<string, unknown> {
  if (!isObject(r)) throw new ShapeError(`${where} is not a CloudTrail record (not an object)`, offset, HINT);
  return r;
}

/** One `Events[]` entry of lookup-events: its `CloudTrailEvent` string is the record. */
export function lookupRecord(e: unknown, offset: number, where: string): Record<string, unknown> {
  const text = isObject(e) ? e.CloudTrailEvent : undefined;
  if (typeof text !== 'string') throw new ShapeError(`${where} has no CloudTrailEvent string`, offset, HINT);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ShapeError(`${where}.CloudTrailEvent is not JSON (${(err as Error).message})`, offset, HINT);
  }
  return recordOf(parsed, offset, `${where}.CloudTrailEvent`);
}

/**
 * One CloudTrail Lake result row: a list of `{column: value}` maps, values as strings. Dotted
 * columns (`userIdentity.sessionContext.sessionIssuer.arn`) are put back in place; a value that
 * is JSON text of an object (`requestParameters` selected whole) is read as that object.
 */
export function lakeRecord(row: unknown, offset: number, index: number): Record<string, unknown> {
  const where = `QueryResultRows[${index}]`;
  if (!Array.isArray(row)) throw new ShapeError(`${where} is not a list of columns`, offset, HINT);
  const out: Record<string, unknown> = {};
  for (const cell of row) {
    if (!isObject(cell)) throw new ShapeError(`${where} holds a column that is not an object`, offset, HINT);
    for (const [column, value] of Object.entries(cell)) {
      let v: unknown = value;
      if (typeof value === 'string' && value.startsWith('{') && value.endsWith('}')) {
        try {
          v = JSON.parse(value);
        } catch {
          v = value;
        }
      }
      const path = column.split('.');
      let at = out;
      for (const part of path.slice(0, -1)) at = isObject(at[part]) ? at[part] : (at[part] = {});
      at[path[path.length - 1] as string] = v;
    }
  }
  return out;
}

/** AWS service principals whose `sts:AssumeRole` of a role names the workload (session = function or task). */
const LINKING_SERVICES: ReadonlySet<string> = new Set(['lambda.amazonaws.com', 'ecs-tasks.amazonaws.com']);

/** Event types that are not API calls made with the role's credentials. */
const NOT_CALLS: ReadonlySet<string> = new Set([
  'AwsServiceEvent',
  'AwsCloudTrailInsight',
  'AwsConsoleSignIn',
]);

/** A record read as evidence, or the problem that keeps it out (never guessed). */
export function readTrailEvent(
  r: Record<string, unknown>,
  offset: number,
  where: string,
): TrailEvent | TrailProblem {
  const eventId = str(r.eventID);
  const eventTime = str(r.eventTime);
  const eventSource = str(r.eventSource);
  const eventName = str(r.eventName);
  const missing = [
    eventId ? null : 'eventID',
    eventTime ? null : 'eventTime',
    eventSource ? null : 'eventSource',
    eventName ? null : 'eventName',
  ].filter((m) => m !== null);
  if (missing.length > 0)
    return {
      offset,
      where,
      message: `a CloudTrail record without ${missing.join(', ')} was not read (${eventId ?? 'no eventID'})`,
    };
  const ms = eventMillis(eventTime as string);
  const time = ms / 1000;
  if (!Number.isFinite(ms) || time < PLAUSIBLE_SECONDS.min || time > PLAUSIBLE_SECONDS.max)
    return {
      offset,
      where,
      message: `CloudTrail record ${eventId} has an unreadable eventTime "${eventTime}"`,
    };
  const eventType = str(r.eventType);
  if (eventType !== null && NOT_CALLS.has(eventType))
    return {
      offset,
      where,
      message: `CloudTrail record ${eventId} is an ${eventType}, not an API call: not evidence`,
    };
  const ui = isObject(r.userIdentity) ? r.userIdentity : {};
  const type = str(ui.type);
  const ctx = isObject(ui.sessionContext) ? ui.sessionContext : {};
  const issuer = isObject(ctx.sessionIssuer) ? ctx.sessionIssuer : {};
  const rp = isObject(r.requestParameters) ? r.requestParameters : null;
  let principal: TrailPrincipal = 'other';
  let role: string | null = null;
  let session: string | null = null;
  if (type === 'AssumedRole' && str(issuer.type) === 'Role' && str(issuer.arn)) {
    role = str(issuer.arn);
    principal = role?.includes(':role/aws-service-role/') ? 'service-linked-role' : 'role';
    const arn = str(ui.arn);
    session = arn !== null ? arn.split('/').slice(2).join('/') || null : null;
  } else if (type === 'AWSService') {
    principal = 'service';
    const by = str(ui.invokedBy);
    // `sts:AssumeRole` by the service that runs a workload: the role and its session (the function or task).
    if (eventName === 'AssumeRole' && by !== null && LINKING_SERVICES.has(by) && rp) {
      role = str(rp.roleArn);
      session = str(rp.roleSessionName);
    }
  }
  const invokedBy = str(ui.invokedBy);
  const sourceIp = str(r.sourceIPAddress);
  const userAgent = str(r.userAgent);
  const { caller, reason } = classifyCaller({
    invokedBy,
    sourceIp,
    userAgent,
    vpcEndpointId: str(r.vpcEndpointId),
    identityType: type,
  });
  const params = rp ? JSON.stringify(rp) : null;
  const resources = Array.isArray(r.resources) ? r.resources : [];
  return {
    eventId: eventId as string,
    time,
    eventSource: eventSource as string,
    eventName: eventName as string,
    region: str(r.awsRegion),
    account: str(r.recipientAccountId) ?? str(ui.accountId),
    principal,
    role,
    session,
    invokedBy,
    sourceIp,
    userAgent,
    errorCode: str(r.errorCode),
    management: r.managementEvent !== false && str(r.eventCategory) !== 'Data',
    caller,
    callerReason: reason,
    requestParameters: params === null || params.length > MAX_PARAMETERS ? null : params,
    resourceArns: resources
      .map((x) => (isObject(x) ? str(x.ARN) : null))
      .filter((x): x is string => x !== null),
  };
}

/**
 * Milliseconds of an eventTime: ISO 8601 with its zone (`2026-11-30T12:00:01Z`), or CloudTrail
 * Lake's `2026-11-30 12:00:01.000`, which is UTC. A time without a zone is not read (NaN): it
 * would be read in the machine's zone, a guess.
 */
export function eventMillis(t: string): number {
  const lake = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}(?:\.\d+)?)$/.exec(t);
  if (lake) return Date.parse(`${lake[1]}T${lake[2]}Z`);
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(t) ? Date.parse(t) : NaN;
}

/** True for a {@link TrailProblem}. */
export function isTrailProblem(e: TrailEvent | TrailProblem): e is TrailProblem {
  return 'message' in e;
}
