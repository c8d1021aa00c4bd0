/**
 * Selling and buying through the pages: a real gateway (embedded anvil, SQLite) seeded with the demo,
 * Debian's Chromium at 360 × 800, in Arabic and French:
 *
 * - a buyer signs up (an empty name first: the message beside the field), sees her key once, gets test
 *   money (a second ask the same day is refused kindly), opens an offer from the market, buys it, sees it
 *   in "my orders" as paid; the manager marks it shipped on his page; the buyer confirms delivery;
 * - axe-core: no serious or critical violation on each of these pages.
 *
 * The manager offers one unit of a lot on his form first, in dirhams (a bad price and an ambiguous one
 * first: the message beside it), finds it on his dashboard and ships it on his own sale page; the buyer's
 * orders say each sale's number and date, and confirming delivery asks first on a page of its own.
 * Screenshots are kept in SCREENSHOT_DIR (default: <tmp>/cooptrace-sales).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import type { Browser } from "playwright-core";
import { seedDemo, type DemoResult } from "../../server/demo/seed";
import { CATALOGS } from "../../server/pages/i18n";
import { amountText } from "../../server/web/views/components";
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

  /** The dirham token the demo's escrow recorded. */
  const dirham = () => t.gateway.ctx.services.settlementTokens().find((x) => x.currency === "MAD")!;
  /** 1 000,50 MAD as the reader's language writes it. */
  const priceText = (lang: "ar" | "fr") =>
    amountText(CATALOGS[lang], 100050n, { symbol: "dMAD", decimals: 2, currency: "MAD" });

  /**
   * The manager puts one unit of the rose water lot on sale through his form, in dirhams (offered first and
   * chosen by default): a bad price first, then one that reads two ways, then "1 000,50" as he writes it.
   */
  async function offer(lang: "ar" | "fr"): Promise<number> {
    const c = CATALOGS[lang];
    const { context, page } = await managerPage(lang);
    await page.goto(`${t.gateway.url}/w?lang=${lang}`);
    await submit(page, `li[data-batch="${demo.roseWaterBatchId}"] a.sell`);
    expect(await page.locator("h1").innerText()).to.equal(c.buying.offerFormTitle);
    // The currencies the escrow records, dirhams first and checked; no ETH beside them.
    const choices = await page
      .locator("input[name=token]")
      .evaluateAll((xs) =>
        (xs as unknown as { value: string; checked: boolean }[]).map(({ value, checked }) => ({ value, checked })),
      );
    expect(choices[0]).to.deep.equal({ value: dirham().token, checked: true });
    expect(choices.map((x) => x.value)).to.not.include("ETH");
    expect(choices.length).to.equal(t.gateway.ctx.services.settlementTokens().length);
    expect(await page.locator("main form").innerText())
      .to.include(c.selling.currencyNames.MAD)
      .and.not.include("ETH");
    await noSeriousViolation(page, `offer form ${lang}`);
    await page.fill("#quantity", "1");
    await page.fill("#price", "beaucoup");
    const refused = await submit(page, "#offer-submit");
    expect(refused.status()).to.equal(400);
    expect(await page.locator("#price-error").innerText()).to.equal(c.selling.priceBad);
    expect(await page.inputValue("#quantity")).to.equal("1");
    await noSeriousViolation(page, `offer form error ${lang}`);
    await page.fill("#price", "1.000");
    await submit(page, "#offer-submit");
    expect(await page.locator("#price-error").innerText()).to.equal(c.selling.priceAmbiguous);
    await shot(page, `${lang}-00-offer-error`);
    await page.fill("#price", lang === "fr" ? "1 000,50" : "1.000,50");
    await submit(page, "#offer-submit");
    expect(await page.locator("#step-done h1").innerText()).to.equal(c.buying.offeredTitle);
    const saleId = Number(/\/w\/manager\/sales\/([0-9]+)\//.exec(new URL(page.url()).pathname)![1]);
    const sale = t.gateway.ctx.services.sales.get(saleId);
    expect(sale.price).to.equal("100050");
    expect(sale.token.toLowerCase()).to.equal(dirham().token.toLowerCase());
    expect(sale.state).to.equal("Created");
    // The confirmation says what was offered: the sale, the product, the lot, the quantity and the price.
    const done = await page.locator("main").innerText();
    expect(done)
      .to.include(c.sales.sale(String(saleId)))
      .and.include(c.products["rose-water"])
      .and.include(priceText(lang));
    await shot(page, `${lang}-00-offered`);
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
      expect(await page.locator(".price").innerText()).to.equal(priceText(lang));
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

      // The manager finds the sale on his dashboard and ships it on his own page.
      const { context: mctx, page: mpage } = await managerPage(lang);
      await mpage.goto(`${t.gateway.url}/w/manager?lang=${lang}`);
      await submit(mpage, `#sales li[data-sale="${saleId}"] a`);
      expect(new URL(mpage.url()).pathname).to.equal(`/w/manager/sales/${saleId}`);
      await noSeriousViolation(mpage, `manager sale ${lang}`);
      await submit(mpage, "#ship");
      expect(await mpage.locator("#step-done h1").innerText()).to.equal(c.buying.shippedTitle);
      expect(await mpage.locator("main").innerText())
        .to.include(c.sales.sale(String(saleId)))
        .and.include(c.products["rose-water"])
        .and.include(priceText(lang));
      expect(t.gateway.ctx.services.sales.get(saleId).state).to.equal("Shipped");
      await shot(mpage, `${lang}-06-shipped`);
      await mctx.close();

      // Each order says its sale number and date; confirming is a link to a page that asks first, and
      // "report a problem" looks secondary beside it.
      await page.reload();
      expect(await order.locator(".state").innerText()).to.equal(c.sales.states.Shipped);
      expect(await order.locator(".sale-no").innerText()).to.equal(c.sales.sale(String(saleId)));
      expect(await order.locator(".sale-date").innerText()).to.not.equal("");
      type Styles = { getComputedStyle(e: unknown): { backgroundColor: string; color: string } };
      const look = (sel: string) =>
        order.locator(sel).evaluate((e) => {
          const style = (globalThis as unknown as Styles).getComputedStyle(e);
          return `${style.backgroundColor} ${style.color}`;
        });
      expect(await look("a.confirm")).to.not.equal(await look("button.dispute"));
      await shot(page, `${lang}-07-orders-shipped`);
      await submit(page, `.order[data-sale="${saleId}"] a.confirm`);
      expect(await page.locator("h1").innerText()).to.equal(c.selling.confirmTitle);
      expect(await page.locator("#confirm-warn").innerText()).to.equal(c.selling.confirmWarn);
      expect(t.gateway.ctx.services.sales.get(saleId).state).to.equal("Shipped");
      await noSeriousViolation(page, `confirm delivery ${lang}`);
      await shot(page, `${lang}-08-confirm-ask`);
      await submit(page, "#confirm-yes");
      expect(await page.locator("#step-done h1").innerText()).to.equal(c.buying.confirmedTitle);
      expect(t.gateway.ctx.services.sales.get(saleId).state).to.not.equal("Shipped");
      await shot(page, `${lang}-09-confirmed`);

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
