import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { cli, repoRoot, tempDir } from '../support/helpers.js';

test('demo ingests the bundled X-Ray and OpenTelemetry samples side by side: one workload per function, traced by both', async (t) => {
  const dir = tempDir();
  const r = await cli(['demo', '--wide', '--demo-db', path.join(dir, 'demo.db')], { cwd: dir });
  t.is(r.code, 0, r.err);
  t.regex(r.out, /Ingesting X-Ray .*\nIngested 4 of 4 inputs/);
  t.regex(r.out, /Ingesting OpenTelemetry .*aws-spans\.jsonl\nIngested 1 of 1 input/);
  for (const name of ['orders-api', 'thumbnailer', 'billing-worker'])
    t.regex(r.out, new RegExp(`│ ${name} .*│ X-Ray\\+OTel │`), name);
  t.regex(r.out, /│ report-builder .*│ X-Ray {6}│/);
  t.regex(r.out, /--since 2026-11-23/);
});

test('demo ingests the samples it is given into a fresh database and prints workloads and policies', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'demo.db');
  fs.writeFileSync(db, 'stale content that the demo must replace');
  const r = await cli(['demo', '--samples', path.join(repoRoot, 'samples/traces'), '--demo-db', db], {
    cwd: dir,
  });
  t.is(r.code, 0, r.err);
  t.regex(r.out, /Ingested 4 of 4 inputs/);
  t.regex(r.out, /Workloads found/);
  for (const name of ['orders-api', 'thumbnailer', 'report-builder', 'billing-worker', 'order-pipeline'])
    t.true(r.out.includes(name), name);
  t.regex(r.out, /Least-privilege policies, one per workload:/);
  // Denied by the role: left out of the policy, and listed with its evidence.
  t.notRegex(r.out, /"dynamodb:DeleteItem"/);
  t.regex(
    r.out,
    /\[denied\] dynamodb:DeleteItem on arn:aws:dynamodb:eu-west-1:123456789012:table\/orders \(denied 1 of 1 call, AccessDenied in trace 1-[0-9a-f-]+\)\. LEFT OUT/,
  );
  t.regex(r.out, /Explore further:/);
});

test('demo shows the run-time statements of a Lambda policy and a comparison that calls the two managed policies run-time needs', async (t) => {
  const dir = tempDir();
  const r = await cli(['demo', '--wide', '--demo-db', path.join(dir, 'demo.db')], { cwd: dir });
  t.is(r.code, 0, r.err);
  t.regex(r.out, /"Sid": "RuntimeLogs[0-9A-F]{8}"/);
  t.regex(
    r.out,
    /"logs:PutLogEvents"\n\s+\],\n\s+"Resource": \[\n\s+"arn:aws:logs:eu-west-1:123456789012:log-group:\/aws\/lambda\/orders-api:\*"/,
  );
  t.regex(r.out, /"Sid": "RuntimeXray[0-9A-F]{8}"/);
  t.regex(r.out, /all \d+ permissions allowed/);
  t.regex(r.out, /orders-api compared with AWSLambdaBasicExecutionRole \+ AWSXRayDaemonWriteAccess/);
  t.regex(r.out, /Run-time needs \(no call shows them/);
  t.regex(
    r.out,
    /logs:CreateLogGroup, logs:CreateLogStream, logs:PutLogEvents on .*orders-api:\*: granted, needed because/,
  );
  t.notRegex(r.out, /Remove \(granted, never used\):\n\s+(logs|xray):/);
});
