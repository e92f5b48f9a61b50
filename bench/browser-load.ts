/**
 * How long headless Chromium takes to reach `load` on an HTML file (the report at bench scale):
 * `node --import tsx bench/browser-load.ts FILE` prints one JSON line {loadMs, errors}, or
 * {skipped} when there is no browser.
 */
import { chromiumPath, launch } from '../test/support/browser.js';

const file = process.argv[2];
if (!file) throw new Error('usage: browser-load.ts FILE');
if (!chromiumPath()) {
  console.log(JSON.stringify({ skipped: 'no chromium' }));
} else {
  const browser = await launch();
  try {
    const page = await (await browser.newContext()).newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const t = performance.now();
    await page.goto(`file://${file}`, { waitUntil: 'load', timeout: 120_000 });
    console.log(JSON.stringify({ loadMs: Math.round(performance.now() - t), errors }));
  } finally {
    await browser.close();
  }
}
