/**
 * The audit pages on a phone, in four languages (issues 13 and 14): the demo's auditor signed in by
 * token in Debian's Chromium at 360 × 800. Each page (the audit home, the demo sale's audit, the
 * cooperative's audit with its payouts) fits the screen (tables scroll inside their own box), shows no
 * amount in a smallest unit ("wei"), has no link the browser cannot follow with its session (no API
 * link that answers 401), and no serious or critical axe-core violation; its downloads (CSV, evidence
 * pack, reconciliation CSV) are all offered and answer 200 with the session's cookie; the sale's steps
 * are named in the page's language, not by their raw names.
 */
import { expect } from "chai";
import type { Browser } from "playwright-core";
import type { DemoResult } from "../../server/demo/seed";
import { CATALOGS, LANGS, type Lang } from "../../server/pages/i18n";
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
        // Each page and the downloads it must offer (their link ids): the loop below fetches them all.
        const pages: [string, string, string[]][] = [
          ["home", "/audit", []],
          ["sale", `/audit/sales/${demo.saleId}`, ["sale-csv", "sale-pack"]],
          ["cooperative", `/audit/cooperatives/${demo.cooperativeId}`, ["cooperative-csv", "reconciliation-csv"]],
        ];
        for (const [name, url, downloads] of pages) {
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
              // A chart that scrolls hides the members' names (in Arabic it opens at its far end).
              charts: [...doc.querySelectorAll("figure.chart")].map((f) => {
                const box = f as unknown as { scrollWidth: number; clientWidth: number };
                return box.scrollWidth - box.clientWidth;
              }),
              ids: [...doc.querySelectorAll("a[download]")].map((a) => a.getAttribute("id") ?? ""),
              // A sale's steps: the raw step (data-step) beside the words the reader sees.
              steps: [...doc.querySelectorAll("tr[data-step]")].map((r) => [
                r.getAttribute("data-step") ?? "",
                (r as unknown as { querySelector(s: string): { textContent: string } | null })
                  .querySelector("strong")
                  ?.textContent.trim() ?? "",
              ]),
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
          expect(seen.ids, `${name} ${lang}: downloads`).to.include.members(downloads);
          expect(seen.charts, `${name} ${lang}: charts wider than their box`).to.satisfy((xs: number[]) =>
            xs.every((x) => x <= 0),
          );
          if (name === "cooperative") expect(seen.charts, `${name} ${lang}: the members' chart`).not.to.be.empty;
          if (name === "sale") {
            // The demo sale was created, funded, shipped, confirmed, released and claimed: each step in words.
            expect(seen.steps.map(([step]) => step)).to.include.members(["created", "funded", "released", "claim"]);
            const c = CATALOGS[lang];
            const named = [...Object.values(c.sales.states), c.sales.confirmed, c.audit.claimed];
            for (const [step, words] of seen.steps) {
              expect(named, `step ${step} in ${lang}`).to.include(words);
              if (lang !== "en") expect(words.toLowerCase(), `step ${step} in ${lang}`).not.to.equal(step);
            }
          }
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
