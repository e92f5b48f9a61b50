/**
 * Small constructors for explicit operation tables, so each service file reads as data.
 */
import type { OperationRule, Step } from '../types.js';

/** The operation needs these actions (each one a `Step` or a plain `service:Action`). */
export function needs(...steps: (Step | string)[]): OperationRule {
  return { kind: 'actions', steps: steps.map((s) => (typeof s === 'string' ? { action: s } : s)) };
}

/** The operation needs `action`, or `versionAction` when the call names an object version. */
export function versioned(action: string, versionAction: string): OperationRule {
  return { kind: 'actions', steps: [{ action, versionAction }] };
}

/** The operation is not authorised by IAM at all (anyone may call it). */
export function noPermission(reason: string): OperationRule {
  return { kind: 'no-permission', reason };
}

/** No IAM action corresponds to the operation: say why instead of inventing one. */
export function unmapped(reason: string): OperationRule {
  return { kind: 'unmapped', reason };
}
