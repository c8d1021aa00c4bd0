/**
 * The manager's lot, step and sale forms when the contract would refuse what he typed: a real gateway
 * seeded with the demo, Chromium at 360 × 800, in French and Arabic. Each refusal comes back as the form
 * (status 400) with the message beside its field in his language, never the API's English JSON:
 *
 * - a production date in the future (BatchRegistryInvalidTime) → beside the date;
 * - a lot code the cooperative already used (BatchRegistryDuplicateLot) → beside the lot code;
 * - a step dated in the future → beside its date;
 * - a sale of more than the lot holds → beside the quantity, "only N left".
 *
 * And the lot form proposes a code that names the product and that the cooperative has not used: once a
 * lot takes it, the next form proposes another; left untouched, it follows the product chosen.
 */
import { expect } from "chai";
import { quantity } from "../../server/pages/format";
import { CATALOGS } from "../../server/pages/i18n";
import {
  noSeriousViolation,
  screenshots,
  signInWithToken,
  startSeededDemo,
  stopSeededDemo,
  submit,
  type SeededDemo,
} from "../helpers/browser";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-manager-forms");

const DAY = 86_400_000;
const day = (offset: number) => new Date(Date.now() + offset * DAY).toISOString().slice(0, 10);

describe("manager forms: the contract's refusals beside their field (e2e)", function () {
  this.timeout(300_000);
  let s: SeededDemo<{ cooperativeAdmin: string }>;

  before(async function () {
    s = await startSeededDemo();
  });

  after(async function () {
    await stopSeededDemo(s ?? {}, SCREENSHOTS);
  });

  for (const lang of ["fr", "ar"] as const) {
    const c = CATALOGS[lang];

    it(`${lang}: a future date, a lot code already used, a step in the future, more than the lot holds`, async function () {
      const url = s.t.gateway.url;
      const { context, page } = await signInWithToken(s.browser, url, lang, s.tokens.cooperativeAdmin);
      const submitForm = () => submit(page, "form[action^='/w/manager'] button[type=submit]");

      // The proposed code names the product and a counter.
      await page.goto(`${url}/w/manager/batches/new?lang=${lang}`);
      const proposed = await page.inputValue("#lotCode");
      expect(proposed).to.match(/^ROSEP-\d{8}-\d+$/);
      const fill = async (date: string) => {
        await page.fill("#weight-0", "10");
        await page.fill("#origin", "Kelaat M'Gouna");
        await page.fill("#productionDate", date);
      };

      // A production date in the future: the form again, the message beside the date.
      await fill(day(3));
      const future = await submitForm();
      expect(future.status()).to.equal(400);
      expect(await page.locator("#productionDate-error").innerText()).to.equal(c.selling.futureDate);
      expect(await page.locator(".error-summary a[href='#productionDate']").innerText()).to.equal(c.selling.futureDate);
      expect(await page.inputValue("#lotCode")).to.equal(proposed);
      await noSeriousViolation(page, `lot future date ${lang}`);
      await shot(page, `${lang}-01-lot-future-date`);

      await page.fill("#productionDate", day(-1));
      const recorded = await submitForm();
      expect(recorded.status()).to.equal(200);
      const batchId = new URL(page.url()).pathname.split("/")[4];

      // The next form proposes a code not used yet.
      let next = proposed;
      for (let i = 0; i < 20 && next === proposed; i++) {
        await page.goto(`${url}/w/manager/batches/new?lang=${lang}`);
        next = await page.inputValue("#lotCode");
        if (next === proposed) await page.waitForTimeout(500);
      }
      expect(next).to.not.equal(proposed);
      expect(next.split("-").slice(0, 2)).to.deep.equal(proposed.split("-").slice(0, 2));

      // The code already used: the form again, the message beside the lot code.
      await fill(day(-1));
      await page.fill("#lotCode", proposed);
      const duplicate = await submitForm();
      expect(duplicate.status()).to.equal(400);
      expect(await page.locator("#lotCode-error").innerText()).to.equal(c.manager2.lotExists);
      await noSeriousViolation(page, `lot code used ${lang}`);
      await shot(page, `${lang}-02-lot-code-used`);

      // The proposed code left as it is follows the product chosen instead (no script on the page).
      await page.goto(`${url}/w/manager/batches/new?lang=${lang}`);
      await page.selectOption("#productCode", "dates-mejhoul");
      await fill(day(-1));
      expect(await page.inputValue("#lotCode")).to.match(/^ROSEP-/);
      expect((await submitForm()).status()).to.equal(200);
      const dates = new URL(page.url()).pathname.split("/")[4];
      let lotCode: string | undefined;
      for (let i = 0; i < 20 && lotCode === undefined; i++) {
        lotCode = s.t.gateway.ctx.services.reads.getBatch(dates)?.lotCode;
        if (lotCode === undefined) await page.waitForTimeout(500);
      }
      expect(lotCode).to.match(/^DATEM-\d{8}-\d+$/);

      // A step dated in the future.
      await page.goto(`${url}/w/manager/batches/${batchId}/step?lang=${lang}`);
      await page.selectOption("#bizStep", "drying");
      await page.fill("#eventTime", `${day(2)}T10:00`);
      await page.fill("#location", "Kelaat M'Gouna");
      const step = await submitForm();
      expect(step.status()).to.equal(400);
      expect(await page.locator("#eventTime-error").innerText()).to.equal(c.selling.futureDate);
      await noSeriousViolation(page, `step future date ${lang}`);
      await shot(page, `${lang}-03-step-future-date`);

      // More than the lot holds (10 kg).
      await page.goto(`${url}/w/manager/sales/new?batch=${batchId}&lang=${lang}`);
      await page.fill("#quantity", "11");
      await page.fill("#price", "100");
      const tooMuch = await submit(page, "#offer-submit");
      expect(tooMuch.status()).to.equal(400);
      expect(await page.locator("#quantity-error").innerText()).to.equal(
        c.manager2.takeTooMuch(quantity(c, "10", "kg")),
      );
      expect(await page.inputValue("#price")).to.equal("100");
      await noSeriousViolation(page, `sale too much ${lang}`);
      await shot(page, `${lang}-04-sale-too-much`);
      await context.close();
    });
  }
});
