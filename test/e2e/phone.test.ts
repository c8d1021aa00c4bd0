/**
 * Every public page at a phone's width in all four languages (issue 14): a real gateway seeded with the
 * demo as `npm start` seeds it, Debian's Chromium at 360 × 800. On each page: nothing wider than the
 * screen (no horizontal scrolling), no serious or critical axe-core violation; on the demo's rose-water
 * lot, the sentence on where the money went within the first two screens and no `0x…`, chain id or
 * transaction outside the "check it yourself" section. Screenshots in <tmp>/cooptrace-phone.
 */
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import type { DemoResult } from "../../server/demo/seed";
import { CATALOGS, LANGS, type Lang } from "../../server/pages/i18n";
import { noSeriousViolation, PHONE, screenshots, startSeededDemo, stopSeededDemo } from "../helpers/browser";
import type { TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-phone");

/** What the page-side checks read (the test's own lib has no DOM types). */
interface Seen {
  overflow: number;
  wide: string[];
}

async function measure(page: Page): Promise<Seen> {
  return page.evaluate(() => {
    const doc = (
      globalThis as unknown as {
        document: {
          documentElement: { scrollWidth: number; clientWidth: number };
          querySelectorAll(s: string): Iterable<{
            tagName: string;
            id: string;
            className: string;
            getBoundingClientRect(): { left: number; right: number };
          }>;
        };
      }
    ).document;
    const width = doc.documentElement.clientWidth;
    // The elements that stick out, to name in the failure (not only that something does).
    const wide = [...doc.querySelectorAll("body *")]
      .filter((e) => {
        const r = e.getBoundingClientRect();
        return r.right > width + 1 || r.left < -1;
      })
      .slice(0, 5)
      .map((e) => `${e.tagName.toLowerCase()}${e.id ? `#${e.id}` : ""}${e.className ? `.${e.className}` : ""}`);
    return { overflow: doc.documentElement.scrollWidth - width, wide };
  });
}

describe("public pages on a phone, in four languages (e2e)", function () {
  this.timeout(600_000);
  let t: TestGateway;
  let demo: DemoResult;
  let browser: Browser;

  before(async function () {
    ({ t, demo, browser } = await startSeededDemo());
  });

  after(async function () {
    await stopSeededDemo({ t, browser }, SCREENSHOTS);
  });

  // [name, path, the status it answers]
  const pages = (): [string, string, number][] => [
    ["home", "/", 200],
    ["market", "/market", 200],
    ["cooperatives", "/cooperatives", 200],
    ["find-nothing", "/find?lot=NOPE-1", 404],
    ["stats", "/stats", 200],
    ["signin", "/signin", 200],
    ["lot", `/b/${demo.roseWaterBatchId}`, 200],
    ["harvest", `/b/${demo.harvestBatchId}`, 200],
    ["not-found", `/b/0x${"ab".repeat(32)}`, 404],
  ];

  for (const lang of LANGS as readonly Lang[]) {
    it(`fits every public page in ${lang} at 360 px, axe-core clean`, async function () {
      const context = await browser.newContext({ viewport: PHONE });
      const page = await context.newPage();
      try {
        for (const [name, url, status] of pages()) {
          const res = await page.goto(`${t.gateway.url}${url}${url.includes("?") ? "&" : "?"}lang=${lang}`);
          expect(res?.status(), `${name} ${lang}`).to.equal(status);
          const seen = await measure(page);
          await shot(page, `${lang}-${name}`);
          expect(seen.overflow, `${name} in ${lang} is wider than the screen: ${seen.wide.join(", ")}`).to.equal(0);
          await noSeriousViolation(page, `${name} ${lang}`);
          if (name === "stats") {
            // Chart labels drawn at a size one can read (a 640-wide chart shrunk to a phone drew them at ~6 px).
            const heights = await page.$$eval("figure.chart svg text", (ts) =>
              ts.map(
                (e) => (e as unknown as { getBoundingClientRect(): { height: number } }).getBoundingClientRect().height,
              ),
            );
            expect(heights.length, `stats ${lang}: charts`).to.be.greaterThan(0);
            expect(Math.min(...heights), `stats ${lang}: smallest chart label`).to.be.at.least(12);
          }
        }
      } finally {
        await context.close();
      }
    });
  }

  it("says where the money went on the demo lot's first screens, with proofs only at the end", async function () {
    for (const lang of LANGS as readonly Lang[]) {
      const c = CATALOGS[lang];
      const context = await browser.newContext({ viewport: PHONE });
      const page = await context.newPage();
      try {
        await page.goto(`${t.gateway.url}/b/${demo.roseWaterBatchId}?lang=${lang}`);
        const lead = page.locator("#shared p.lead");
        const box = await lead.boundingBox();
        expect(box, lang).not.to.equal(null);
        expect(box!.y + box!.height, `${lang}: the money sentence ends at ${box!.y + box!.height} px`).to.be.at.most(
          2 * PHONE.height,
        );
        // The demo sale: 12,000.00 MAD released to the lot's members (1 % fee, 10 % reserve).
        expect(await lead.innerText()).to.include(
          new Intl.NumberFormat(c.locale, {
            style: "currency",
            currency: "MAD",
            currencyDisplay: "name",
            maximumFractionDigits: 0,
            minimumFractionDigits: 0,
            numberingSystem: "latn",
          }).format(100),
        );
        const outside = await page.evaluate(() => {
          const doc = (
            globalThis as unknown as {
              document: {
                body: { innerText: string };
                querySelector(s: string): { innerText: string } | null;
              };
            }
          ).document;
          const all = doc.body.innerText;
          const check = doc.querySelector("#verify-yourself")?.innerText ?? "";
          return all.replace(check, "");
        });
        expect(outside, lang).not.to.match(/0x[0-9a-f]{4}/i);
        expect(outside, lang).not.to.include("31337");
        expect(outside, lang).not.to.include(c.proof.tx);
      } finally {
        await context.close();
      }
    }
  });
});
