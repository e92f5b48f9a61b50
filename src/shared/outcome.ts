/**
 * The vocabulary of a recorded AWS call that every layer shares: how it ended and where the
 * record came from.
 */

/** How a call ended. `denied` means the caller lacked an IAM permission. */
export type Outcome = 'ok' | 'error' | 'fault' | 'throttle' | 'denied';

/** Every outcome, in the order outputs list them. */
export const OUTCOMES: readonly Outcome[] = ['ok', 'error', 'fault', 'throttle', 'denied'];

/** Where a call record came from: an SDK subsegment or span, an inferred segment, or a plain-HTTP capture. */
export type CallVia = 'sdk' | 'inferred' | 'remote';
