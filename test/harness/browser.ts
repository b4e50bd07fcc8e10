import { existsSync } from 'node:fs';
import { resolve } from 'node:path';

/** Debian's chromium, driven by puppeteer-core (no browser download). */
export const CHROMIUM = process.env.TIDEMARK_CHROMIUM ?? '/usr/bin/chromium';

/** puppeteer-core, or undefined where it is not installed. */
export const puppeteer = await import('puppeteer-core').then(
  (m) => m.default,
  () => undefined,
);

/** Why the browser tests cannot run here, or undefined when they can. */
export const browserUnavailable = !existsSync(CHROMIUM)
  ? `no chromium at ${CHROMIUM} (apt-get install chromium, or set TIDEMARK_CHROMIUM)`
  : puppeteer === undefined
    ? 'puppeteer-core is not installed (a devDependency: npm install)'
    : undefined;

/** The tidemark command the console tests start. */
export const TIDEMARK_BIN = new URL('../../bin/tidemark.ts', import.meta.url).pathname;

/** Screenshots to look at (gitignored); `npm run screenshots` sends them to docs/screenshots/, where the README shows them. */
export const SCREENSHOTS = process.env.TIDEMARK_SCREENSHOTS_DIR
  ? `${resolve(process.env.TIDEMARK_SCREENSHOTS_DIR)}/`
  : new URL('../../.tidemark/screenshots/', import.meta.url).pathname;
