/**
 * Terminal rendering: neutralising data before it reaches a terminal, tables, numbers, sizes.
 */
import { neutralize, neutralizeLines } from '../shared/text.js';
import Table from 'cli-table3';

/** Makes a value from the data safe to print: control and bidi characters become visible escapes. */
export function safe(value: unknown): string {
  return neutralize(value);
}

/** Like {@link safe} for multi-line text: keeps line breaks, neutralises everything else. */
export function safeText(value: string): string {
  return neutralizeLines(value);
}

/** Thousands separators, locale-independent. */
export function int(n: number): string {
  return Math.round(n)
    .toString()
    .replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Human-readable byte size. */
export function bytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

// East Asian Wide and Fullwidth code points (the ranges of is-fullwidth-code-point, which
// cli-table3 measures with), and emoji drawn as pictures: two terminal cells each.
const WIDE =
  /[\u1100-\u115f\u2329\u232a\u2e80-\u303e\u3040-\u3247\u3250-\u4dbf\u4e00-\ua4c6\ua960-\ua97c\uac00-\ud7a3\uf900-\ufaff\ufe10-\ufe19\ufe30-\ufe6b\uff01-\uff60\uffe0-\uffe6\u{1b000}-\u{1b001}\u{1f200}-\u{1f251}\u{20000}-\u{3fffd}]|\p{Emoji_Presentation}/u;
// Combining marks and zero-width characters: no cell of their own.
const ZERO = /[\p{Mn}\p{Me}\u200b-\u200f\u2060-\u2064\ufeff]/u;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Terminal cells of one code point: 2 for wide (CJK, emoji), 0 for combining marks, else 1. */
function codePointCells(c: string): number {
  return ZERO.test(c) ? 0 : WIDE.test(c) ? 2 : 1;
}

/**
 * The terminal cells `s` takes (text already made {@link safe}, so no control characters): each
 * code point is one cell, East Asian wide characters and emoji two, combining marks none. An
 * approximation of what terminals do (no grapheme clusters, ambiguous-width characters count one).
 */
export function cellWidth(s: string): number {
  if (PRINTABLE_ASCII.test(s)) return s.length;
  let n = 0;
  for (const c of s) n += codePointCells(c);
  return n;
}

/** The longest start of `chars` that takes at most `cells` cells. */
function takeStart(chars: string[], cells: number): string {
  let n = 0;
  let i = 0;
  for (; i < chars.length; i++) {
    const w = codePointCells(chars[i] as string);
    if (n + w > cells) break;
    n += w;
  }
  return chars.slice(0, i).join('');
}

/** The longest end of `chars` that takes at most `cells` cells. */
function takeEnd(chars: string[], cells: number): string {
  let n = 0;
  let i = chars.length;
  for (; i > 0; i--) {
    const w = codePointCells(chars[i - 1] as string);
    if (n + w > cells) break;
    n += w;
  }
  return chars.slice(i).join('');
}

/**
 * Shortens a long value for a table cell to at most `max` terminal cells, keeping its start
 * (45%) and end with `…` between. Shortening a shortened value again keeps the same start and
 * end as shortening the original would.
 */
export function shorten(s: string, max = 60): string {
  if (cellWidth(s) <= max) return s;
  const head = Math.ceil((max - 1) * 0.45);
  if (PRINTABLE_ASCII.test(s)) return `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`;
  const chars = Array.from(s);
  return `${takeStart(chars, head)}…${takeEnd(chars, max - 1 - head)}`;
}

/** Column spec for {@link table}. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
  /**
   * To fit the width, the column's cells may be shortened ({@link shorten}) down to this many
   * cells (never below the header's width). Columns without it keep their width.
   */
  minWidth?: number;
  /**
   * To fit the width, the column may be hidden: the lowest `drop` goes first. Columns without it
   * (those that name the row) are always shown.
   */
  drop?: number;
}

/** Which columns a fitted table shows, and how wide. */
export interface TableFit {
  /** Indexes of the columns shown, in table order. */
  shown: number[];
  /** Width (cells) of every column; for a hidden column, its width before it was hidden. */
  widths: number[];
  /** Indexes of the hidden columns, in the order they were hidden. */
  hidden: number[];
}

/** Cells a table line takes: `│ a │ b │` is one border plus, per column, its width and 3. */
export function lineWidth(widths: readonly number[]): number {
  return widths.reduce((n, w) => n + w + 3, 1);
}

