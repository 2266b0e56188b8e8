import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/*
 * Headless Chromium for the report tests (Debian's /usr/bin/chromium, or ML_TRAINER_CHROMIUM).
 * Without it the browser tests are skipped, loudly. Screenshots go to test-artifacts/reports/.
 */
export const CHROMIUM = process.env.ML_TRAINER_CHROMIUM ?? '/usr/bin/chromium';
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  console.warn(
    `\n${'*'.repeat(78)}\n*** BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM}.\n*** Install it (apt-get install chromium) or set ML_TRAINER_CHROMIUM.\n${'*'.repeat(78)}\n`,
  );
}
export const describeBrowser = haveChromium ? describe : describe.skip;

export const ARTIFACTS = join(__dirname, '..', '..', 'test-artifacts', 'reports');
export const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A headless Chromium with the shared arguments, the screenshot folder made. */
export async function launchChromium(): Promise<Browser> {
  const { chromium } = await import('playwright-core');
  await mkdir(ARTIFACTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS });
}

/** Console errors (CSP violations among them), page errors and failed requests of a page: a test expects none. */
export function watch(page: Page): string[] {
  const problems: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  return problems;
}
