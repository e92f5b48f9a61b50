/**
 * The three output formats of the query commands: a table (default), `--json` (one JSON document)
 * and `--csv` (RFC 4180). Data is neutralised for terminals in every format.
 */
import { Option, type Command } from 'commander';
import { UserInputError } from '../shared/errors.js';
import { UNSAFE_BEYOND_C0 } from '../shared/text.js';
import { terminalWidth, type CliIO } from './io.js';
import type { GlobalOptions } from './options.js';
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

/**
 * The width a command's tables are fitted to ({@link terminalWidth}), or undefined with `--wide`:
 * then tables are printed whole. JSON and CSV are never fitted.
 */
export function tableWidth(cmd: Command, io: CliIO): number | undefined {
  return cmd.optsWithGlobals<GlobalOptions>().wide ? undefined : terminalWidth(io);
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
  /** To fit the terminal, the table may shorten this column's cells down to this many cells. */
  minWidth?: number;
  /**
   * To fit the terminal, the table may hide this column: the lowest `drop` goes first. Columns
   * that name the row have none and are always shown.
   */
  drop?: number;
}

// JSON.stringify escapes C0 controls but leaves DEL, C1 controls, bidi and zero-width characters raw.
const JSON_UNSAFE = new RegExp(`[${UNSAFE_BEYOND_C0}]`, 'g');

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
 * How a table may fit the terminal ({@link withFit}; render.ts fitColumns): `hide` lists the fields
 * of the columns it may hide, least important first; `shorten` the fields whose cells it may
 * shorten, with the fewest cells each keeps. Columns not in `hide` (those that name the row) are
 * always shown.
 */
export interface FitOrder {
  hide: string[];
  shorten?: Record<string, number>;
}

/** `columns` with the fitting of `fit` (fields of `fit` that are not among them are ignored). */
export function withFit<R>(fit: FitOrder, columns: OutputColumn<R>[]): OutputColumn<R>[] {
  return columns.map((c) => {
    const drop = fit.hide.indexOf(c.field);
    const minWidth = fit.shorten?.[c.field];
    return {
      ...c,
      ...(drop >= 0 ? { drop: drop + 1 } : {}),
      ...(minWidth !== undefined ? { minWidth } : {}),
    };
  });
}

/**
 * Prints a result in `format`. When there are no rows, `empty` (one line) goes to stdout for a
 * table, and to stderr for JSON/CSV so that stdout stays a valid document. A table is fitted to
 * `width` ({@link tableWidth}); JSON and CSV are always complete.
 */
export function emit<R>(
  io: CliIO,
  format: OutputFormat,
  columns: OutputColumn<R>[],
  rows: R[],
  width: number | undefined,
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
  io.out(renderTable(columns, rows, width));
}

/**
 * Rows as a table (cells neutralised by {@link table}), with a final newline; fitted to `width`
 * when one is given (see {@link table}).
 */
export function renderTable<R>(columns: OutputColumn<R>[], rows: R[], width?: number): string {
  // Without a width (`--wide`) every value is whole: the long values (the columns that may be
  // shortened: names, ARNs, paths) are shown as they are, not as their shortened cells.
  const cell = (c: OutputColumn<R>, r: R): string =>
    c.cell && !(width === undefined && c.minWidth !== undefined) ? c.cell(r) : tableValue(c.value(r));
  return `${table(
    columns.map((c) => ({ header: c.header, align: c.align ?? 'left', minWidth: c.minWidth, drop: c.drop })),
    rows.map((r) => columns.map((c) => cell(c, r))),
    width,
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
