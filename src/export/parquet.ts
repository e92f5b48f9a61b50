/**
 * Writing Parquet tables as Athena, Trino, Spark and DuckDB read them: Hive-partitioned by UTC day
 * (`<table>/day=YYYY-MM-DD/<prefix>-00000.parquet`, a new part every {@link PART_ROWS} rows), or
 * one folder of parts for a table without days. Written with hyparquet-writer (pure JavaScript,
 * no native code; docs/scale.md says why it was chosen), GZIP-compressed with node:zlib, with
 * column statistics (min, max, null count per row group), row groups of {@link ROW_GROUP_ROWS}.
 *
 * Rows are taken one at a time and written one row group at a time: memory holds one row group
 * per table, however many rows there are.
 *
 * Types: strings are UTF8 (BYTE_ARRAY), counts INT64, small numbers INT32, flags BOOLEAN, times
 * TIMESTAMP(MICROS, UTC) (the INT64 microseconds since the epoch, isAdjustedToUTC).
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { NewFile } from '../shared/files.js';
import { isoTime } from '../shared/time.js';

/** A Parquet schema element, as the writer's own hyparquet version types it. */
type SchemaElement = ConstructorParameters<typeof ParquetWriter>[0]['schema'][number];

/** What a column holds, and how it is written. */
export type ColumnType = 'string' | 'int64' | 'int32' | 'boolean' | 'timestamp';

/** One column of a table: its name, type, whether it may be null, and its value for a row. */
export interface ColumnSpec<R> {
  name: string;
  type: ColumnType;
  nullable: boolean;
  /** Strings, numbers (timestamps in epoch seconds) or booleans; null only when `nullable`. */
  value: (row: R) => string | number | boolean | null;
}

/**
 * Rows of a row group at most: memory holds one (a 333,000-call day of the bench in 100,000-row
 * groups peaked at 556 MB; in 25,000-row groups at 278 MB, as fast, files 3% larger).
 */
export const ROW_GROUP_ROWS = 25_000;
/** Rows of a part file at most: a larger day has several parts. */
export const PART_ROWS = 1_000_000;
/** Bytes of a string column's min/max statistics (longer values are truncated, as Parquet allows). */
export const STATISTICS_LENGTH = 256;

/** The suffix of a part file while it is being written: engines' `*.parquet` globs never match it. */
export const PARTIAL = '.partial';

/** Bytes buffered before a part file is appended to (as hyparquet-writer's own file writer). */
const FLUSH_BYTES = 1_000_000;

/**
 * hyparquet-writer's buffered writer, appending to a file the tool created new (src/shared/files.ts)
 * instead of reopening a path by name for every flush (which would follow a link planted there).
 */
function newFileWriter(file: NewFile): ByteWriter {
  const writer = new ByteWriter();
  const grow = writer.ensure.bind(writer);
  const flush = (): void => {
    file.write(new Uint8Array(writer.buffer, 0, writer.index));
    writer.index = 0;
  };
  writer.ensure = (size: number): void => {
    if (writer.index > FLUSH_BYTES) flush();
    grow(size);
  };
  writer.finish = (): void => {
    flush();
    file.close();
  };
  return writer;
}

/** One file written, relative to the export folder. */
export interface WrittenFile {
  path: string;
  rows: number;
  bytes: number;
}

function schemaOf<R>(columns: readonly ColumnSpec<R>[]): SchemaElement[] {
  const element = (c: ColumnSpec<R>): SchemaElement => {
    const repetition_type = c.nullable ? 'OPTIONAL' : 'REQUIRED';
    switch (c.type) {
      case 'string':
        return {
          name: c.name,
          type: 'BYTE_ARRAY',
          converted_type: 'UTF8',
          logical_type: { type: 'STRING' },
          repetition_type,
        };
      case 'int64':
        return { name: c.name, type: 'INT64', repetition_type };
      case 'int32':
        return { name: c.name, type: 'INT32', repetition_type };
      case 'boolean':
        return { name: c.name, type: 'BOOLEAN', repetition_type };
      case 'timestamp':
        return {
          name: c.name,
          type: 'INT64',
          converted_type: 'TIMESTAMP_MICROS',
          logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MICROS' },
          repetition_type,
        };
    }
  };
  return [{ name: 'schema', num_children: columns.length }, ...columns.map(element)];
}

/** Epoch seconds → epoch microseconds, as an INT64. */
export function micros(seconds: number): bigint {
  return BigInt(Math.round(seconds * 1e6));
}

