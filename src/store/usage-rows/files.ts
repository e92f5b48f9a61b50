/**
 * Reading usage rows from files (`policy --usage`, `compare --usage`): Parquet (hyparquet, with
 * hyparquet-compressors for the codecs engines write: SNAPPY, GZIP, ZSTD, BROTLI, LZ4), CSV (RFC
 * 4180, a header line) or JSON lines, as `export` writes them or an engine's query outputs them.
 * A folder is searched recursively for `*.parquet`, `*.csv` and `*.jsonl`/`*.ndjson` (hidden and
 * `_`-prefixed entries are skipped, as engines do); a Hive `day=YYYY-MM-DD` folder gives its rows
 * their `day`.
 *
 * Required columns: `principal`, `action`, `resource`, `calls`. Optional: `denied`,
 * `resource_unknown`, `resource_type` (derived from the ARN with the IAM catalogue when absent),
 * `first_seen`, `last_seen`, `kind`, `name`, `account`, `region`, `sample_trace_id`,
 * `sample_trace_id_max`, `day`, `service`, `operation`, `mapping`, `note`. Other columns are ignored.
 *
 * Every file's columns are checked before any row is read (a missing required column, mixed
 * schemas across files), then rows are read one row group, or one chunk of lines, at a time and
 * checked as they come (the line of a malformed CSV row, the row of a bad value). The caller
 * loads them into a temporary store and builds nothing until every file has been read: a bad
 * file changes nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { resourceTypeOf } from '../../iam/resources.js';
import { firstInvalidUtf8 } from '../../shared/utf8.js';
import { UserInputError } from '../../shared/errors.js';
import { compareText } from '../../shared/order.js';
import { dayOf, isoTime, parseIsoDay, parseIsoTime, PLAUSIBLE_SECONDS } from '../../shared/time.js';
import type { SpillRow } from './spill.js';

/** Columns a usage file must have. */
export const REQUIRED_COLUMNS = ['principal', 'action', 'resource', 'calls'] as const;
/** Columns read when present. */
export const OPTIONAL_COLUMNS = [
  'denied',
  'resource_unknown',
  'resource_type',
  'first_seen',
  'last_seen',
  'kind',
  'name',
  'account',
  'region',
  'sample_trace_id',
  'sample_trace_id_max',
  'day',
  'service',
  'operation',
  'mapping',
  'note',
] as const;
const KNOWN = new Set<string>([...REQUIRED_COLUMNS, ...OPTIONAL_COLUMNS]);

type Format = 'parquet' | 'csv' | 'jsonl';

/** One usage file: its format, its columns (with `day` when a Hive folder gives it) and that day. */
interface UsageFile {
  path: string;
  format: Format;
  columns: string[];
  /** `day` from a `day=YYYY-MM-DD` folder. */
  day: number | null;
}

/** What was read, for the caller's summary. */
export interface UsageFilesSummary {
  files: number;
  rows: number;
  /** Rows left out: no principal (unattributed calls). */
  skipped: number;
  columns: string[];
}

const fail = (file: string, where: string, message: string): never => {
  throw new UserInputError(`${file}${where ? `:${where}` : ''}: ${message}`);
};

function formatOf(file: string): Format | undefined {
  const f = file.toLowerCase();
  if (f.endsWith('.parquet')) return 'parquet';
  if (f.endsWith('.csv')) return 'csv';
  if (f.endsWith('.jsonl') || f.endsWith('.ndjson')) return 'jsonl';
  return undefined;
}

/** The files of the inputs: files as given, folders searched recursively, in name order. */
export function listUsageFiles(
  inputs: readonly string[],
): { path: string; format: Format; day: number | null }[] {
  const out: { path: string; format: Format; day: number | null }[] = [];
  for (const input of inputs) {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(input);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UserInputError(
        code === 'ENOENT'
          ? `--usage ${input}: no such file or folder. Give the usage files, or the folder that \`export\` or the query engine wrote them into.`
          : `--usage ${input}: ${(err as Error).message}`,
      );
    }
    if (stat.isFile()) {
      const format = formatOf(input);
      if (!format)
        throw new UserInputError(`--usage ${input}: not a usage file (.parquet, .csv, .jsonl or .ndjson).`);
      out.push({ path: input, format, day: hiveDay(input) });
      continue;
    }
    const found: string[] = [];
    const walk = (d: string): void => {
      for (const e of fs.readdirSync(d, { withFileTypes: true })) {
        if (e.name.startsWith('.') || e.name.startsWith('_')) continue;
        const p = path.join(d, e.name);
        if (e.isDirectory()) walk(p);
        else if (e.isFile() && formatOf(e.name)) found.push(p);
      }
    };
    walk(input);
    if (found.length === 0)
      throw new UserInputError(
        `--usage ${input}: no .parquet, .csv or .jsonl file in this folder (hidden and _-prefixed entries are skipped). Give the folder the engine or \`export\` wrote the rows into.`,
      );
    for (const p of found.sort(compareText))
      out.push({ path: p, format: formatOf(p) as Format, day: hiveDay(p) });
  }
  return out;
}

