/**
 * A real browser for the HTML tests: Debian's `chromium` (`.ci/run` installs it), driven by
 * playwright-core with its executable path (no browser download). Tests that need it skip, saying
 * why, where there is none (`XRAY_LP_CHROMIUM` names another executable).
 */
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];

/** The browser executable, or undefined. */
export function chromiumPath(): string | undefined {
  const fromEnv = process.env.XRAY_LP_CHROMIUM;
  if (fromEnv) return fromEnv;
  return CANDIDATES.find((p) => fs.existsSync(p));
}

/** Launches headless Chromium (no sandbox: tests run as root in CI containers). */
export async function launch(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error('no chromium: apt-get install chromium, or set XRAY_LP_CHROMIUM');
  return chromium.launch({ executablePath, args: ['--no-sandbox', '--disable-gpu'] });
}
