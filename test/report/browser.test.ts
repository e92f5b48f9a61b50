/**
 * The HTML report in a real browser (headless Chromium, test/support/browser.ts): it loads
 * nothing, logs no error, shows every policy exactly as `policy --json` gives it (with and
 * without JavaScript), keeps hostile names as text, and draws something. Screenshots are kept in
 * the temp folder of the run (printed with --verbose) for a look.
 */
import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { ingest } from '../../src/ingest/ingest.js';
import { buildPolicies } from '../../src/policy/build.js';
import { report } from '../../src/report/report.js';
import { SCHEMA_VERSION } from '../../src/store/schema.js';
import type { Store } from '../../src/store/db.js';
import { writeReport } from '../../src/cli/report-file.js';
import { chromiumPath, launch } from '../support/browser.js';
import {
  awsCall,
  batch,
  fixturesDir,
  lambdaSegment,
  repoRoot,
  T0,
  tempDir,
  tempStore,
  traceId,
} from '../support/helpers.js';
import { mergeGranted, parseGrantedFile, type GrantedInputs } from '../../src/granted/granted.js';

const META = {
  database: 'test.db',
  toolVersion: 'test',
  schemaVersion: SCHEMA_VERSION,
  options: [],
  generatedAt: '2026-11-30T12:00:00.000Z',
};

async function reportOf(inputs: string[], granted?: GrantedInputs): Promise<{ store: Store; file: string }> {
  const { store, dir } = tempStore();
  const s = await ingest(store, { inputs });
  if (s.rejected > 0) throw new Error('inputs rejected');
  const file = path.join(dir, 'report.html');
  await writeReport(file, report(store, { filter: {}, meta: META, granted }));
  return { store, file };
}

const grantedFiles = (...files: string[]): GrantedInputs =>
  mergeGranted(
    files.map((f) => parseGrantedFile(fs.readFileSync(path.join(repoRoot, 'samples/granted', f), 'utf8'), f)),
  );

/** A segment (and everything in it) moved to start at `t` (epoch seconds) instead of T0. */
function movedTo(value: unknown, t: number): unknown {
  if (Array.isArray(value)) return value.map((v) => movedTo(v, t));
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        (k === 'start_time' || k === 'end_time') && typeof v === 'number' ? v - T0 + t : movedTo(v, t),
      ]),
    );
  return value;
}

/** Where screenshots go: XRAY_LP_SHOTS to keep them for a look, else the run's temp folder. */
const shotDir = (): string => process.env.XRAY_LP_SHOTS ?? tempDir();

const DAY_S = 86_400;
const Y2018 = Date.UTC(2018, 2, 1, 12) / 1000; // 2018-03-01T12:00Z
const Y2026 = Date.UTC(2026, 10, 2, 12) / 1000; // 2026-11-02T12:00Z

/**
 * A database of two periods years apart: `a-legacy` active five days in 2018 (it reads a secret
 * the trace does not name: secret:*), `z-current` two days in 2026. Both are compared with one
 * policy that grants the secret on every resource and iam:PassRole on the legacy roles: z-current
 * never reads the secret (an unused grant of risk high), a-legacy does (its riskiest unused grant
 * is the PassRole, medium). The overview puts z-current first though its name sorts last.
 */
