/**
 * DuckDB (`@duckdb/node-api`, a devDependency) playing the query engine of docs/scale.md: it
 * reads what `export` writes, runs the documented aggregation, and writes its result as Parquet,
 * CSV and JSON lines for `policy --usage`. The SQL is read from docs/scale.md itself, so the
 * guide and the tests cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { repoRoot } from './helpers.js';

/** A row as DuckDB returns it, with BIGINTs as numbers (every count here fits a double). */
export type Row = Record<string, unknown>;

/** One in-memory DuckDB connection. */
export class Duck {
  private constructor(private readonly c: DuckDBConnection) {}

  /** A fresh in-memory database. The zone is UTC so that timestamps print as the tool's do. */
  static async open(): Promise<Duck> {
    const c = await (await DuckDBInstance.create(':memory:')).connect();
    await c.run("SET TimeZone = 'UTC'");
    return new Duck(c);
  }

  /** Runs statements that return nothing. */
  async run(sql: string): Promise<void> {
    await this.c.run(sql);
  }

  /** Runs a query; BIGINT values come back as numbers. */
  async rows(sql: string): Promise<Row[]> {
    const result = await this.c.runAndReadAll(sql);
    return result.getRowObjects().map((r) => {
      const out: Row = {};
      for (const [k, v] of Object.entries(r)) out[k] = typeof v === 'bigint' ? Number(v) : v;
      return out;
    });
  }

  /** Closes the connection (the instance goes with it). */
  close(): void {
    this.c.closeSync();
  }
}

/** A SQL string literal. */
export const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;

/**
 * `CREATE VIEW` statements naming the exported tables as docs/scale.md does (`xray_usage`,
 * `xray_calls`, `xray_workloads`), over the Parquet files under `dir`.
 */
export function exportViews(
  dir: string,
  tables: readonly string[] = ['usage', 'calls', 'workloads'],
): string {
  return tables
    .map((t) => {
      const glob = t === 'workloads' ? `${dir}/${t}/*.parquet` : `${dir}/${t}/*/*.parquet`;
      const hive = t === 'workloads' ? '' : ', hive_partitioning = true';
      return `CREATE OR REPLACE VIEW xray_${t} AS SELECT * FROM read_parquet(${lit(glob)}${hive});`;
    })
    .join('\n');
}

/** docs/scale.md, the guide whose SQL the tests run. */
export const scaleDoc = path.join(repoRoot, 'docs/scale.md');

/**
 * The SQL of the fenced block of docs/scale.md that holds the line `-- <marker>` (without the
 * trailing `;`): the aggregation (`xray-lp:aggregate`) is one such block.
 */
export function docSql(marker: string): string {
  const text = fs.readFileSync(scaleDoc, 'utf8');
  const blocks = [...text.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const found = blocks.filter((b) => b.split('\n').some((l) => l.trim() === `-- ${marker}`));
  if (found.length !== 1)
    throw new Error(`docs/scale.md: ${found.length} sql blocks marked -- ${marker}, expected 1`);
  return (found[0] as string).trim().replace(/;\s*$/, '');
}