/** The `day` a Hive `day=YYYY-MM-DD` folder of the file's path gives (the innermost), or null. */
function hiveDay(file: string): number | null {
  for (const part of path.dirname(path.resolve(file)).split(path.sep).reverse()) {
    const m = /^day=(.*)$/.exec(part);
    if (!m) continue;
    const day = parseIsoDay(decodeURIComponent(m[1] as string));
    if (day === null) fail(file, '', `the folder ${part} is not day=YYYY-MM-DD`);
    return day;
  }
  return null;
}

/* ------------------------------------------------------------------ headers */

async function parquetColumns(file: string): Promise<string[]> {
  let metadata;
  try {
    metadata = await parquetMetadataAsync(await asyncBufferFromFile(file));
  } catch (err) {
    return fail(
      file,
      '',
      `not a complete Parquet file (${(err as Error).message}); it may be truncated: export or copy it again`,
    );
  }
  const [root, ...elements] = metadata.schema;
  const columns: string[] = [];
  for (let i = 0; i < elements.length; i++) {
    const e = elements[i]!;
    if (e.num_children) fail(file, '', `column ${e.name} is nested; usage columns are flat`);
    columns.push(e.name);
  }
  if (columns.length !== (root?.num_children ?? 0)) fail(file, '', 'nested columns are not usage columns');
  return columns;
}

function firstLine(file: string): string {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 16);
    const parts: Buffer[] = [];
    let size = 0;
    let pos = 0;
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, pos);
      const nl = buf.subarray(0, n).indexOf(10);
      if (n > 0) parts.push(Buffer.from(buf.subarray(0, nl >= 0 ? nl : n)));
      size += n;
      pos += n;
      if (n === 0 || nl >= 0 || size > 1 << 20) break;
    }
    const line = Buffer.concat(parts);
    // An invalid byte in a later line is the rows' reader's to report (with its line).
    // A header cut at 1 MiB may end inside a character: that part is not judged.
    const whole = size <= 1 << 20 ? line : line.subarray(0, line.length - incompleteTail(line));
    const bad = firstInvalidUtf8(whole);
    if (bad < whole.length) notUtf8(file, 1, bad, whole[bad] as number);
    return line.toString('utf8').replace(/\r$/, '');
  } finally {
    fs.closeSync(fd);
  }
}

function csvHeader(file: string): string[] {
  const line = firstLine(file).replace(/^\uFEFF/, '');
  if (line.trim() === '')
    fail(file, '1', 'empty: a CSV usage file starts with a header line of column names');
  const { fields, rest } = parseCsvLine(line);
  if (rest !== undefined) fail(file, '1', 'the header line has an unterminated quote');
  const names = fields.map((f) => f.trim());
  // A second column of the same name would silently win over the first: which one is meant?
  names.forEach((name, k) => {
    const first = names.indexOf(name);
    if (first !== k)
      fail(
        file,
        '1',
        `the header names column ${JSON.stringify(name)} twice (fields ${first + 1} and ${k + 1}): rename or drop one in the query that writes the file`,
      );
  });
  return names;
}