async function periodsReport(): Promise<{ store: Store; file: string }> {
  const dir = tempDir();
  const traces: { id: string; segments: Record<string, unknown>[] }[] = [];
  let n = 0;
  for (let d = 0; d < 5; d++)
    traces.push({
      id: traceId(++n),
      segments: [
        movedTo(
          lambdaSegment(traceId(n), 'a-legacy', [
            awsCall('SecretsManager', 'GetSecretValue'),
            awsCall('DynamoDB', 'GetItem', { table_name: 'legacy' }),
          ]),
          Y2018 + d * DAY_S,
        ) as Record<string, unknown>,
      ],
    });
  for (let d = 0; d < 2; d++)
    traces.push({
      id: traceId(++n),
      segments: [
        movedTo(
          lambdaSegment(traceId(n), 'z-current', [awsCall('DynamoDB', 'PutItem', { table_name: 'orders' })]),
          Y2026 + d * DAY_S,
        ) as Record<string, unknown>,
      ],
    });
  const dump = path.join(dir, 'periods.json');
  fs.writeFileSync(dump, batch(traces));
  const policy = {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Tables',
        Effect: 'Allow',
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: [
          'arn:aws:dynamodb:eu-west-1:123456789012:table/legacy',
          'arn:aws:dynamodb:eu-west-1:123456789012:table/orders',
        ],
      },
      { Sid: 'Secrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
      {
        Sid: 'Pass',
        Effect: 'Allow',
        Action: 'iam:PassRole',
        Resource: 'arn:aws:iam::123456789012:role/legacy-*',
      },
    ],
  };
  return reportOf([dump], mergeGranted([parseGrantedFile(JSON.stringify(policy), 'granted.json')]));
}

const samples = reportOf([
  path.join(repoRoot, 'samples/traces'),
  path.join(repoRoot, 'samples/otel/aws-spans.jsonl'),
]);
const hostile = reportOf([path.join(fixturesDir, 'bad/html-injection.json')]);
const periods = periodsReport();
const compared = reportOf(
  [path.join(repoRoot, 'samples/traces'), path.join(repoRoot, 'samples/otel/aws-spans.jsonl')],
  grantedFiles(
    'account-123456789012.json',
    'account-210987654321.json',
    'functions-eu-west-1.json',
    'functions-us-east-1.json',
  ),
);

const available = chromiumPath() !== undefined;
let browser: Promise<Browser> | undefined;
const getBrowser = (): Promise<Browser> => (browser ??= launch());
test.after.always(async () => {
  if (browser) await (await browser).close();
});

interface Visit {
  page: Page;
  requests: string[];
  errors: string[];
  dialogs: string[];
  close: () => Promise<void>;
}

async function visit(file: string, javaScriptEnabled = true): Promise<Visit> {
  const ctx = await (
    await getBrowser()
  ).newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } });
  const page = await ctx.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  const dialogs: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  await page.goto(`file://${file}`, { waitUntil: 'load' });
  return { page, requests, errors, dialogs, close: () => ctx.close() };
}

const browserTest = available ? test.serial : test.skip;
if (!available)
  test('browser tests need Chromium', (t) => {
    t.log('skipped: no chromium (apt-get install chromium, or set XRAY_LP_CHROMIUM); .ci/run installs it');
    t.pass();
  });

browserTest(
  'the samples report loads nothing, logs no error, and each policy is the document of policy --json',
  async (t) => {
    const { store, file } = await samples;
    const v = await visit(file);
    t.deepEqual(
      v.requests.filter((u) => u !== `file://${file}`),
      [],
    );
    t.deepEqual(v.errors, []);
    const shown = await v.page.$$eval('section.workload', (secs) =>
      secs.map((s) => ({
        key: s.getAttribute('data-principal'),
        json: s.querySelector('pre.policy')?.textContent ?? '',
      })),
    );
    const expected = buildPolicies(store, { filter: {} }).policies;
    t.is(shown.length, expected.length);
    for (const p of expected) {
      const s = shown.find((x) => x.key === p.principal);
      t.truthy(s, p.principal);
      t.deepEqual(JSON.parse(s!.json), p.document, p.principal);
    }
    const shot = path.join(tempDir(), 'overview.png');
    await v.page.locator('#overview').screenshot({ path: shot });
    t.log(`screenshot: ${shot}`);
    await v.close();
  },
);

browserTest('with JavaScript disabled every policy is there, and the overview comes first', async (t) => {
  const { store, file } = await samples;
  const v = await visit(file, false);
  const docs = await v.page.$$eval('pre.policy', (pres) => pres.map((p) => p.textContent ?? ''));
  t.is(docs.length, buildPolicies(store, { filter: {} }).policies.length);
  for (const d of docs) t.notThrows(() => JSON.parse(d));
  // The overview is written last but shown first (CSS order), with no script.
  const overview = await v.page.$eval('#overview', (e) => e.getBoundingClientRect().top);
  const sections = await v.page.$$eval('section.workload', (els) =>
    els.map((e) => e.getBoundingClientRect().top),
  );
  t.true(overview < Math.min(...sections));
  t.false(await v.page.isVisible('#search'), 'script-only controls stay hidden');
  await v.close();
});

