/**
 * Selling and buying through the pages: a real gateway (embedded anvil, SQLite) seeded with the demo,
 * Debian's Chromium at 360 × 800, in Arabic and French:
 *
 * - a buyer signs up (an empty name first: the message beside the field), sees her key once, gets test
 *   money (a second ask the same day is refused kindly), opens an offer from the market, buys it, sees it
 *   in "my orders" as paid; the manager marks it shipped on his page; the buyer confirms delivery;
 * - axe-core: no serious or critical violation on each of these pages.
 *
 * The manager offers one unit of a lot on his form first (a bad price first: the message beside it).
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-sales).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { seedDemo, type DemoResult } from "../../server/demo/seed";
import { CATALOGS } from "../../server/pages/i18n";
import { launchChromium, LOCALES, noSeriousViolation, PHONE, screenshots, submit } from "../helpers/browser";
import { startTestGateway, type TestGateway } from "../helpers/gateway";

const { dir: SCREENSHOTS, shot } = screenshots("cooptrace-sales");

describe("selling and buying pages (e2e)", function () {
  this.timeout(300_000);
  let t: TestGateway;
  let demo: DemoResult;
  let managerToken: string;
  let browser: Browser;

  before(async function () {
    t = await startTestGateway({ env: { AUTH_FAILURES_PER_MINUTE: "1000" } });
    demo = await seedDemo(t.gateway.url, t.adminToken, t.dataDir);
    managerToken = (JSON.parse(readFileSync(demo.tokensFile, "utf8")) as { cooperativeAdmin: string }).cooperativeAdmin;
    browser = await launchChromium();
  });

  after(async function () {
    await browser?.close();
    await t?.stop();
    console.log(`        screenshots in ${SCREENSHOTS}`);
  });

  /** The manager signed in with his token, in a phone-sized browser. */
  async function managerPage(lang: "ar" | "fr") {
    const context = await browser.newContext({ viewport: PHONE, locale: LOCALES[lang] });
    const page = await context.newPage();
    await page.goto(`${t.gateway.url}/signin?lang=${lang}`);
    await page.fill("#token", managerToken);
    await submit(page, "form button[type=submit]");
    return { context, page };
  }

  /** The manager puts one unit of the rose water lot on sale through his form (a bad price first). */
  async function offer(lang: "ar" | "fr"): Promise<number> {
    const c = CATALOGS[lang];
    const { context, page } = await managerPage(lang);
    await page.goto(`${t.gateway.url}/w?lang=${lang}`);
    await submit(page, `li[data-batch="${demo.roseWaterBatchId}"] a.sell`);
    expect(await page.locator("h1").innerText()).to.equal(c.buying.offerFormTitle);
    await noSeriousViolation(page, `offer form ${lang}`);
    await page.fill("#quantity", "1");
    await page.fill("#price", "beaucoup");
    const refused = await submit(page, "#offer-submit");
    expect(refused.status()).to.equal(400);
    expect(await page.locator("#price-error").innerText()).to.not.equal("");
    expect(await page.inputValue("#quantity")).to.equal("1");
    await noSeriousViolation(page, `offer form error ${lang}`);
    await shot(page, `${lang}-00-offer-error`);
    await page.fill("#price", lang === "fr" ? "0,001" : "0.001");
    await submit(page, "#offer-submit");
    expect(await page.locator("#step-done h1").innerText()).to.equal(c.buying.offeredTitle);
    const saleId = Number(/\/w\/manager\/sales\/([0-9]+)\//.exec(new URL(page.url()).pathname)![1]);
    const sale = t.gateway.ctx.services.sales.get(saleId);
    expect(sale.price).to.equal("1000000000000000");
    expect(sale.state).to.equal("Created");
    await context.close();
    return saleId;
  }

  for (const lang of ["ar", "fr"] as const) {
    const c = CATALOGS[lang];

    it(`${lang}: a buyer signs up, gets test money, buys an offer and confirms delivery once it is shipped`, async function () {
      const saleId = await offer(lang);
      const context = await browser.newContext({ viewport: PHONE, locale: LOCALES[lang] });
      const page = await context.newPage();

      // Sign up: an empty name is refused beside the field, the page keeps its form.
      await page.goto(`${t.gateway.url}/signup?lang=${lang}`);
      expect(await page.locator("h1").innerText()).to.include(c.buying.signUpTitle);
      await noSeriousViolation(page, `signup ${lang}`);
      const refused = await submit(page, "#signup-submit");
      expect(refused.status()).to.equal(400);
      expect(await page.locator("#displayName-error").innerText()).to.not.equal("");
      expect(await page.locator(".error-summary a[href='#displayName']").count()).to.equal(1);
      await noSeriousViolation(page, `signup error ${lang}`);
      await shot(page, `${lang}-01-signup-error`);
      await page.fill("#displayName", lang === "ar" ? "متجر الرباط" : "Épicerie du Vieux-Lyon");
      await submit(page, "#signup-submit");
      const token = await page.locator("#buyer-token").innerText();
      const buyer = t.gateway.ctx.users.authenticate(token);
      expect(buyer?.role).to.equal("buyer");
      await noSeriousViolation(page, `signed up ${lang}`);
      await shot(page, `${lang}-02-signed-up`);
      // The key is shown once: the same confirmation page no longer has it.
      await page.reload();
      expect(await page.locator("#buyer-token").count()).to.equal(0);

      // Test money, then a second ask the same day: refused in plain words.
      await page.goto(`${t.gateway.url}/w?lang=${lang}`);
      await submit(page, "#buyer-funds");
      await submit(page, "#get-funds");
      expect(await page.locator("#funds-done").count()).to.equal(1);
      expect(await t.provider.getBalance(buyer!.address!)).to.be.greaterThan(0n);
      await noSeriousViolation(page, `funds ${lang}`);
      await submit(page, "#get-funds");
      expect(await page.locator("#funds-refused").innerText()).to.include(c.buying.fundsRefused);
      await shot(page, `${lang}-03-funds`);

      // The market links to the offer; the offer page says what, who, how much; "buy".
      await page.goto(`${t.gateway.url}/market?lang=${lang}`);
      await submit(page, `#offer-${saleId} a.offer-open`);
      expect(new URL(page.url()).pathname).to.equal(`/market/${saleId}`);
      expect(await page.locator(".price").innerText()).to.include("ETH");
      await noSeriousViolation(page, `offer ${lang}`);
      await shot(page, `${lang}-04-offer`);
      await submit(page, "#buy");
      expect(await page.locator("#step-done h1").innerText()).to.equal(c.buying.boughtTitle);
      expect(t.gateway.ctx.services.sales.get(saleId).state).to.equal("Funded");
      await noSeriousViolation(page, `bought ${lang}`);

      await submit(page, "#next");
      const order = page.locator(`.order[data-sale="${saleId}"]`);
      expect(await order.locator(".state").innerText()).to.equal(c.sales.states.Funded);
      expect(await order.locator("button.confirm").count()).to.equal(0);
      await noSeriousViolation(page, `orders ${lang}`);
      await shot(page, `${lang}-05-orders-paid`);

      // The manager ships, on his page.
      const { context: mctx, page: mpage } = await managerPage(lang);
      await mpage.goto(`${t.gateway.url}/w/manager/sales/${saleId}?lang=${lang}`);
      await noSeriousViolation(mpage, `manager sale ${lang}`);
      await submit(mpage, "#ship");
      expect(await mpage.locator("#step-done h1").innerText()).to.equal(c.buying.shippedTitle);
      expect(t.gateway.ctx.services.sales.get(saleId).state).to.equal("Shipped");
      await shot(mpage, `${lang}-06-shipped`);
      await mctx.close();

      // The buyer confirms delivery: the money goes to the cooperative.
      await page.reload();
      expect(await order.locator(".state").innerText()).to.equal(c.sales.states.Shipped);
      await submit(page, `.order[data-sale="${saleId}"] button.confirm`);
      expect(await page.locator("#step-done h1").innerText()).to.equal(c.buying.confirmedTitle);
      expect(t.gateway.ctx.services.sales.get(saleId).state).to.not.equal("Shipped");
      await shot(page, `${lang}-07-confirmed`);

      // Another role may not open the buyer's orders' writes; the signed-out are sent to /signin.
      const anon = await browser.newContext({ viewport: PHONE });
      const apage = await anon.newPage();
      await apage.goto(`${t.gateway.url}/w/buyer/orders?lang=${lang}`);
      expect(new URL(apage.url()).pathname).to.equal("/signin");
      await anon.close();
      await context.close();
    });
  }
});