function jsonlHeader(file: string): string[] {
  const line = firstLine(file).replace(/^\uFEFF/, '');
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (err) {
    return fail(
      file,
      '1',
      `not JSON (${(err as Error).message}): a JSON-lines usage file holds one object per line`,
    );
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    fail(file, '1', 'not a JSON object: a JSON-lines usage file holds one object per line');
  return Object.keys(v as object);
}

/** Reads every file's columns and checks them: the required ones, and the same ones in every file. */
async function headers(list: { path: string; format: Format; day: number | null }[]): Promise<UsageFile[]> {
  const files: UsageFile[] = [];
  for (const f of list) {
    const raw =
      f.format === 'parquet'
        ? await parquetColumns(f.path)
        : f.format === 'csv'
          ? csvHeader(f.path)
          : jsonlHeader(f.path);
    const columns = [...new Set([...raw, ...(f.day !== null ? ['day'] : [])])];
    const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
    if (missing.length > 0)
      fail(
        f.path,
        '',
        `missing the required column${missing.length === 1 ? '' : 's'} ${missing.join(', ')} (it has: ${columns.join(', ') || 'none'}). A usage file needs ${REQUIRED_COLUMNS.join(', ')}: name them so in the query that writes it (docs/scale.md).`,
      );
    files.push({ ...f, columns });
  }
  const known = (cs: string[]): string[] => cs.filter((c) => KNOWN.has(c)).sort();
  const first = files[0];
  if (first) {
    const want = known(first.columns);
    for (const f of files.slice(1)) {
      const have = known(f.columns);
      if (have.join(',') === want.join(',')) continue;
      const lacks = want.filter((c) => !have.includes(c));
      const extra = have.filter((c) => !want.includes(c));
      throw new UserInputError(
        `mixed schemas: ${f.path} ${[lacks.length > 0 ? `lacks ${lacks.join(', ')}` : '', extra.length > 0 ? `has ${extra.join(', ')}` : ''].filter(Boolean).join(' and ')}, unlike ${first.path}. Every usage file must have the same columns: export or aggregate them with one query.`,
      );
    }
  }
  return files;
}

/* ------------------------------------------------------------------ values */

type Where = () => string;

function text(v: unknown, file: string, where: Where, column: string): string | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  return fail(file, where(), `${column} is ${JSON.stringify(v)}, not text`);
}

function count(v: unknown, file: string, where: Where, column: string): number {
  let n: number | undefined;
  if (typeof v === 'bigint') n = Number(v);
  else if (typeof v === 'number') n = v;
  else if (typeof v === 'string' && /^\s*\d+(\.0*)?\s*$/.test(v)) n = Number(v);
  if (n === undefined || !Number.isSafeInteger(n) || n < 0)
    return fail(
      file,
      where(),
      `${column} is ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}: a whole number of calls, 0 or more`,
    );
  return n;
}

function flag(v: unknown, file: string, where: Where, column: string): boolean | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'boolean') return v;
  if (v === 0 || v === 1 || v === 0n || v === 1n) return v === 1 || v === 1n;
  if (typeof v === 'string') {
    const s = v.trim().toLowerCase();
    if (['true', 't', '1', 'yes'].includes(s)) return true;
    if (['false', 'f', '0', 'no'].includes(s)) return false;
  }
  return fail(
    file,
    where(),
    `${column} is ${JSON.stringify(typeof v === 'bigint' ? String(v) : v)}: true or false${column === 'denied' ? ' (group by denied rather than aggregate it: docs/scale.md)' : ''}`,
  );
}

/**
 * ISO 8601 date-time (a space for the T, any fraction, Z or an offset; none is UTC), or epoch
 * seconds → epoch seconds, between 2000 and 2200 ({@link PLAUSIBLE_SECONDS}): a time outside is
 * a wrong unit (milliseconds) or an overflowed value, and would make every period meaningless.
 */
function time(v: unknown, file: string, where: Where, column: string): number | null {
  if (v === null || v === undefined || v === '') return null;
  let t: number | null = null;
  if (typeof v === 'number' && Number.isFinite(v)) t = v;
  else if (v instanceof Date && !Number.isNaN(v.getTime())) t = v.getTime() / 1000;
  else if (typeof v === 'string') t = parseIsoTime(v);
  if (t === null)
    return fail(
      file,
      where(),
      `${column} is ${JSON.stringify(v)}: an ISO 8601 date-time (2026-11-20T10:00:00.123456Z)`,
    );
  if (t < PLAUSIBLE_SECONDS.min || t >= PLAUSIBLE_SECONDS.max)
    return fail(
      file,
      where(),
      `${column} is ${v instanceof Date ? (isoTime(t) ?? String(t)) : JSON.stringify(v)}, ${typeof v === 'number' ? 'as epoch seconds ' : ''}not between ${isoTime(PLAUSIBLE_SECONDS.min)} and ${isoTime(PLAUSIBLE_SECONDS.max)}: write ${column} as an ISO 8601 date-time or epoch seconds (not milliseconds), and check that it did not overflow`,
    );
  return t;
}