browserTest('search filters the overview and the sections; a column sorts', async (t) => {
  const { file } = await samples;
  const v = await visit(file);
  await v.page.fill('#search', 'thumb');
  t.is(await v.page.locator('#overview-table tbody tr:not(.hidden)').count(), 1);
  t.is(await v.page.locator('section.workload:not(.hidden)').count(), 1);
  t.regex((await v.page.textContent('#shown')) ?? '', /1 of 5 shown/);
  await v.page.fill('#search', '');
  await v.page.click('#overview-table thead th:nth-child(5)'); // calls, ascending
  const calls = await v.page.$$eval('#overview-table tbody tr td:nth-child(5)', (tds) =>
    tds.map((d) => Number(d.getAttribute('data-sort'))),
  );
  t.deepEqual(
    calls,
    [...calls].sort((a, b) => a - b),
  );
  await v.page.selectOption('#format', 'terraform');
  t.true(
    await v.page
      .locator('details.format[data-format="terraform"]')
      .first()
      .evaluate((d) => (d as HTMLDetailsElement).open),
  );
  await v.close();
});

browserTest('hostile names from the traces stay text: nothing runs, no element is injected', async (t) => {
  const { store, file } = await hostile;
  const v = await visit(file);
  t.deepEqual(v.dialogs, []);
  t.deepEqual(v.errors, []);
  t.is(await v.page.locator('script').count(), 1);
  t.is(await v.page.locator('img').count(), 0);
  // Only the charts this report draws are SVG; no `b` or injected svg element exists.
  t.is(await v.page.locator('svg:not(.chart)').count(), 0);
  t.is(await v.page.locator('section.workload b').count(), 0);
  const text = (await v.page.textContent('body')) ?? '';
  t.true(text.includes('<img src=x onerror=alert(1)>'));
  t.true(text.includes('</script><script>alert(2)</script>'));
  t.true(text.includes('"><svg onload=alert(5)>'));
  // The bidi override is shown as an escape, not obeyed.
  t.false(text.includes('\u202e'));
  t.true(text.includes('\\u202eevil\\u202c javascript:alert(4)'));
  // No link points anywhere but inside the page.
  const hrefs = await v.page.$$eval('a', (as) => as.map((a) => a.getAttribute('href') ?? ''));
  t.true(
    hrefs.every((h) => h.startsWith('#')),
    hrefs.join(' '),
  );
  // And the policies still parse to the documents.
  for (const p of buildPolicies(store, { filter: {} }).policies) {
    const json = await v.page
      .locator(`section.workload[data-principal="${p.principal.replace(/["\\]/g, '\\$&')}"] pre.policy`)
      .textContent();
    t.deepEqual(JSON.parse(json ?? ''), p.document);
  }
  await v.close();
});

browserTest('the overview screenshot is not blank', async (t) => {
  const { file } = await samples;
  const v = await visit(file);
  const png = await v.page.locator('#overview').screenshot();
  await v.close();
  // Decode it in a blank page and count its colours: a blank area has one or two.
  const ctx = await (await getBrowser()).newContext();
  const page = await ctx.newPage();
  const colours = await page.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d')!;
    g.drawImage(img, 0, 0);
    const data = g.getImageData(0, 0, c.width, c.height).data;
    const seen = new Set<number>();
    for (let i = 0; i < data.length; i += 16) seen.add((data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!);
    return { n: seen.size, w: c.width, h: c.height };
  }, png.toString('base64'));
  await ctx.close();
  t.true(colours.w > 600 && colours.h > 200, JSON.stringify(colours));
  t.true(colours.n > 20, JSON.stringify(colours));
  fs.writeFileSync(path.join(tempDir(), 'overview.png'), png);
});

