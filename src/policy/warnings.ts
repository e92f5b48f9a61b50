/**
 * Policy warnings: building the per-permission ones, finding the wildcards that span accounts,
 * regions or every resource of a type, and grouping them for people. A policy may hold the same
 * warning for many permissions (a resource the instrumentation never records); `--json` keeps one
 * warning per permission, and every human rendering (stderr, YAML and HCL comments, the report)
 * shows one line per kind with the permissions it covers.
 */
import { compareText } from '../shared/order.js';
import type { PolicyWarning } from './types.js';

/**
 * A warning about one permission: `hint` is the explanation it shares with the others of its
 * kind, `detail` what is particular to this one (counts, sample traces). The message is the whole
 * sentence, for readers of `--json` that look at one warning at a time.
 */
export function permissionWarning(
  code: PolicyWarning['code'],
  action: string,
  resource: string,
  hint: string,
  detail?: string,
): PolicyWarning {
  return {
    code,
    action,
    resource,
    message: `${action} on ${resource}${detail ? ` (${detail})` : ''}: ${hint}`,
    hint,
    ...(detail ? { detail } : {}),
  };
}

/** Warnings of one kind and explanation, with the permissions they cover. */
export interface WarningGroup {
  code: PolicyWarning['code'];
  /** The shared explanation (for a warning about no permission: its message). */
  text: string;
  /** `action on resource (detail)`, one per permission, in the warnings' order. */
  permissions: string[];
}

/** Groups warnings by kind and explanation, keeping their order (first occurrence). */
export function groupWarnings(warnings: readonly PolicyWarning[]): WarningGroup[] {
  const groups = new Map<string, WarningGroup>();
  for (const w of warnings) {
    if (w.action === undefined || w.hint === undefined) {
      groups.set(`${groups.size}\u0000`, { code: w.code, text: w.message, permissions: [] });
      continue;
    }
    const key = `${w.code}\u0000${w.hint}`;
    const g = groups.get(key) ?? { code: w.code, text: w.hint, permissions: [] };
    g.permissions.push(`${w.action} on ${w.resource ?? '*'}${w.detail ? ` (${w.detail})` : ''}`);
    groups.set(key, g);
  }
  return [...groups.values()];
}

/** How many permissions a grouped line names before it says "and N more". */
export const LISTED_PERMISSIONS = 10;

/**
 * One line per group: `[code] N permissions: a; b; … (and N more). explanation`. Lines are plain
 * text; callers neutralise them for the terminal and the format they write.
 */
export function warningLines(warnings: readonly PolicyWarning[]): string[] {
  return groupWarnings(warnings).map((g) => {
    if (g.permissions.length === 0) return `[${g.code}] ${g.text}`;
    const n = g.permissions.length;
    const listed = g.permissions.slice(0, LISTED_PERMISSIONS).join('; ');
    const more = n > LISTED_PERMISSIONS ? `; and ${n - LISTED_PERMISSIONS} more (--json lists all)` : '';
    return `[${g.code}] ${n === 1 ? '' : `${n} permissions: `}${listed}${more}. ${g.text}`;
  });
}

export { wildcardSpans, type WildcardSpan } from '../iam/arn.js';
import type { WildcardSpan } from '../iam/arn.js';

/** The words for spans in a warning. */
export function spanWords(spans: readonly WildcardSpan[]): string {
  const words: Record<WildcardSpan, string> = {
    account: 'every account',
    region: 'every region',
    resource: 'every resource of its type',
  };
  return spans.map((s) => words[s]).join(', ');
}

/** Sorts warnings as policies list them: by kind, then action and resource. */
export function sortWarnings(warnings: PolicyWarning[]): void {
  warnings.sort((a, b) =>
    compareText(
      a.code + (a.action ?? '') + (a.resource ?? ''),
      b.code + (b.action ?? '') + (b.resource ?? ''),
    ),
  );
}
