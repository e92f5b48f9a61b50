/**
 * The three output formats of the query commands: a table (default), `--json` (one JSON document)
 * and `--csv` (RFC 4180). Data is neutralised for terminals in every format.
 */
import { Option, type Command } from 'commander';
import { UserInputError } from '../shared/errors.js';
import type { CliIO } from './io.js';
import { safe, shorten, table } from './render.js';

/** What `--json` / `--csv` select. */
export type OutputFormat = 'table' | 'json' | 'csv';

/** The help heading of output options. */
export const OUTPUT = 'Output:';

/** Adds `--json` and `--csv`. */
export function addFormatOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option('--json', 'print one JSON document (field names are documented in the README)').helpGroup(
        OUTPUT,
      ),
    )
    .addOption(
      new Option(
        '--csv',
        'print CSV (RFC 4180; cells that a spreadsheet would run as a formula get a leading quote)',
      ).helpGroup(OUTPUT),
    );
}

/** The format the options ask for; both at once is a usage error. */
export function outputFormat(opts: { json?: boolean; csv?: boolean }): OutputFormat {
  if (opts.json && opts.csv) throw new UserInputError('--json and --csv cannot be used together; pick one.');
  return opts.json ? 'json' : opts.csv ? 'csv' : 'table';
}

/** One column of a query result. */
export interface OutputColumn<R> {
  /** CSV header: the JSON field name. */
  field: string;
  /** Table header. */
  header: string;
  align?: 'left' | 'right';
  /** The raw value (JSON/CSV). Arrays are joined with a space in CSV. */
  value: (row: R) => unknown;
  /** The table cell (default: the value; ARNs are shortened here, never in JSON/CSV). */
  cell?: (row: R) => string;
}

// JSON.stringify escapes C0 controls but leaves DEL, C1 controls and bidirectional overrides raw.
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** `value` as JSON, with every character a terminal could act on written as a \u escape. */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    JSON_UNSAFE,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

const FORMULA_START = /^[=+\-@\t\r]/;

/**
 * One CSV cell: control characters made visible (as on a terminal), a leading `'` when a
 * spreadsheet would treat the cell as a formula, and RFC 4180 quoting.
 */
export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  const raw = Array.isArray(value) ? value.map((v) => String(v)).join(' ') : String(value);
  // The formula check looks at the raw text (a tab or CR first is a formula trick); safe() then
  // makes control characters visible, so no cell spans lines.
  let s = safe(raw);
  if (FORMULA_START.test(raw)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Rows as CSV text with a header line of field names, CRLF line ends (RFC 4180). */
export function toCsv<R>(columns: OutputColumn<R>[], rows: R[]): string {
  const lines = [columns.map((c) => csvCell(c.field)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(c.value(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Prints a result in `format`. When there are no rows, `empty` (one line) goes to stdout for a
 * table, and to stderr for JSON/CSV so that stdout stays a valid document.
 */
export function emit<R>(
  io: CliIO,
  format: OutputFormat,
  columns: OutputColumn<R>[],
  rows: R[],
  empty: () => string,
): void {
  if (format === 'json') {
    io.out(`${safeJson(rows)}\n`);
    if (rows.length === 0) io.err(`${safe(empty())}\n`);
    return;
  }
  if (format === 'csv') {
    io.out(toCsv(columns, rows));
    if (rows.length === 0) io.err(`${safe(empty())}\n`);
    return;
  }
  if (rows.length === 0) {
    io.out(`${safe(empty())}\n`);
    return;
  }
  io.out(renderTable(columns, rows));
}

/** Rows as a table (cells neutralised by {@link table}), with a final newline. */
export function renderTable<R>(columns: OutputColumn<R>[], rows: R[]): string {
  return `${table(
    columns.map((c) => ({ header: c.header, align: c.align ?? 'left' })),
    rows.map((r) => columns.map((c) => (c.cell ? c.cell(r) : tableValue(c.value(r))))),
  )}\n`;
}

function tableValue(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => String(x)).join(' ');
  return String(v);
}

/** ISO 8601 UTC without the milliseconds, for table cells. */
export function tableTime(iso: string | null | undefined): string {
  return iso ? iso.replace(/\.\d+Z$/, 'Z') : '';
}

/** A long ARN (or list of them) shortened for a table cell. */
export function tableArn(v: string | string[] | null | undefined, max = 60): string {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => shorten(x, max)).join(' ');
  return shorten(v, max);
}
