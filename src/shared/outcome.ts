/**
 * The vocabulary of a recorded AWS call that every layer shares: how it ended and where the
 * record came from.
 */

/** How a call ended. `denied` means the caller lacked an IAM permission. */
export type Outcome = 'ok' | 'error' | 'fault' | 'throttle' | 'denied';

/** Every outcome, in the order outputs list them. */
export const OUTCOMES: readonly Outcome[] = ['ok', 'error', 'fault', 'throttle', 'denied'];

/** Exception types (or error codes) of a call IAM refused. */
export const DENIED_TYPES =
  /(^|[.:\s])(AccessDenied|AccessDeniedException|UnauthorizedOperation|AuthorizationError|AuthorizationErrorException|UnauthorizedException|NotAuthorized|Forbidden|ForbiddenException|AuthorizationFailure)\b/;

/** Exception types (or error codes) of a throttled call. */
export const THROTTLE_TYPES =
  /Throttl|TooManyRequests|ProvisionedThroughputExceeded|RequestLimitExceeded|SlowDown|RequestThrottled|LimitExceededException|TransactionInProgress|BandwidthLimitExceeded/;

/**
 * The outcome of a CloudTrail record from its `errorCode`, with the rules traces use for an
 * exception type and no HTTP status: none is `ok`; CloudTrail keeps no status, so a failure
 * that is neither denied nor throttled is `error` (it cannot tell a fault from an error).
 */
export function outcomeOfErrorCode(errorCode: string | null): Outcome {
  if (errorCode === null || errorCode === '') return 'ok';
  if (DENIED_TYPES.test(errorCode)) return 'denied';
  if (THROTTLE_TYPES.test(errorCode)) return 'throttle';
  return 'error';
}

/** Where a call record came from: an SDK subsegment or span, an inferred segment, or a plain-HTTP capture. */
export type CallVia = 'sdk' | 'inferred' | 'remote';
