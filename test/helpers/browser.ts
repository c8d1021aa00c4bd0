/**
 * What every browser test of the workspace does the same way: Debian's Chromium through playwright-core
 * at a phone's size (360 × 800) in the reader's locale, sign-in by token or by member card and PIN, a
 * click that waits for the page it leads to, axe-core with no serious or critical violation, and
 * screenshots kept in a folder per test file (SCREENSHOT_DIR overrides the parent folder).
 */
import { expect } from "chai";
import { mkdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import { chromium, type Browser, type BrowserContext, type Page, type Response } from "playwright-core";
import { seedDemo, type DemoResult } from "../../server/demo/seed";
import { startTestGateway, type TestGateway } from "./gateway";

export const PHONE = { width: 360, height: 800 };
export const LOCALES = { ar: "ar-MA", fr: "fr-FR" } as const;
export type TestLang = keyof typeof LOCALES;

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--no-first-run",
];

/** `env` is added to this process's environment for the browser (e.g. FONTCONFIG_FILE, to hide the system's fonts). */
export function launchChromium(options: { env?: Record<string, string> } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
    ...(options.env === undefined ? {} : { env: { ...process.env, ...options.env } }),
  });
}

/** A fresh context (no cookies) at a phone's size in the language's locale. */
export async function phone(
  browser: Browser,
  lang: TestLang,
  javaScriptEnabled = true,
): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: PHONE, locale: LOCALES[lang], javaScriptEnabled });
  return { context, page: await context.newPage() };
}

/** Clicks and waits for the page the form or link leads to; answers that page's response. */
export async function submit(page: Page, selector: string): Promise<Response> {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response!;
}

/** axe-core on the page as it stands: no serious or critical violation (the report names each node). */
export async function noSeriousViolation(page: Page, name: string): Promise<void> {
  const result = await new AxeBuilder({ page }).analyze();
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  const report = bad.map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
  expect(report, `${name}: ${report.join("; ")}`).to.deep.equal([]);
}

/** A screenshot taker for one test file: `shot(page, "fr-01-dashboard")` → <dir>/fr-01-dashboard.png. */
export function screenshots(folder: string): { dir: string; shot: (page: Page, name: string) => Promise<void> } {
  const dir = path.join(process.env.SCREENSHOT_DIR ?? tmpdir(), folder);
  mkdirSync(dir, { recursive: true });
  return {
    dir,
    shot: async (page, name) => {
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
    },
  };
}

/** Signs in with a staff or buyer token on /signin, in a fresh context; ends on the page after sign-in. */
export async function signInWithToken(
  browser: Browser,
  baseUrl: string,
  lang: TestLang,
  token: string,
  javaScriptEnabled = true,
): Promise<{ context: BrowserContext; page: Page }> {
  const s = await phone(browser, lang, javaScriptEnabled);
  await s.page.goto(`${baseUrl}/signin?lang=${lang}`);
  await s.page.fill("#token", token);
  await submit(s.page, "form[action='/signin'] button");
  return s;
}

/** Signs a member in with her card link and PIN, in a fresh context; ends on /w. */
export async function signInWithCard(
  browser: Browser,
  lang: TestLang,
  card: { card: string; pin: string },
  javaScriptEnabled = true,
): Promise<{ context: BrowserContext; page: Page }> {
  const s = await phone(browser, lang, javaScriptEnabled);
  await s.page.goto(`${card.card}?lang=${lang}`);
  await s.page.fill("#pin", card.pin);
  await submit(s.page, "form button[type=submit]");
  expect(new URL(s.page.url()).pathname).to.equal("/w");
  return s;
}

/** What a browser test file starts with: a gateway seeded with the demo as `npm start` seeds it, the
 * demo's tokens file (its shape is the test's: `T`) and Chromium. */
export interface SeededDemo<T> {
  t: TestGateway;
  demo: DemoResult;
  tokens: T;
  browser: Browser;
}

/**
 * Starts a seeded gateway and Chromium. A generous guessing budget by default: browser tests type wrong
 * PINs and tokens on purpose, all from one address.
 */
export async function startSeededDemo<T = Record<string, unknown>>(
  options: Parameters<typeof startTestGateway>[0] = {},
): Promise<SeededDemo<T>> {
  const t = await startTestGateway({ ...options, env: { AUTH_FAILURES_PER_MINUTE: "1000", ...options.env } });
  const demo = await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
  const tokens = JSON.parse(readFileSync(demo.tokensFile, "utf8")) as T;
  return { t, demo, tokens, browser: await launchChromium() };
}

/** Stops whatever of a seeded demo did start (a failed `before` leaves parts undefined). */
export async function stopSeededDemo(
  started: { t?: TestGateway; browser?: Browser },
  screenshotsDir?: string,
): Promise<void> {
  await started.browser?.close();
  await started.t?.stop();
  if (screenshotsDir !== undefined) console.log(`        screenshots in ${screenshotsDir}`);
}
