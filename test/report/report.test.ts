/**
 * The report without a browser (src/report/): what the header and sections hold, the charts'
 * buckets and text alternatives, the Content-Security-Policy matching the inline style and
 * script, escaping, and the `report` command (in-process and the built binary).
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { ingest } from '../../src/ingest/ingest.js';
import { report } from '../../src/report/report.js';
import { activityChart, discoveryChart } from '../../src/report/svg.js';
import { attr, h, pre } from '../../src/report/escape.js';
import { SCRIPT, STYLE } from '../../src/report/assets.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import { fixtureRoleDetails } from '../support/cloudtrail.js';
import { cli, mainJs, repoRoot, tempDir, tempStore } from '../support/helpers.js';

const META = {
  database: 'x.db',
  toolVersion: '9.9.9',
  schemaVersion: SCHEMA_VERSION,
  options: ['--exclude-denied'],
  generatedAt: '2026-11-30T12:00:00.000Z',
};

const html = (async () => {
  const { store } = tempStore();
  await ingest(store, { inputs: [path.join(repoRoot, 'samples/traces')] });
  const run = report(store, { filter: {}, meta: META });
  const text = [...run].join('');
  return { text, summary: run.summary, store };
})();

test('escaping: text and attributes escape the HTML specials; control and bidi characters become visible', (t) => {
  t.is(h(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  t.is(h('a\u202eb\u001bc'), 'a\\u202eb\\x1bc');
  t.is(pre('line 1\n<b>\u2066x'), 'line 1\n&lt;b&gt;\\u2066x');
  // Data attributes keep the value exactly (they are never displayed), specials escaped.
  t.is(attr('k"\u202e<'), 'k&quot;\u202e&lt;');
  t.is(h(null), '');
});

test('the Content-Security-Policy allows exactly the inline style and script, by hash, and nothing else', async (t) => {
  const { text } = await html;
  const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/
    .exec(text)![1]!
    .replace(/&#39;/g, "'");
  const sha = (s: string): string => createHash('sha256').update(s).digest('base64');
  t.true(csp.includes("default-src 'none'"));
  t.true(csp.includes(`style-src 'sha256-${sha(STYLE)}'`));
  t.true(csp.includes(`script-src 'sha256-${sha(SCRIPT)}'`));
  t.true(text.includes(`<style>${STYLE}</style>`));
  t.true(text.includes(`<script>${SCRIPT}</script>`));
  t.is(text.match(/<script/g)?.length, 1);
  t.is(text.match(/<style/g)?.length, 1);
  t.false(/\b(src|href)="(?!#)/.test(text), 'no URL but in-page anchors');
  t.false(/ style="/.test(text), 'no inline style attribute (the policy would block it)');
});

test('the header names the database, versions, options, and every input with its sha256', async (t) => {
  const { text, store } = await html;
  t.regex(text, /<dt>Database<\/dt><dd>x\.db \(schema \d+\)<\/dd>/);
  t.regex(text, /by xray-lp 9\.9\.9/);
  t.regex(text, /<dt>Options<\/dt><dd>--exclude-denied<\/dd>/);
  t.regex(text, /Recorded period<\/dt><dd>2026-11-16 06:30:00Z … 2026-11-22 15:23:20Z<\/dd>/);
  for (const s of store.prepare('SELECT sha256 FROM sources').all() as { sha256: string }[])
    t.true(text.includes(s.sha256));
});

test('one section per workload, keyed like policy --json, with the charts and the verdict', async (t) => {
  const { text, summary } = await html;
  t.is(summary.workloads, 5);
  t.is(text.match(/<section class="workload"/g)?.length, 5);
  t.true(text.includes('data-principal="arn:aws:lambda:eu-west-1:123456789012:function:orders-api"'));
  t.is(text.match(/<svg class="chart"/g)?.length, 10, 'activity and discovery per workload');
  t.regex(text, /<desc>\d+ calls from 2026-11-16 to 2026-11-22 \(UTC\)/);
  t.is(
    Object.values(summary.verdicts).reduce((a, b) => a + b, 0),
    5,
  );
  t.is(summary.bytes, Buffer.byteLength(text));
});

test('each workload lists its warnings once: the folded templates hold none as comments, and stay readable', async (t) => {
  const { text } = await html;
  const templates = [
    ...text.matchAll(
      /<details class="format" data-format="(\w+)"><summary>[^<]*<\/summary><pre>([^]*?)<\/pre><\/details>/g,
    ),
  ];
  t.is(templates.length, 5 * 4, 'four templates per workload');
  const lists = text.match(/<ul class="warnings">/g)?.length ?? 0;
  t.true(lists > 0, 'the samples have warnings');
  for (const [, format, body] of templates) {
    t.false(/^\s*(#|\/\/) +warning /m.test(body!), `${format}: no warning comment lines`);
    t.regex(body!, format === 'terraform' ? /aws_iam_policy_document/ : /Statement:|iamRoleStatements:/);
  }
});

test('activity chart: every bucket of the range is drawn; each outcome layer has its own colour; the text says what it shows', (t) => {
  const day = 86_400;
  const svg = activityChart(
    [
      { start: 0, calls: 10, denied: 1, errors: 2, faults: 0, throttles: 3 },
      { start: day, calls: 0, denied: 0, errors: 0, faults: 0, throttles: 0 },
      { start: 2 * day, calls: 4, denied: 0, errors: 0, faults: 4, throttles: 0 },
    ],
    day,
    'Calls of <x>',
  );
  t.regex(svg, /<title>Calls of &lt;x&gt;<\/title>/);
  t.regex(
    svg,
    /<desc>14 calls from 1970-01-01 to 1970-01-03 \(UTC\), at most 10 on 1970-01-01; 1 denied, 4 faults \(5xx\), 2 errors \(4xx\), 3 throttled\.<\/desc>/,
  );
  t.is(svg.match(/class="c-denied"/g)?.length, 1);
  t.is(svg.match(/class="c-fault"/g)?.length, 1);
  t.is(svg.match(/class="c-ok"/g)?.length, 1, 'the day of 4 faults has no ok layer; the empty day none');
  t.regex(svg, /UTC day \(YYYY-MM-DD\)/);
  // Full dates, the year included.
  t.regex(svg, />1970-01-01<\/text>/);
  t.is(activityChart([], day, 'x'), '');
});

test('discovery chart: a step per new permission, with the dates in UTC', (t) => {
  const svg = discoveryChart(
    [
      { at: '2026-11-16T08:00:00.000Z', permissions: 3 },
      { at: '2026-11-18T09:00:00.000Z', permissions: 5 },
    ],
    '2026-11-16T08:00:00.000Z',
    '2026-11-22T08:00:00.000Z',
    'Permissions',
  );
  t.regex(
    svg,
    /<desc>5 permissions in all; the last new one on 2026-11-18 09:00 UTC; observed 2026-11-16 to 2026-11-22 \(UTC\)\.<\/desc>/,
  );
  t.is(svg.match(/<circle/g)?.length, 1, 'the last new permission is marked');
  t.regex(svg, /<path class="c-step" d="M[^"]+ H[^"]+ V[^"]+ H[^"]+ V[^"]+ H[^"]+"\/>/);
  t.is(discoveryChart([], null, null, 'x'), '');
});

test('a short range is drawn per hour', async (t) => {
  const { store } = await html;
  const text = [
    ...report(store, {
      filter: {
        since: Date.parse('2026-11-20T00:00:00Z') / 1000,
        until: Date.parse('2026-11-21T00:00:00Z') / 1000,
      },
      meta: META,
    }),
  ].join('');
  t.regex(text, /UTC hour \(YYYY-MM-DDTHH:00\)/);
  t.notRegex(text, /UTC day \(YYYY-MM-DD\)/);
  t.regex(text, />2026-11-20T\d\d:00<\/text>/);
});

test('xray-lp report writes the file whole and prints its path; a missing folder is a usage error', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'r.db');
  t.is((await cli(['--db', db, 'ingest', path.join(repoRoot, 'samples/traces')], { cwd: dir })).code, 0);
  const r = await cli(['--db', db, 'report', '--out', 'review.html', '--s3-objects', 'bucket'], { cwd: dir });
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^Wrote .*review\.html \(5 workloads: .*; \d+ KiB\)\n$/);
  const text = fs.readFileSync(path.join(dir, 'review.html'), 'utf8');
  t.true(text.endsWith('</html>\n'));
  t.regex(text, /<dt>Options<\/dt><dd>--s3-objects bucket<\/dd>/);
  t.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('partial')),
    [],
  );
  const bad = await cli(['--db', db, 'report', '--out', 'no/such/dir/r.html'], { cwd: dir });
  t.is(bad.code, 2);
  t.regex(bad.err, /the folder .* does not exist/);
});

test('the built binary writes a report with --granted comparisons', (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'r.db');
  const run = (args: string[]): ReturnType<typeof spawnSync> =>
    spawnSync(process.execPath, [mainJs, '--db', db, ...args], { cwd: dir, encoding: 'utf8' });
  t.is(run(['ingest', '--quiet', path.join(repoRoot, 'samples/traces')]).status, 0);
  const out = path.join(dir, 'g.html');
  const r = run([
    'report',
    '--out',
    out,
    '--granted',
    path.join(repoRoot, 'samples/granted/account-123456789012.json'),
    path.join(repoRoot, 'samples/granted/functions-eu-west-1.json'),
  ]);
  t.is(r.status, 0, String(r.stderr));
  const text = fs.readFileSync(out, 'utf8');
  t.regex(text, /<th>compared with granted<\/th>/);
  t.regex(text, /Compared with what it is granted/);
  // Run-time needs apart from observed ones: kept, never "remove".
  const orders = text.slice(
    text.indexOf('data-principal="arn:aws:lambda:eu-west-1:123456789012:function:orders-api"'),
  );
  const section = orders.slice(0, orders.indexOf('</section>'));
  t.regex(
    section,
    /Run-time needs: keep .*<span class="action">logs:PutLogEvents<\/span> on <span class="arn">arn:aws:logs:eu-west-1:123456789012:log-group:\/aws\/lambda\/orders-api:\*<\/span>: granted/s,
  );
  const remove = section.slice(section.indexOf('Granted, never used: remove'));
  t.notRegex(remove.slice(0, remove.indexOf('</ul>')), /logs:|xray:PutTraceSegments/);
  t.regex(section, /<summary>Run-time needs: \d+ permissions no trace shows<\/summary>/);
  t.regex(section, /<td class=action>logs:PutLogEvents<td>runtime<td>/);
  t.regex(section, /<summary>Evidence: \d+ actions observed<\/summary>/);
});

// Invisible characters that change what a reader sees: bidi marks, separators, zero-width ones.
for (const [ch, escaped] of [
  ['\u200e', '\\u200e'],
  ['\u200f', '\\u200f'],
  ['\u061c', '\\u061c'],
  ['\u2028', '\\u2028'],
  ['\u2029', '\\u2029'],
  ['\u200b', '\\u200b'],
  ['\u200c', '\\u200c'],
  ['\u200d', '\\u200d'],
  ['\u2060', '\\u2060'],
  ['\ufeff', '\\ufeff'],
] as const) {
  test(`escaping: the report shows ${escaped} as an escape in text and in a policy`, (t) => {
    t.is(h(`a${ch}<b`), `a${escaped}&lt;b`);
    t.is(pre(`{\n  "x": "a${ch}b"\n}`), `{\n  &quot;x&quot;: &quot;a${escaped}b&quot;\n}`);
  });
}

test('a role known only from CloudTrail: its activity chart draws its records, over its own days', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'mixed.db');
  // Traces of 2026-11-16..22 beside the CloudTrail records of one role on 2026-11-30.
  const ingested = await cli([
    '--db',
    db,
    'ingest',
    '-q',
    path.join(repoRoot, 'samples/traces'),
    path.join(repoRoot, 'test/fixtures/cloudtrail/records.json'),
  ]);
  t.is(ingested.code, 0, ingested.err);
  const out = path.join(dir, 'r.html');
  const r = await cli(['--db', db, 'report', '--out', out]);
  t.is(r.code, 0, r.err);
  const text = fs.readFileSync(out, 'utf8');
  const section =
    /<section[^>]*data-principal="role:[^"]*orders-fn-role"[\s\S]*?<\/section>/.exec(text)?.[0] ?? '';
  t.not(section, '');
  const desc = /<desc>(\d+) calls? from (\S+) to (\S+) \(UTC\)/.exec(section);
  t.truthy(desc, 'the chart has calls');
  t.true(Number(desc?.[1]) > 0);
  t.is(desc?.[2], '2026-11-30');
  t.is(desc?.[3], '2026-11-30');
  // Its thin evidence is a single CloudTrail record, named as such: it was never in a trace.
  const rare =
    /<p>\d+ permissions? seen in a single [^<]*<\/p><ul class="rare">[\s\S]*?<\/ul>/.exec(section)?.[0] ?? '';
  t.not(rare, '', 'the section lists thin evidence');
  t.regex(rare, /seen in a single CloudTrail record/);
  t.regex(rare, /\(CloudTrail event [0-9a-f-]+\)/);
  t.notRegex(rare, /trace/);
});

test('a report with --include-outside compares the outside calls as used, as its policy grants them (one verdict, not two)', async (t) => {
  const dir = tempDir();
  const db = path.join(dir, 'ct.db');
  t.is(
    (await cli(['--db', db, 'ingest', '-q', path.join(repoRoot, 'test/fixtures/cloudtrail/records.json')]))
      .code,
    0,
  );
  const details = fixtureRoleDetails(dir, ['dynamodb:GetItem', 'ecr:DescribeRepositories']);
  for (const [flag, want, not] of [
    [[], /credentials used outside the workload[^<]*not counted as used/, /COUNTED AS USED/],
    [
      ['--include-outside'],
      /credentials used outside the workload[^<]*COUNTED AS USED \(--include-outside\)/,
      /credentials used outside the workload[^<]*not counted as used/,
    ],
  ] as const) {
    const out = path.join(dir, `r${flag.length}.html`);
    const r = await cli(['--db', db, 'report', '--out', out, '--granted', details, ...flag]);
    t.is(r.code, 0, r.err);
    const text = fs.readFileSync(out, 'utf8');
    t.regex(text, want);
    t.notRegex(text, not);
  }
});
