/**
 * Reading untrusted recorded parameters. Trace documents are user data: a parameter may be
 * missing, a number, an object or an empty string. Everything here returns a clean string or
 * undefined, so handlers never put garbage into an ARN.
 */

/**
 * Control characters never occur in identifiers. Anything else may (S3 keys can hold spaces and
 * quotes), so services with a narrower name grammar validate it themselves.
 */
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f]/;

/**
 * First of the given keys whose value is a usable identifier: a non-empty string (trimmed) with
 * no whitespace, quotes or control characters, at most 2048 characters long.
 */
export function str(params: Record<string, unknown>, ...keys: readonly string[]): string | undefined {
  for (const key of keys) {
    const v = params[key];
    if (typeof v !== 'string') continue;
    const t = v.trim();
    if (t.length === 0 || t.length > 2048 || UNSAFE.test(t)) continue;
    return t;
  }
  return undefined;
}

/**
 * Identifiers from a list-valued parameter (`table_names`), or from a single string value.
 * Invalid entries are dropped; duplicates are removed, order kept.
 */
export function strList(params: Record<string, unknown>, ...keys: readonly string[]): string[] {
  const out: string[] = [];
  for (const key of keys) {
    const v = params[key];
    const items = Array.isArray(v) ? v : [v];
    for (const item of items) {
      const s = str({ v: item }, 'v');
      if (s !== undefined && !out.includes(s)) out.push(s);
    }
  }
  return out;
}

/** True when the parameter is present with a non-empty value (used for version ids). */
export function present(params: Record<string, unknown>, ...keys: readonly string[]): boolean {
  return str(params, ...keys) !== undefined;
}