/**
 * An action as IAM writes it, `service:Action` (`s3:GetObject`, `vpc-lattice:Associate…-Events`).
 * One the bundled reference does not know is kept as written: the reference may be older than
 * the data.
 */
const ACTION_SHAPE = /^[A-Za-z0-9][A-Za-z0-9-]*:[A-Za-z0-9][A-Za-z0-9_-]*$/;

function actionOf(v: unknown, file: string, where: Where): string | null {
  const a = text(v, file, where, 'action');
  if (a !== null && !ACTION_SHAPE.test(a))
    return fail(
      file,
      where(),
      `action is ${JSON.stringify(a)}, not an IAM action (service:Action, such as s3:GetObject): select the action column of the usage table, with no wildcard; rows of calls with no permission leave it empty`,
    );
  return a;
}

function day(v: unknown, file: string, where: Where): number | null {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (v instanceof Date) return dayOf(v.getTime() / 1000);
  if (typeof v === 'string') {
    const d = parseIsoDay(v.trim().slice(0, 10));
    if (d !== null) return d;
  }
  return fail(file, where(), `day is ${JSON.stringify(v)}: a date, YYYY-MM-DD`);
}

/** One row of a file as a store row; null when it has no principal (unattributed calls). */
function normalise(
  get: (column: string) => unknown,
  f: UsageFile,
  where: Where,
  has: Set<string>,
): SpillRow | null {
  const principal = text(get('principal'), f.path, where, 'principal');
  if (principal === null) return null;
  const action = actionOf(get('action'), f.path, where);
  const resource = text(get('resource'), f.path, where, 'resource');
  const resourceType = has.has('resource_type')
    ? text(get('resource_type'), f.path, where, 'resource_type')
    : action !== null && resource !== null
      ? resourceTypeOf(action, resource)
      : null;
  const unknown = has.has('resource_unknown')
    ? flag(get('resource_unknown'), f.path, where, 'resource_unknown')
    : null;
  return {
    principal,
    kind: text(get('kind'), f.path, where, 'kind'),
    name: text(get('name'), f.path, where, 'name'),
    account: text(get('account'), f.path, where, 'account'),
    region: text(get('region'), f.path, where, 'region'),
    day: f.day ?? day(get('day'), f.path, where),
    service: text(get('service'), f.path, where, 'service'),
    operation: text(get('operation'), f.path, where, 'operation'),
    mapping: text(get('mapping'), f.path, where, 'mapping'),
    note: text(get('note'), f.path, where, 'note'),
    action,
    resource,
    resourceType,
    // Without the column: a wildcard in the resource is what the mapping writes when the trace
    // did not record it.
    resourceUnknown: unknown ?? (resource !== null && resource.includes('*')),
    denied: flag(get('denied'), f.path, where, 'denied') ?? false,
    calls: count(get('calls'), f.path, where, 'calls'),
    first: time(get('first_seen'), f.path, where, 'first_seen'),
    last: time(get('last_seen'), f.path, where, 'last_seen'),
    traceMin: text(get('sample_trace_id'), f.path, where, 'sample_trace_id'),
    traceMax: text(get('sample_trace_id_max'), f.path, where, 'sample_trace_id_max'),
  };
}

/* ------------------------------------------------------------------ rows */

/** Epoch microseconds → seconds, the same double as a database time with up to 6 decimals. */
function secondsOfMicros(us: bigint): number {
  const neg = us < 0n;
  const a = neg ? -us : us;
  const s = `${a / 1_000_000n}.${(a % 1_000_000n).toString().padStart(6, '0')}`;
  return neg ? -parseFloat(s) : parseFloat(s);
}

const CODECS = {
  ...compressors,
  GZIP: (input: Uint8Array): Uint8Array => new Uint8Array(zlib.gunzipSync(input)),
};

