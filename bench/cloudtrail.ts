/**
 * CloudTrail ingest speed, as a ratio to `JSON.parse` of the same files: a delivery tree
 * (`AWSLogs/{account}/CloudTrail/{region}/YYYY/MM/DD/*.json.gz`, 1,000 records a file, as trails
 * deliver them every few minutes) of role-session records over the services the mapping table
 * reads, then (a) gunzip + `JSON.parse` of every file in this process, (c) `xray-lp ingest` of
 * the tree end to end (a child, fresh database). Deterministic for a seed.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';
import { mulberry32 } from '../test/support/generator.js';
import { runChild, warm } from './child.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const CLI = join(ROOT, 'dist', 'cli', 'main.js');
const MB = 1024 * 1024;
const ACCOUNT = '123456789012';
const REGION = 'eu-west-1';
const PER_FILE = 1000;

/** What the CloudTrail benchmark measured. */
export interface CloudTrailBenchResult {
  files: number;
  records: number;
  /** Uncompressed JSON bytes. */
  bytes: number;
  gzBytes: number;
  jsonParseSeconds: number;
  ingestSeconds: number;
  ingestPeakRssMB?: number;
  /** Ingest time over JSON.parse time (how many times slower than parsing alone). */
  ratio: number;
  newRecords: number;
}

const CALLS: [string, string, (n: number) => Record<string, unknown>][] = [
  [
    'dynamodb.amazonaws.com',
    'GetItem',
    (n) => ({ tableName: `table-${n % 20}`, key: { id: { S: 'HIDDEN' } } }),
  ],
  [
    's3.amazonaws.com',
    'GetObject',
    (n) => ({ bucketName: `bucket-${n % 10}`, key: `in/${n % 997}/part-${n}.json` }),
  ],
  [
    'sqs.amazonaws.com',
    'SendMessage',
    (n) => ({ queueUrl: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/q-${n % 15}` }),
  ],
  ['kms.amazonaws.com', 'Decrypt', () => ({ encryptionAlgorithm: 'SYMMETRIC_DEFAULT' })],
  ['secretsmanager.amazonaws.com', 'GetSecretValue', (n) => ({ secretId: `app/secret-${n % 8}` })],
  [
    'logs.amazonaws.com',
    'CreateLogStream',
    (n) => ({ logGroupName: `/aws/lambda/fn-${n % 50}`, logStreamName: `s-${n}` }),
  ],
  ['sts.amazonaws.com', 'GetCallerIdentity', () => ({})],
];

function record(i: number, t0: number, r: () => number): Record<string, unknown> {
  const [source, name, params] = CALLS[Math.floor(r() * CALLS.length)] as (typeof CALLS)[number];
  const fn = `fn-${Math.floor(r() * 50)}`;
  const role = `arn:aws:iam::${ACCOUNT}:role/${fn}-role`;
  return {
    eventVersion: '1.09',
    userIdentity: {
      type: 'AssumedRole',
      principalId: `AROAEXAMPLE${fn.toUpperCase()}:${fn}`,
      arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${fn}-role/${fn}`,
      accountId: ACCOUNT,
      accessKeyId: 'ASIAEXAMPLE',
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: 'AROAEXAMPLE',
          arn: role,
          accountId: ACCOUNT,
          userName: `${fn}-role`,
        },
        attributes: { creationDate: new Date((t0 + i) * 1000).toISOString(), mfaAuthenticated: 'false' },
      },
    },
    eventTime: new Date((t0 + i) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: source,
    eventName: name,
    awsRegion: REGION,
    sourceIPAddress: '3.250.10.20',
    userAgent:
      'aws-sdk-js/3.600.0 ua/2.0 os/linux#5.10 lang/js md/nodejs#20.15.0 exec-env/AWS_Lambda_nodejs20.x',
    requestParameters: params(i),
    responseElements: null,
    requestID: `req-${i}`,
    eventID: `bench-${i.toString(16).padStart(12, '0')}`,
    readOnly: true,
    eventType: 'AwsApiCall',
    managementEvent: !/GetItem|GetObject|SendMessage/.test(name),
    recipientAccountId: ACCOUNT,
    eventCategory: /GetItem|GetObject|SendMessage/.test(name) ? 'Data' : 'Management',
  };
}