/** Widths that overflow at 1280 px: the page's, and every scrolling box's (details opened). */
async function overflows(page: Page): Promise<string[]> {
  await page.$$eval('details', (ds) => ds.forEach((d) => ((d as HTMLDetailsElement).open = true)));
  return page.evaluate(() => {
    const out: string[] = [];
    const root = document.documentElement;
    if (root.scrollWidth > root.clientWidth) out.push(`page ${root.scrollWidth} > ${root.clientWidth}`);
    document.querySelectorAll('.scroll').forEach((el) => {
      const box = el as HTMLElement;
      if (box.offsetParent !== null && box.scrollWidth > box.clientWidth + 1)
        out.push(
          `${box.closest('section')?.id ?? '?'} ${box.querySelector('th')?.textContent ?? ''}: ${box.scrollWidth} > ${box.clientWidth}`,
        );
    });
    return out;
  });
}

browserTest(
  'at 1280 px nothing scrolls sideways: the overview with its compare column, run-time needs, evidence',
  async (t) => {
    for (const r of [compared, periods, samples]) {
      const { file } = await r;
      const v = await visit(file);
      t.deepEqual(await overflows(v.page), [], file);
      await v.close();
    }
  },
);

browserTest(
  'the overview is sorted by risk: the workload with the riskiest unused grant first',
  async (t) => {
    const { file } = await periods;
    const v = await visit(file);
    const rows = await v.page.$$eval('#overview-table tbody tr', (trs) =>
      trs.map((tr) => [
        tr.querySelector('a')?.textContent,
        (tr as HTMLTableRowElement).cells[11]?.textContent,
      ]),
    );
    t.deepEqual(rows, [
      ['z-current', 'high'],
      ['a-legacy', 'medium'],
    ]);
    const shot = path.join(shotDir(), 'periods-1280.png');
    await v.page.screenshot({ path: shot, fullPage: true });
    t.log(`screenshot: ${shot}`);
    await v.close();
  },
);

browserTest("each workload's charts span its own active period, labelled with full dates", async (t) => {
  const { file } = await periods;
  const v = await visit(file);
  const charts = await v.page.$$eval('section.workload', (secs) =>
    secs.map((s) => ({
      name: s.querySelector('h2')?.textContent ?? '',
      ticks: Array.from(s.querySelectorAll('svg.chart')).map((svg) =>
        Array.from(svg.querySelectorAll('text.tick'))
          .map((x) => x.textContent ?? '')
          .filter((x) => x.includes('-')),
      ),
      desc: s.querySelector('svg.chart desc')?.textContent ?? '',
    })),
  );
  const legacy = charts.find((c) => c.name.includes('a-legacy'))!;
  const current = charts.find((c) => c.name.includes('z-current'))!;
  for (const c of [legacy, current]) {
    const all = c.ticks.flat();
    t.true(all.length > 0, c.name);
    for (const x of all) t.regex(x, /^\d{4}-\d{2}-\d{2}$/, c.name);
  }
  // Five days of 2018, not 2018 to 2026.
  t.true(
    legacy.ticks.flat().every((x) => x.startsWith('2018-03-0')),
    legacy.ticks.flat().join(' '),
  );
  t.regex(legacy.desc, /from 2018-03-01 to 2018-03-05/);
  t.regex(current.desc, /from 2026-11-02 to 2026-11-03/);
  const legacySection = v.page.locator('section.workload', { hasText: 'a-legacy' });
  await legacySection.locator('.cols').screenshot({ path: path.join(shotDir(), 'legacy-charts.png') });
  await legacySection.locator('pre.policy').screenshot({ path: path.join(shotDir(), 'legacy-policy.png') });
  await v.close();
});

