/**
 * "Did you mean": the known names closest to a mistyped one, by edit distance.
 */
import { compareText } from './order.js';

/** Levenshtein distance between `a` and `b` (insertions, deletions, substitutions), capped at `max + 1`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(
        (prev[j] ?? 0) + 1,
        (row[j - 1] ?? 0) + 1,
        (prev[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > max) return max + 1;
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/**
 * Up to `n` of `known` closest to `word` (case-insensitive), nearest first: those within a third
 * of the word's length (at least 2 edits), or that contain it or are contained in it.
 */
export function closest(word: string, known: Iterable<string>, n = 3): string[] {
  const w = word.toLowerCase().replace(/[*?]/g, '');
  const max = Math.max(2, Math.floor(w.length / 3));
  const scored: [string, number][] = [];
  for (const k of new Set(known)) {
    const l = k.toLowerCase();
    const d = w.length >= 3 && (l.includes(w) || w.includes(l)) ? 0.5 : editDistance(w, l, max);
    if (d <= max) scored.push([k, d]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || compareText(a[0], b[0]))
    .slice(0, n)
    .map(([k]) => k);
}

/** ` (did you mean "a", "b"?)` for the names of `known` closest to `word`, or `` when none is close. */
export function didYouMean(word: string, known: Iterable<string>): string {
  const near = closest(word, known);
  return near.length > 0 ? ` (did you mean ${near.map((s) => JSON.stringify(s)).join(', ')}?)` : '';
}
