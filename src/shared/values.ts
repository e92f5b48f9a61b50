/**
 * Reading untrusted JSON values: every reader of user files (dumps, granted policies, roles
 * files, usage rows) gets objects and scalars through these, so that a number where a string
 * belongs, or an array where an object belongs, is handled the same way everywhere.
 */

/** True for a JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The value when it is a JSON object, else undefined. */
export function asObject(v: unknown): Record<string, unknown> | undefined {
  return isObject(v) ? v : undefined;
}

/** Longest string value kept from the data; longer ones are treated as absent. */
export const MAX_VALUE = 2048;

/** A number, also when written as a string (`"0.25"`); null when neither or not finite. */
export function num(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/**
 * A non-empty string of at most {@link MAX_VALUE} characters, also when written as a number
 * (other tools emit `"name": 12345`); null otherwise.
 */
export function str(v: unknown): string | null {
  if (typeof v === 'string') return v.length > 0 && v.length <= MAX_VALUE ? v : null;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** {@link str} of each element of an array (at most `max`), or of a single value; null when none. */
export function strList(v: unknown, max = 1000): string[] | null {
  if (Array.isArray(v)) {
    const out: string[] = [];
    for (const x of v.slice(0, max)) {
      const s = str(x);
      if (s !== null) out.push(s);
    }
    return out.length > 0 ? out : null;
  }
  const one = str(v);
  return one === null ? null : [one];
}
