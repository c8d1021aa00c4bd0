/**
 * The manager prints labels from the workspace (issue 14), in Arabic and in French, at 360 px: the
 * dashboard's "Print labels" opens a form (lots offered for sale ticked, pack size and unit, number of
 * labels, label paper, languages); each mistake comes back as the same form, status 400, with the
 * manager's choices kept and the message beside the field in his language; a good choice answers the
 * PDF: one label per pack asked for, in the two languages chosen. The form has no script (axe-core needs
 * JavaScript in the page, so the context keeps it on).
 */
import { expect } from "chai";
import type { Browser, Page } from "playwright-core";
import type { DemoResult } from "../../server/demo/seed";
import { CATALOGS } from "../../server/pages/i18n";
import {
  noSeriousViolation,
  screenshots,
  signInWithToken,
  startSeededDemo,
  stopSeededDemo,
  submit,
  type TestLang,
} from "../helpers/browser";
import type { TestGateway } from "../helpers/gateway";
import { pdfText } from "../helpers/labels";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-labels-form");

/** The page's width against the screen's, and the text beside a field (its error message). */
async function fits(page: Page): Promise<boolean> {
  return page.evaluate(() => {
    const root = (
      globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }
    ).document.documentElement;
    return root.scrollWidth <= root.clientWidth;
  });
}

describe("printing labels from the workspace (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let demo: DemoResult;
  let tokens: { cooperativeAdmin: string };
  let browser: Browser;

  before(async function () {
    ({ t, demo, tokens, browser } = await startSeededDemo<{ cooperativeAdmin: string }>());
  });

  after(async function () {
    await stopSeededDemo({ t, browser }, SCREENSHOTS);
  });

  for (const lang of ["ar", "fr"] as TestLang[]) {
    it(`${lang}: a form with messages beside the fields, then the PDF of one label per pack`, async function () {
      const c = CATALOGS[lang];
      const l = c.labelForm;
      const { context, page } = await signInWithToken(browser, t.gateway.url, lang, tokens.cooperativeAdmin);
      try {
        await page.goto(`${t.gateway.url}/w/manager?lang=${lang}`);
        const form = await submit(page, `ul.actions a[href^="/w/manager/labels?"]`);
        expect(form.status()).to.equal(200);
        expect(await page.locator("h1").innerText()).to.equal(l.title);
        // The lot offered for sale (the demo's rose water) is ticked.
        const lot = page.locator(`input[name=batch][value="${demo.roseWaterBatchId}"]`);
        expect(await lot.isChecked()).to.equal(true);
        expect(await fits(page), "no sideways scrolling at 360 px").to.equal(true);
        await noSeriousViolation(page, `label form ${lang}`);
        await shot(page, `${lang}-01-form`);

        const refused = async (fill: () => Promise<void>, fieldId: string, message: string, name: string) => {
          await page.goto(`${t.gateway.url}/w/manager/labels?lang=${lang}`);
          await fill();
          const res = await submit(page, "#label-form button[type=submit]");
          expect(res.status(), name).to.equal(400);
          expect(await page.locator(`#${fieldId}-error`).innerText(), name).to.equal(message);
          expect(await page.locator(".error-summary").innerText(), name).to.include(message);
          await shot(page, `${lang}-02-${name}`);
        };
        await refused(() => page.fill("#pack", "abc"), "pack", l.packInvalid, "pack-not-a-number");
        // The typed value is kept.
        expect(await page.inputValue("#pack")).to.equal("abc");
        await refused(
          async () => {
            await page.fill("#pack", "2");
            await page.selectOption("#packUnit", "kg");
          },
          "packUnit",
          l.packUnitMismatch(c.units.ml),
          "unit-mismatch",
        );
        await refused(
          async () => {
            await page.fill("#pack", "1");
            await page.selectOption("#packUnit", "ml");
          },
          "pack",
          l.tooMany(650),
          "too-many",
        );
        await refused(() => page.uncheck(`input[name=batch]`), "batch", l.chooseLot, "no-lot");
        await refused(
          () => page.selectOption("#language2", "ar").then(() => undefined), // the first is Arabic already
          "language1",
          l.languagesInvalid,
          "same-language",
        );
        await noSeriousViolation(page, `label form with an error ${lang}`);

        // A good choice: 3 bottles of 250 ml on the sheet of 65, in French and Arabic.
        await page.goto(`${t.gateway.url}/w/manager/labels?lang=${lang}`);
        await page.fill("#pack", lang === "fr" ? "0,25" : "250");
        await page.selectOption("#packUnit", lang === "fr" ? "l" : "ml");
        await page.fill("#count", "3");
        await page.check(`input[name=stock][value=a4-65]`);
        await page.selectOption("#language1", "fr");
        await page.selectOption("#language2", "ar");
        // The address the form sends (a GET), fetched with the session's cookie: the browser would show the PDF.
        const query = await page.evaluate(() => {
          const d = globalThis as unknown as {
            document: { querySelector(s: string): unknown };
            FormData: new (f: unknown) => Iterable<[string, string]>;
            URLSearchParams: new (i: Iterable<[string, string]>) => { toString(): string };
          };
          return new d.URLSearchParams(new d.FormData(d.document.querySelector("#label-form"))).toString();
        });
        const pdf = await context.request.get(`${t.gateway.url}/w/manager/labels.pdf?${query}`);
        expect(pdf.status()).to.equal(200);
        expect(pdf.headers()["content-type"]).to.match(/^application\/pdf/);
        const text = pdfText(await pdf.body());
        if (text !== null) {
          const fr = CATALOGS.fr.labelPrint.scanToVerify;
          expect(text.split(fr).length - 1, "one label per pack: 3").to.equal(3);
          expect(text).to.match(/[\u0600-\u06ff]/); // the Arabic name and words
          expect(text).to.include(lang === "fr" ? "0,25" : "250"); // figures in the first Latin-script language
        }
      } finally {
        await context.close();
      }
    });
  }
});
