/**
 * /stats as the regional office and a visitor read it on a phone: a real gateway seeded with the demo (a
 * rose-water lot distilled from petals, sold for 12,000.00 MAD), Debian's Chromium at 360 × 800 in Arabic
 * and French. The page: no horizontal overflow, every chart's text at least 12 px high as rendered (the
 * measured bounding box), axe-core without a serious or critical violation, the rose water counted with
 * its cooperative and the harvested lots behind it (not 0), the sale as money in dirhams, the place by
 * name; /stats is reached from the home page and from the footer of any page.
 *
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-stats).
 */
import { expect } from "chai";
import type { Browser } from "playwright-core";
import { seedDemo } from "../../server/demo/seed";
import { formatterFor } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";
import { launchChromium, noSeriousViolation, phone, screenshots, submit } from "../helpers/browser";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-stats");

describe("regional figures on a phone (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let browser: Browser;

  before(async function () {
    t = await startTestGateway();
    await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await t?.stop();
    console.log(`        screenshots in ${SCREENSHOTS}`);
  });

  for (const lang of ["ar", "fr"] as const) {
    it(`${lang}: fits a 360 px screen, chart text ≥ 12 px, axe-clean, lineage and money in words`, async function () {
      const c = CATALOGS[lang];
      const f = formatterFor(c);
      const { context, page } = await phone(browser, lang);
      try {
        // From the home page's link to the figures.
        await page.goto(`${t.gateway.url}/?lang=${lang}`);
        await submit(page, `main a[href="/stats?lang=${lang}"]`);
        expect(new URL(page.url()).pathname).to.equal("/stats");
        await shot(page, `${lang}-stats`);
        // What a phone shows at once: the first chart, and the rose water's month.
        await page.locator("figure.chart").first().scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${SCREENSHOTS}/${lang}-chart.png` });
        await page.locator('section[data-dim="products"][data-key="rose-water"]').scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${SCREENSHOTS}/${lang}-rose-water.png` });
        await page.locator('section[data-dim="regions"]').first().scrollIntoViewIfNeeded();
        await page.screenshot({ path: `${SCREENSHOTS}/${lang}-region.png` });

        const width = await page.evaluate<number>("document.documentElement.scrollWidth");
        expect(width, "horizontal overflow").to.be.at.most(360);

        // Every text of every chart, as drawn: its rendered height, and that it stays inside the screen.
        // The box's height includes the line's ascent and descent (about 1.3 em): the font size as rendered
        // (its size in the drawing times the drawing's scale on screen) is measured too.
        const texts = await page.$$eval("figure.chart svg text", (nodes) =>
          nodes.map((n) => {
            const r = n.getBoundingClientRect();
            const svg = n.ownerSVGElement!;
            const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
            const em = parseFloat(n.getAttribute("font-size") ?? "16") * scale;
            return { text: n.textContent ?? "", height: r.height, em, left: r.left, right: r.right };
          }),
        );
        expect(texts.length).to.be.greaterThan(10);
        const smallest = (k: "em" | "height") => Math.min(...texts.map((x) => x[k])).toFixed(1);
        console.log(
          `        ${lang}: page ${width} px wide; smallest chart text ${smallest("em")} px (box ${smallest("height")} px)`,
        );
        for (const x of texts) {
          expect(x.height, `"${x.text}" is ${x.height.toFixed(1)} px high`).to.be.at.least(12);
          expect(x.em, `"${x.text}" is drawn at ${x.em.toFixed(1)} px`).to.be.at.least(12);
          expect(x.left, `"${x.text}" starts off screen`).to.be.at.least(0);
          expect(x.right, `"${x.text}" ends off screen`).to.be.at.most(360);
        }

        // The rose water distilled from petals: its cooperative and the harvested lots behind its sale.
        const row = (cls: string) =>
          page.locator(`section[data-dim="products"][data-key="rose-water"] details[open] tr.${cls} td`).innerText();
        expect(await row("cooperatives")).to.equal(f.integer(1));
        expect(Number((await row("origin-lots")).replace(/\D/g, ""))).to.be.greaterThan(0);
        expect(await row("sales")).to.equal(f.integer(1));
        const revenue = (await row("revenue")).replace(/[\u200e\u200f]/g, "");
        const expected = f
          .money(1_200_000n, { symbol: "MAD", decimals: 2, currency: "MAD" })
          .replace(/[\u200e\u200f]/g, "");
        expect(revenue).to.equal(expected);
        expect(await row("members")).to.match(/%/);
        const text = await page.locator("main").innerText();
        expect(text).not.to.include("dMAD");
        expect(text).to.include(lang === "ar" ? "درعة - تافيلالت" : "Drâa-Tafilalet");
        expect(text).to.include(lang === "ar" ? "تنغير" : "Tinghir");

        await noSeriousViolation(page, `stats ${lang}`);

        // The footer of another page leads here too.
        await page.goto(`${t.gateway.url}/market?lang=${lang}`);
        await submit(page, `footer a[href="/stats?lang=${lang}"]`);
        expect(new URL(page.url()).pathname).to.equal("/stats");
      } finally {
        await context.close();
      }
    });
  }
});
