/**
 * How an AWS call ended, from what its record says: the HTTP status, the error, fault and
 * throttle flags, and the exception. An AccessDenied message ("… is not authorized to perform:
 * ACTION on resource: ARN …") names the exact action and resource IAM refused.
 */
import { DENIED_TYPES, THROTTLE_TYPES, type Outcome } from '../shared/outcome.js';
import { asObject as obj } from '../shared/values.js';

/** The first exception a record carries. */
export interface ExceptionInfo {
  type: string | null;
  message: string | null;
}

/** The first exception with a type or message in an X-Ray `cause`. */
export function firstException(cause: unknown): ExceptionInfo | undefined {
  const c = obj(cause);
  if (!c || !Array.isArray(c.exceptions)) return undefined;
  for (const e of c.exceptions) {
    const ex = obj(e);
    if (!ex) continue;
    const type = typeof ex.type === 'string' ? ex.type.slice(0, 200) : null;
    const message = typeof ex.message === 'string' ? ex.message.slice(0, 4000) : null;
    if (type || message) return { type, message };
  }
  return undefined;
}

const DENIED_MESSAGE =
  /not authorized to perform|access denied|Error Code: (AccessDenied|AccessDeniedException|UnauthorizedOperation|AuthorizationError)/i;

/** What a call record says about how it ended, whichever format it came in. */
export interface OutcomeFacts {
  /** HTTP status of the response, when recorded. */
  status: number | null;
  exception: ExceptionInfo | undefined;
  /** An AccessDenied message was parsed into an action. */
  denied: boolean;
  /** X-Ray's `throttle`, `fault` and `error` flags; OpenTelemetry's ERROR status is `error`. */
  throttle?: boolean;
  fault?: boolean;
  error?: boolean;
}

/** The outcome of a call. The HTTP status decides where there is one; the flags otherwise. */
export function classify(f: OutcomeFacts): Outcome {
  const { status, exception: ex } = f;
  const type = ex?.type ?? '';
  const message = ex?.message ?? '';
  if (f.denied || DENIED_TYPES.test(type) || DENIED_MESSAGE.test(message)) return 'denied';
  // A 403 with no exception text is an authorisation failure in every AWS protocol we know.
  if (status === 403 && !type && !message) return 'denied';
  if (
    f.throttle === true ||
    status === 429 ||
    THROTTLE_TYPES.test(type) ||
    THROTTLE_TYPES.test(message.slice(0, 200))
  ) {
    return 'throttle';
  }
  if (status !== null) {
    // Node and Python SDKs set fault and error together on 4xx; the status is the truth.
    if (status >= 500) return 'fault';
    if (status >= 400) return 'error';
    if (status >= 200 && status < 400 && !ex) return 'ok';
  }
  if (f.fault === true) return 'fault';
  if (f.error === true) return 'error';
  return ex ? 'error' : 'ok';
}

/** The exact action and resource named by an AccessDenied message. */
export interface Denial {
  action: string;
  resource: string | null;
}

const DENIED_RE = /not authorized to perform:?\s+([A-Za-z0-9-]+:[A-Za-z0-9*]+)(?:\s+on resource:?\s+(\S+))?/;

/**
 * Parses "User: arn:… is not authorized to perform: dynamodb:PutItem on resource: arn:…
 * because …" (all AWS protocols word it this way) into the exact action and ARN.
 */
export function parseDenied(message: string | null): Denial | null {
  if (!message) return null;
  const m = DENIED_RE.exec(message);
  if (!m || !m[1]) return null;
  let resource = m[2] ?? null;
  if (resource) resource = resource.replace(/[.,;)"']+$/, '');
  return { action: m[1], resource: resource || null };
}