async function* parquetRows(f: UsageFile): AsyncGenerator<[Record<string, unknown>, number]> {
  const file = await asyncBufferFromFile(f.path);
  const metadata = await parquetMetadataAsync(file);
  const columns = f.columns.filter((c) => KNOWN.has(c) && !(c === 'day' && f.day !== null));
  let start = 0;
  for (const group of metadata.row_groups) {
    const end = start + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({
        file,
        metadata,
        columns,
        rowStart: start,
        rowEnd: end,
        compressors: CODECS,
        parsers: {
          timestampFromMicroseconds: secondsOfMicros,
          timestampFromMilliseconds: (ms: bigint) => Number(ms) / 1000,
          timestampFromNanoseconds: (ns: bigint) => secondsOfMicros(ns / 1000n),
          dateFromDays: (d: number) => d,
        },
      });
    } catch (err) {
      return fail(
        f.path,
        `rows ${start + 1}-${end}`,
        `cannot be read (${(err as Error).message}); the file may be damaged: export or copy it again`,
      );
    }
    for (let i = 0; i < rows.length; i++) yield [rows[i] as Record<string, unknown>, start + i + 1];
    start = end;
  }
}

/** How many bytes at the end of `bytes` begin a UTF-8 sequence that the next read completes. */
function incompleteTail(bytes: Uint8Array): number {
  for (let k = 1; k <= Math.min(3, bytes.length); k++) {
    const b = bytes[bytes.length - k] as number;
    if (b < 0x80) return 0;
    if (b >= 0xc0) return (b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : 2) > k ? k : 0;
  }
  return 0;
}

/** Refuses a file with a byte that is not UTF-8 (it would otherwise be read as U+FFFD). */
function notUtf8(file: string, line: number, offset: number, byte: number): never {
  return fail(
    file,
    String(line),
    `byte ${offset} (0x${byte.toString(16).padStart(2, '0')}) is not UTF-8: usage files are UTF-8 text; write the file as UTF-8 (or convert it: iconv -f LATIN1 -t UTF-8)`,
  );
}