/**
 * Fits columns whose content is `natural` cells wide into `width` cells: columns with a
 * `minWidth` are shortened first (always the widest of them, so they shrink evenly), and only if
 * that is not enough are `drop` columns hidden, lowest `drop` first, until the rest fits; the
 * shortened columns then give up no more than is still needed. A hidden column comes back,
 * highest `drop` first, when it fits in the room the others leave at their full width (hiding a
 * wide column can make room for a narrow one hidden before it). Columns without `drop` are never
 * hidden, so the result can be wider than `width`.
 */
export function fitColumns(columns: readonly Column[], natural: readonly number[], width: number): TableFit {
  const all = columns.map((_, i) => i);
  const floor = columns.map((c, i) => {
    const n = natural[i] ?? 0;
    return c.minWidth === undefined ? n : Math.min(n, Math.max(c.minWidth, cellWidth(c.header)));
  });
  const droppable = all
    .filter((i) => columns[i]?.drop !== undefined)
    .sort((a, b) => (columns[a]?.drop ?? 0) - (columns[b]?.drop ?? 0) || a - b);
  // The width of the table without `hidden`, each column at `full` width but `at` at its shortest.
  const without = (hidden: number[], full: readonly number[], at?: number): number =>
    lineWidth(all.filter((i) => !hidden.includes(i)).map((i) => (i === at ? floor : full)[i] ?? 0));
  let hidden: number[] = [];
  for (let k = 0; k <= droppable.length; k++) {
    hidden = droppable.slice(0, k);
    if (without(hidden, floor) <= width) break;
  }
  for (const i of [...hidden].reverse()) {
    const back = hidden.filter((h) => h !== i);
    if (without(back, natural, i) <= width) hidden = back;
  }
  const shown = all.filter((i) => !hidden.includes(i));
  const widths = [...natural];
  let excess = lineWidth(shown.map((i) => widths[i] ?? 0)) - width;
  while (excess > 0) {
    // The widest column that can still give a cell.
    let widest = -1;
    for (const i of shown)
      if ((widths[i] ?? 0) > (floor[i] ?? 0) && (widest < 0 || (widths[i] ?? 0) > (widths[widest] ?? 0)))
        widest = i;
    if (widest < 0) break;
    widths[widest] = (widths[widest] ?? 0) - 1;
    excess--;
  }
  return { shown, widths, hidden };
}

/** `text` broken at spaces into lines of at most `width` cells (a longer word keeps its own line). */
export function wrap(text: string, width: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && cellWidth(line) + 1 + cellWidth(word) > width) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join('\n');
}

/**
 * A plain table (no colours), every cell neutralised. With a `width`, a table wider than that
 * is fitted ({@link fitColumns}) and, when columns were hidden, a line under it names them.
 * Without one it is printed whole.
 */
export function table(columns: Column[], rows: unknown[][], width?: number): string {
  let cols = columns;
  let cells = rows.map((r) => r.map((v) => safe(v)));
  let note = '';
  if (width !== undefined) {
    const natural = columns.map((c, i) =>
      cells.reduce((n, r) => Math.max(n, cellWidth(r[i] ?? '')), cellWidth(c.header)),
    );
    if (lineWidth(natural) > width) {
      const fit = fitColumns(columns, natural, width);
      cols = fit.shown.map((i) => columns[i] as Column);
      cells = cells.map((r) =>
        fit.shown.map((i) => {
          const w = fit.widths[i] ?? 0;
          const s = r[i] ?? '';
          return w < (natural[i] ?? 0) ? shorten(s, w) : s;
        }),
      );
      if (fit.hidden.length > 0) {
        const names = fit.hidden.map((i) => columns[i]?.header ?? '');
        const n = fit.hidden.length;
        note = `\n${wrap(`(${n} column${n === 1 ? '' : 's'} hidden to fit ${width} characters: ${names.join(', ')}; --wide shows ${n === 1 ? 'it' : 'them'})`, width)}`;
      }
    }
  }
  const t = new Table({
    head: cols.map((c) => c.header),
    colAligns: cols.map((c) => c.align ?? 'left'),
    style: { head: [], border: [], compact: true },
  });
  for (const r of cells) t.push(r);
  return t.toString() + note;
}
