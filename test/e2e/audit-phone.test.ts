/**
 * The audit pages on a phone, in four languages (issues 13 and 14): the demo's auditor signed in by
 * token in Debian's Chromium at 360 × 800. Each page (the audit home, the demo sale's audit, the
 * cooperative's audit with its payouts) fits the screen (tables scroll inside their own box), shows no
 * amount in a smallest unit ("wei"), has no link the browser cannot follow with its session (no API
 * link that answers 401), and no serious or critical axe-core violation; its downloads (CSV, evidence
 * pack, reconciliation CSV) answer 200 with the session's cookie.
 */
import { expect } from "chai";
import type { Browser } from "playwright-core";
import type { DemoResult } from "../../server/demo/seed";
import { LANGS, type Lang } from "../../server/pages/i18n";
import { noSeriousViolation, PHONE, screenshots, startSeededDemo, stopSeededDemo } from "../helpers/browser";
import type { TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-audit-phone");

describe("audit pages on a phone, in four languages (e2e)", function () {
  this.timeout(600_000);
  let t: TestGateway;
  let demo: DemoResult;
  let tokens: { auditor: string };
  let browser: Browser;

  before(async function () {
    ({ t, demo, tokens, browser } = await startSeededDemo<{ auditor: string }>());
  });

  after(async function () {
    await stopSeededDemo({ t, browser }, SCREENSHOTS);
  });

  for (const lang of LANGS as readonly Lang[]) {
    it(`fits each audit page in ${lang} at 360 px, with working downloads and no smallest unit`, async function () {
      const context = await browser.newContext({ viewport: PHONE });
      const page = await context.newPage();
      try {
        await page.goto(`${t.gateway.url}/signin?lang=${lang}`);
        await page.fill("#token", tokens.auditor);
        await Promise.all([page.waitForNavigation(), page.click("form[action='/signin'] button")]);
        const pages: [string, string][] = [
          ["home", "/audit"],
          ["sale", `/audit/sales/${demo.saleId}`],
          ["cooperative", `/audit/cooperatives/${demo.cooperativeId}`],
        ];
        for (const [name, url] of pages) {
          const res = await page.goto(`${t.gateway.url}${url}?lang=${lang}`);
          expect(res?.status(), `${name} ${lang}`).to.equal(200);
          const seen = await page.evaluate(() => {
            const doc = (
              globalThis as unknown as {
                document: {
                  documentElement: { scrollWidth: number; clientWidth: number };
                  body: { innerText: string };
                  querySelectorAll(s: string): Iterable<{ getAttribute(n: string): string | null }>;
                };
              }
            ).document;
            return {
              overflow: doc.documentElement.scrollWidth - doc.documentElement.clientWidth,
              text: doc.body.innerText,
              hrefs: [...doc.querySelectorAll("a[href]")].map((a) => a.getAttribute("href") ?? ""),
            };
          });
          await shot(page, `${lang}-${name}`);
          expect(seen.overflow, `${name} in ${lang} is wider than the screen`).to.equal(0);
          expect(seen.text, `${name} ${lang}`).not.to.match(/\bwei\b/i);
          expect(
            seen.hrefs.filter((h) => h.startsWith("/api/")),
            `${name} ${lang}`,
          ).to.deep.equal([]);
          await noSeriousViolation(page, `${name} ${lang}`);
          // Every download the page offers, fetched as the browser would (its session cookie).
          for (const href of seen.hrefs.filter((h) => /\.csv|\/pack/.test(h))) {
            const r = await page.request.get(`${t.gateway.url}${href}`);
            expect(r.status(), `${href} (${name} ${lang})`).to.equal(200);
            expect((await r.body()).length, href).to.be.greaterThan(0);
          }
        }
      } finally {
        await context.close();
      }
    });
  }
});