/** Writes a delivery tree of about `sizeBytes` uncompressed JSON; returns its folder. */
function generate(
  dir: string,
  sizeBytes: number,
  seed: number,
): { files: number; records: number; bytes: number; gzBytes: number } {
  rmSync(dir, { recursive: true, force: true });
  const day = join(dir, 'AWSLogs', ACCOUNT, 'CloudTrail', REGION, '2026', '11', '30');
  mkdirSync(day, { recursive: true });
  const r = mulberry32(seed);
  const t0 = Date.UTC(2026, 10, 30) / 1000;
  let bytes = 0;
  let gzBytes = 0;
  let records = 0;
  let files = 0;
  while (bytes < sizeBytes) {
    const list = Array.from({ length: PER_FILE }, () => record(records++, t0, r));
    const text = JSON.stringify({ Records: list });
    const gz = gzipSync(text);
    writeFileSync(
      join(
        day,
        `${ACCOUNT}_CloudTrail_${REGION}_20261130T${String(files).padStart(4, '0')}Z_bench${files}.json.gz`,
      ),
      gz,
    );
    bytes += Buffer.byteLength(text);
    gzBytes += gz.length;
    files++;
  }
  return { files, records, bytes, gzBytes };
}

/** Every `.json.gz` under a folder. */
function gzFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...gzFiles(p));
    else if (p.endsWith('.json.gz')) out.push(p);
  }
  return out.sort();
}

/** Generates the tree, then times JSON.parse of it and `ingest` of it. */
export async function runCloudTrailBench(o: {
  dir: string;
  sizeBytes: number;
  seed: number;
}): Promise<CloudTrailBenchResult> {
  const tree = join(o.dir, 'cloudtrail-tree');
  const g = generate(tree, o.sizeBytes, o.seed);
  const files = gzFiles(tree);
  for (const f of files) warm(f);
  let started = performance.now();
  let parsed = 0;
  for (const f of files) parsed += ((JSON.parse(gunzipSync(readFileSync(f)).toString('utf8')) as { Records: unknown[] }).Records).length; // prettier-ignore
  const jsonParseSeconds = (performance.now() - started) / 1000;
  if (parsed !== g.records) throw new Error(`parsed ${parsed} records of ${g.records}`);
  const db = join(o.dir, 'cloudtrail-bench.db');
  rmSync(db, { force: true });
  started = performance.now();
  const run = await runChild(process.execPath, [CLI, 'ingest', '--db', db, '--quiet', '--json', tree]);
  if (run.code !== 0) throw new Error(`ingest failed: ${run.stderr}`);
  const summary = JSON.parse(run.stdout) as { newTrailEvents: number };
  const ingestSeconds = run.wallSeconds || (performance.now() - started) / 1000;
  rmSync(db, { force: true });
  return {
    ...g,
    jsonParseSeconds,
    ingestSeconds,
    ...(run.peakRssKB !== undefined ? { ingestPeakRssMB: run.peakRssKB / 1024 } : {}),
    ratio: ingestSeconds / jsonParseSeconds,
    newRecords: summary.newTrailEvents,
  };
}

/** The lines `npm run bench` prints for it. */
export function cloudTrailBenchLines(r: CloudTrailBenchResult): string[] {
  return [
    `  ${r.files} files, ${r.records.toLocaleString('en')} records, ${(r.bytes / MB).toFixed(1)} MB JSON (${(r.gzBytes / MB).toFixed(1)} MB gzip)`,
    `  gunzip + JSON.parse: ${r.jsonParseSeconds.toFixed(2)} s (${(r.bytes / MB / r.jsonParseSeconds).toFixed(1)} MB/s)`,
    `  ingest:              ${r.ingestSeconds.toFixed(2)} s (${(r.bytes / MB / r.ingestSeconds).toFixed(1)} MB/s), ${r.newRecords.toLocaleString('en')} records stored${r.ingestPeakRssMB !== undefined ? `, peak RSS ${r.ingestPeakRssMB.toFixed(0)} MB` : ''}`,
    `  ratio: ingest takes ${r.ratio.toFixed(2)}x the time of JSON.parse alone`,
  ];
}
