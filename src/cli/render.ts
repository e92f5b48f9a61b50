/**
 * Terminal rendering: neutralising data before it reaches a terminal, tables, numbers, sizes.
 */
import Table from 'cli-table3';

// C0 and C1 control characters, DEL, and the Unicode bidirectional overrides that can make
// a terminal show text other than what is there.
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Makes a value from the data safe to print: control characters become visible escapes. */
export function safe(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return s.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff
      ? `\\x${code.toString(16).padStart(2, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/** Like {@link safe} for multi-line text: keeps line breaks, neutralises everything else. */
export function safeText(value: string): string {
  return value
    .split('\n')
    .map((line) => safe(line))
    .join('\n');
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

/** Shortens a long value for a table cell, keeping its start and end. */
export function shorten(s: string, max = 60): string {
  if (s.length <= max) return s;
  const head = Math.ceil((max - 1) * 0.45);
  return `${s.slice(0, head)}…${s.slice(s.length - (max - 1 - head))}`;
}

/** Column spec for {@link table}. */
export interface Column {
  header: string;
  align?: 'left' | 'right';
}

/** A plain table (no colours), every cell neutralised. */
export function table(columns: Column[], rows: unknown[][]): string {
  const t = new Table({
    head: columns.map((c) => c.header),
    colAligns: columns.map((c) => c.align ?? 'left'),
    style: { head: [], border: [], compact: true },
  });
  for (const r of rows) t.push(r.map((v) => safe(v)));
  return t.toString();
}
