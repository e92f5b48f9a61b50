/**
 * Test helpers: temp databases, dump builders, an in-process CLI runner.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from '../../src/cli/program.js';
import type { CliIO } from '../../src/cli/io.js';
import { openStore, type Store } from '../../src/store/db.js';
import { partitionOf } from '../../src/iam/arn.js';
import { batchText, documentText } from './aws-cli.js';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const fixturesDir = path.join(repoRoot, 'test/fixtures');
/** The built binary (`npm test` builds it first). */
export const mainJs = path.join(repoRoot, 'dist/cli/main.js');

/** A fresh temp directory, removed at process exit. */
const tempDirs: string[] = [];
process.on('exit', () => {
  for (const d of tempDirs) fs.rmSync(d, { recursive: true, force: true });
});

export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'xray-lp-test-'));
  tempDirs.push(d);
  return d;
}

/** Every entry under `dir` (files, folders, links), relative with `/`, sorted; none when it is missing. */
export function tree(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[])
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

/** xray-lp's temporaries under `dir` (src/shared/files.ts), and earlier releases' `.partial-PID` files. */
export function temporaries(dir: string): string[] {
  return tree(dir).filter((f) => /(^|\/)\.xray-lp-(?!manifest)|\.partial(-\d+)?$/.test(f));
}

/** A fresh file database in a temp directory. */
export function tempStore(): { store: Store; file: string; dir: string } {
  const dir = tempDir();
  const file = path.join(dir, 'test.db');
  return { store: openStore({ path: file }), file, dir };
}

/** Writes `content` to a file in `dir` and returns its path. */
export function writeFile(dir: string, name: string, content: string | Buffer): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

let counter = 0;
/** A deterministic 16-hex id. */
export function hexId(): string {
  counter++;
  return counter.toString(16).padStart(16, '0');
}

export const T0 = 1_763_500_000; // 2025-11-18T21:06:40Z

/** A trace id whose epoch part is `T0`. */
export function traceId(n: number): string {
  return `1-${T0.toString(16)}-${n.toString(16).padStart(24, '0')}`;
}

/** An AWS SDK subsegment. */
export function awsCall(
  service: string,
  operation: string,
  aws: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    id: hexId(),
    name: service,
    start_time: T0 + 1,
    end_time: T0 + 1.1,
    namespace: 'aws',
    http: { response: { status: 200 } },
    aws: { operation, region: 'eu-west-1', request_id: 'r', ...aws },
    ...extra,
  };
}

/** A Lambda function segment (2023 shape: calls under Invocation). */
export function lambdaSegment(
  trace: string,
  fn: string,
  calls: Record<string, unknown>[],
  opts: { qualifier?: string; account?: string; region?: string } = {},
): Record<string, unknown> {
  const region = opts.region ?? 'eu-west-1';
  const account = opts.account ?? '123456789012';
  const arn = `arn:${partitionOf(region)}:lambda:${region}:${account}:function:${fn}${opts.qualifier ? `:${opts.qualifier}` : ''}`;
  return {
    id: hexId(),
    name: fn,
    origin: 'AWS::Lambda::Function',
    trace_id: trace,
    start_time: T0,
    end_time: T0 + 2,
    parent_id: hexId(),
    aws: { function_arn: arn, account_id: account },
    subsegments: [{ id: hexId(), name: 'Invocation', start_time: T0, end_time: T0 + 2, subsegments: calls }],
  };
}

/**
 * `call` sent on its own as an independent subsegment (`type: "subsegment"`), parented to the
 * `Invocation` subsegment of a Lambda segment made by {@link lambdaSegment}.
 */
export function independentCall(
  seg: Record<string, unknown>,
  call: Record<string, unknown>,
): Record<string, unknown> {
  const invocation = (seg.subsegments as { id: string }[])[0]!;
  return { ...call, type: 'subsegment', trace_id: seg.trace_id, parent_id: invocation.id };
}

/** The inferred segment X-Ray makes for `call` (the AWS SDK subsegment it describes), in trace `trace`. */
export function inferredFor(
  call: { id?: unknown; name?: unknown },
  trace: string,
  origin: string,
  aws: Record<string, unknown>,
): Record<string, unknown> {
  return {
    id: hexId(),
    name: call.name,
    inferred: true,
    parent_id: call.id,
    trace_id: trace,
    origin,
    start_time: T0 + 1,
    end_time: T0 + 1.1,
    aws,
  };
}

/**
 * batch-get-traces output for the given traces (each a list of segment documents), as the AWS CLI
 * prints it (aws-cli.ts). `documentAsObject` gives `Document` as an object (as some tools write
 * it), `pretty: false` one compact line: neither is the CLI's own output.
 */
export function batch(
  traces: { id: string; segments: Record<string, unknown>[] }[],
  opts: { documentAsObject?: boolean; pretty?: boolean } = {},
): string {
  if (!opts.documentAsObject && opts.pretty !== false)
    return batchText(
      traces.map((t) => ({
        id: t.id,
        duration: 2,
        limitExceeded: false,
        docs: t.segments.map((s): [string, string] => [String(s.id), documentText(s)]),
      })),
    );
  const doc = {
    Traces: traces.map((t) => ({
      Id: t.id,
      Duration: 2,
      LimitExceeded: false,
      Segments: t.segments.map((s) => ({
        Id: s.id,
        Document: opts.documentAsObject ? s : JSON.stringify(s),
      })),
    })),
    UnprocessedTraceIds: [],
  };
  return opts.pretty === false ? JSON.stringify(doc) : JSON.stringify(doc, null, 4);
}

/** Runs the CLI in-process, capturing output. */
export async function cli(
  argv: string[],
  opts: {
    env?: Record<string, string>;
    stdin?: NodeJS.ReadableStream;
    cwd?: string;
    tty?: boolean;
    /** An interrupt, as src/cli/main.ts aborts it on SIGINT. */
    signal?: AbortSignal;
  } = {},
): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: CliIO = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    errIsTTY: opts.tty ?? false,
    stdin: opts.stdin ?? (process.stdin as NodeJS.ReadableStream),
    env: { ...(opts.env ?? {}) },
    cwd: opts.cwd ?? process.cwd(),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

/** Row counts of the main tables. */
export function counts(store: Store): {
  traces: number;
  segments: number;
  calls: number;
  workloads: number;
} {
  const n = (t: string): number => (store.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
  return { traces: n('traces'), segments: n('segments'), calls: n('calls'), workloads: n('workloads') };
}