/** The `day=` label of a UTC day number. */
export function dayLabel(day: number): string {
  return (isoTime(day * 86_400) ?? '').slice(0, 10);
}

const gzip = (input: Uint8Array): Uint8Array => zlib.gzipSync(input, { level: 6 });

/**
 * One table being written into `root` (the staging folder of an export): its parts, by day when
 * `add` is given one, each named `<final name>.partial` ({@link PARTIAL}) there. Call
 * {@link TableWriter.close} at the end, {@link TableWriter.abort} after a failure.
 */
export class TableWriter<R> {
  private readonly schema: SchemaElement[];
  private rows: R[] = [];
  private writer: ParquetWriter | undefined;
  private output: NewFile | undefined;
  private file: WrittenFile | undefined;
  private partition: string | undefined;
  private part = 0;
  private inPart = 0;
  readonly files: WrittenFile[] = [];

  constructor(
    private readonly root: string,
    private readonly table: string,
    private readonly columns: readonly ColumnSpec<R>[],
    private readonly o: { prefix: string; createdBy: string; partRows?: number; groupRows?: number },
  ) {
    this.schema = schemaOf(columns);
  }

  /** The last day seen and its label: formatting a date per row cost 6% of a calls export. */
  private day: number | undefined;
  private dayPartition = '';

  /** Adds a row, in the partition `day` (a UTC day number) when given: rows come in day order. */
  add(row: R, day?: number): void {
    if (day !== undefined && day !== this.day) {
      this.day = day;
      this.dayPartition = `day=${dayLabel(day)}`;
    }
    const partition = day === undefined ? '' : this.dayPartition;
    if (this.writer && (partition !== this.partition || this.inPart >= (this.o.partRows ?? PART_ROWS)))
      this.closePart();
    if (!this.writer) this.openPart(partition);
    this.rows.push(row);
    this.inPart++;
    if (this.rows.length >= (this.o.groupRows ?? ROW_GROUP_ROWS)) this.flush();
  }

  /** Finishes the last part; returns every file written. */
  close(): WrittenFile[] {
    if (this.writer) this.closePart();
    return this.files;
  }

  private openPart(partition: string): void {
    if (partition !== this.partition) this.part = 0;
    this.partition = partition;
    const rel = path.join(
      this.table,
      partition,
      `${this.o.prefix}-${String(this.part++).padStart(5, '0')}.parquet`,
    );
    fs.mkdirSync(path.dirname(path.join(this.root, rel)), { recursive: true });
    this.output = new NewFile(path.join(this.root, rel + PARTIAL), rel);
    this.writer = new ParquetWriter({
      writer: newFileWriter(this.output),
      schema: this.schema,
      codec: 'GZIP',
      compressors: { GZIP: gzip },
      statistics: true,
      // Whole ARNs in min/max (the default 16 bytes keeps `arn:aws:lambda:e`, which every
      // principal shares): engines can then skip row groups on `principal = …`.
      statisticsTruncateLength: STATISTICS_LENGTH,
      createdBy: this.o.createdBy,
      kvMetadata: [{ key: 'xray-lp.table', value: this.table }],
    });
    this.file = { path: rel, rows: 0, bytes: 0 };
    this.inPart = 0;
  }

  private flush(): void {
    if (!this.writer || this.rows.length === 0) return;
    const rows = this.rows;
    this.rows = [];
    this.writer.write({
      columnData: this.columns.map((c) => ({ name: c.name, data: columnData(c, rows) })),
      rowGroupSize: rows.length,
    }) as void;
    (this.file as WrittenFile).rows += rows.length;
  }

  private closePart(): void {
    this.flush();
    (this.writer as ParquetWriter).finish();
    const file = this.file as WrittenFile;
    file.bytes = (this.output as NewFile).bytes;
    this.files.push(file);
    this.writer = undefined;
    this.output = undefined;
    this.file = undefined;
  }

  /** Closes the part being written, after a failure (the export removes its staging folder). */
  abort(): void {
    this.output?.discard();
    this.writer = undefined;
    this.output = undefined;
  }
}

/** One column of a row group, in what hyparquet-writer takes for its type. */
function columnData<R>(c: ColumnSpec<R>, rows: R[]): unknown[] {
  const out: unknown[] = new Array(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const v = c.value(rows[i] as R);
    if (v === null) {
      if (!c.nullable) throw new Error(`column ${c.name} of a row is null`);
      out[i] = null;
    } else if (c.type === 'int64') out[i] = BigInt(v as number);
    else if (c.type === 'timestamp') out[i] = micros(v as number);
    else out[i] = v;
  }
  return out;
}
