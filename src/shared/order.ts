/**
 * The one text order of every output: UTF-16 code-unit order, as `<` compares strings.
 *
 * Why not `localeCompare`: it follows the process locale and the ICU version, so the same
 * database could give differently ordered policies under `LANG=tr_TR.UTF-8` (where `I` and `i`
 * collate apart) or on another machine, and "byte-identical output" would not hold.
 */

/** Code-unit order: negative, zero or positive, like a `sort` comparator. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** A comparator on a text key of each element. */
export function byText<T>(key: (t: T) => string): (a: T, b: T) => number {
  return (a, b) => compareText(key(a), key(b));
}

/** Sorts a copy of `items` by code-unit order of their text. */
export function sortedText(items: Iterable<string>): string[] {
  return [...items].sort(compareText);
}
