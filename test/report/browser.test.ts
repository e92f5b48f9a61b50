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
import { fixturesDir, repoRoot, tempDir, tempStore } from '../support/helpers.js';

const META = {
  database: 'test.db',
  toolVersion: 'test',
  schemaVersion: SCHEMA_VERSION,
  options: [],
  generatedAt: '2026-11-30T12:00:00.000Z',
};

async function reportOf(inputs: string[]): Promise<{ store: Store; file: string }> {
  const { store, dir } = tempStore();
  const s = await ingest(store, { inputs });
  if (s.rejected > 0) throw new Error('inputs rejected');
  const file = path.join(dir, 'report.html');
  await writeReport(file, report(store, { filter: {}, meta: META }));
  return { store, file };
}

const samples = reportOf([
  path.join(repoRoot, 'samples/traces'),
  path.join(repoRoot, 'samples/otel/aws-spans.jsonl'),
]);
const hostile = reportOf([path.join(fixturesDir, 'bad/html-injection.json')]);

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
