import { chromium, type BrowserContext } from 'playwright-core';

export type { Page, Request } from 'playwright-core';
import { makeTempDir, removeDir } from './services.ts';

/** Debian's `chromium` (.ci/run installs it); playwright-core downloads no browser of its own. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

export interface HeadlessChromium {
  /** A browser context on a fresh profile: no cookies, no cache. */
  context: BrowserContext;
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Headless Chromium for testing pages as a person would, quiet on the network:
 * no QUIC, no component updates, sync or background requests, so it talks
 * only to the pages a test opens. Imported as `@cistern/testkit/chromium`,
 * so tests without a page do not load playwright.
 */
export async function launchChromium(): Promise<HeadlessChromium> {
  const profile = await makeTempDir('chromium-profile');
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      await removeDir(profile);
    },
  };
}