browserTest(
  'wildcards and risky actions are highlighted; the text, and what Copy copies, is the document',
  async (t) => {
    const { store, file } = await periods;
    const v = await visit(file);
    await v.page.context().grantPermissions(['clipboard-read', 'clipboard-write']);
    const expected = buildPolicies(store, { filter: {} }).policies;
    const legacy = expected.find((p) => p.name === 'a-legacy')!;
    const sec = v.page.locator(`section.workload[data-principal="${legacy.principal}"]`);
    const pre = sec.locator('pre.policy');
    // Exactly the text of policy --json's document, byte for byte.
    t.is(await pre.textContent(), JSON.stringify(legacy.document, null, 2));
    const marks = await pre.locator('mark').evaluateAll((ms) => ms.map((m) => [m.className, m.textContent]));
    // Every string with a wildcard is marked, and only those; the one risky action too.
    const literals = JSON.stringify(legacy.document, null, 2).match(/"(?:[^"\\]|\\.)*"/g) ?? [];
    t.deepEqual(
      marks.filter(([c]) => c === 'wild').map(([, x]) => x),
      literals.filter((x) => /[*?]/.test(x)),
    );
    t.true(
      marks.some(
        ([c, x]) => c === 'wild' && x === '"arn:aws:secretsmanager:eu-west-1:123456789012:secret:*"',
      ),
    );
    t.deepEqual(
      marks.filter(([c]) => c === 'risky').map(([, x]) => x),
      ['"secretsmanager:GetSecretValue"'],
    );
    await sec.locator('button.copy').click();
    await v.page.waitForFunction(
      (b) => b?.textContent === 'Copied',
      await sec.locator('button.copy').elementHandle(),
    );
    const copied = await v.page.evaluate(() => navigator.clipboard.readText());
    t.deepEqual(JSON.parse(copied), legacy.document);
    t.is(copied, JSON.stringify(legacy.document, null, 2));
    await v.close();
  },
);

browserTest('screenshots at 1280 px: the compared samples report', async (t) => {
  const { file } = await compared;
  const v = await visit(file);
  const shot = path.join(shotDir(), 'compared-1280.png');
  await v.page.screenshot({ path: shot, fullPage: false });
  const first = path.join(shotDir(), 'compared-first-workload.png');
  await v.page.locator('section.workload').first().screenshot({ path: first });
  t.log(`screenshots: ${shot} ${first}`);
  t.true(fs.statSync(shot).size > 10_000);
  await v.close();
});

/** A report of the CloudTrail fixture: a Lambda role whose credentials were also used from a laptop. */
const trailReport = reportOf([path.join(repoRoot, 'test/fixtures/cloudtrail/records.json')]);

browserTest(
  "a role's CloudTrail part: the outside calls in plain view, the sources and the service calls folded; it fits 1280 px",
  async (t) => {
    const { file } = await trailReport;
    const v = await visit(file);
    t.deepEqual(v.errors, []);
    const section = v.page.locator('section.workload').first();
    // The outside calls are not folded: visible before any <details> is opened.
    const outside = section.locator('div.outside');
    t.true(await outside.isVisible());
    const text = (await outside.textContent()) ?? '';
    for (const s of [
      '198.51.100.77',
      'aws-cli/2.15.30',
      's3:ListAllMyBuckets',
      'ecr:DescribeRepositories',
      'not granted',
    ])
      t.true(text.includes(s), s);
    t.is(await outside.locator('details').count(), 0);
    const folded = section.locator('details.cloudtrail');
    t.false(await folded.evaluate((d) => (d as HTMLDetailsElement).open));
    t.regex(
      (await folded.locator('summary').textContent()) ?? '',
      /CloudTrail: \d+ records of orders-fn-role/,
    );
    await folded.locator('summary').click();
    const seen = await folded.locator('table').first().locator('tbody tr').allTextContents();
    t.true(
      seen.some((r) => r.startsWith('secretsmanager:GetSecretValue') && r.includes('CloudTrail')),
      seen.join('|'),
    );
    t.true(
      (await folded.locator('table').nth(1).textContent())?.includes('logs:CreateLogStream') === true,
      'the Lambda service writing logs, on the workload behalf',
    );
    t.deepEqual(await overflows(v.page), []);
    const shot = path.join(shotDir(), 'cloudtrail-1280.png');
    await section.screenshot({ path: shot });
    t.log(`screenshot: ${shot}`);
    await v.close();
  },
);