/** The lines of a text file, chunk by chunk, with their numbers (1-based). */
function* lines(file: string): Generator<[string, number]> {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    // Fatal: a byte that is not UTF-8 is refused with its offset, never read as U+FFFD.
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let carry = '';
    let n = 0;
    let pos = 0;
    // The bytes of a character split across reads (at most 3), kept to find an invalid byte.
    let tail = Buffer.alloc(0);
    for (;;) {
      const got = fs.readSync(fd, buf, 0, buf.length, pos);
      let chunk: string;
      try {
        chunk = got === 0 ? decoder.decode() : decoder.decode(buf.subarray(0, got), { stream: true });
      } catch {
        const bytes = Buffer.concat([tail, buf.subarray(0, got)]);
        // A character cut off by the end of this read is complete in the next one, if there is one.
        const at = Math.min(
          firstInvalidUtf8(got === 0 ? bytes : bytes.subarray(0, bytes.length - incompleteTail(bytes))),
          bytes.length - 1,
        );
        const offset = pos - tail.length + at;
        const before = bytes.subarray(0, at);
        let newlines = 0;
        for (let i = before.indexOf(10); i >= 0; i = before.indexOf(10, i + 1)) newlines++;
        // `carry` (the line so far) holds no line break: the bad byte is on line n + 1 + newlines.
        return notUtf8(file, n + 1 + newlines, offset, bytes[at] ?? 0);
      }
      const read = got < 4 ? Buffer.concat([tail, buf.subarray(0, got)]) : buf.subarray(0, got);
      tail = Buffer.from(read.subarray(read.length - incompleteTail(read)));
      pos += got;
      const text = carry + chunk;
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        yield [text.slice(from, nl).replace(/\r$/, ''), ++n];
        from = nl + 1;
      }
      carry = text.slice(from);
      if (got === 0) {
        if (carry !== '') yield [carry.replace(/\r$/, ''), ++n];
        return;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Splits one CSV line (RFC 4180). `rest` is set when a quoted field is still open at the end of
 * the line (it continues on the next one): then `fields` holds the fields before it and `rest`
 * the open field's text so far.
 */
function parseCsvLine(line: string, open?: string): { fields: string[]; rest?: string; bad?: number } {
  const fields: string[] = [];
  let i = 0;
  let field = open ?? '';
  let quoted = open !== undefined;
  for (;;) {
    if (quoted) {
      const q = line.indexOf('"', i);
      if (q < 0) return { fields, rest: field + line.slice(i) };
      field += line.slice(i, q);
      if (line[q + 1] === '"') {
        field += '"';
        i = q + 2;
        continue;
      }
      i = q + 1;
      quoted = false;
      if (i < line.length && line[i] !== ',') return { fields, bad: i + 1 };
    } else {
      const c = line.indexOf(',', i);
      const piece = c < 0 ? line.slice(i) : line.slice(i, c);
      if (field === '' && piece.startsWith('"')) {
        quoted = true;
        i += 1;
        continue;
      }
      if (piece.includes('"')) return { fields, bad: i + piece.indexOf('"') + 1 };
      field += piece;
      i = c < 0 ? line.length : c;
    }
    fields.push(field);
    field = '';
    if (i >= line.length) return { fields };
    i++; // the comma
    if (i === line.length) {
      fields.push('');
      return { fields };
    }
  }
}

function* csvRows(f: UsageFile): Generator<[Record<string, unknown>, number]> {
  let header: string[] | undefined;
  let pending: { fields: string[]; rest: string; line: number } | undefined;
  for (const [raw, n] of lines(f.path)) {
    const line = n === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    let parsed: { fields: string[]; rest?: string; bad?: number };
    let start = n;
    if (pending) {
      parsed = parseCsvLine(line, `${pending.rest}\n`);
      parsed.fields = [...pending.fields, ...parsed.fields];
      start = pending.line;
      pending = undefined;
    } else {
      if (line === '') continue;
      parsed = parseCsvLine(line);
    }
    if (parsed.bad !== undefined)
      fail(
        f.path,
        String(n),
        `malformed CSV row: a quote in the middle of a field (column ${parsed.bad}); quote the whole field and double the quotes inside it`,
      );
    if (parsed.rest !== undefined) {
      pending = { fields: parsed.fields, rest: parsed.rest, line: start };
      continue;
    }
    if (!header) {
      header = parsed.fields.map((x) => x.trim());
      continue;
    }
    if (parsed.fields.length !== header.length)
      fail(
        f.path,
        String(start),
        `malformed CSV row: ${parsed.fields.length} field${parsed.fields.length === 1 ? '' : 's'} where the header has ${header.length}`,
      );
    const row: Record<string, unknown> = {};
    header.forEach((h, k) => (row[h] = parsed.fields[k]));
    yield [row, start];
  }
  if (pending)
    fail(
      f.path,
      String(pending.line),
      'malformed CSV row: a quoted field is never closed (is the file truncated?)',
    );
}

function* jsonlRows(f: UsageFile): Generator<[Record<string, unknown>, number]> {
  for (const [line, n] of lines(f.path)) {
    if (line.trim() === '') continue;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch (err) {
      return fail(
        f.path,
        String(n),
        `not JSON (${(err as Error).message})${n > 1 ? ': is the file truncated?' : ''}`,
      );
    }
    if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(f.path, String(n), 'not a JSON object');
    yield [v as Record<string, unknown>, n];
  }
}

/**
 * Reads every row of the usage files `inputs` into `add` (see the file comment); rows without a
 * principal (unattributed calls) are skipped. Throws a UserInputError naming the file, and the
 * line or row, for anything that is not a usage row.
 */
export async function readUsageFiles(
  inputs: readonly string[],
  add: (row: SpillRow) => void,
): Promise<UsageFilesSummary> {
  const files = await headers(listUsageFiles(inputs));
  const summary: UsageFilesSummary = {
    files: files.length,
    rows: 0,
    skipped: 0,
    columns: files[0]?.columns ?? [],
  };
  // Every sum of calls (per permission, per statement) is at most the total of all rows: while
  // that is a safe integer, every sum is exact.
  let total = 0;
  for (const f of files) {
    const has = new Set(f.columns);
    const rows = f.format === 'parquet' ? parquetRows(f) : f.format === 'csv' ? csvRows(f) : jsonlRows(f);
    const label = f.format === 'parquet' ? 'row ' : '';
    for await (const [row, n] of rows) {
      const r = normalise(
        (c) => row[c],
        f,
        () => `${label}${n}`,
        has,
      );
      if (r === null) summary.skipped++;
      else {
        total += r.calls;
        if (total > Number.MAX_SAFE_INTEGER)
          fail(
            f.path,
            `${label}${n}`,
            `the calls of the rows up to here add up to more than ${Number.MAX_SAFE_INTEGER} (2^53 - 1), past which sums of calls are not exact: are these call counts? Split the rows into several runs`,
          );
        summary.rows++;
        add(r);
      }
    }
  }
  return summary;
}
